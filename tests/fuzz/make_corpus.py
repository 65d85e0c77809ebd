#!/usr/bin/env python3
"""Writes the small seed corpora under tests/fuzz/corpus/<target>/.

Seeds are tiny valid files in the real formats (a 1-layer llama with dim 8 or
32, an 8-piece vocabulary), plus a few KB cut from the real fixtures in
SLM_MODELS_DIR (never whole models). Run from the repository root:
    tests/fuzz/make_corpus.py            (SLM_MODELS_DIR or ../shared/models)
The .slm seed is written by `slm convert` from the GGUF seed, the adapter
package seeds by `slm adapter diff` (stories260K vs children that differ in
one tensor, ~1 KB each) and the packet archive by `slm eval` + `slm release
build -o packet.tar` (pass --slm PATH to the CLI binary).
"""
import json
import os
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
MODELS = os.environ.get("SLM_MODELS_DIR", os.path.join(ROOT, "..", "shared", "models"))
SEP = b"\n%%slm%%\n"


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def model_bytes(name, start=0, n=None):
    with open(os.path.join(MODELS, name), "rb") as f:
        b = f.read()
    return b[start:] if n is None else b[start:start + n]


# ---- a tiny llama ----------------------------------------------------------
def tiny_shapes(dim, hidden, kv_dim, vocab):
    """(name, shape outermost first) in GGUF naming."""
    return [
        ("token_embd.weight", [vocab, dim]),
        ("blk.0.attn_norm.weight", [dim]),
        ("blk.0.attn_q.weight", [dim, dim]),
        ("blk.0.attn_k.weight", [kv_dim, dim]),
        ("blk.0.attn_v.weight", [kv_dim, dim]),
        ("blk.0.attn_output.weight", [dim, dim]),
        ("blk.0.ffn_norm.weight", [dim]),
        ("blk.0.ffn_gate.weight", [hidden, dim]),
        ("blk.0.ffn_down.weight", [dim, hidden]),
        ("blk.0.ffn_up.weight", [hidden, dim]),
        ("output_norm.weight", [dim]),
    ]


def values(n, k):
    return [((i * 7 + k * 13) % 17 - 8) / 64.0 for i in range(n)]


def prod(s):
    p = 1
    for x in s:
        p *= x
    return p


VOCAB = ["<unk>", "<s>", "</s>", "\u2581", "a", "b", "\u2581a", "ab"]


def gguf_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_kv(key, typ, val):
    out = gguf_str(key) + struct.pack("<I", typ)
    if typ == 4:
        out += struct.pack("<I", val)
    elif typ == 6:
        out += struct.pack("<f", val)
    elif typ == 7:
        out += struct.pack("<B", val)
    elif typ == 8:
        out += gguf_str(val)
    elif typ == 9:
        et, items = val
        out += struct.pack("<IQ", et, len(items))
        for it in items:
            if et == 8:
                out += gguf_str(it)
            elif et == 6:
                out += struct.pack("<f", it)
            elif et == 5:
                out += struct.pack("<i", it)
    return out


def f16(x):
    return struct.pack("<e", x)


def q8_0(vals):
    out = b""
    for i in range(0, len(vals), 32):
        blk = vals[i:i + 32]
        amax = max(abs(v) for v in blk) or 1.0
        d = amax / 127
        out += f16(d) + bytes((round(v / d) & 0xFF) for v in blk)
    return out


