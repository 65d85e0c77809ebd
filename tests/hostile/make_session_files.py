#!/usr/bin/env python3
"""Writes the hostile session files tests/hostile/session_file/*.slmkv, their
MANIFEST.tsv / EXPECTED.tsv rows (rows under session_file/ are replaced,
the rest is kept: run this after make_hostile.py, which rewrites MANIFEST.tsv)
and the fuzz seeds tests/fuzz/corpus/session_file/. Format: src/runtime/session_file.h."""
import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "session_file")
SEEDS = os.path.join(HERE, "..", "fuzz", "corpus", "session_file")


def build(n_layers=2, kv_dim=4, vocab=8, position=3, has_logits=1, reserved=0,
          sampler=b"\x01\x02", sampler_bytes=None, version=1, header_bytes=112,
          magic=b"SLMKVSES", body=None, seal=True):
    h = magic + struct.pack("<II", version, header_bytes)
    h += bytes(range(32)) + bytes(32)  # model fingerprint, checksum
    h += struct.pack("<IIIIII", n_layers, kv_dim, vocab, position, has_logits, reserved)
    h += struct.pack("<Q", len(sampler) if sampler_bytes is None else sampler_bytes)
    if body is None:
        body = struct.pack("<%di" % position, *[(i * 3) % vocab for i in range(position)])
        body += struct.pack("<%df" % (2 * n_layers * position * kv_dim),
                            *[0.25 * i for i in range(2 * n_layers * position * kv_dim)])
        if has_logits:
            body += struct.pack("<%df" % vocab, *[float(i) for i in range(vocab)])
        body += sampler
    data = h + body
    return data + hashlib.sha256(data).digest() if seal else data


def cases():
    good = build()
    flipped = bytearray(good)
    flipped[112 + 12 + 5] ^= 0x40
    return [
        # name, bytes, code, message fragment
        ("truncated_header.slmkv", good[:50], "format error",
         "truncated: reading 'assembly checksum' needs 32 bytes, 2 remain"),
        ("bad_magic.slmkv", b"SLMKVSEZ" + good[8:], "format error",
         "not a session file: magic is not \"SLMKVSES\""),
        ("version_99.slmkv", build(version=99), "format error",
         "session file version 99, expected 1"),
        ("header_bytes_64.slmkv", build(header_bytes=64), "format error",
         "header bytes 64, expected 112"),
        ("position_4g.slmkv", build(position=0xFFFFFFFF, body=b""), "format error",
         "position is 4294967295, expected 0..1048576"),
        ("kv_dim_zero.slmkv", build(kv_dim=0), "format error", "kv_dim is 0, expected 1..65536"),
        ("has_logits_2.slmkv", build(has_logits=2, body=b""), "format error",
         "has_logits is 2, expected 0..1"),
        ("sampler_2e63.slmkv", build(sampler_bytes=1 << 63), "format error",
         "sampler state bytes is 9223372036854775808, expected 0.."),
        ("claims_512tib.slmkv", build(n_layers=1024, kv_dim=65536, position=1 << 20, body=b""),
         "format error", "bytes, expected 562949957615794 for its header"),
        ("truncated_body.slmkv", good[:-40], "format error", ": truncated"),
        ("trailing_byte.slmkv", good + b"\0", "format error", ": trailing bytes"),
        ("flipped_kv_bit.slmkv", bytes(flipped), "integrity error",
         "does not match the digest stored at the end"),
        ("unsealed.slmkv", build(seal=False) + bytes(32), "integrity error",
         "does not match the digest stored at the end"),
    ], good


def main():
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(SEEDS, exist_ok=True)
    rows, good = cases()
    for name, data, _, _ in rows:
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    with open(os.path.join(SEEDS, "valid.slmkv"), "wb") as f:
        f.write(good)
    with open(os.path.join(SEEDS, "no_logits.slmkv"), "wb") as f:
        f.write(build(has_logits=0, sampler=b""))
    for table, with_loader in (("MANIFEST.tsv", True), ("EXPECTED.tsv", False)):
        path = os.path.join(HERE, table)
        with open(path, encoding="utf-8") as f:
            kept = [l for l in f.read().splitlines() if not l.startswith("session_file/")]
        for name, _, code, frag in rows:
            cols = ["session_file/" + name] + (["session_file"] if with_loader else [])
            kept.append("\t".join(cols + [code, frag]))
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(kept) + "\n")


if __name__ == "__main__":
    main()
