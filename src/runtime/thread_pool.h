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
// RunChunks(fn, ctx, n_chunks) hands out chunks dynamically instead: every
// thread (the caller included) claims the next unclaimed chunk with one atomic
// compare-and-swap until none are left, and the call returns when every chunk
// is done. A worker whose core is busy (preempted, or not yet awake) delays
// only the chunk it holds, not a static share of the work; a worker that
// wakes after the last chunk was claimed finds nothing and does nothing.
// Which thread runs a chunk varies from call to call, so callers give each
// chunk whole output rows (results never depend on who computed them).
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

  // fn(ctx, c) once for every c in [0, n_chunks), in any order and on any of
  // the pool's threads; returns when all are done. n_chunks < kMaxChunks.
  using ChunkFn = void (*)(void* ctx, int32_t chunk);
  static constexpr int32_t kMaxChunks = 1 << 20;
  void RunChunks(ChunkFn fn, void* ctx, int32_t n_chunks);

  // Rows [*r0, *r1) of `rows` for task i of n: contiguous ranges, each a
  // multiple of `align` rows except the last.
  static void Split(int32_t rows, int32_t i, int32_t n, int32_t align, int32_t* r0, int32_t* r1);

 private:
  struct Shared;
  int32_t n_ = 1;
  std::unique_ptr<Shared> shared_;  // null when n_ == 1
};

}  // namespace slm
