#include "runtime/thread_pool.h"

#if !defined(__wasi__)
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>
#endif

namespace slm {

void ThreadPool::Split(int32_t rows, int32_t i, int32_t n, int32_t align, int32_t* r0,
                       int32_t* r1) {
  const int32_t units = (rows + align - 1) / align;
  const int32_t per = units / n, extra = units % n;
  const int32_t u0 = i * per + (i < extra ? i : extra);
  const int32_t u1 = u0 + per + (i < extra ? 1 : 0);
  *r0 = u0 * align < rows ? u0 * align : rows;
  *r1 = u1 * align < rows ? u1 * align : rows;
}

#if defined(__wasi__)

struct ThreadPool::Shared {};
ThreadPool::ThreadPool(int32_t) : n_(1) {}
ThreadPool::~ThreadPool() = default;
void ThreadPool::Run(TaskFn fn, void* ctx) { fn(ctx, 0, 1); }
void ThreadPool::RunChunks(ChunkFn fn, void* ctx, int32_t n_chunks) {
  for (int32_t c = 0; c < n_chunks; ++c) fn(ctx, c);
}

#else

namespace {

constexpr int64_t kSpinMicros = 200;

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spins until done() or kSpinMicros pass; true if done() became true.
template <typename Done>
bool SpinFor(Done done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
  for (int iter = 0;; ++iter) {
    if (done()) return true;
    CpuRelax();
    if ((iter & 63) == 63 && std::chrono::steady_clock::now() > until) return false;
  }
}

// The job word: (run number << 1) | kind, stored with release after the run's
// fields, so a worker that loads a new word (acquire) sees them. kStatic runs
// wait for every worker (pending); kChunks runs wait only for their chunks.
enum : uint64_t { kStatic = 0, kChunks = 1 };

// The claim word of a chunk run: run id (24 bits) | n_chunks (20) | next (20).
// One CAS both checks that the run is still the one the thread loaded and
// takes chunk `next`; a stale thread's CAS fails or finds next == n_chunks.
constexpr uint64_t Pack(uint64_t run, uint64_t n, uint64_t next) {
  return (run & 0xFFFFFF) << 40 | n << 20 | next;
}

}  // namespace

struct ThreadPool::Shared {
  std::mutex mu;
  std::condition_variable wake;  // workers: a new job word (or stop)
  std::condition_variable done;  // caller: pending (or chunks_left) reached 0
  std::atomic<uint64_t> job{0};
  std::atomic<int32_t> pending{0};
  std::atomic<bool> stop{false};
  TaskFn fn = nullptr;
  void* ctx = nullptr;
  // Chunk runs.
  std::atomic<uint64_t> claim{0};
  std::atomic<int32_t> chunks_left{0};
  uint64_t chunk_runs = 0;  // caller only
  ChunkFn chunk_fn = nullptr;
  void* chunk_ctx = nullptr;
  std::vector<std::thread> threads;

  // Claims and runs chunks until none are left; true if this thread finished
  // the run's last chunk.
  bool WorkChunks() {
    bool last = false;
    uint64_t c = claim.load(std::memory_order_acquire);
    for (;;) {
      const uint64_t n = (c >> 20) & 0xFFFFF, next = c & 0xFFFFF;
      if (next >= n) return last;
      if (!claim.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
        continue;
      }
      // The run cannot end before this chunk is done, so chunk_fn and
      // chunk_ctx are still this run's.
      chunk_fn(chunk_ctx, static_cast<int32_t>(next));
      last = chunks_left.fetch_sub(1, std::memory_order_acq_rel) == 1;
      c = claim.load(std::memory_order_acquire);
    }
  }

  // Publishes a new job word of `kind` and wakes the workers.
  void Publish(uint64_t kind) {
    {
      std::lock_guard<std::mutex> lock(mu);
      const uint64_t j = job.load(std::memory_order_relaxed);
      job.store(((j >> 1) + 1) << 1 | kind, std::memory_order_release);
    }
    wake.notify_all();
  }
};

ThreadPool::ThreadPool(int32_t n_threads) : n_(n_threads < 1 ? 1 : n_threads) {
  if (n_ == 1) return;
  shared_ = std::make_unique<Shared>();
  Shared* s = shared_.get();
  const int32_t n = n_;
  for (int32_t i = 1; i < n; ++i) {
    s->threads.emplace_back([s, i, n] {
      uint64_t seen = 0;
      for (;;) {
        auto fresh = [&] {
          return s->job.load(std::memory_order_acquire) != seen ||
                 s->stop.load(std::memory_order_acquire);
        };
        if (!SpinFor(fresh)) {
          std::unique_lock<std::mutex> lock(s->mu);
          s->wake.wait(lock, fresh);
        }
        if (s->stop.load(std::memory_order_acquire)) return;
        seen = s->job.load(std::memory_order_acquire);
        if ((seen & 1) == kChunks) {
          // Possibly a run that already ended: then the claim word is used up.
          if (s->WorkChunks()) {
            std::lock_guard<std::mutex> lock(s->mu);
            s->done.notify_one();
          }
          continue;
        }
        // A static run waits for this worker, so fn / ctx are the word's.
        s->fn(s->ctx, i, n);
        if (s->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
          std::lock_guard<std::mutex> lock(s->mu);
          s->done.notify_one();
        }
      }
    });
  }
}

ThreadPool::~ThreadPool() {
  if (!shared_) return;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->stop.store(true, std::memory_order_release);
  }
  shared_->wake.notify_all();
  for (std::thread& t : shared_->threads) t.join();
}

void ThreadPool::Run(TaskFn fn, void* ctx) {
  if (n_ == 1) {
    fn(ctx, 0, 1);
    return;
  }
  Shared* s = shared_.get();
  s->fn = fn;
  s->ctx = ctx;
  s->pending.store(n_ - 1, std::memory_order_relaxed);
  s->Publish(kStatic);
  fn(ctx, 0, n_);
  auto finished = [s] { return s->pending.load(std::memory_order_acquire) == 0; };
  if (!SpinFor(finished)) {
    std::unique_lock<std::mutex> lock(s->mu);
    s->done.wait(lock, finished);
  }
}

void ThreadPool::RunChunks(ChunkFn fn, void* ctx, int32_t n_chunks) {
  if (n_ == 1 || n_chunks <= 1 || n_chunks >= kMaxChunks) {
    for (int32_t c = 0; c < n_chunks; ++c) fn(ctx, c);
    return;
  }
  Shared* s = shared_.get();
  // Every worker is between runs or inside WorkChunks of a finished run (its
  // CAS then fails or finds the claim word used up), so these writes race
  // with no reader; the release store of the claim word publishes them.
  s->chunk_fn = fn;
  s->chunk_ctx = ctx;
  s->chunks_left.store(n_chunks, std::memory_order_relaxed);
  s->claim.store(Pack(++s->chunk_runs, static_cast<uint64_t>(n_chunks), 0),
                 std::memory_order_release);
  s->Publish(kChunks);
  s->WorkChunks();
  auto finished = [s] { return s->chunks_left.load(std::memory_order_acquire) == 0; };
  if (!SpinFor(finished)) {
    std::unique_lock<std::mutex> lock(s->mu);
    s->done.wait(lock, finished);
  }
}

#endif

}  // namespace slm
