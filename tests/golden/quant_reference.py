#!/usr/bin/env python3
"""Expected bytes for slm's block quantizers (tests/unit/quant_test.cc).

An independent Python transcription of ggml's reference quantizers
(ggml/src/ggml-quants.c: quantize_row_q8_0_ref, quantize_row_q4_0_ref,
quantize_row_q4_K_ref with make_qkx2_quants, quantize_row_q6_K_ref with
make_qx_quants). Every arithmetic step is done in numpy float32 in ggml's order
(numpy promotes float32 op Python-scalar to float64, so every constant is
wrapped in F()); f32 -> f16 is numpy's round-to-nearest-even conversion.

Writes quant_reference.bin next to this script:
  "SLMQREF1", u32 n, f32 x[n], u32 n_sections,
  then per section: u32 ggml type id, u32 n_bytes, bytes (quantized x).
Run: /usr/bin/python3 tests/golden/quant_reference.py
"""
import math
import os
import struct

import numpy as np

F = np.float32
Q8_0, Q4_0, Q4_K, Q6_K = 8, 2, 12, 14


def f16_bits(f):
    with np.errstate(over="ignore"):
        return int(np.array([f], dtype=np.float32).astype(np.float16).view(np.uint16)[0])


def f16_to_f32(h):
    return F(np.array([h], dtype=np.uint16).view(np.float16).astype(np.float32)[0])


def nearest_int(f):
    v = np.array([F(f) + F(12582912.0)], dtype=np.float32).view(np.int32)[0]
    return int((int(v) & 0x007FFFFF) - 0x00400000)


def roundf(v):  # half away from zero; exact in float64 for |v| < 2^24
    a = math.floor(abs(float(v)) + 0.5)
    return int(-a if v < 0 else a)


def q8_0(x):
    out = bytearray()
    for b in range(0, len(x), 32):
        xs = x[b:b + 32]
        amax = F(0)
        for v in xs:
            amax = max(amax, F(abs(v)))
        d = amax / F(127)
        inv = F(1) / d if d != 0 else F(0)
        out += struct.pack("<H", f16_bits(d))
        out += struct.pack("<32b", *[roundf(v * inv) for v in xs])
    return bytes(out)


def q4_0(x):
    out = bytearray()
    for b in range(0, len(x), 32):
        xs = x[b:b + 32]
        amax, mx = F(0), F(0)
        for v in xs:
            if amax < abs(v):
                amax, mx = F(abs(v)), v
        d = mx / F(-8)
        inv = F(1) / d if d != 0 else F(0)
        out += struct.pack("<H", f16_bits(d))
        for j in range(16):
            lo = min(15, int(xs[j] * inv + F(8.5)))
            hi = min(15, int(xs[j + 16] * inv + F(8.5)))
            out.append(lo | (hi << 4))
    return bytes(out)


def make_qkx2_quants(x, w, nmax, rmin, rdelta, nstep):
    n = len(x)
    mn, mx = x[0], x[0]
    sum_w = w[0]
    sum_x = sum_w * x[0]
    for i in range(1, n):
        if x[i] < mn:
            mn = x[i]
        if x[i] > mx:
            mx = x[i]
        sum_w = sum_w + w[i]
        sum_x = sum_x + w[i] * x[i]
    if mn > 0:
        mn = F(0)
    if mx == mn:
        return F(0), -mn, [0] * n
    iscale = F(nmax) / (mx - mn)
    scale = F(1) / iscale
    L = [0] * n
    best = F(0)
    for i in range(n):
        L[i] = max(0, min(nmax, nearest_int(iscale * (x[i] - mn))))
        diff = scale * F(L[i]) + mn - x[i]
        best = best + w[i] * (diff * diff)
    for step in range(nstep + 1):
        iscale = (F(rmin) + F(rdelta) * F(step) + F(nmax)) / (mx - mn)
        sl, sl2, sxl = F(0), F(0), F(0)
        aux = [0] * n
        for i in range(n):
            l = max(0, min(nmax, nearest_int(iscale * (x[i] - mn))))
            aux[i] = l
            sl = sl + w[i] * F(l)
            sl2 = sl2 + w[i] * F(l) * F(l)
            sxl = sxl + w[i] * F(l) * x[i]
        det = sum_w * sl2 - sl * sl
        if det > 0:
            this_scale = (sum_w * sxl - sum_x * sl) / det
            this_min = (sl2 * sum_x - sl * sxl) / det
            if this_min > 0:
                this_min = F(0)
                this_scale = sxl / sl2
            err = F(0)
            for i in range(n):
                diff = this_scale * F(aux[i]) + this_min - x[i]
                err = err + w[i] * (diff * diff)
            if err < best:
                L, best, scale, mn = aux, err, this_scale, this_min
    return scale, -mn, L


