#!/usr/bin/python3
"""Fine-tune fixture for the adapter tests (issue 5).

Loads stories260K (llama2.c f32 .bin, read here directly), fine-tunes it on
tests/adapter/train.txt on the CPU with fixed seeds, and writes next to this
script:
  child.bin                 full-weight fine-tune, llama2.c f32 format, same
                            header (and freq_cis block) as the base
  peft/adapter_config.json  a LoRA fine-tune as Hugging Face PEFT would save it
  peft/adapter_model.safetensors
                            for the HF version of the model: names
                            base_model.model.model.layers.N.<mod>.lora_{A,B}.weight,
                            q/k lora_B rows in HF (half-split RoPE) order
  lora.gguf                 the same LoRA as a llama.cpp LoRA GGUF
                            (blk.N.<t>.weight.lora_a [r, in] / .lora_b [out, r],
                            q/k lora_b rows in GGUF (interleaved) order, as
                            convert_lora_to_gguf.py would write it for llama)
  expected.json             float64 reference (tests/golden/reference.py's
                            Runner): greedy ids and final logits for the base,
                            the child and base+LoRA (the torch float32 models'
                            own greedy ids are stored too and must agree);
                            numpy singular values of a few child-base deltas
Usage: /usr/bin/python3 tests/adapter/make_fixture.py [models_dir]   (~20 s)
"""
import json
import math
import os
import struct
import sys

import numpy as np
import sentencepiece as spm
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "golden"))
import reference  # noqa: E402  (float64 Runner / greedy)

PROMPT = [1, 403, 407, 261, 378, 309, 417]
N_GREEDY = 32
SEQ = 64
BATCH = 8
LORA_R = 4
LORA_ALPHA = 8.0
LORA_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
# our weight key, HF module path, GGUF tensor name
MODS = {"wq": ("self_attn.q_proj", "attn_q"), "wk": ("self_attn.k_proj", "attn_k"),
        "wv": ("self_attn.v_proj", "attn_v"), "wo": ("self_attn.o_proj", "attn_output"),
        "w1": ("mlp.gate_proj", "ffn_gate"), "w3": ("mlp.up_proj", "ffn_up"),
        "w2": ("mlp.down_proj", "ffn_down")}


