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

}  // namespace

struct ThreadPool::Shared {
  std::mutex mu;
  std::condition_variable wake;  // workers: a new generation (or stop)
  std::condition_variable done;  // caller: pending reached 0
  std::atomic<uint32_t> generation{0};
  std::atomic<int32_t> pending{0};
  std::atomic<bool> stop{false};
  TaskFn fn = nullptr;
  void* ctx = nullptr;
  std::vector<std::thread> threads;
};

ThreadPool::ThreadPool(int32_t n_threads) : n_(n_threads < 1 ? 1 : n_threads) {
  if (n_ == 1) return;
  shared_ = std::make_unique<Shared>();
  Shared* s = shared_.get();
  const int32_t n = n_;
  for (int32_t i = 1; i < n; ++i) {
    s->threads.emplace_back([s, i, n] {
      uint32_t seen = 0;
      for (;;) {
        auto fresh = [&] {
          return s->generation.load(std::memory_order_acquire) != seen ||
                 s->stop.load(std::memory_order_acquire);
        };
        if (!SpinFor(fresh)) {
          std::unique_lock<std::mutex> lock(s->mu);
          s->wake.wait(lock, fresh);
        }
        if (s->stop.load(std::memory_order_acquire)) return;
        seen = s->generation.load(std::memory_order_acquire);
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
  {
    std::lock_guard<std::mutex> lock(s->mu);
    s->generation.fetch_add(1, std::memory_order_release);
  }
  s->wake.notify_all();
  fn(ctx, 0, n_);
  auto finished = [s] { return s->pending.load(std::memory_order_acquire) == 0; };
  if (!SpinFor(finished)) {
    std::unique_lock<std::mutex> lock(s->mu);
    s->done.wait(lock, finished);
  }
}

#endif

}  // namespace slm
