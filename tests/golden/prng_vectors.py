#!/usr/bin/python3
"""Known-answer vectors for base/prng.h, computed from the documented
algorithms (splitmix64 seeding, xoshiro256**, float = (x >> 40) * 2^-24).
Prints the C++ arrays pasted into tests/unit/prng_test.cc."""
M = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return state, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M


def xoshiro(seed, n):
    s, x = [], seed
    for _ in range(4):
        x, v = splitmix64(x)
        s.append(v)
    out = []
    for _ in range(n):
        out.append((rotl((s[1] * 5) & M, 7) * 9) & M)
        t = (s[1] << 17) & M
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
    return out


if __name__ == "__main__":
    st, sm = 0, []
    for _ in range(3):
        st, v = splitmix64(st)
        sm.append(v)
    print("splitmix64(0):", ", ".join(f"0x{v:016x}ull" for v in sm))
    for seed in (0, 42, 0xDEADBEEFCAFEF00D):
        vals = xoshiro(seed, 5)
        print(f"xoshiro seed {seed:#x}:", ", ".join(f"0x{v:016x}ull" for v in vals))
        print("  floats (x>>40 as integers):", ", ".join(str(v >> 40) for v in vals))