def scale_min_k4(j, s):
    if j < 4:
        return s[j] & 63, s[j + 4] & 63
    return (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4), (s[j + 4] >> 4) | ((s[j] >> 6) << 4)


def q4_k(x):
    out = bytearray()
    for b in range(0, len(x), 256):
        xb = x[b:b + 256]
        L = [0] * 256
        scales, mins = [], []
        max_scale, max_min = F(0), F(0)
        for j in range(8):
            xs = xb[32 * j:32 * j + 32]
            sum_x2 = F(0)
            for v in xs:
                sum_x2 = sum_x2 + v * v
            av_x = np.sqrt(sum_x2 / F(32))
            w = [av_x + F(abs(v)) for v in xs]
            sc, mn, Lj = make_qkx2_quants(xs, w, 15, -1.0, 0.1, 20)
            L[32 * j:32 * j + 32] = Lj
            scales.append(sc)
            mins.append(mn)
            if sc > max_scale:
                max_scale = sc
            if mn > max_min:
                max_min = mn
        inv_scale = F(63) / max_scale if max_scale > 0 else F(0)
        inv_min = F(63) / max_min if max_min > 0 else F(0)
        s = [0] * 12
        for j in range(8):
            ls = min(63, nearest_int(inv_scale * scales[j]) & 0xFF)
            lm = min(63, nearest_int(inv_min * mins[j]) & 0xFF)
            if j < 4:
                s[j] = ls
                s[j + 4] = lm
            else:
                s[j + 4] = (ls & 0xF) | ((lm & 0xF) << 4)
                s[j - 4] |= (ls >> 4) << 6
                s[j] |= (lm >> 4) << 6
        dh = f16_bits(max_scale / F(63))
        mh = f16_bits(max_min / F(63))
        for j in range(8):
            sc, m = scale_min_k4(j, s)
            d = f16_to_f32(dh) * F(sc)
            if d == 0:
                continue
            dm = f16_to_f32(mh) * F(m)
            for i in range(32):
                L[32 * j + i] = max(0, min(15, nearest_int((xb[32 * j + i] + dm) / d)))
        out += struct.pack("<HH", dh, mh) + bytes(s)
        for c in range(4):
            out += bytes(L[64 * c + l] | (L[64 * c + l + 32] << 4) for l in range(32))
    return bytes(out)


def make_qx_quants(x, nmax):
    n = len(x)
    mx, amax = F(0), F(0)
    for v in x:
        if abs(v) > amax:
            amax, mx = F(abs(v)), v
    if amax < F(1e-15):
        return F(0), [0] * n

    def fit(iscale):
        sumlx, suml2, ls = F(0), F(0), []
        for v in x:
            l = max(-nmax, min(nmax - 1, nearest_int(iscale * v)))
            ls.append(l + nmax)
            w = v * v
            sumlx = sumlx + w * v * F(l)
            suml2 = suml2 + w * F(l) * F(l)
        return sumlx, suml2, ls

    sumlx, suml2, L = fit(F(-nmax) / mx)
    scale = sumlx / suml2 if suml2 != 0 else F(0)
    best = scale * sumlx
    for k in range(-9, 10):
        if k == 0:
            continue
        sumlx, suml2, ls = fit(-(F(nmax) + F(0.1) * F(k)) / mx)
        if suml2 > 0 and sumlx * sumlx > best * suml2:
            L, scale = ls, sumlx / suml2
            best = scale * sumlx
    return scale, L


