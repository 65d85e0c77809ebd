#!/usr/bin/env python3
"""Known answers for slm::StreamSeed (src/sampler/sampler.h), computed from its
documented definition independently of the C++ code:
  StreamSeed(seed, 0) = seed
  StreamSeed(seed, k) = M(seed XOR M(k)) for k > 0, M(v) = first splitmix64 output from state v
then the first two xoshiro256** outputs of a generator seeded with it (base/prng.h).
Used by tests/unit/sampler_chain_test.cc."""
M = (1 << 64) - 1


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return z ^ (z >> 31)


def stream_seed(seed, k):
    return seed if k == 0 else splitmix64(seed ^ splitmix64(k))


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M


def xoshiro(seed):
    # Prng::Seed: four successive splitmix64 outputs starting at state seed.
    s = [splitmix64((seed + i * 0x9E3779B97F4A7C15) & M) for i in range(4)]
    while True:
        r = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 17) & M
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        yield r


if __name__ == "__main__":
    for seed, k in [(0, 1), (0, 2), (42, 1), (42, 7), (0xDEADBEEFCAFEF00D, 3)]:
        ss = stream_seed(seed, k)
        g = xoshiro(ss)
        print(f"{{0x{seed:x}ull, {k}, 0x{ss:016x}ull, {{0x{next(g):016x}ull, 0x{next(g):016x}ull}}}},")