def load_base(path):
    data = open(path, "rb").read()
    cfg, _ = reference.read_f32(path)
    hd = cfg["dim"] // cfg["n_heads"]
    L, d, h, kv, V = cfg["n_layers"], cfg["dim"], cfg["hidden"], cfg["n_kv"] * hd, cfg["vocab"]
    arr = np.frombuffer(data, dtype="<f4", offset=28)
    shapes = [("emb", (V, d)), ("rms_att", (L, d)), ("wq", (L, d, d)), ("wk", (L, kv, d)),
              ("wv", (L, kv, d)), ("wo", (L, d, d)), ("rms_ffn", (L, d)), ("w1", (L, h, d)),
              ("w2", (L, d, h)), ("w3", (L, h, d)), ("rms_final", (d,))]
    w, pos = {}, 0
    for name, shape in shapes:
        n = int(np.prod(shape))
        w[name] = torch.tensor(arr[pos:pos + n].reshape(shape).copy())
        pos += n
    freq = arr[pos:pos + 2 * cfg["seq"] * (hd // 2)].copy()  # kept verbatim for the child
    pos += freq.size
    assert pos == arr.size and cfg["vocab"] > 0, "expected a shared classifier"
    return cfg, w, data[:28], freq


class Llama(torch.nn.Module):
    """llama2.c forward (interleaved RoPE) in float32 with optional LoRA."""

    def __init__(self, cfg, w, lora=None):
        super().__init__()
        self.c = cfg
        self.w = torch.nn.ParameterDict({k: torch.nn.Parameter(v.clone()) for k, v in w.items()})
        self.lora = lora  # {key: (A [L, r, in], B [L, out, r])} as Parameters, or None
        self.scale = LORA_ALPHA / LORA_R

    def lin(self, key, l, x):
        y = x @ self.w[key][l].T
        if self.lora is not None and key in self.lora:
            a, b = self.lora[key]
            y = y + self.scale * ((x @ a[l].T) @ b[l].T)
        return y

    def forward(self, ids):  # ids [B, T] -> logits [B, T, V]
        c, w = self.c, self.w
        nh, nkv, d = c["n_heads"], c["n_kv"], c["dim"]
        hd = d // nh
        B, T = ids.shape
        j = torch.arange(hd // 2, dtype=torch.float32)
        freq = 10000.0 ** (-2.0 * j / hd)
        ang = torch.arange(T, dtype=torch.float32)[:, None] * freq[None, :]
        cos, sin = torch.cos(ang), torch.sin(ang)

        def rope(x):  # [B, T, H, hd]
            a, b = x[..., 0::2], x[..., 1::2]
            cc, ss = cos[None, :, None, :], sin[None, :, None, :]
            return torch.stack([a * cc - b * ss, a * ss + b * cc], dim=-1).flatten(-2)

        def rms(x, g):
            return g * (x * torch.rsqrt((x * x).mean(-1, keepdim=True) + 1e-5))

        mask = torch.full((T, T), float("-inf")).triu(1)
        x = w["emb"][ids]
        for l in range(c["n_layers"]):
            h = rms(x, w["rms_att"][l])
            q = rope(self.lin("wq", l, h).view(B, T, nh, hd)).transpose(1, 2)
            k = rope(self.lin("wk", l, h).view(B, T, nkv, hd)).transpose(1, 2)
            v = self.lin("wv", l, h).view(B, T, nkv, hd).transpose(1, 2)
            k = k.repeat_interleave(nh // nkv, dim=1)
            v = v.repeat_interleave(nh // nkv, dim=1)
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + mask, dim=-1)
            o = (att @ v).transpose(1, 2).reshape(B, T, d)
            x = x + self.lin("wo", l, o)
            h = rms(x, w["rms_ffn"][l])
            a = self.lin("w1", l, h)
            x = x + self.lin("w2", l, torch.nn.functional.silu(a) * self.lin("w3", l, h))
        return rms(x, w["rms_final"]) @ w["emb"].T


def train(model, params, ids, steps, lr, seed):
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(params, lr=lr)
    data = torch.tensor(ids)
    for step in range(steps):
        starts = torch.randint(0, len(ids) - SEQ - 1, (BATCH,), generator=g)
        x = torch.stack([data[s:s + SEQ] for s in starts])
        y = torch.stack([data[s + 1:s + SEQ + 1] for s in starts])
        loss = torch.nn.functional.cross_entropy(model(x).flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 10 == 0 or step == steps - 1:
            print(f"  step {step:3d} loss {loss.item():.4f}", file=sys.stderr)


def hf_rows(n_head, hd):
    """perm[hf_row] = our (interleaved) row: HF row h*D + s*D/2 + i holds our
    row h*D + 2i + s (the inverse of llama.cpp convert_hf_to_gguf's permute)."""
    perm = []
    for h in range(n_head):
        for s in range(2):
            for i in range(hd // 2):
                perm.append(h * hd + 2 * i + s)
    return perm


def write_safetensors(path, tensors):  # [(name, float32 ndarray)]
    header, off, blobs = {}, 0, []
    for name, t in tensors:
        b = np.ascontiguousarray(t, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def write_gguf(path, kv, tensors):  # kv: [(key, "str"|"f32", value)]; tensors: [(name, f32 array)]
    def s(x):
        b = x.encode()
        return struct.pack("<Q", len(b)) + b

    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv)))
    for key, typ, val in kv:
        out += s(key)
        out += struct.pack("<I", 8) + s(val) if typ == "str" else struct.pack("<If", 6, val)
    off, blobs = 0, []
    for name, t in tensors:
        b = np.ascontiguousarray(t, dtype="<f4").tobytes()
        ne = list(reversed(t.shape))  # GGUF lists dims innermost first
        out += s(name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne)
        out += struct.pack("<IQ", 0, off)  # type F32, offset in the data section
        pad = (32 - len(b) % 32) % 32
        blobs.append(b + b"\0" * pad)
        off += len(b) + pad
    out += b"\0" * ((32 - len(out) % 32) % 32)
    with open(path, "wb") as f:
        f.write(bytes(out) + b"".join(blobs))


def to_ref(w):
    """torch f32 weights -> reference.Runner's float64 dict (shared classifier)."""
    r = {k: v.detach().double().numpy() for k, v in w.items()}
    r["wcls"] = r["emb"]
    return r


def greedy_and_logits(cfg, w):
    r = reference.Runner(cfg, w)
    for t in PROMPT:
        logits = r.step(t)
    final = [float(v) for v in logits]
    out, margins = [], []
    for _ in range(N_GREEDY):
        nxt = int(np.argmax(logits))
        srt = np.sort(logits)
        margins.append(float(srt[-1] - srt[-2]))
        out.append(nxt)
        logits = r.step(nxt)
    return out, final, min(margins)


@torch.no_grad()
def torch_greedy(model):
    """The torch (float32) model's own greedy ids: full recompute per token."""
    ids = list(PROMPT)
    for _ in range(N_GREEDY):
        logits = model(torch.tensor([ids]))[0, -1]
        ids.append(int(torch.argmax(logits)))  # first maximum
    return ids[len(PROMPT):]


def main():
    models = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "shared",
                                                                "models")
    torch.manual_seed(0)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    cfg, w, header, freq = load_base(os.path.join(models, "stories260K.bin"))
    sp = spm.SentencePieceProcessor(model_file=os.path.join(models, "tok512.model"))
    text = open(os.path.join(HERE, "train.txt")).read()
    ids = []
    for para in text.split("\n\n"):
        ids += [1] + sp.encode(para.strip())
    print(f"{len(ids)} training tokens", file=sys.stderr)

    # (a) full-weight fine-tune
    print("full fine-tune", file=sys.stderr)
    full = Llama(cfg, w)
    train(full, list(full.parameters()), ids, steps=40, lr=2e-3, seed=1)
    cw = {k: v.detach() for k, v in full.w.items()}
    order = ["emb", "rms_att", "wq", "wk", "wv", "wo", "rms_ffn", "w1", "w2", "w3", "rms_final"]
    with open(os.path.join(HERE, "child.bin"), "wb") as f:
        f.write(header)
        for k in order:
            f.write(cw[k].numpy().astype("<f4").tobytes())
        f.write(freq.astype("<f4").tobytes())

    # (b) LoRA fine-tune: A kaiming-uniform (PEFT's init), B zero; base frozen
    print("LoRA fine-tune", file=sys.stderr)
    L, r = cfg["n_layers"], LORA_R
    lora = {}
    for k in MODS:
        out_f, in_f = w[k].shape[1], w[k].shape[2]
        a = torch.empty(L, r, in_f)
        for l in range(L):
            torch.nn.init.kaiming_uniform_(a[l], a=math.sqrt(5))
        lora[k] = (torch.nn.Parameter(a), torch.nn.Parameter(torch.zeros(L, out_f, r)))
    lm = Llama(cfg, w, lora)
    for p in lm.w.values():
        p.requires_grad_(False)
    train(lm, [p for ab in lora.values() for p in ab], ids, steps=40, lr=1e-2, seed=2)

    hd = cfg["dim"] // cfg["n_heads"]
    st, gg = [], []
    for l in range(L):
        for k, (hf, gname) in MODS.items():
            a = lora[k][0][l].detach().numpy()
            b = lora[k][1][l].detach().numpy()
            b_hf = b
            if k in ("wq", "wk"):
                b_hf = b[hf_rows(cfg["n_heads"] if k == "wq" else cfg["n_kv"], hd)]
            pre = f"base_model.model.model.layers.{l}.{hf}"
            st += [(pre + ".lora_A.weight", a), (pre + ".lora_B.weight", b_hf)]
            gg += [(f"blk.{l}.{gname}.weight.lora_a", a), (f"blk.{l}.{gname}.weight.lora_b", b)]
    os.makedirs(os.path.join(HERE, "peft"), exist_ok=True)
    write_safetensors(os.path.join(HERE, "peft", "adapter_model.safetensors"), st)
    with open(os.path.join(HERE, "peft", "adapter_config.json"), "w") as f:
        json.dump({"peft_type": "LORA", "task_type": "CAUSAL_LM",
                   "base_model_name_or_path": "stories260K-hf", "r": LORA_R,
                   "lora_alpha": LORA_ALPHA, "lora_dropout": 0.0, "bias": "none",
                   "fan_in_fan_out": False, "use_rslora": False, "target_modules": LORA_MODULES,
                   "modules_to_save": None}, f, indent=2)
        f.write("\n")
    write_gguf(os.path.join(HERE, "lora.gguf"),
               [("general.architecture", "str", "llama"), ("general.type", "str", "adapter"),
                ("adapter.type", "str", "lora"), ("adapter.lora.alpha", "f32", LORA_ALPHA)], gg)

    # (d) float64 references
    base_ref = to_ref(w)
    child_ref = to_ref(cw)
    lora_ref = dict(base_ref)
    for k in MODS:
        a = lora[k][0].detach().double().numpy()
        b = lora[k][1].detach().double().numpy()
        lora_ref[k] = base_ref[k] + (LORA_ALPHA / LORA_R) * (b @ a)
    res = {}
    torch_models = {"base": Llama(cfg, w), "child": full, "lora": lm}
    for name, ref in (("base", base_ref), ("child", child_ref), ("lora", lora_ref)):
        g, lg, m = greedy_and_logits(cfg, ref)
        tg = torch_greedy(torch_models[name])
        res[name] = {"greedy": g, "torch_f32_greedy": tg, "logits": lg, "min_margin": m}
        print(f"{name}: greedy {g[:12]}... min margin {m:.4g}; torch f32 agrees: {tg == g}",
              file=sys.stderr)
        assert tg == g, "the torch model and the float64 reference disagree"
    svals = {}
    for k, li in (("wq", 0), ("w2", 4), ("w1", 2)):
        d = child_ref[k][li] - base_ref[k][li]
        svals[f"blk.{li}.{MODS[k][1]}.weight"] = [float(v) for v in np.linalg.svd(d, compute_uv=False)]
    out = {
        "note": "float64 reference (tests/adapter/make_fixture.py); logits are the final prompt "
                "position; greedy continues from the prompt (ties -> lowest id)",
        "prompt_ids": PROMPT, "n_greedy": N_GREEDY,
        "lora": {"r": LORA_R, "alpha": LORA_ALPHA, "targets": list(LORA_MODULES)},
        "base": res["base"], "child": res["child"], "base_plus_lora": res["lora"],
        "child_minus_base_singular_values": svals,
    }
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