def gguf(dim, hidden, heads, kv_heads, dtype):
    kv_dim = dim // heads * kv_heads
    kvs = [
        gguf_kv("general.architecture", 8, "llama"),
        gguf_kv("general.name", 8, "fuzz seed"),
        gguf_kv("llama.embedding_length", 4, dim),
        gguf_kv("llama.feed_forward_length", 4, hidden),
        gguf_kv("llama.block_count", 4, 1),
        gguf_kv("llama.attention.head_count", 4, heads),
        gguf_kv("llama.attention.head_count_kv", 4, kv_heads),
        gguf_kv("llama.context_length", 4, 16),
        gguf_kv("llama.attention.layer_norm_rms_epsilon", 6, 1e-5),
        gguf_kv("llama.rope.freq_base", 6, 10000.0),
        gguf_kv("llama.rope.dimension_count", 4, dim // heads),
        gguf_kv("tokenizer.ggml.model", 8, "llama"),
        gguf_kv("tokenizer.ggml.tokens", 9, (8, VOCAB)),
        gguf_kv("tokenizer.ggml.scores", 9, (6, [0.0, 0.0, 0.0, -1.0, -2.0, -3.0, -1.5, -2.5])),
        gguf_kv("tokenizer.ggml.token_type", 9, (5, [2, 3, 3, 1, 1, 1, 1, 1])),
        gguf_kv("tokenizer.ggml.bos_token_id", 4, 1),
        gguf_kv("tokenizer.ggml.eos_token_id", 4, 2),
        gguf_kv("tokenizer.ggml.add_bos_token", 7, 1),
    ]
    shapes = tiny_shapes(dim, hidden, kv_dim, len(VOCAB))
    infos, data = b"", b""
    for k, (name, shape) in enumerate(shapes):
        vals = values(prod(shape), k)
        if len(shape) == 1 or dtype == "f32":
            t, blob = 0, struct.pack("<%df" % len(vals), *vals)
        elif dtype == "f16":
            t, blob = 1, b"".join(f16(v) for v in vals)
        else:
            t, blob = 8, q8_0(vals)
        while len(data) % 32:
            data += b"\0"
        ne = list(reversed(shape))
        infos += gguf_str(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", x) for x in ne)
        infos += struct.pack("<IQ", t, len(data))
        data += blob
    head = b"GGUF" + struct.pack("<IQQ", 3, len(shapes), len(kvs)) + b"".join(kvs) + infos
    while len(head) % 32:
        head += b"\0"
    return head + data


def safetensors(dim, hidden, kv_dim, vocab, dtype="F32"):
    hf = {
        "token_embd.weight": "model.embed_tokens.weight",
        "blk.0.attn_norm.weight": "model.layers.0.input_layernorm.weight",
        "blk.0.attn_q.weight": "model.layers.0.self_attn.q_proj.weight",
        "blk.0.attn_k.weight": "model.layers.0.self_attn.k_proj.weight",
        "blk.0.attn_v.weight": "model.layers.0.self_attn.v_proj.weight",
        "blk.0.attn_output.weight": "model.layers.0.self_attn.o_proj.weight",
        "blk.0.ffn_norm.weight": "model.layers.0.post_attention_layernorm.weight",
        "blk.0.ffn_gate.weight": "model.layers.0.mlp.gate_proj.weight",
        "blk.0.ffn_down.weight": "model.layers.0.mlp.down_proj.weight",
        "blk.0.ffn_up.weight": "model.layers.0.mlp.up_proj.weight",
        "output_norm.weight": "model.norm.weight",
    }
    header, data = {"__metadata__": {"format": "pt"}}, b""
    for k, (name, shape) in enumerate(tiny_shapes(dim, hidden, kv_dim, vocab)):
        vals = values(prod(shape), k)
        if dtype == "F32":
            blob = struct.pack("<%df" % len(vals), *vals)
        else:
            blob = b"".join(f16(v) for v in vals)
        header[hf[name]] = {"dtype": dtype, "shape": shape,
                            "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    h = json.dumps(header, separators=(",", ":")).encode()
    while len(h) % 8:
        h += b" "
    return struct.pack("<Q", len(h)) + h + data


def hf_config(dim, hidden, heads, kv_heads, vocab):
    return json.dumps({
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": dim,
        "intermediate_size": hidden, "num_hidden_layers": 1, "num_attention_heads": heads,
        "num_key_value_heads": kv_heads, "max_position_embeddings": 16, "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0, "tie_word_embeddings": True, "vocab_size": vocab,
        "hidden_act": "silu", "rope_scaling": None}, indent=1)


def hf_tokenizer_bytelevel():
    vocab = {c: i for i, c in enumerate(["!", "a", "b", "c", "\u0120", "ab", "\u0120a", "abc"])}
    return json.dumps({
        "version": "1.0",
        "added_tokens": [{"id": 8, "content": "<|endoftext|>", "special": True,
                          "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "decoder": {"type": "ByteLevel"},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "byte_fallback": False,
                  "vocab": vocab, "merges": ["a b", "\u0120 a", "ab c"]}}, indent=1)


def hf_tokenizer_spm():
    pieces = ["<unk>", "<s>", "</s>", "<0x0A>", "<0x41>", "\u2581", "a", "b", "\u2581a", "ab"]
    return json.dumps({
        "version": "1.0",
        "added_tokens": [{"id": 0, "content": "<unk>", "special": True},
                         {"id": 1, "content": "<s>", "special": True},
                         {"id": 2, "content": "</s>", "special": True}],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
        "pre_tokenizer": None,
        "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}]},
        "model": {"type": "BPE", "unk_token": "<unk>", "byte_fallback": True,
                  "vocab": {p: i for i, p in enumerate(pieces)},
                  "merges": ["\u2581 a", "a b"]}}, indent=1)


def llama2c_f32(dim, hidden, heads, kv_heads, vocab, seq, shared=True):
    kv_dim = dim // heads * kv_heads
    head = struct.pack("<7i", dim, hidden, 1, heads, kv_heads, vocab if shared else -vocab, seq)
    sizes = [vocab * dim, dim, dim * dim, kv_dim * dim, kv_dim * dim, dim * dim, dim,
             hidden * dim, dim * hidden, hidden * dim, dim,
             seq * (dim // heads) // 2, seq * (dim // heads) // 2]
    if not shared:
        sizes.append(vocab * dim)
    body = b"".join(struct.pack("<%df" % n, *values(n, k)) for k, n in enumerate(sizes))
    return head + body


def llama2c_int8(dim, hidden, heads, kv_heads, vocab, seq, group):
    kv_dim = dim // heads * kv_heads
    head = struct.pack("<Ii", 0x616B3432, 2) + struct.pack("<7i", dim, hidden, 1, heads, kv_heads,
                                                            vocab, seq)
    head += struct.pack("<Bi", 1, group)
    head += b"\0" * (256 - len(head))
    body = b"".join(struct.pack("<%df" % dim, *([1.0] * dim)) for _ in range(3))
    for n in [vocab * dim, dim * dim, kv_dim * dim, kv_dim * dim, dim * dim,
              hidden * dim, dim * hidden, hidden * dim]:
        body += bytes((i * 5) % 256 for i in range(n))
        body += struct.pack("<%df" % (n // group), *([0.01] * (n // group)))
    return head + body


def llama2c_tokenizer(pieces):
    out = struct.pack("<i", max(len(p.encode()) for p in pieces))
    for i, p in enumerate(pieces):
        b = p.encode()
        out += struct.pack("<fi", -float(i), len(b)) + b
    return out


# ---- adapters (against stories260K: dim 64, hidden 172, 8 heads, 4 kv) ----
def lora_gguf(pairs, alpha=2.0, arch="llama"):
    """pairs: (target, out, in, rank, ggml type 0/1/8). lora_a is ours
    [r, in] (ne [in, r]), lora_b [out, r] (ne [r, out]); token_embd.weight is
    flipped as in llama.cpp: lora_a [vocab = in, r], lora_b [dim = out, r]."""
    kvs = [gguf_kv("general.architecture", 8, arch), gguf_kv("general.type", 8, "adapter"),
           gguf_kv("adapter.type", 8, "lora"), gguf_kv("adapter.lora.alpha", 6, alpha)]
    infos, data, n = b"", b"", 0
    for k, (target, out, inp, r, t) in enumerate(pairs):
        a_shape = [inp, r] if target == "token_embd.weight" else [r, inp]
        for suffix, shape in ((".lora_a", a_shape), (".lora_b", [out, r])):
            vals = values(prod(shape), k * 2 + len(suffix))
            if t == 0:
                blob = struct.pack("<%df" % len(vals), *vals)
            elif t == 1:
                blob = b"".join(f16(v) for v in vals)
            else:
                blob = q8_0(vals)
            while len(data) % 32:
                data += b"\0"
            ne = list(reversed(shape))
            infos += gguf_str(target + suffix) + struct.pack("<I", 2)
            infos += b"".join(struct.pack("<Q", x) for x in ne) + struct.pack("<IQ", t, len(data))
            data += blob
            n += 1
    head = b"GGUF" + struct.pack("<IQQ", 3, n, len(kvs)) + b"".join(kvs) + infos
    while len(head) % 32:
        head += b"\0"
    return head + data


def bf16(x):
    return struct.pack("<f", x)[2:]


def peft(pairs, r, alpha, dtype="F32", default=False, rslora=False, modules=None):
    """pairs: (HF module, out, in); model.embed_tokens is (dim, vocab) and gets PEFT's
    lora_embedding_A [r, vocab] / _B [dim, r]. Returns config | SEP | safetensors."""
    header, data = {"__metadata__": {"format": "pt"}}, b""
    sfx = ".default" if default else ""
    for k, (mod, out, inp) in enumerate(pairs):
        for ab, shape in (("A", [r, inp]), ("B", [out, r])):
            vals = values(prod(shape), k * 2 + len(ab))
            enc = {"F32": lambda v: struct.pack("<f", v), "F16": f16, "BF16": bf16}[dtype]
            blob = b"".join(enc(v) for v in vals)
            if mod.endswith("embed_tokens"):
                name = "base_model.model.%s.lora_embedding_%s%s" % (mod, ab, sfx)
            else:
                name = "base_model.model.%s.lora_%s%s.weight" % (mod, ab, sfx)
            header[name] = {"dtype": dtype, "shape": shape,
                            "data_offsets": [len(data), len(data) + len(blob)]}
            data += blob
    h = json.dumps(header, separators=(",", ":")).encode()
    while len(h) % 8:
        h += b" "
    cfg = {"peft_type": "LORA", "r": r, "lora_alpha": alpha, "use_rslora": rslora,
           "fan_in_fan_out": False, "bias": "none",
           "target_modules": modules or sorted({m.split(".")[-1] for m, _, _ in pairs})}
    return json.dumps(cfg, indent=1).encode() + SEP + struct.pack("<Q", len(h)) + h + data


def ustar(members):
    """The bytes slm::eval::WriteArchive writes (src/eval/archive.h)."""
    out = b""
    for name, data in members:
        h = bytearray(512)
        h[0:len(name)] = name.encode()
        h[100:108] = b"0000644\0"
        h[108:116] = b"0000000\0"
        h[116:124] = b"0000000\0"
        h[124:136] = b"%011o\0" % len(data)
        h[136:148] = b"00000000000\0"
        h[156] = ord("0")
        h[257:263] = b"ustar\0"
        h[263:265] = b"00"
        h[148:156] = b" " * 8
        h[148:156] = b"%06o\0 " % sum(h)
        out += bytes(h) + data + b"\0" * (-len(data) % 512)
    return out + b"\0" * 1024


def cli_seeds(slm_cli):
    """Adapter packages and a packet archive written by the slm CLI from
    stories260K (children differing in one tensor keep the adapters ~1 KB)."""
    tmp = os.path.join(OUT, "..", "seeds.tmp")
    for d in (tmp, os.path.join(OUT, "adapter_package"), os.path.join(OUT, "packet_archive")):
        os.makedirs(d, exist_ok=True)
    t = lambda n: os.path.join(tmp, n)
    run = lambda *a: subprocess.run([slm_cli] + list(a), check=True, stdout=subprocess.DEVNULL)
    run("convert", os.path.join(MODELS, "stories260K.bin"), "--tokenizer",
        os.path.join(MODELS, "tok512.bin"), "-o", t("base.slm"))
    b = bytearray(model_bytes("stories260K.bin"))
    dim, _, n_layers, _, _, vocab = struct.unpack("<6i", b[:24])
    att = 28 + 4 * abs(vocab) * dim  # rms_att [n_layers, dim], then wq
    wq = att + 4 * n_layers * dim
    c = bytearray(b)
    for i in range(8):  # one column of blk.0.attn_q: a rank-1 delta
        o = wq + 4 * (i * dim + 3)
        struct.pack_into("<f", c, o, struct.unpack_from("<f", c, o)[0] + 0.05 * (i + 1))
    open(t("child_q.bin"), "wb").write(c)
    c = bytearray(b)
    struct.pack_into("<ff", c, att, 2.0, -1.0)  # blk.0.attn_norm
    open(t("child_norm.bin"), "wb").write(c)
    tok = os.path.join(MODELS, "tok512.bin")
    for out, child, args in [
            ("lowrank_r1.slm", "child_q.bin", ["--kind", "lowrank", "--rank", "1", "--name", "q",
                                               "--notes", "fuzz seed"]),
            ("sparse_q.slm", "child_q.bin", ["--kind", "sparse", "--density", "0.01"]),
            ("raw_q8_0.slm", "child_q.bin", ["--kind", "raw", "--dtype", "q8_0"]),
            ("raw_norm.slm", "child_norm.bin", ["--kind", "raw"])]:
        run("adapter", "diff", t("base.slm"), t(child), "--tokenizer", tok, *args,
            "-o", os.path.join(OUT, "adapter_package", out))
    lines = open(os.path.join(ROOT, "tests", "data", "eval", "stories260K.jsonl")).read()
    lines = lines.splitlines()[:2]
    with open(t("cases.jsonl"), "w") as f:
        for ln in lines:
            case = json.loads(ln)
            case["max_new_tokens"] = 4
            f.write(json.dumps(case) + "\n")
    run("eval", t("base.slm"), "--cases", t("cases.jsonl"), "-o", t("ev.json"))
    packet = os.path.join(OUT, "packet_archive", "packet.tar")
    if os.path.exists(packet):
        os.remove(packet)
    run("release", "build", "--evidence", t("ev.json"), "--model", t("base.slm"), "--cases",
        t("cases.jsonl"), "-o", packet)
    for n in os.listdir(tmp):
        os.remove(t(n))
    os.rmdir(tmp)


def main():
    slm_cli = None
    if "--slm" in sys.argv:
        slm_cli = sys.argv[sys.argv.index("--slm") + 1]

    # json
    put("json", "config.json", hf_config(8, 16, 2, 1, 8))
    put("json", "tokenizer_head.json", model_bytes("gpt2-tokenizer.json", 0, 1500))
    put("json", "escapes.json", '{"a":"\\u00e9\\ud83d\\ude00\\n\\t\\"","b":[1,-2.5e-3,true,false,null],"c":{}}')
    put("json", "nested.json", "[" * 40 + "1" + "]" * 40)
    put("json", "numbers.json", "[0,-0,1e308,1E-400,123456789012345678901234567890,0.1,-1.5e+10]")

    # utf8
    put("utf8", "mixed.txt", model_bytes("ggml-vocab-llama-spm.gguf.inp", 0, 1500))
    put("utf8", "edges.bin", b"\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"
        b"\xed\xa0\x80\xc0\xaf\xf5\x80\x80\x80\xe2\x82")

    # gguf (reader + tokenizer + importer)
    put("gguf", "tiny_f32.gguf", gguf(8, 16, 2, 1, "f32"))
    put("gguf", "tiny_f16.gguf", gguf(8, 16, 2, 1, "f16"))
    put("gguf", "tiny_q8_0.gguf", gguf(32, 32, 4, 2, "q8_0"))
    put("gguf", "vocab_spm_head.gguf", model_bytes("ggml-vocab-llama-spm.gguf", 0, 3000))
    put("gguf", "vocab_gpt2_head.gguf", model_bytes("ggml-vocab-gpt-2.gguf", 0, 3000))

    # safetensors
    put("safetensors", "tiny_f32.safetensors", safetensors(8, 16, 4, 8))
    put("safetensors", "tiny_f16.safetensors", safetensors(8, 16, 4, 8, "F16"))

    # hf folder: config.json | model.safetensors | tokenizer.json
    put("hf_import", "tiny_bytelevel.hf",
        hf_config(8, 16, 2, 1, 9).encode() + SEP + safetensors(8, 16, 4, 9) + SEP +
        hf_tokenizer_bytelevel().encode())
    put("hf_import", "tiny_spm.hf",
        hf_config(8, 16, 2, 1, 10).encode() + SEP + safetensors(8, 16, 4, 10) + SEP +
        hf_tokenizer_spm().encode())

    # llama2.c checkpoints
    put("llama2c", "tiny_f32.bin", llama2c_f32(8, 16, 2, 1, 8, 4))
    put("llama2c", "tiny_f32_unshared.bin", llama2c_f32(8, 16, 2, 2, 8, 4, shared=False))
    put("llama2c", "tiny_int8.bin", llama2c_int8(8, 16, 2, 1, 8, 4, 8))

    # tokenizer loaders
    put("tokenizer_hf_json", "bytelevel.json", hf_tokenizer_bytelevel())
    put("tokenizer_hf_json", "spm.json", hf_tokenizer_spm())
    put("tokenizer_hf_json", "gpt2_head.json", model_bytes("gpt2-tokenizer.json", 0, 2500))
    put("tokenizer_llama2c_bin", "tiny.bin", llama2c_tokenizer(VOCAB + ["<0x41>", "\u2581ab"]))
    put("tokenizer_llama2c_bin", "tok512_head.bin", model_bytes("tok512.bin", 0, 3000))
    put("tokenizer_spm_model", "tok512.model", model_bytes("tok512.model"))
    put("tokenizer_spm_model", "llama2_head.model", model_bytes("llama2-tokenizer.model", 0, 3000))

    # tokenizer encode: byte 0 selects tok512 / llama-spm / gpt-2 and flags
    inp = model_bytes("ggml-vocab-llama-spm.gguf.inp").split(b"\n__ggml_vocab_test__\n")
    inp = [s for s in inp if s][:12]
    for i, s in enumerate(inp):
        put("tokenizer_encode", "case%02d" % i, bytes([i % 3 | (0x10 if i % 2 else 0)]) + s[:400])
    put("tokenizer_encode", "specials", b"\x22<s>hello</s> <|endoftext|> <0x41>")
    put("tokenizer_encode", "invalid", b"\x01ab\xff\xfe\xc3")

    # eval cases and regex
    put("eval_cases", "stories.jsonl", open(os.path.join(ROOT, "tests", "data", "eval",
                                                         "stories260K.jsonl"), "rb").read()[:2500])
    put("eval_cases", "all_fields.jsonl",
        '{"id":"r","prompt":"Once","expected":"^[a-z]+\\\\d{2,3}(x|y)*$","max_new_tokens":5,'
        '"match":"regex","weight":2,"tags":["t"],"reference":"abc12"}\n\n'
        '{"id":"p","prompt_ids":[1,2,3],"expected":"x","max_new_tokens":0,"match":"contains"}\n')
    put("eval_regex", "class", b"^[a-z\\d_]+(\\.[^\\s]{1,3})?$\0hello_1.abc")
    put("eval_regex", "alt", b"(cat|dog)s?x*.+?\0the dogs")
    put("eval_regex", "unicode", "[\u00e0-\u00ff]{2}.\\w*\0caf\u00e9s \u4e2d".encode())


    # adapters: llama.cpp LoRA GGUF and PEFT folders for stories260K
    q, k, v = "blk.0.attn_q.weight", "blk.1.attn_k.weight", "blk.2.attn_v.weight"
    put("adapter_lora_gguf", "q_k_r1_f32.gguf", lora_gguf([(q, 64, 64, 1, 0), (k, 32, 64, 1, 0)]))
    put("adapter_lora_gguf", "v_r2_f16.gguf", lora_gguf([(v, 32, 64, 2, 1)], alpha=0.0))
    put("adapter_lora_gguf", "up_r32_q8_0.gguf", lora_gguf([("blk.4.ffn_up.weight", 172, 64, 32, 8)]))
    put("adapter_lora_gguf", "embd_r1.gguf", lora_gguf([("token_embd.weight", 64, 512, 1, 0)]))
    put("adapter_peft", "q_v_r1_f32.peft",
        peft([("model.layers.0.self_attn.q_proj", 64, 64),
              ("model.layers.3.self_attn.v_proj", 32, 64)], 1, 2.0))
    put("adapter_peft", "o_down_r2_bf16_rslora.peft",
        peft([("model.layers.1.self_attn.o_proj", 64, 64),
              ("model.layers.4.mlp.down_proj", 64, 172)], 2, 4.0, "BF16", True, True))
    put("adapter_peft", "embd_q_r2_f16.peft",
        peft([("model.embed_tokens", 64, 512), ("model.layers.0.self_attn.q_proj", 64, 64)], 2, 4.0,
             "F16"))
    put("adapter_peft", "k_gate_r1_f16_regex.peft",
        peft([("model.layers.2.self_attn.k_proj", 32, 64),
              ("model.layers.2.mlp.gate_proj", 172, 64)], 1, 1.0, "F16", modules=".*proj"))

    # packet archives: small WriteArchive-format files (+ packet.tar below)
    put("packet_archive", "two_members.tar", ustar([("a.txt", b"hello\n"), ("b", b"x" * 600)]))
    put("packet_archive", "empty_member.tar", ustar([("manifest.json", b"")]))
    put("packet_archive", "empty.tar", ustar([]))

    # package: written by `slm convert` from the tiny GGUF
    if slm_cli:
        cli_seeds(slm_cli)
        tmp = os.path.join(OUT, "..", "tiny.gguf.tmp")
        with open(tmp, "wb") as f:
            f.write(gguf(8, 16, 2, 1, "f32"))
        dst = os.path.join(OUT, "package", "tiny.slm")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        subprocess.run([slm_cli, "convert", tmp, "-o", dst], check=True)
        os.remove(tmp)


if __name__ == "__main__":
    main()
