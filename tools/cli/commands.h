// The slm subcommands. Each Run* returns a process exit code; errors are
// printed as one line "slm: error: ..." by the caller.
#pragma once

#include "flags.h"

namespace slm::cli {

extern const CommandSpec kConvertSpec, kInspectSpec, kValidateSpec, kTokenizeSpec,
    kGenerateSpec, kLogitsSpec;

Status RunConvert(const Args& a);
Status RunInspect(const Args& a);
Status RunValidate(const Args& a);
Status RunTokenize(const Args& a);
Status RunGenerate(const Args& a);
Status RunLogits(const Args& a);

}  // namespace slm::cli