def q6_k(x):
    out = bytearray()
    for b in range(0, len(x), 256):
        xb = x[b:b + 256]
        L, scales = [], []
        max_scale, max_abs = F(0), F(0)
        for ib in range(16):
            sc, Lj = make_qx_quants(xb[16 * ib:16 * ib + 16], 32)
            L += Lj
            scales.append(sc)
            if abs(sc) > max_abs:
                max_abs, max_scale = F(abs(sc)), sc
        if max_abs < F(1e-15):
            out += bytes(210)
            continue
        iscale = F(-128) / max_scale
        dh = f16_bits(F(1) / iscale)
        sc8 = [min(127, nearest_int(iscale * s)) for s in scales]
        for j in range(16):
            d = f16_to_f32(dh) * F(sc8[j])
            if d == 0:
                continue
            for i in range(16):
                L[16 * j + i] = max(-32, min(31, nearest_int(xb[16 * j + i] / d))) + 32
        ql, qh = bytearray(128), bytearray(64)
        for h in range(2):
            q = L[128 * h:128 * h + 128]
            for l in range(32):
                ql[64 * h + l] = (q[l] & 0xF) | ((q[l + 64] & 0xF) << 4)
                ql[64 * h + l + 32] = (q[l + 32] & 0xF) | ((q[l + 96] & 0xF) << 4)
                qh[32 * h + l] = ((q[l] >> 4) | ((q[l + 32] >> 4) << 2) |
                                  ((q[l + 64] >> 4) << 4) | ((q[l + 96] >> 4) << 6))
        out += bytes(ql) + bytes(qh) + struct.pack("<16b", *sc8) + struct.pack("<H", dh)
    return bytes(out)


def inputs():
    """4096 values = 128 blocks of 32 = 16 super-blocks, ordinary and edge cases."""
    rng = np.random.default_rng(20261125)
    parts = []
    for scale in (1.0, 0.02, 3.0, 1e-3):           # 4 super-blocks of N(0, s^2)
        parts.append(rng.standard_normal(256) * scale)
    parts.append(rng.uniform(-1, 1, 256))          # uniform
    parts.append(np.abs(rng.standard_normal(256)) + 0.5)   # all positive (min clamp)
    parts.append(-np.abs(rng.standard_normal(256)) - 0.5)  # all negative
    t = np.arange(256)
    parts.append(0.1 + 2 * np.cos(t + 0.5))        # the unit test's smooth row
    sb = rng.standard_normal(256)                  # one huge outlier
    sb[77] = 400.0
    parts.append(sb)
    parts.append(np.zeros(256))                    # all zero
    parts.append(np.full(256, 0.3))                # constant
    parts.append(np.full(256, -1.25))              # constant negative
    # Rounding ties: amax 127 -> d = 1 (q8_0); max -8 / +8 -> d = +-1 (q4_0).
    tie = np.zeros(256)
    tie[0:32] = np.r_[127, -127, np.arange(-14.5, 15.5, 1.0)][:32]
    tie[32:64] = np.r_[-8, np.arange(-7.5, 8, 0.5)][:32]
    tie[64:96] = np.r_[8, np.arange(-7.5, 8, 0.5)][:32]
    tie[96:128] = np.r_[-3, 3, rng.standard_normal(30)]   # first max wins
    tie[128:160] = np.r_[3, -3, rng.standard_normal(30)]
    tie[160:192] = rng.standard_normal(32) * 1e-6  # f16 subnormal scales
    tie[192:224] = rng.standard_normal(32) * 1e-9  # scales below f16 range
    tie[224:256] = rng.standard_normal(32) * 3e6   # f16 scale overflows to inf
    parts.append(tie)
    mixed = rng.standard_normal(256)               # sub-blocks at very different scales
    mixed[:32] *= 100
    mixed[32:64] = 0
    mixed[64:96] *= 1e-4
    parts.append(mixed)
    parts.append(rng.standard_normal(256) * 0.5 + 2.0)  # offset data
    parts.append(rng.standard_t(3, 256))           # heavy tails
    x = np.concatenate(parts).astype(np.float32)
    assert x.size == 4096
    return x


def main():
    x = inputs()
    xs = [F(v) for v in x]
    # The huge-scale block overflows f16 in q8_0/q4_0 (d = inf) and is kept
    # there; the k-quants get rows without it (their f16 overflow is a
    # separate, unrealistic case; see quant_test.cc).
    sections = [(Q8_0, q8_0(xs)), (Q4_0, q4_0(xs))]
    xk = list(xs)
    for i in range(12 * 256 + 224, 12 * 256 + 256):
        xk[i] = F(0)
    sections += [(Q4_K, q4_k(xk)), (Q6_K, q6_k(xk))]
    blob = bytearray(b"SLMQREF1")
    blob += struct.pack("<I", x.size) + x.tobytes()
    blob += struct.pack("<I", len(sections))
    for t, data in sections:
        blob += struct.pack("<II", t, len(data)) + data
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "quant_reference.bin")
    with open(path, "wb") as f:
        f.write(blob)
    print(f"wrote {path}: {len(blob)} bytes")


if __name__ == "__main__":
    main()
