// How fast the decode matmul streams weights from DRAM, against bench/membw.cc's
// plain sum, and what per-matrix synchronisation costs. Not a test; built by
// bench/kernels/build.sh.
//   stream_lab [--type q4_k] [--mib 576] [--in 2048] [--rows 2048] [--threads 2] [--reps 5]
// The buffer holds `mib` MiB of [rows][in] matrices (random codes, unit scales).
// Modes, each one token (decode) against every matrix once, best of reps (GB/s):
//   sum      membw's 8-accumulator sum over the same bytes (one slice per thread)
//   slice    thread i multiplies matrices [i * M / n, (i + 1) * M / n): one
//            contiguous stream per thread, no synchronisation
//   halves   thread i multiplies rows [i * rows / n, ...) of every matrix in
//            turn, no synchronisation between matrices
//   barrier  as halves, with a spin barrier after each matrix (Session's pattern)
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "kernels/kernels.h"
#include "quant/blocks.h"

using namespace slm;

namespace {

uint64_t Sum(const uint64_t* p, size_t n) {
  uint64_t a[8] = {};
  for (size_t i = 0; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) a[k] += p[i + k];
  }
  return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
}

struct SpinBarrier {
  std::atomic<int> count{0}, phase{0};
  int n;
  void Wait() {
    const int ph = phase.load(std::memory_order_acquire);
    if (count.fetch_add(1, std::memory_order_acq_rel) + 1 == n) {
      count.store(0, std::memory_order_relaxed);
      phase.store(ph + 1, std::memory_order_release);
    } else {
      while (phase.load(std::memory_order_acquire) == ph) {
      }
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string type = "q4_k";
  int64_t mib = 576, in = 2048, rows = 2048;
  int threads = 2, reps = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string f = argv[i], v = argv[i + 1];
    if (f == "--type") type = v;
    if (f == "--mib") mib = std::atoll(v.c_str());
    if (f == "--in") in = std::atoll(v.c_str());
    if (f == "--rows") rows = std::atoll(v.c_str());
    if (f == "--threads") threads = std::atoi(v.c_str());
    if (f == "--reps") reps = std::atoi(v.c_str());
  }
  DType dt;
  if (!ParseDType(type, &dt)) return 2;
  WeightFormat wf;
  DTypeInfo info;
  if (!WeightFormatOf(dt, &wf) || !GetDTypeInfo(static_cast<uint32_t>(dt), &info)) return 2;
  const KernelTable& k = Kernels();
  uint64_t row_bytes = 0;
  if (!DTypeBytes(dt, static_cast<uint64_t>(in), &row_bytes)) return 2;
  const int64_t mat_bytes = rows * static_cast<int64_t>(row_bytes);
  const int64_t n_mats = mib * 1048576 / mat_bytes;
  const size_t total = static_cast<size_t>(n_mats * mat_bytes);
  auto* w = static_cast<uint8_t*>(std::aligned_alloc(64, (total + 63) / 64 * 64));
  uint64_t s = 88172645463325252ull;
  for (size_t i = 0; i < total; ++i) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    w[i] = static_cast<uint8_t>(s);
  }
  // Unit fp16 scales (1.0 = 0x3c00) where each block format keeps them.
  const size_t bb = info.block_bytes;
  for (size_t b = 0; b + bb <= total; b += bb) {
    w[b] = 0x00, w[b + 1] = 0x3c;
    if (dt == DType::kQ4_K) w[b + 2] = 0x00, w[b + 3] = 0x3c;
  }
  std::vector<float> x(in, 0.5f);
  std::vector<uint8_t> xq(static_cast<size_t>(ActBytes(ActFormatOf(wf), static_cast<int32_t>(in))));
  (wf == WeightFormat::kQ4_K || wf == WeightFormat::kQ6_K ? k.quantize_q8x256 : k.quantize_q8x32)(
      x.data(), xq.data(), static_cast<int32_t>(in));
  std::vector<float> y(static_cast<size_t>(rows) * threads);
  const MatMulFn mm = k.matmul[static_cast<int>(wf)];
  std::printf("%s %s, %lld matrices of %lld x %lld (%.0f MiB), %d threads\n", k.name, type.c_str(),
              (long long)n_mats, (long long)rows, (long long)in, total / 1048576.0, threads);
  for (const char* mode : {"sum", "slice", "halves", "barrier"}) {
    double best = 0;
    for (int r = 0; r < reps; ++r) {
      SpinBarrier bar;
      bar.n = threads;
      std::atomic<uint64_t> sink{0};
      auto work = [&](int t) {
        const std::string m = mode;
        if (m == "sum") {
          const size_t n = total / 8, b = n * t / threads, e = n * (t + 1) / threads;
          sink += Sum(reinterpret_cast<const uint64_t*>(w) + b, e - b);
        } else if (m == "slice") {
          for (int64_t i = n_mats * t / threads; i < n_mats * (t + 1) / threads; ++i)
            mm(y.data(), 0, w + i * mat_bytes, xq.data(), 0, static_cast<int32_t>(in), 0,
               static_cast<int32_t>(rows), 1);
        } else {
          const auto r0 = static_cast<int32_t>(rows * t / threads),
                     r1 = static_cast<int32_t>(rows * (t + 1) / threads);
          for (int64_t i = 0; i < n_mats; ++i) {
            mm(y.data(), 0, w + i * mat_bytes, xq.data(), 0, static_cast<int32_t>(in), r0, r1, 1);
            if (m == "barrier") bar.Wait();
          }
        }
      };
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<std::thread> pool;
      for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
      work(0);
      for (auto& th : pool) th.join();
      const double sec =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (total / sec / 1e9 > best) best = total / sec / 1e9;
    }
    std::printf("  %-8s %6.2f GB/s\n", mode, best);
  }
  std::free(w);
  return 0;
}
