#!/usr/bin/env python3
"""Writes the hostile-input corpus tests/hostile/<class>/<file> and
tests/hostile/MANIFEST.tsv: one line per file,
    path <TAB> loader <TAB> StatusCode name <TAB> message fragment
tests/unit/hostile_test.cc opens each file with its loader and asserts the
code and that the message contains the fragment; every file in the folder
must be listed. Every file is small: sizes that would be huge are only
*claimed* in headers (a 4 GiB tensor in a file of a few hundred bytes).

Run from the repository root after tests/fuzz/make_corpus.py (the .slm base
is the fuzz seed tests/fuzz/corpus/package/tiny.slm).
"""
import hashlib
import json
import os
import shutil
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "fuzz"))
import make_corpus as mc  # noqa: E402

OUT = os.path.join(ROOT, "tests", "hostile")
rows = []


def put(cls, name, data, loader, code, fragment):
    d = os.path.join(OUT, cls)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
    assert "\t" not in fragment
    rows.append((cls + "/" + name, loader, code, fragment))


def u32(b, at):
    return struct.unpack_from("<I", b, at)[0]


def u64(b, at):
    return struct.unpack_from("<Q", b, at)[0]


# ---- .slm ------------------------------------------------------------------
def slm_sections(b):
    n = u32(b, 20)
    return [dict(i=i, at=64 + 56 * i, id=u32(b, 64 + 56 * i), off=u64(b, 64 + 56 * i + 8),
                 size=u64(b, 64 + 56 * i + 16)) for i in range(n)]


def reseal(b, sec_id):
    b = bytearray(b)
    for s in slm_sections(b):
        if s["id"] == sec_id:
            b[s["at"] + 24:s["at"] + 56] = hashlib.sha256(b[s["off"]:s["off"] + s["size"]]).digest()
    return bytes(b)


def tensor_entries(b):
    t = [s for s in slm_sections(b) if s["id"] == 3][0]
    at = t["off"]
    count = u32(b, at)
    at += 8
    out = []
    for _ in range(count):
        e = {"name_at": at}
        n = u32(b, at)
        e["name"] = b[at + 4:at + 4 + n].decode()
        at += 4 + n
        e["dtype_at"] = at
        nd = u32(b, at + 4)
        e["dims_at"] = at + 8
        e["dims"] = [u64(b, at + 8 + 8 * k) for k in range(nd)]
        at += 8 + 8 * nd
        e["offset_at"], e["offset"] = at, u64(b, at)
        e["size_at"], e["size"] = at + 8, u64(b, at + 8)
        e["sha_at"] = at + 16
        at += 48
        out.append(e)
    return out


