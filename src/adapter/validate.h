// Which base an adapter belongs to, and whether it may be applied to one.
//
// Compatibility digest of a base model (docs/adapters.md): SHA-256 of
//   "slm compat digest v1", str32 arch, i64 dim, hidden_dim, n_layers,
//   n_heads, n_kv_heads, head_dim, vocab_size, max_seq_len, u32 bits of
//   norm_eps and rope_theta, u32 rope_style, u8 tied_output, u8 qkv_bias,
//   u64 tensor count, per tensor sorted by name {str32 name, u32 dtype,
//   u32 n_dims, u64 dims, u8[32] sha256 of its bytes}, u8[32] tokenizer
//   digest (the SHA-256 of the package's tokenizer section).
// Provenance and free-form metadata are left out: re-converting the same
// weights gives the same digest; changing any weight, dtype or the
// tokenizer changes it.
#pragma once

#include "adapter/adapter.h"
#include "base/sha256.h"
#include "import/bundle.h"
#include "package/package.h"

namespace slm {

Digest CompatibilityDigest(const Package& base);
// Same value as for the package SerializePackage(b) would write (hashes every
// tensor, so A2's diff of two in-memory models can stamp it).
Digest CompatibilityDigest(const ModelBundle& b);
// The tokenizer digest a package of this bundle would have.
Digest TokenizerDigest(const ModelBundle& b);

// Refuses, naming expected vs actual: a wrong tokenizer (both digests), a
// wrong base (both compatibility digests), a missing target tensor, a shape
// mismatch (both shapes), a low-rank/sparse/raw delta inconsistent with its
// shape, out-of-range or unsorted sparse indices, NaN/Inf values, a 1-D
// target with a low-rank delta.
Status ValidateAdapter(const Package& base, const Adapter& a);

}  // namespace slm
