// Streaming-read memory bandwidth: the ceiling for decode, which reads every
// weight once per token. Sums a buffer (default 1 GiB, far larger than L3)
// with T threads, each over its own contiguous slice; best of R passes.
//
//   c++ -O2 -march=native -pthread bench/membw.cc -o membw
//   ./membw [MiB=1024] [threads=1] [reps=5]    -> {"mib":1024,"threads":1,"gbps":31.2}
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

uint64_t SumSlice(const uint64_t* p, size_t n) {
  uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    a0 += p[i]; a1 += p[i + 1]; a2 += p[i + 2]; a3 += p[i + 3];
    a4 += p[i + 4]; a5 += p[i + 5]; a6 += p[i + 6]; a7 += p[i + 7];
  }
  for (; i < n; ++i) a0 += p[i];
  return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  const int reps = argc > 3 ? std::atoi(argv[3]) : 5;
  if (mib == 0 || threads < 1 || reps < 1) {
    std::fprintf(stderr, "usage: membw [MiB] [threads] [reps]\n");
    return 2;
  }
  const size_t n = mib * 1048576 / sizeof(uint64_t);
  std::vector<uint64_t> buf(n);
  for (size_t i = 0; i < n; ++i) buf[i] = i * 0x9e3779b97f4a7c15ull;  // touch every page
  std::vector<uint64_t> sums(static_cast<size_t>(threads));
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) {
      pool.emplace_back([&, t] {
        const size_t b = n * t / threads, e = n * (t + 1) / threads;
        sums[t] = SumSlice(buf.data() + b, e - b);
      });
    }
    sums[0] = SumSlice(buf.data(), n / threads);
    for (auto& th : pool) th.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double gbps = double(n * sizeof(uint64_t)) / s / 1e9;
    if (gbps > best) best = gbps;
  }
  uint64_t total = 0;
  for (uint64_t s : sums) total += s;
  std::printf("{\"mib\":%zu,\"threads\":%d,\"gbps\":%.2f,\"checksum\":%llu}\n", mib, threads, best,
              static_cast<unsigned long long>(total % 1000));
  return 0;
}
