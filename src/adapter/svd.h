// Truncated singular value decompositions for low-rank adapter deltas
// (slm adapter diff --kind lowrank). Zero-dependency, deterministic: fixed
// loop orders, double arithmetic, random probes from our own PRNG
// (base/prng.h), so the same matrix and options give the same bits on every
// platform.
//
// Signatures (for the CLI / other callers):
//   SvdResult ExactSvd(std::span<const double> a, int64_t m, int64_t n);
//   SvdResult RandomizedSvd(std::span<const double> a, int64_t m, int64_t n,
//                           int32_t k, const RsvdOptions& o);
//   SvdResult TruncatedSvd(std::span<const double> a, int64_t m, int64_t n,
//                          int32_t k, const RsvdOptions& o);
//
// Matrices are row-major [m, n] (m rows = outputs, n columns = inputs).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace slm {

// A ~= U diag(s) Vt with U [m, k] and Vt [k, n] row-major, s descending
// (ties keep the lower index first), k = s.size().
struct SvdResult {
  int64_t m = 0, n = 0;
  std::vector<double> s;   // [k]
  std::vector<double> u;   // [m, k]
  std::vector<double> vt;  // [k, n]
  int32_t rank() const { return static_cast<int32_t>(s.size()); }
};

// Full thin SVD (k = min(m, n)) by one-sided Jacobi rotations (Hestenes) on
// the columns of A (or of A^T when m < n), swept in a fixed (p, q) order
// until every column pair is orthogonal to 1e-15 relative (at most 80
// sweeps). O(min(m,n)^2 max(m,n)) per sweep: meant for small matrices and for
// the k x n core of the randomized method.
SvdResult ExactSvd(std::span<const double> a, int64_t m, int64_t n);

struct RsvdOptions {
  int32_t oversample = 8;   // extra probe columns beyond k
  int32_t power_iters = 2;  // subspace iterations (A A^T)^q, re-orthonormalized each time
  uint64_t seed = 0x5eedada9ull;
};

// Halko, Martinsson & Tropp (2011) randomized range finder: Y = A Omega with
// Omega [n, k + p] uniform in [-1, 1) from Prng(seed), q power iterations
// with modified Gram-Schmidt (twice) after every product, then the exact SVD
// of the small core Q^T A. Returns the leading k triplets (k clamped to
// min(m, n)).
SvdResult RandomizedSvd(std::span<const double> a, int64_t m, int64_t n, int32_t k,
                        const RsvdOptions& o);

// What diff uses: ExactSvd truncated to k when min(m, n) <= 2 (k + oversample)
// or min(m, n) <= 128 (exact is cheap and has no sampling error), else
// RandomizedSvd.
SvdResult TruncatedSvd(std::span<const double> a, int64_t m, int64_t n, int32_t k,
                       const RsvdOptions& o);

// Keeps the leading k triplets of r (k <= r.rank()).
void TruncateSvd(SvdResult* r, int32_t k);

}  // namespace slm
