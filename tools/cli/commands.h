// The slm subcommands. Each Run* returns a process exit code; errors are
// printed as one line "slm: error: ..." by the caller.
#pragma once

#include "flags.h"

namespace slm::cli {

extern const CommandSpec kConvertSpec, kInspectSpec, kValidateSpec, kTokenizeSpec,
    kGenerateSpec, kLogitsSpec, kEvalSpec, kEvalCompareSpec, kReleaseSpec, kEvidenceSpec;
extern const CommandSpec kQuantizeSpec, kSynthSpec, kBenchSpec;  // cmd_quant.cc
extern const CommandSpec kAdapterSpec;                            // cmd_adapter.cc

Status RunConvert(const Args& a);
Status RunInspect(const Args& a);
Status RunValidate(const Args& a);
Status RunTokenize(const Args& a);
Status RunGenerate(const Args& a);
Status RunLogits(const Args& a);
// cmd_eval.cc
Status RunEval(const Args& a);
Status RunEvalCompare(const Args& a);
Status RunRelease(const Args& a);   // release build | release verify
Status RunEvidence(const Args& a);  // evidence merge
Status RunQuantize(const Args& a);
Status RunSynth(const Args& a);
Status RunBench(const Args& a);
Status RunAdapter(const Args& a);  // adapter validate | inspect | merge | diff

}  // namespace slm::cli