def package_classes(base):
    secs = slm_sections(base)
    names = {1: "metadata", 2: "tokenizer", 3: "tensor_table", 4: "tensor_data"}
    # Truncations at every section boundary (and inside the header/directory).
    cuts = [("empty", 0), ("magic", 4), ("header_half", 32), ("header_end", 64),
            ("directory_mid", 64 + 56 * len(secs) // 2), ("directory_end", 64 + 56 * len(secs))]
    for s in secs:
        cuts.append((names[s["id"]] + "_start", s["off"]))
        cuts.append((names[s["id"]] + "_last_byte", s["off"] + s["size"] - 1))
    for label, at in cuts:
        frag = "truncated" if at >= 64 else ("header" if at else "")
        rows_before = len(rows)
        put("package_truncated", "cut_%s_%d.slm" % (label, at), base[:at], "package",
            "kFormatError", frag)
        del rows_before
    # Flipped bytes in every header field.
    fields = [("magic", 0), ("version", 8), ("features", 12), ("kind", 16), ("section_count", 20),
              ("file_size", 24), ("dir_offset", 32), ("reserved", 40)]
    for label, at in fields:
        b = bytearray(base)
        b[at] ^= 0xFF if label != "file_size" else 0x01
        put("package_flipped", "header_%s.slm" % label, bytes(b), "package", "?", "")
    # Flipped bytes in every directory field of every section.
    for s in secs:
        for label, off in [("id", 0), ("flags", 4), ("offset", 8), ("size", 16), ("sha256", 24)]:
            b = bytearray(base)
            b[s["at"] + off] ^= 0x08 if label in ("offset", "size") else 0x40
            put("package_flipped", "dir_%s_%s.slm" % (names[s["id"]], label), bytes(b),
                "package", "?", "")
    # Tensor table edits (table resealed so the edit itself is what is caught).
    ents = tensor_entries(base)
    b = bytearray(base)
    struct.pack_into("<Q", b, ents[2]["offset_at"], ents[1]["offset"])
    put("package_tensors", "overlapping_tensors.slm", reseal(b, 3), "package", "?", "")
    b = bytearray(base)
    struct.pack_into("<Q", b, ents[0]["dims_at"], 1 << 40)
    put("package_tensors", "huge_dims.slm", reseal(b, 3), "package", "?", "")
    b = bytearray(base)
    struct.pack_into("<Q", b, ents[0]["size_at"], 1 << 32)
    put("package_tensors", "claims_4gib_tensor.slm", reseal(b, 3), "package", "?", "")
    b = bytearray(base)
    struct.pack_into("<I", b, ents[0]["dtype_at"], 99)
    put("package_tensors", "unknown_dtype.slm", reseal(b, 3), "package", "?", "")
    b = bytearray(base)
    struct.pack_into("<Q", b, ents[1]["offset_at"], ents[1]["offset"] + 4)
    put("package_tensors", "misaligned_offset.slm", reseal(b, 3), "package", "?", "")
    b = bytearray(base)
    b[ents[3]["offset"]] ^= 0x01  # tensor data changed, its digest not
    put("package_tensors", "tensor_digest_mismatch.slm", bytes(b), "package", "kIntegrityError",
        ents[3]["name"])
    # NaN / Inf weights with correct digests: only `slm validate` refuses them.
    for label, bits, what in [("nan", 0x7FC00000, "NaN"), ("inf", 0x7F800000, "Inf"),
                              ("neg_inf", 0xFF800000, "Inf")]:
        b = bytearray(base)
        e = ents[2]
        struct.pack_into("<I", b, e["offset"] + 12, bits)
        b[e["sha_at"]:e["sha_at"] + 32] = hashlib.sha256(b[e["offset"]:e["offset"] + e["size"]]).digest()
        put("package_weights", "%s_weight.slm" % label, reseal(b, 3), "validate",
            "format error", "tensor '%s' element 3 is %s" % (e["name"], what))
    # Invalid UTF-8 in the vocabulary (tokenizer section resealed).
    tok = [s for s in secs if s["id"] == 2][0]
    b = bytearray(base)
    idx = bytes(b).find("\u2581a".encode(), tok["off"], tok["off"] + tok["size"])
    assert idx > 0
    b[idx] = 0xFF
    put("package_vocab", "invalid_utf8_piece.slm", reseal(b, 2), "package", "?", "")


# ---- GGUF ------------------------------------------------------------------
def gguf_head(n_tensors, kvs):
    return b"GGUF" + struct.pack("<IQQ", 3, n_tensors, len(kvs)) + b"".join(kvs)


def gguf_tensor(name, ne, typ, off):
    return (mc.gguf_str(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", x) for x in ne)
            + struct.pack("<IQ", typ, off))


def pad32(b):
    return b + b"\0" * (-len(b) % 32)


def gguf_classes():
    good = mc.gguf(8, 16, 2, 1, "f32")
    # Truncations: after the header, inside the kv list, inside the tensor infos, in the data.
    for label, at in [("header", 12), ("kv_count", 24), ("first_key", 40), ("kv_mid", 400),
                      ("tensor_infos", len(good) - 2900), ("data", len(good) - 10)]:
        put("gguf", "cut_%s.gguf" % label, good[:at], "gguf", "?", "")
    kv = [mc.gguf_kv("general.architecture", 8, "llama")]
    # A 4 GiB f32 tensor claimed by a file of a few hundred bytes.
    put("gguf", "claims_4gib_tensor.gguf",
        pad32(gguf_head(1, kv) + gguf_tensor("big", [1 << 30], 0, 0)) + b"\0" * 64,
        "gguf", "?", "big")
    # ne product overflows 64 bits.
    put("gguf", "dims_overflow.gguf",
        pad32(gguf_head(1, kv) + gguf_tensor("ovf", [1 << 33, 1 << 33, 1 << 33], 0, 0)) + b"\0" * 64,
        "gguf", "?", "ovf")
    put("gguf", "too_many_dims.gguf",
        pad32(gguf_head(1, kv) + gguf_tensor("five", [1, 1, 1, 1, 1], 0, 0)) + b"\0" * 64,
        "gguf", "?", "five")
    put("gguf", "overlapping_tensors.gguf",
        pad32(gguf_head(2, kv) + gguf_tensor("a", [16], 0, 0) + gguf_tensor("b", [16], 0, 32))
        + b"\0" * 128, "gguf", "?", "")
    put("gguf", "unknown_ggml_type.gguf",
        pad32(gguf_head(1, kv) + gguf_tensor("t", [4], 77, 0)) + b"\0" * 64, "gguf", "?", "77")
    # Counts and lengths that claim more than the file holds.
    put("gguf", "huge_kv_count.gguf", b"GGUF" + struct.pack("<IQQ", 3, 0, 1 << 60), "gguf", "?", "")
    put("gguf", "huge_tensor_count.gguf", b"GGUF" + struct.pack("<IQQ", 3, 1 << 60, 0), "gguf", "?", "")
    put("gguf", "huge_string_length.gguf",
        b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1 << 62) + b"key" + b"\0" * 64,
        "gguf", "?", "")
    put("gguf", "huge_array_count.gguf",
        gguf_head(0, [mc.gguf_str("arr") + struct.pack("<IIQ", 9, 4, 1 << 40)]), "gguf", "?", "arr")
    put("gguf", "nested_array.gguf",
        gguf_head(0, [mc.gguf_str("arr") + struct.pack("<IIQ", 9, 9, 1) + struct.pack("<IQ", 4, 1)
                      + b"\0" * 4]), "gguf", "?", "arr")
    put("gguf", "bad_value_type.gguf", gguf_head(0, [mc.gguf_str("k") + struct.pack("<I", 13)]),
        "gguf", "?", "")
    put("gguf", "duplicate_key.gguf", gguf_head(0, kv + kv), "gguf", "?", "general.architecture")
    put("gguf", "bad_magic.gguf", b"GGUX" + good[4:200], "gguf", "?", "")
    put("gguf", "version_1.gguf", b"GGUF" + struct.pack("<I", 1) + good[8:200], "gguf", "?", "")
    put("gguf", "bad_alignment.gguf",
        gguf_head(0, [mc.gguf_kv("general.alignment", 4, 3)]), "gguf", "?", "")
    # Invalid UTF-8 in the vocabulary.
    bad = good.replace("\u2581a".encode(), b"\xff\xfe\xfda", 1)
    put("gguf", "invalid_utf8_token.gguf", bad, "gguf", "?", "")


# ---- safetensors -----------------------------------------------------------
def st(header, data=b""):
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


def safetensors_classes():
    put("safetensors", "claims_4gib_tensor.safetensors",
        st({"big": {"dtype": "F32", "shape": [1 << 30], "data_offsets": [0, 1 << 32]}}, b"\0" * 64),
        "safetensors", "?", "big")
    put("safetensors", "huge_header_length.safetensors", struct.pack("<Q", 1 << 62) + b"{}",
        "safetensors", "?", "")
    put("safetensors", "header_past_end.safetensors", struct.pack("<Q", 4096) + b"{}",
        "safetensors", "?", "")
    put("safetensors", "shape_overflow.safetensors",
        st({"ovf": {"dtype": "F32", "shape": [1 << 40, 1 << 40, 1 << 40], "data_offsets": [0, 16]}},
           b"\0" * 16), "safetensors", "?", "ovf")
    put("safetensors", "overlapping.safetensors",
        st({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
            "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}}, b"\0" * 24),
        "safetensors", "?", "")
    put("safetensors", "size_mismatch.safetensors",
        st({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 12]}}, b"\0" * 16),
        "safetensors", "?", "a")
    put("safetensors", "negative_offsets.safetensors",
        st({"a": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}}, b"\0" * 4),
        "safetensors", "?", "a")
    put("safetensors", "not_json.safetensors", struct.pack("<Q", 4) + b"{,}}", "safetensors", "?", "")
    put("safetensors", "deep_json.safetensors", struct.pack("<Q", 600) + b"[" * 300 + b"]" * 300,
        "safetensors", "?", "")
    put("safetensors", "invalid_utf8_name.safetensors",
        struct.pack("<Q", 8) + b'{"\xff\xfe":1}', "safetensors", "?", "")
    good = mc.safetensors(8, 16, 4, 8)
    put("safetensors", "truncated_data.safetensors", good[:-5], "safetensors", "?", "")


# ---- tokenizers ------------------------------------------------------------
def tokenizer_classes():
    p = mc.VOCAB + ["<0x41>"]
    put("tokenizer", "llama2c_invalid_utf8.bin",
        mc.llama2c_tokenizer(p).replace("\u2581a".encode(), b"\xc3\x28\x41", 1), "tokenizer", "?", "")
    t = bytearray(mc.llama2c_tokenizer(p))
    struct.pack_into("<i", t, 8, -5)  # first piece length
    put("tokenizer", "llama2c_negative_length.bin", bytes(t), "tokenizer", "?", "")
    struct.pack_into("<i", t, 8, 0x7FFFFFF0)
    put("tokenizer", "llama2c_huge_length.bin", bytes(t), "tokenizer", "?", "")
    put("tokenizer", "llama2c_truncated.bin", mc.llama2c_tokenizer(p)[:-3], "tokenizer", "?", "")
    j = json.loads(mc.hf_tokenizer_bytelevel())
    j["model"]["merges"].append("zz qq")
    put("tokenizer", "hf_merge_unknown_piece.json", json.dumps(j), "tokenizer", "?", "zz")
    put("tokenizer", "hf_invalid_utf8.json", mc.hf_tokenizer_bytelevel().encode().replace(
        b'"abc"', b'"a\xffc"', 1), "tokenizer", "?", "")
    put("tokenizer", "hf_deep_nesting.json", b'{"model":' + b"[" * 1000 + b"]" * 1000 + b"}",
        "tokenizer", "?", "")
    m = mc.model_bytes("tok512.model")
    put("tokenizer", "spm_truncated.model", m[:1000], "tokenizer", "?", "")
    put("tokenizer", "spm_huge_field.model", b"\x0a\xff\xff\xff\xff\x0f" + m[6:200], "tokenizer", "?", "")


# ---- llama2.c checkpoints --------------------------------------------------
def llama2c_classes():
    good = mc.llama2c_f32(8, 16, 2, 1, 8, 4)
    put("llama2c", "truncated.bin", good[:-4], "llama2c", "?", "")
    put("llama2c", "negative_dim.bin", struct.pack("<7i", -8, 16, 1, 2, 1, 8, 4) + good[28:], "llama2c", "?", "")
    put("llama2c", "vocab_int32_min.bin", struct.pack("<7i", 8, 16, 1, 2, 1, -2 ** 31, 4) + good[28:],
        "llama2c", "?", "")
    put("llama2c", "claims_huge_model.bin", struct.pack("<7i", 65536, 262144, 1024, 64, 64, 1 << 22, 4) + good[28:],
        "llama2c", "?", "")
    i8 = bytearray(mc.llama2c_int8(8, 16, 2, 1, 8, 4, 8))
    struct.pack_into("<i", i8, 37, 0)
    put("llama2c", "int8_group_size_zero.bin", bytes(i8), "llama2c", "?", "group_size")
    struct.pack_into("<i", i8, 37, 3)
    put("llama2c", "int8_group_size_3.bin", bytes(i8), "llama2c", "?", "group_size")


# ---- eval cases and JSON -----------------------------------------------------
def eval_classes():
    put("eval", "unknown_field.jsonl", '{"id":"a","prompt":"x","expected":"y","max_new_tokens":1,"colour":1}\n',
        "eval_cases", "?", "line 1")
    put("eval", "bad_regex.jsonl", '{"id":"a","prompt":"x","expected":"(a","max_new_tokens":1,"match":"regex"}\n',
        "eval_cases", "?", "line 1")
    put("eval", "regex_blowup.jsonl",
        '{"id":"a","prompt":"x","expected":"a{1000}{1000}","max_new_tokens":1,"match":"regex"}\n',
        "eval_cases", "?", "line 1")
    put("eval", "duplicate_id.jsonl", '{"id":"a","prompt":"x","expected":"y","max_new_tokens":1}\n' * 2,
        "eval_cases", "?", "line 2")
    put("eval", "invalid_utf8.jsonl", b'{"id":"a","prompt":"\xff","expected":"y","max_new_tokens":1}\n',
        "eval_cases", "?", "line 1")
    put("eval", "deep_json.jsonl", "[" * 300 + "]" * 300 + "\n", "eval_cases", "?", "line 1")
    put("json", "deep_nesting.json", "[" * 257 + "]" * 257, "json", "?", "")
    put("json", "lone_surrogate.json", '"\\ud800"', "json", "?", "")
    put("json", "overlong_utf8.json", b'"\xc0\xaf"', "json", "?", "")


# ---- adapter packages (.slm kind 1, docs/format.md section 8) -----------------
def _str32(s):
    s = s.encode() if isinstance(s, str) else s
    return struct.pack("<I", len(s)) + s


def _align(v, a):
    return (v + a - 1) // a * a


def _leb128(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def _f32s(vals):
    return struct.pack("<%df" % len(vals), *vals)


def adapter_deltas():
    """raw f32 [2, 4], sparse [4, 8] (indices 1, 5, 30), lowrank [4, 8] rank 2."""
    return [
        dict(target="a.weight", kind=0, scale=1.0, dims=[2, 4], fields=struct.pack("<I", 0),
             blobs=[_f32s([0.5 * i for i in range(8)])]),
        dict(target="b.weight", kind=1, scale=1.0, dims=[4, 8], fields=struct.pack("<QI", 3, 1),
             blobs=[_leb128(1) + _leb128(4) + _leb128(25), _f32s([1.0, -2.0, 0.25])]),
        dict(target="c.weight", kind=2, scale=0.5, dims=[4, 8], fields=struct.pack("<I", 2),
             blobs=[_f32s([0.125] * 16), _f32s([-0.5] * 8)]),
    ]


def adapter_pkg(deltas, name="hostile", parents=(), kind=1, extra_dir=b"", blob_shift=0,
                n_parents=None, count=None):
    """An adapter package written independently of the C++ writer; the
    keyword arguments let a test claim what the bytes do not hold."""
    info = _str32(name) + b"\x11" * 32 + b"\x22" * 32
    info += struct.pack("<I", len(parents) if n_parents is None else n_parents)
    for p in parents:
        info += _str32(p)
    info += _str32("hostile") + _str32("")

    def table(offsets):
        t = struct.pack("<II", len(deltas) if count is None else count, 0)
        k = 0
        for d in deltas:
            t += _str32(d["target"]) + struct.pack("<If", d["kind"], d["scale"])
            t += struct.pack("<I", len(d["dims"])) + b"".join(struct.pack("<Q", x) for x in d["dims"])
            t += d["fields"]
            for b in d["blobs"]:
                t += struct.pack("<QQ", offsets[k], len(b)) + hashlib.sha256(b).digest()
                k += 1
        return t

    n_blobs = sum(len(d["blobs"]) for d in deltas)
    n_sec = 3 + (1 if extra_dir else 0)
    dir_end = 64 + 56 * n_sec
    info_off = _align(dir_end, 8)
    table_off = _align(info_off + len(info), 8)
    tsize = len(table([0] * n_blobs))
    data_off = _align(table_off + tsize, 64)
    offsets, cur = [], data_off
    for d in deltas:
        for b in d["blobs"]:
            cur = _align(cur, 64)
            offsets.append(cur + blob_shift)
            cur += len(b)
    size = cur
    tbl = table(offsets)
    out = bytearray(b"SLMPKG\x00\x1a" + struct.pack("<IIIIQQ", 1, 0, kind, n_sec, size, 64))
    out += b"\x00" * (64 - len(out))
    secs = [(4, data_off, size - data_off, b"\x00" * 32),
            (16, info_off, len(info), hashlib.sha256(info).digest()),
            (17, table_off, len(tbl), hashlib.sha256(tbl).digest())]
    for sid, off, sz, sha in secs:
        out += struct.pack("<IIQQ", sid, 1, off, sz) + sha
    out += extra_dir
    out += b"\x00" * (info_off - len(out)) + info
    out += b"\x00" * (table_off - len(out)) + tbl
    k = 0
    for d in deltas:
        for b in d["blobs"]:
            at = offsets[k] - blob_shift
            out += b"\x00" * (at - len(out)) + b
            k += 1
    out += b"\x00" * (size - len(out))
    return bytes(out)


def adapter_classes():
    good = adapter_pkg(adapter_deltas())
    cls = "adapter"
    # Truncations: header, directory, info, table, blob data.
    for cut in (0, 40, 100, 240, 300, len(good) // 2, len(good) - 1):
        put(cls, "cut_%d.slm" % cut, good[:cut], "adapter", "?", "")
    # Flipped bytes: kind, a section digest, the info, the table, a blob (the
    # table's blob digest intact), padding.
    def flip(name, at, mask=0xFF):
        b = bytearray(good)
        b[at] ^= mask
        put(cls, "flip_%s.slm" % name, bytes(b), "adapter", "?", "")
    flip("kind", 16, 0x01)
    flip("version", 8, 0x02)
    flip("info_digest", 64 + 56 + 24)
    flip("info", 64 + 56 * 3 + 6)
    flip("table", 64 + 56 * 3 + 120)
    flip("last_blob", len(good) - 3)
    # Crafted, every digest valid: claims that the bytes do not back.
    def craft(name, deltas, **kw):
        put(cls, name, adapter_pkg(deltas, **kw), "adapter", "?", "")
    d = adapter_deltas()
    d[1]["fields"] = struct.pack("<QI", 1 << 40, 1)
    craft("sparse_claims_2p40_entries.slm", d)
    d = adapter_deltas()
    d[0]["dims"] = [1 << 16, 1 << 16]
    craft("raw_claims_16gib.slm", d)
    d = adapter_deltas()
    d[2]["fields"] = struct.pack("<I", 1 << 20)
    craft("lowrank_rank_too_large.slm", d)
    d = adapter_deltas()
    d[2]["fields"] = struct.pack("<I", 3)
    craft("lowrank_blob_size_mismatch.slm", d)
    d = adapter_deltas()
    d[1]["blobs"][0] = b"\x81\x00" + _leb128(4) + _leb128(25)
    craft("sparse_varint_not_minimal.slm", d)
    d = adapter_deltas()
    d[1]["blobs"][0] = _leb128(1) + _leb128(0) + _leb128(25)
    craft("sparse_repeated_index.slm", d)
    d = adapter_deltas()
    d[1]["blobs"][0] = _leb128(1) + _leb128(4) + _leb128(27)
    craft("sparse_index_out_of_range.slm", d)
    d = adapter_deltas()
    d[1]["blobs"][0] = _leb128(1) + _leb128(4) + b"\xff" * 9 + b"\x7f"
    craft("sparse_varint_overflow.slm", d)
    d = adapter_deltas()
    d[1]["blobs"][1] = _f32s([1.0, float("nan"), 0.25])
    craft("sparse_nan_value.slm", d)
    d = adapter_deltas()
    d[0]["blobs"][0] = _f32s([float("inf")] + [0.0] * 7)
    craft("raw_inf_value.slm", d)
    d = adapter_deltas()
    d[0], d[1] = d[1], d[0]
    craft("targets_unsorted.slm", d)
    d = adapter_deltas()
    d[1]["kind"] = 7
    craft("unknown_kind.slm", d)
    d = adapter_deltas()
    d[2]["dims"] = [32]
    craft("lowrank_on_1d.slm", d)
    d = adapter_deltas()
    d[0]["fields"] = struct.pack("<I", 99)
    craft("raw_unknown_dtype.slm", d)
    craft("delta_count_2p31.slm", adapter_deltas(), count=1 << 31)
    craft("parent_count_huge.slm", adapter_deltas(), n_parents=1 << 30)
    craft("blob_misaligned.slm", adapter_deltas(), blob_shift=8)
    craft("model_kind.slm", adapter_deltas(), kind=0)
    craft("unknown_required_section.slm", adapter_deltas(),
          extra_dir=struct.pack("<IIQQ", 99, 1, 0, 0) + b"\x00" * 32)


def write_expected(dump_path):
    """EXPECTED.tsv from `SLM_HOSTILE_DUMP=1 hostile_test` output: the code
    and the message with the file path removed, cut before any digest; the
    result is reviewed by hand (it pins each file's section, offset and cause)."""
    import re
    out = []
    for line in open(dump_path, encoding="utf-8", errors="replace"):
        if not line.startswith("HOSTILE\t"):
            continue
        _, path, code, msg = line.rstrip("\n").split("\t", 3)
        msg = msg.replace(os.path.join(OUT, path) + ": ", "").replace(os.path.join(OUT, path), "")
        msg = re.sub(r"SHA-256 [0-9a-f]{16,}.*", "SHA-256", msg)
        if len(msg) > 90:
            msg = msg[:90].rsplit(" ", 1)[0]
        out.append("\t".join([path, code, msg]))
    with open(os.path.join(OUT, "EXPECTED.tsv"), "w", encoding="utf-8") as f:
        f.write("# path\tcode\tmessage fragment: from hostile_test's dump, reviewed\n")
        f.write("\n".join(out) + "\n")


def main():
    if "--expect" in sys.argv:
        write_expected(sys.argv[sys.argv.index("--expect") + 1])
        return
    for d in os.listdir(OUT):
        if os.path.isdir(os.path.join(OUT, d)):
            shutil.rmtree(os.path.join(OUT, d))
    base = open(os.path.join(ROOT, "tests", "fuzz", "corpus", "package", "tiny.slm"), "rb").read()
    package_classes(base)
    gguf_classes()
    safetensors_classes()
    tokenizer_classes()
    llama2c_classes()
    eval_classes()
    adapter_classes()
    expected = {}
    exp_path = os.path.join(OUT, "EXPECTED.tsv")
    if os.path.exists(exp_path):
        for line in open(exp_path, encoding="utf-8"):
            if line.strip() and not line.startswith("#"):
                path, code, frag = (line.rstrip("\n").split("\t") + [""])[:3]
                expected[path] = (code, frag)
    with open(os.path.join(OUT, "MANIFEST.tsv"), "w", encoding="utf-8") as f:
        f.write("# path\tloader\tcode\tmessage fragment (generated by make_hostile.py)\n")
        for path, loader, code, frag in rows:
            if path in expected:
                code, frag = expected[path]
            f.write("\t".join([path, loader, code, frag]) + "\n")
    print("%d hostile files" % len(rows))


if __name__ == "__main__":
    main()
