// slm adapter validate | inspect | merge | diff: adapter packages
// (docs/adapters.md). The work is in src/adapter; this file parses flags,
// reads and writes files and prints.
#include <cstdio>
#include <cstring>

#include "adapter/adapter_package.h"
#include "adapter/diff.h"
#include "adapter/inspect.h"
#include "adapter/load.h"
#include "adapter/merge.h"
#include "adapter/validate.h"
#include "base/file.h"
#include "commands.h"
#include "import/import.h"
#include "package/format.h"
#include "package/package.h"

namespace slm::cli {

const CommandSpec kAdapterSpec = {
    "adapter",
    "validate BASE ADAPTER | inspect ADAPTER [--json] [--base PKG] | merge BASE ADAPTER[:S]... -o "
    "CHILD.slm "
    "[--type T] | diff BASE CHILD --kind raw|sparse|lowrank [--rank R | --density D | --energy E] "
    "-o ADAPTER.slm",
    "Adapters: a child model as its base plus small deltas (docs/adapters.md).\n"
    "validate: check an adapter against a base (digests, tensors, shapes, values).\n"
    "inspect:  kind per tensor, rank or density, bytes, base digests, lineage.\n"
    "merge:    bake adapters (stacked in order, ':S' = scale) into a standalone package.\n"
    "diff:     make an adapter from BASE and CHILD (any importable models).\n"
    "ADAPTER may be an .slm adapter package, a PEFT LoRA folder or a llama.cpp LoRA GGUF.",
    2,
    1025,
    {{"--json", nullptr, "inspect / validate: print JSON"},
     {"--base", "PKG", "inspect: the base to import a PEFT folder or LoRA GGUF for"},
     {"-o", "FILE", "merge / diff: output package"},
     {"--type", "T", "merge: re-quantize the child (f32, q8_0, q4_0, q4_k, q6_k, mixed)"},
     {"--name", "NAME", "merge / diff: name of the child / adapter"},
     {"--kind", "K", "diff: raw, sparse or lowrank (default raw)"},
     {"--rank", "R", "diff lowrank: rank per tensor"},
     {"--density", "D", "diff sparse: fraction of entries kept, (0, 1]"},
     {"--energy", "E", "diff sparse/lowrank: keep this fraction of each delta's energy"},
     {"--dtype", "T", "diff raw: f32, f16 or q8_0 (default f32)"},
     {"--notes", "TEXT", "diff: lineage notes"},
     {"--tokenizer", "FILE", "diff: tokenizer for llama2.c inputs"}}};

namespace {

Status Validate(const Args& a) {
  if (a.positional().size() != 3)
    return InvalidArgument("usage: slm adapter validate BASE ADAPTER");
  SLM_ASSIGN_OR_RETURN(auto base, Package::Open(a.positional()[1]));
  SLM_ASSIGN_OR_RETURN(AdapterSpec spec, ParseAdapterSpec(a.positional()[2]));
  SLM_ASSIGN_OR_RETURN(LoadedAdapter l, LoadAdapter(spec.path, *base));
  SLM_RETURN_IF_ERROR(ValidateAdapter(*base, l.adapter));
  const Digest digests[1] = {l.digest};
  const float scales[1] = {spec.scale};
  const std::string checksum = DigestHex(AssemblyChecksum(base->digest(), digests, scales));
  if (a.Has("--json")) {
    JsonValue o = JsonValue::Object();
    o.Set("ok", JsonValue::Bool(true));
    o.Set("base_digest", JsonValue::String(base->digest_hex()));
    o.Set("base_compat_digest", JsonValue::String(DigestHex(CompatibilityDigest(*base))));
    o.Set("adapter_digest", JsonValue::String(DigestHex(l.digest)));
    o.Set("format", JsonValue::String(l.format));
    o.Set("deltas", JsonValue::Number(static_cast<double>(l.adapter.deltas.size())));
    o.Set("assembly_checksum", JsonValue::String(checksum));
    std::printf("%s\n", o.Dump().c_str());
    return Status::Ok();
  }
  std::printf(
      "OK  adapter '%s' (%s, %zu deltas, digest %s) applies to %s\n"
      "    base digest %s, compatibility digest %s\n"
      "    assembly checksum (scale %g) %s\n",
      l.adapter.name.c_str(), l.format.c_str(), l.adapter.deltas.size(),
      DigestHex(l.digest).c_str(), base->name().c_str(), base->digest_hex().c_str(),
      DigestHex(CompatibilityDigest(*base)).c_str(), static_cast<double>(spec.scale),
      checksum.c_str());
  return Status::Ok();
}

Status Inspect(const Args& a) {
  if (a.positional().size() != 2)
    return InvalidArgument("usage: slm adapter inspect ADAPTER [--json]");
  AdapterFile f;
  if (a.Has("--base")) {
    // PEFT folders and LoRA GGUFs are imported for a base (their targets
    // and shapes are checked against it).
    SLM_ASSIGN_OR_RETURN(auto base, Package::Open(a.Get("--base")));
    SLM_ASSIGN_OR_RETURN(LoadedAdapter l, LoadAdapter(a.positional()[1], *base));
    f.adapter = std::move(l.adapter);
    f.digest = l.digest;
    f.bytes = l.bytes;
  } else {
    SLM_ASSIGN_OR_RETURN(f, ReadAdapterPackage(a.positional()[1]));
  }
  if (a.Has("--json")) {
    std::printf("%s\n", AdapterToJson(f).Dump().c_str());
  } else {
    std::fputs(AdapterToText(f).c_str(), stdout);
  }
  return Status::Ok();
}

Status Merge(const Args& a) {
  if (a.positional().size() < 3 || !a.Has("-o"))
    return InvalidArgument("usage: slm adapter merge BASE ADAPTER[:S]... -o CHILD.slm [--type T]");
  SLM_ASSIGN_OR_RETURN(auto base, Package::Open(a.positional()[1]));
  std::vector<AdapterSpec> specs;
  std::vector<LoadedAdapter> loaded;
  for (size_t i = 2; i < a.positional().size(); ++i) {
    SLM_ASSIGN_OR_RETURN(AdapterSpec s, ParseAdapterSpec(a.positional()[i]));
    SLM_ASSIGN_OR_RETURN(LoadedAdapter l, LoadAdapter(s.path, *base));
    specs.push_back(s);
    loaded.push_back(std::move(l));
  }
  std::vector<AssemblyEntry> entries;
  for (size_t i = 0; i < loaded.size(); ++i)
    entries.push_back({&loaded[i].adapter, loaded[i].digest, specs[i].scale});
  MergeOptions o;
  o.name = a.Get("--name");
  if (a.Has("--type")) {
    if (!tools::ParseQuantScheme(a.Get("--type"), &o.scheme))
      return InvalidArgument("--type '" + a.Get("--type") +
                             "': expected f32, q8_0, q4_0, q4_k, q6_k or mixed");
    o.requantize = true;
  }
  SLM_ASSIGN_OR_RETURN(ModelBundle child, MergeAdapters(*base, entries, o));
  const std::string out = a.Get("-o");
  SLM_RETURN_IF_ERROR(WritePackage(child, out));
  SLM_ASSIGN_OR_RETURN(auto written, Package::Open(out));
  std::printf(
      "merged %zu adapter(s) into %s\n  digest %s\n  assembly checksum of base + adapters %s\n",
      entries.size(), out.c_str(), written->digest_hex().c_str(),
      child.metadata["merge.assembly_checksum"].c_str());
  return Status::Ok();
}

// A model for diff: an .slm package (kept open; the bundle views it) or
// anything ImportModel reads.
struct OpenModel {
  std::unique_ptr<Package> package;
  ModelBundle bundle;
};

StatusOr<OpenModel> OpenAnyModel(const std::string& path, const std::string& tokenizer) {
  OpenModel m;
  if (!IsDirectory(path)) {
    SLM_ASSIGN_OR_RETURN(auto f, MappedFile::Open(path));
    auto b = f->bytes();
    if (b.size() >= 8 && std::memcmp(b.data(), pkg::kMagic, 8) == 0) {
      f.reset();
      SLM_ASSIGN_OR_RETURN(m.package, Package::Open(path));
      m.bundle = PackageToBundle(*m.package);
      return m;
    }
  }
  ImportOptions io;
  io.tokenizer_path = tokenizer;
  SLM_ASSIGN_OR_RETURN(m.bundle, ImportModel(path, io));
  return m;
}

Status Diff(const Args& a) {
  if (a.positional().size() != 3 || !a.Has("-o"))
    return InvalidArgument(
        "usage: slm adapter diff BASE CHILD --kind raw|sparse|lowrank [--rank R | --density D | "
        "--energy E] -o ADAPTER.slm");
  DiffOptions o;
  SLM_RETURN_IF_ERROR(ParseDiffKind(a.Get("--kind", "raw"), &o.kind));
  SLM_ASSIGN_OR_RETURN(int64_t rank, a.GetInt("--rank", 0));
  if (rank < 0 || rank > 65536)
    return InvalidArgument("--rank " + std::to_string(rank) + ": expected 1..65536");
  o.rank = static_cast<int32_t>(rank);
  SLM_ASSIGN_OR_RETURN(o.density, a.GetDouble("--density", 0));
  SLM_ASSIGN_OR_RETURN(o.energy, a.GetDouble("--energy", 0));
  if (a.Has("--dtype") && !ParseDType(a.Get("--dtype"), &o.raw_dtype))
    return InvalidArgument("--dtype '" + a.Get("--dtype") + "': expected f32, f16 or q8_0");
  o.name = a.Get("--name");
  o.notes = a.Get("--notes");
  SLM_ASSIGN_OR_RETURN(OpenModel base, OpenAnyModel(a.positional()[1], a.Get("--tokenizer")));
  SLM_ASSIGN_OR_RETURN(OpenModel child, OpenAnyModel(a.positional()[2], a.Get("--tokenizer")));
  SLM_ASSIGN_OR_RETURN(DiffReport r, DiffModels(base.bundle, child.bundle, o));
  const std::string out = a.Get("-o");
  SLM_RETURN_IF_ERROR(WriteAdapter(r.adapter, out));
  SLM_ASSIGN_OR_RETURN(AdapterFile f, ReadAdapterPackage(out));
  std::fputs(FormatDiffReport(r).c_str(), stdout);
  std::printf("adapter %s: %llu bytes, digest %s\n", out.c_str(),
              static_cast<unsigned long long>(f.bytes), DigestHex(f.digest).c_str());
  return Status::Ok();
}

}  // namespace

Status RunAdapter(const Args& a) {
  const std::string& sub = a.positional()[0];
  if (sub == "validate") return Validate(a);
  if (sub == "inspect") return Inspect(a);
  if (sub == "merge") return Merge(a);
  if (sub == "diff") return Diff(a);
  return InvalidArgument("slm adapter: expected validate, inspect, merge or diff, found '" + sub +
                         "'");
}

}  // namespace slm::cli
