// slm: one binary, subcommands. Exit codes: 0 ok, 1 failure (one-line error on
// stderr), 2 usage error.
#include <cstdio>
#include <cstring>
#include <string>

#include "commands.h"

namespace slm::cli {
namespace {

struct Command {
  const CommandSpec* spec;
  Status (*run)(const Args&);
};

const Command kCommands[] = {
    {&kConvertSpec, RunConvert},   {&kInspectSpec, RunInspect}, {&kValidateSpec, RunValidate},
    {&kTokenizeSpec, RunTokenize}, {&kGenerateSpec, RunGenerate}, {&kLogitsSpec, RunLogits},
    {&kEvalSpec, RunEval},         {&kEvalCompareSpec, RunEvalCompare}, {&kReleaseSpec, RunRelease},
    {&kEvidenceSpec, RunEvidence},
    {&kQuantizeSpec, RunQuantize}, {&kSynthSpec, RunSynth},   {&kBenchSpec, RunBench},
    {&kAdapterSpec, RunAdapter},
};

void PrintTopHelp(FILE* out) {
  std::fprintf(out,
               "slm %s: small language models, local and exactly reproducible\n\n"
               "usage: slm COMMAND [ARGS] (slm COMMAND --help for details)\n\ncommands:\n",
               SLM_VERSION);
  // One line per command: the summary's first line (slm COMMAND --help has the rest).
  for (const Command& c : kCommands) {
    std::string first(c.spec->summary);
    first = first.substr(0, first.find('\n'));
    std::fprintf(out, "  %-13s %s\n", c.spec->name, first.c_str());
  }
}

int Main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    PrintTopHelp(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("slm %s\n", SLM_VERSION);
    return 0;
  }
  for (const Command& c : kCommands) {
    if (std::strcmp(argv[1], c.spec->name) != 0) continue;
    auto args = Args::Parse(*c.spec, argc - 2, argv + 2);
    if (!args.ok()) {
      std::fprintf(stderr, "slm: error: %s\n", args.status().message().c_str());
      return 2;
    }
    if (args->help()) {
      std::fputs(UsageText(*c.spec).c_str(), stdout);
      return 0;
    }
    Status s = c.run(*args);
    if (!s.ok()) {
      std::fprintf(stderr, "slm: error: %s\n", s.ToString().c_str());
      return 1;
    }
    return 0;
  }
  std::fprintf(stderr, "slm: error: unknown command '%s' (see slm --help)\n", argv[1]);
  return 2;
}

}  // namespace
}  // namespace slm::cli

int main(int argc, char** argv) { return slm::cli::Main(argc, argv); }
