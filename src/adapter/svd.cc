#include "adapter/svd.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "base/prng.h"

namespace slm {
namespace {

// One-sided Jacobi on the columns of C, stored column-major: col j is
// c[j * m .. j * m + m). Requires m >= n. On return the columns of C are
// U_j * s_j and V (column-major [n, n]) holds the rotations.
void JacobiColumns(std::vector<double>* c, int64_t m, int64_t n, std::vector<double>* v) {
  v->assign(static_cast<size_t>(n * n), 0.0);
  for (int64_t j = 0; j < n; ++j) (*v)[static_cast<size_t>(j * n + j)] = 1.0;
  constexpr double kTol = 1e-15;
  for (int sweep = 0; sweep < 80; ++sweep) {
    bool rotated = false;
    for (int64_t p = 0; p + 1 < n; ++p) {
      for (int64_t q = p + 1; q < n; ++q) {
        double* cp = c->data() + p * m;
        double* cq = c->data() + q * m;
        double alpha = 0, beta = 0, gamma = 0;
        for (int64_t i = 0; i < m; ++i) {
          alpha += cp[i] * cp[i];
          beta += cq[i] * cq[i];
          gamma += cp[i] * cq[i];
        }
        if (gamma == 0.0 || std::fabs(gamma) <= kTol * std::sqrt(alpha * beta)) continue;
        rotated = true;
        const double zeta = (beta - alpha) / (2.0 * gamma);
        const double t =
            (zeta >= 0 ? 1.0 : -1.0) / (std::fabs(zeta) + std::sqrt(1.0 + zeta * zeta));
        const double cs = 1.0 / std::sqrt(1.0 + t * t);
        const double sn = cs * t;
        for (int64_t i = 0; i < m; ++i) {
          const double x = cp[i], y = cq[i];
          cp[i] = cs * x - sn * y;
          cq[i] = sn * x + cs * y;
        }
        double* vp = v->data() + p * n;
        double* vq = v->data() + q * n;
        for (int64_t i = 0; i < n; ++i) {
          const double x = vp[i], y = vq[i];
          vp[i] = cs * x - sn * y;
          vq[i] = sn * x + cs * y;
        }
      }
    }
    if (!rotated) break;
  }
}

// Orthonormalizes the k columns of Y (column-major [m, k]) in place by
// modified Gram-Schmidt, applied twice for stability. A column that
// collapses (norm below 1e-13 of its norm before projection) is zeroed.
void Orthonormalize(std::vector<double>* y, int64_t m, int64_t k) {
  for (int pass = 0; pass < 2; ++pass) {
    for (int64_t j = 0; j < k; ++j) {
      double* yj = y->data() + j * m;
      double before = 0;
      for (int64_t i = 0; i < m; ++i) before += yj[i] * yj[i];
      for (int64_t l = 0; l < j; ++l) {
        const double* yl = y->data() + l * m;
        double d = 0;
        for (int64_t i = 0; i < m; ++i) d += yl[i] * yj[i];
        for (int64_t i = 0; i < m; ++i) yj[i] -= d * yl[i];
      }
      double nrm = 0;
      for (int64_t i = 0; i < m; ++i) nrm += yj[i] * yj[i];
      nrm = std::sqrt(nrm);
      if (nrm == 0.0 || nrm <= 1e-13 * std::sqrt(before)) {
        std::fill(yj, yj + m, 0.0);
        continue;
      }
      for (int64_t i = 0; i < m; ++i) yj[i] /= nrm;
    }
  }
}

}  // namespace

void TruncateSvd(SvdResult* r, int32_t k) {
  const int32_t old = r->rank();
  if (k >= old) return;
  std::vector<double> u(static_cast<size_t>(r->m * k));
  for (int64_t i = 0; i < r->m; ++i) {
    for (int32_t j = 0; j < k; ++j)
      u[static_cast<size_t>(i * k + j)] = r->u[static_cast<size_t>(i * old + j)];
  }
  r->u = std::move(u);
  r->vt.resize(static_cast<size_t>(k * r->n));
  r->s.resize(static_cast<size_t>(k));
}

SvdResult ExactSvd(std::span<const double> a, int64_t m, int64_t n) {
  SvdResult r;
  r.m = m;
  r.n = n;
  if (m <= 0 || n <= 0) return r;
  // Work on C = A (m >= n) or C = A^T (m < n), column-major [rows, cols].
  const bool trans = m < n;
  const int64_t rows = trans ? n : m, cols = trans ? m : n;
  std::vector<double> c(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const double x = a[static_cast<size_t>(i * n + j)];
      if (trans) {
        c[static_cast<size_t>(i * rows + j)] = x;  // column i of A^T is row i of A
      } else {
        c[static_cast<size_t>(j * rows + i)] = x;
      }
    }
  }
  std::vector<double> v;
  JacobiColumns(&c, rows, cols, &v);
  std::vector<double> sv(static_cast<size_t>(cols));
  for (int64_t j = 0; j < cols; ++j) {
    double s = 0;
    for (int64_t i = 0; i < rows; ++i)
      s += c[static_cast<size_t>(j * rows + i)] * c[static_cast<size_t>(j * rows + i)];
    sv[static_cast<size_t>(j)] = std::sqrt(s);
  }
  std::vector<int64_t> order(static_cast<size_t>(cols));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
    return sv[static_cast<size_t>(x)] > sv[static_cast<size_t>(y)];
  });
  const int64_t k = cols;
  r.s.resize(static_cast<size_t>(k));
  r.u.assign(static_cast<size_t>(m * k), 0.0);
  r.vt.assign(static_cast<size_t>(k * n), 0.0);
  for (int64_t jj = 0; jj < k; ++jj) {
    const int64_t j = order[static_cast<size_t>(jj)];
    const double s = sv[static_cast<size_t>(j)];
    r.s[static_cast<size_t>(jj)] = s;
    const double* cj = c.data() + j * rows;  // = s * (left vector of C)
    const double* vj = v.data() + j * cols;  // right vector of C
    // C = Uc S Vc^T. Not transposed: U = Uc, V = Vc. Transposed (C = A^T):
    // A = Vc S Uc^T, so U = Vc and V = Uc.
    for (int64_t i = 0; i < rows; ++i) {
      const double uc = s > 0 ? cj[i] / s : 0.0;
      if (trans) {
        r.vt[static_cast<size_t>(jj * n + i)] = uc;
      } else {
        r.u[static_cast<size_t>(i * k + jj)] = uc;
      }
    }
    for (int64_t i = 0; i < cols; ++i) {
      if (trans) {
        r.u[static_cast<size_t>(i * k + jj)] = vj[i];
      } else {
        r.vt[static_cast<size_t>(jj * n + i)] = vj[i];
      }
    }
  }
  return r;
}

