// A small persistent pool for the forward pass (no thread is created per
// token). Run(fn, ctx) calls fn(ctx, i, n) for every i in [0, n) at once, task
// 0 on the calling thread and task i on worker i, and returns when all are
// done. Callers split work by output rows, so results never depend on n.
//
// Waiting: a worker that finds no new job spins for a short while (about
// kSpinMicros), then sleeps on a condition variable; the caller waits for the
// last task the same way. Pure spinning is avoided on purpose: with a busy
// neighbour on a 2-vCPU machine, spin barriers collapse
// (../shared/notes/peers-baseline.md).
//
// Design goals: one synchronisation per Run, no allocation per Run, n = 1
// costs a direct call. Non-goals: work stealing, nested Run, calls from
// several threads at once (a pool belongs to one Session). wasm32-wasi builds
// have no threads: the pool always has size 1 there.
#pragma once

#include <cstdint>
#include <memory>

namespace slm {

class ThreadPool {
 public:
  // n_threads >= 1 (clamped); the pool starts n_threads - 1 workers.
  explicit ThreadPool(int32_t n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int32_t size() const { return n_; }
  using TaskFn = void (*)(void* ctx, int32_t i, int32_t n);
  void Run(TaskFn fn, void* ctx);

  // Rows [*r0, *r1) of `rows` for task i of n: contiguous ranges, each a
  // multiple of `align` rows except the last.
  static void Split(int32_t rows, int32_t i, int32_t n, int32_t align, int32_t* r0, int32_t* r1);

 private:
  struct Shared;
  int32_t n_ = 1;
  std::unique_ptr<Shared> shared_;  // null when n_ == 1
};

}  // namespace slm
