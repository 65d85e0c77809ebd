// ThreadPool: Run calls every task index once; RunChunks calls every chunk
// once (no chunk lost or run twice), also when static and chunk runs alternate
// quickly (a worker may wake for a run that already ended) and when chunks
// take uneven time.
#include "runtime/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace slm {
namespace {

struct Counts {
  std::vector<std::atomic<int32_t>> hits;
  explicit Counts(size_t n) : hits(n) {}
};

void CountChunk(void* ctx, int32_t c) {
  static_cast<Counts*>(ctx)->hits[static_cast<size_t>(c)].fetch_add(1);
}

void CountTask(void* ctx, int32_t i, int32_t) {
  static_cast<Counts*>(ctx)->hits[static_cast<size_t>(i)].fetch_add(1);
}

// Expects hits[0..n) == 1 and the rest 0, then clears.
void ExpectOnce(Counts* counts, int32_t n, const char* what) {
  for (size_t c = 0; c < counts->hits.size(); ++c) {
    const int32_t want = static_cast<int32_t>(c) < n ? 1 : 0;
    ASSERT_EQ(counts->hits[c].load(), want) << what << ": index " << c << " of " << n;
    counts->hits[c].store(0);
  }
}

TEST(ThreadPool, RunChunksCallsEveryChunkOnce) {
  for (int32_t threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    Counts counts(1000);
    for (int32_t n : {0, 1, 2, 3, 7, 16, 100, 1000}) {
      pool.RunChunks(CountChunk, &counts, n);
      ExpectOnce(&counts, n, "RunChunks");
    }
  }
}

TEST(ThreadPool, StaticAndChunkRunsAlternate) {
  ThreadPool pool(2);
  Counts counts(64);
  for (int32_t round = 0; round < 2000; ++round) {
    const int32_t n = 1 + round % 37;
    pool.RunChunks(CountChunk, &counts, n);
    ExpectOnce(&counts, n, "RunChunks");
    if (round % 3 == 0) {
      pool.Run(CountTask, &counts);
      ExpectOnce(&counts, pool.size(), "Run");
    }
  }
}

struct Slow {
  std::vector<std::atomic<int32_t>> hits;
  Slow() : hits(40) {}
};

TEST(ThreadPool, UnevenChunksAllDone) {
  ThreadPool pool(3);
  Slow slow;
  auto fn = [](void* ctx, int32_t c) {
    if (c % 7 == 0) std::this_thread::sleep_for(std::chrono::microseconds(300));
    static_cast<Slow*>(ctx)->hits[static_cast<size_t>(c)].fetch_add(1);
  };
  for (int round = 0; round < 20; ++round) {
    pool.RunChunks(fn, &slow, 40);
    for (size_t c = 0; c < slow.hits.size(); ++c) {
      ASSERT_EQ(slow.hits[c].exchange(0), 1) << "round " << round << " chunk " << c;
    }
  }
}

TEST(ThreadPool, SplitCoversRowsInAlignedRanges) {
  for (int32_t rows : {1, 15, 16, 17, 288, 32000}) {
    for (int32_t n : {1, 2, 3}) {
      int32_t next = 0;
      for (int32_t i = 0; i < n; ++i) {
        int32_t r0, r1;
        ThreadPool::Split(rows, i, n, 16, &r0, &r1);
        EXPECT_EQ(r0, next) << rows << " rows, task " << i << " of " << n;
        EXPECT_TRUE(r0 % 16 == 0 || r0 == rows);
        next = r1;
      }
      EXPECT_EQ(next, rows);
    }
  }
}

}  // namespace
}  // namespace slm