SvdResult RandomizedSvd(std::span<const double> a, int64_t m, int64_t n, int32_t k,
                        const RsvdOptions& o) {
  const int64_t full = std::min(m, n);
  if (k > full) k = static_cast<int32_t>(full);
  if (k <= 0) return SvdResult{m, n, {}, {}, {}};
  const int64_t l = std::min<int64_t>(full, k + std::max(0, o.oversample));
  // Omega [n, l] uniform in [-1, 1); Y = A Omega, column-major [m, l].
  Prng rng(o.seed);
  std::vector<double> omega(static_cast<size_t>(n * l));
  for (double& x : omega) x = 2.0 * static_cast<double>(rng.NextFloat()) - 1.0;
  std::vector<double> y(static_cast<size_t>(m * l), 0.0);
  auto mul_a = [&](const std::vector<double>& x_cm /* [n, l] col-major */,
                   std::vector<double>* out) {
    out->assign(static_cast<size_t>(m * l), 0.0);
    for (int64_t j = 0; j < l; ++j) {
      const double* xj = x_cm.data() + j * n;
      double* oj = out->data() + j * m;
      for (int64_t i = 0; i < m; ++i) {
        const double* ai = a.data() + i * n;
        double s = 0;
        for (int64_t c = 0; c < n; ++c) s += ai[c] * xj[c];
        oj[i] = s;
      }
    }
  };
  auto mul_at = [&](const std::vector<double>& y_cm /* [m, l] */, std::vector<double>* out) {
    out->assign(static_cast<size_t>(n * l), 0.0);
    for (int64_t j = 0; j < l; ++j) {
      const double* yj = y_cm.data() + j * m;
      double* oj = out->data() + j * n;
      for (int64_t i = 0; i < m; ++i) {
        const double* ai = a.data() + i * n;
        const double w = yj[i];
        for (int64_t c = 0; c < n; ++c) oj[c] += ai[c] * w;
      }
    }
  };
  // omega is [n, l] row-major; make it column-major for mul_a.
  std::vector<double> z(static_cast<size_t>(n * l));
  for (int64_t c = 0; c < n; ++c) {
    for (int64_t j = 0; j < l; ++j)
      z[static_cast<size_t>(j * n + c)] = omega[static_cast<size_t>(c * l + j)];
  }
  mul_a(z, &y);
  Orthonormalize(&y, m, l);
  for (int32_t it = 0; it < o.power_iters; ++it) {
    mul_at(y, &z);
    Orthonormalize(&z, n, l);
    mul_a(z, &y);
    Orthonormalize(&y, m, l);
  }
  // Core B = Q^T A, [l, n] row-major: row j = A^T q_j.
  std::vector<double> b;
  mul_at(y, &z);  // z col-major [n, l]: column j = A^T q_j = row j of B
  b.assign(z.begin(), z.end());
  SvdResult core = ExactSvd(b, l, n);  // B = Ub S Vt, Ub [l, l']
  SvdResult r;
  r.m = m;
  r.n = n;
  const int64_t kc = core.rank();
  r.s = core.s;
  r.vt = core.vt;
  r.u.assign(static_cast<size_t>(m * kc), 0.0);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t jj = 0; jj < kc; ++jj) {
      double s = 0;
      for (int64_t t = 0; t < l; ++t)
        s += y[static_cast<size_t>(t * m + i)] * core.u[static_cast<size_t>(t * kc + jj)];
      r.u[static_cast<size_t>(i * kc + jj)] = s;
    }
  }
  TruncateSvd(&r, k);
  return r;
}

SvdResult TruncatedSvd(std::span<const double> a, int64_t m, int64_t n, int32_t k,
                       const RsvdOptions& o) {
  const int64_t full = std::min(m, n);
  if (full <= 128 || full <= 2 * (static_cast<int64_t>(k) + o.oversample)) {
    SvdResult r = ExactSvd(a, m, n);
    TruncateSvd(&r, std::max(0, k));
    return r;
  }
  return RandomizedSvd(a, m, n, k, o);
}

}  // namespace slm
