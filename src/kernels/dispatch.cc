// Chooses the kernel table once (DESIGN.md principle 5). Only the scalar table
// exists in this build; SLM_KERNELS names a table explicitly.
#include <cstdlib>
#include <cstring>

#include "kernels/kernels.h"

namespace slm {
namespace {

struct Choice {
  const KernelTable* table;
  const char* note;
};

Choice Choose() {
  const char* env = std::getenv("SLM_KERNELS");
  if (env == nullptr || *env == '\0') return {&ScalarKernels(), "scalar (default)"};
  if (std::strcmp(env, "scalar") == 0) return {&ScalarKernels(), "scalar (SLM_KERNELS=scalar)"};
  return {&ScalarKernels(), "scalar (SLM_KERNELS names an unknown table; known: scalar)"};
}

const Choice& Chosen() {
  static const Choice kChoice = Choose();  // thread-safe one-time initialisation
  return kChoice;
}

}  // namespace

const KernelTable& Kernels() { return *Chosen().table; }
const char* KernelSelectionNote() { return Chosen().note; }

}  // namespace slm
