#!/usr/bin/python3
"""Independent float64 numpy reference for the llama2.c stories260K model.

Reads the llama2.c checkpoints itself (no slm code), runs the llama forward
pass in float64 (numpy exp/sin/cos/pow, exact softmax) and writes
tests/golden/stories260K_reference.json with:
  logits_bos:          final-position logits for prompt [1]
  logits_prompt:       final-position logits for prompt `prompt_ids`
  greedy_from_bos:     greedy continuation ids after [1] (ties -> lowest id)
  int8_greedy_from_bos: the same on the dequantized int8 ("ak42") weights
  int8_logits_bos:     logits for [1] on the dequantized int8 weights
Usage: /usr/bin/python3 tests/golden/reference.py [models_dir] > /dev/null
"""
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PROMPT = [1, 403, 407, 261, 378, 309, 417]
N_GREEDY = 100


def read_f32(path):
    data = open(path, "rb").read()
    dim, hidden, n_layers, n_heads, n_kv, vocab, seq = struct.unpack("7i", data[:28])
    shared = vocab > 0
    vocab = abs(vocab)
    hd = dim // n_heads
    kv = n_kv * hd
    arr = np.frombuffer(data, dtype="<f4", offset=28).astype(np.float64)
    pos = 0

    def take(*shape):
        nonlocal pos
        n = int(np.prod(shape))
        out = arr[pos:pos + n].reshape(shape)
        pos += n
        return out

    w = {}
    w["emb"] = take(vocab, dim)
    w["rms_att"] = take(n_layers, dim)
    w["wq"] = take(n_layers, dim, dim)
    w["wk"] = take(n_layers, kv, dim)
    w["wv"] = take(n_layers, kv, dim)
    w["wo"] = take(n_layers, dim, dim)
    w["rms_ffn"] = take(n_layers, dim)
    w["w1"] = take(n_layers, hidden, dim)
    w["w2"] = take(n_layers, dim, hidden)
    w["w3"] = take(n_layers, hidden, dim)
    w["rms_final"] = take(dim)
    take(seq, hd // 2)
    take(seq, hd // 2)
    w["wcls"] = w["emb"] if shared else take(vocab, dim)
    assert pos == arr.size
    cfg = dict(dim=dim, hidden=hidden, n_layers=n_layers, n_heads=n_heads, n_kv=n_kv,
               vocab=vocab, seq=seq)
    return cfg, w


def read_int8(path):
    data = open(path, "rb").read()
    magic, version = struct.unpack("<Ii", data[:8])
    assert magic == 0x616B3432 and version == 2
    dim, hidden, n_layers, n_heads, n_kv, vocab, seq = struct.unpack("7i", data[8:36])
    shared = data[36]
    (gs,) = struct.unpack("<i", data[37:41])
    hd = dim // n_heads
    kv = n_kv * hd
    off = 256

    def f32(n):
        nonlocal off
        out = np.frombuffer(data, dtype="<f4", count=n, offset=off).astype(np.float64)
        off += 4 * n
        return out

    def q8(*shape):
        nonlocal off
        n = int(np.prod(shape))
        q = np.frombuffer(data, dtype=np.int8, count=n, offset=off).astype(np.float32)
        off += n
        s = np.frombuffer(data, dtype="<f4", count=n // gs, offset=off)
        off += 4 * (n // gs)
        # Dequantize in float32 exactly as the importer does (q * scale, one rounding).
        return (q.reshape(-1, gs) * s[:, None]).astype(np.float32).astype(np.float64).reshape(shape)

    w = {}
    w["rms_att"] = f32(n_layers * dim).reshape(n_layers, dim)
    w["rms_ffn"] = f32(n_layers * dim).reshape(n_layers, dim)
    w["rms_final"] = f32(dim)
    w["emb"] = q8(vocab, dim)
    w["wq"] = np.stack([q8(dim, dim) for _ in range(n_layers)])
    w["wk"] = np.stack([q8(kv, dim) for _ in range(n_layers)])
    w["wv"] = np.stack([q8(kv, dim) for _ in range(n_layers)])
    w["wo"] = np.stack([q8(dim, dim) for _ in range(n_layers)])
    w["w1"] = np.stack([q8(hidden, dim) for _ in range(n_layers)])
    w["w2"] = np.stack([q8(dim, hidden) for _ in range(n_layers)])
    w["w3"] = np.stack([q8(hidden, dim) for _ in range(n_layers)])
    w["wcls"] = w["emb"] if shared else q8(vocab, dim)
    assert off == len(data)
    cfg = dict(dim=dim, hidden=hidden, n_layers=n_layers, n_heads=n_heads, n_kv=n_kv,
               vocab=vocab, seq=seq)
    return cfg, w


class Runner:
    """Float64 llama forward pass with a KV cache, interleaved RoPE (llama2.c)."""

    def __init__(self, cfg, w, eps=1e-5, theta=10000.0):
        self.c, self.w, self.eps, self.theta = cfg, w, eps, theta
        self.hd = cfg["dim"] // cfg["n_heads"]
        L, S = cfg["n_layers"], cfg["seq"]
        self.k = np.zeros((L, S, cfg["n_kv"], self.hd))
        self.v = np.zeros((L, S, cfg["n_kv"], self.hd))
        self.pos = 0

    def rms(self, x, g):
        return g * (x / np.sqrt(np.mean(x * x) + self.eps))

    def rope(self, x):  # x: [heads, hd]
        j = np.arange(self.hd // 2)
        freq = self.theta ** (-2.0 * j / self.hd)
        ang = self.pos * freq
        c, s = np.cos(ang), np.sin(ang)
        a, b = x[:, 0::2].copy(), x[:, 1::2].copy()
        out = np.empty_like(x)
        out[:, 0::2] = a * c - b * s
        out[:, 1::2] = a * s + b * c
        return out

    def step(self, tok):
        c, w, hd = self.c, self.w, self.hd
        nh, nkv = c["n_heads"], c["n_kv"]
        x = w["emb"][tok].copy()
        p = self.pos
        for l in range(c["n_layers"]):
            h = self.rms(x, w["rms_att"][l])
            q = self.rope((w["wq"][l] @ h).reshape(nh, hd))
            k = self.rope((w["wk"][l] @ h).reshape(nkv, hd))
            v = (w["wv"][l] @ h).reshape(nkv, hd)
            self.k[l, p], self.v[l, p] = k, v
            att = np.empty((nh, hd))
            for hh in range(nh):
                g = hh // (nh // nkv)
                sc = self.k[l, :p + 1, g] @ q[hh] / np.sqrt(hd)
                sc = np.exp(sc - sc.max())
                sc /= sc.sum()
                att[hh] = sc @ self.v[l, :p + 1, g]
            x = x + w["wo"][l] @ att.reshape(-1)
            h = self.rms(x, w["rms_ffn"][l])
            a = w["w1"][l] @ h
            a = a / (1.0 + np.exp(-a)) * (w["w3"][l] @ h)
            x = x + w["w2"][l] @ a
        self.pos += 1
        return w["wcls"] @ self.rms(x, w["rms_final"])


def run(cfg, w, ids):
    r = Runner(cfg, w)
    for t in ids:
        logits = r.step(t)
    return logits


def greedy(cfg, w, n):
    r = Runner(cfg, w)
    logits = r.step(1)
    out, margins = [], []
    for _ in range(n):
        nxt = int(np.argmax(logits))  # first maximum = lowest id
        srt = np.sort(logits)
        margins.append(float(srt[-1] - srt[-2]))
        out.append(nxt)
        logits = r.step(nxt)
    return out, margins


def main():
    models = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..",
                                                                 "shared", "models")
    cfg, w = read_f32(os.path.join(models, "stories260K.bin"))
    ids, margins = greedy(cfg, w, N_GREEDY)
    qcfg, qw = read_int8(os.path.join(models, "stories260K-q8.bin"))
    qids, _ = greedy(qcfg, qw, N_GREEDY)
    out = {
        "model": "stories260K.bin",
        "note": "float64 numpy reference (tests/golden/reference.py); logits are final-position",
        "prompt_bos": [1],
        "logits_bos": [float(v) for v in run(cfg, w, [1])],
        "prompt_ids": PROMPT,
        "logits_prompt": [float(v) for v in run(cfg, w, PROMPT)],
        "greedy_from_bos": ids,
        "greedy_min_margin": min(margins),
        "int8_model": "stories260K-q8.bin",
        "int8_logits_bos": [float(v) for v in run(qcfg, qw, [1])],
        "int8_greedy_from_bos": qids,
    }
    path = os.path.join(HERE, "stories260K_reference.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    agree = next((i for i, (a, b) in enumerate(zip(ids, qids)) if a != b), len(ids))
    print(f"wrote {path}; greedy ids {ids[:20]}...; min top-2 margin {min(margins):.4g}; "
          f"int8 agrees for the first {agree} tokens", file=sys.stderr)


if __name__ == "__main__":
    main()
