#!/usr/bin/env python3
"""Expected pre-tokenizer splits, computed independently of our C++ matchers.

Runs llama.cpp's regex lists (src/llama-vocab.cpp, llm_tokenizer_bpe) with the
third-party `regex` module, applying them the way llama.cpp's
unicode_regex_split does: each pattern splits every current chunk into its
matches and the unmatched gaps between them; non-ASCII whitespace is replaced
by U+000B before matching (std::regex's \\s is ASCII-only there).

Random strings are drawn from a pool of code points whose general category is
the same in Python's unicodedata (our tables) and in `regex` (newer Unicode),
so the Unicode version does not decide the outcome.

Usage: python3 tests/golden/gen_pretokenizer_vectors.py > tests/golden/pretokenizer_vectors.json
"""
import json
import random
import sys
import unicodedata

import regex

GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3 = (r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|"
          r"\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2 = LLAMA3.replace(r"\p{N}{1,3}", r"\p{N}")

# DeepSeek LLM's cased-letter class (ranges as in its tokenizer.json).
DS_LETTER_RANGES = [
    (0x41, 0x5A), (0x61, 0x7A), (0xB5, 0xB5), (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x1BA),
    (0x1BC, 0x1BF), (0x1C4, 0x293), (0x295, 0x2AF), (0x370, 0x373), (0x376, 0x377),
    (0x37B, 0x37D), (0x37F, 0x37F), (0x386, 0x386), (0x388, 0x38A), (0x38C, 0x38C),
    (0x38E, 0x3A1), (0x3A3, 0x3F5), (0x3F7, 0x481), (0x48A, 0x52F), (0x531, 0x556),
    (0x10A0, 0x10C5), (0x13A0, 0x13F5), (0x13F8, 0x13FD), (0x1C90, 0x1CBA), (0x1CBD, 0x1CBF),
    (0x1D00, 0x1D2B), (0x1D6B, 0x1D77), (0x1D79, 0x1D9A), (0x1E00, 0x1F15), (0x1F18, 0x1F1D),
    (0x1F20, 0x1F45), (0x1F48, 0x1F4D), (0x1F50, 0x1F57), (0x1F59, 0x1F59), (0x1F5B, 0x1F5B),
    (0x1F5D, 0x1F5D), (0x1F5F, 0x1F7D), (0x1F80, 0x1FB4), (0x1FB6, 0x1FBC), (0x1FBE, 0x1FBE),
    (0x1FC2, 0x1FC4), (0x1FC6, 0x1FCC), (0x1FD0, 0x1FD3), (0x1FD6, 0x1FDB), (0x1FE0, 0x1FEC),
    (0x1FF2, 0x1FF4), (0x1FF6, 0x1FFC), (0x2102, 0x2102), (0x2107, 0x2107), (0x210A, 0x2113),
    (0x2115, 0x2115), (0x2119, 0x211D), (0x2124, 0x2124), (0x2126, 0x2126), (0x2128, 0x2128),
    (0x212A, 0x212D), (0x212F, 0x2134), (0x2139, 0x2139), (0x213C, 0x213F), (0x2145, 0x2149),
    (0x214E, 0x214E), (0x2183, 0x2184), (0x2C00, 0x2C7B), (0x2C7E, 0x2CE4), (0x2CEB, 0x2CEE),
    (0x2CF2, 0x2CF3), (0xA640, 0xA66D), (0xA680, 0xA69B), (0xA722, 0xA76F), (0xA771, 0xA787),
    (0xA78B, 0xA78E), (0xAB70, 0xABBF), (0xFB00, 0xFB06), (0xFB13, 0xFB17), (0xFF21, 0xFF3A),
    (0xFF41, 0xFF5A), (0x10400, 0x1044F), (0x104B0, 0x104D3), (0x104D8, 0x104FB),
    (0x10C80, 0x10CB2), (0x10CC0, 0x10CF2), (0x118A0, 0x118DF), (0x1E900, 0x1E943),
]
DS_LETTERS = "[" + "".join(
    regex.escape(chr(a)) if a == b else regex.escape(chr(a)) + "-" + regex.escape(chr(b))
    for a, b in DS_LETTER_RANGES) + "]"
DS_PUNCT = "[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]"
DS_CJK = "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]"

PATTERNS = {
    "gpt2": [GPT2],
    "llama3": [LLAMA3],
    "qwen2": [QWEN2],
    "smollm": [r"\p{N}", GPT2],
    "default": [r"[\p{P}\$\+<=>\^~\|]+", GPT2, r"\p{N}+", r"[0-9][0-9][0-9]"],
    "deepseek-llm": [r"[\r\n]", r"\s?" + DS_LETTERS + "+", r"\s?" + DS_PUNCT + "+", r"\s+\Z",
                     DS_CJK + "+", r"\p{N}+"],
    "deepseek-coder": [r"[\r\n]", r"\s?\p{L}+", r"\s?\p{P}+", DS_CJK + "+", r"\p{N}"],
}

WHITESPACE = set([0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F,
                  0x205F, 0x3000] + list(range(0x2000, 0x200B)))


def split(text, patterns):
    # llama.cpp matches on a copy where non-ASCII whitespace is U+000B.
    probe = "".join("\x0b" if ord(c) > 0x7F and ord(c) in WHITESPACE else c for c in text)
    chunks = [(0, len(text))]
    for pat in patterns:
        rx = regex.compile(pat)
        out = []
        for b, e in chunks:
            gap = b
            for m in rx.finditer(probe, b, e):
                if m.start() > gap:
                    out.append((gap, m.start()))
                out.append((m.start(), m.end()))
                gap = m.end()
            if gap < e:
                out.append((gap, e))
        chunks = out
    return [text[b:e] for b, e in chunks]


def category_agrees(c):
    ours = unicodedata.category(c)
    ours = "Cn" if ours == "Cn" else ours[0]
    for k in ["L", "N", "P", "S", "M", "Z", "C"]:
        if regex.match(r"\p{%s}" % k, c):
            return ours == k and not (k == "C" and regex.match(r"\p{Cn}", c)) or (
                ours == "Cn" and regex.match(r"\p{Cn}", c) is not None)
    return False


def main():
    rng = random.Random(20240501)
    atoms = list("abcXYZ019 '\t\n\r.,!?$+<=>^~|-_()[]{}\"#%&*/:;@\\`") + [
        "'s", "'S", "'re", "'LL", "'d", "  ", "   ", "\n\n", " \n", "\r\n",
        "\u00a0", "\u3000", "\u2003", "\u0085", "\u00e9", "\u00f1", "\u00b5", "\u00b2", "\u0436",
        "\u0416", "\u03a9", "\u4e2d", "\u6587", "\uac00", "\ud55c", "\u3042", "\u0301", "\u0663",
        "\u2162", "\u2018", "\u2019", "\u2014", "\u20ac", "\uff01", "\uff21", "\u3001", "\u1e9e",
        "\U0001F999", "\U0001F600", "\u200d", "\u0e01", "\u1780", "\u17b6", "\U0001D400", "\x01",
        "\x7f", "\u2581", "\ufffd", "\u0800", "\u9fa6",
        "12345", "42", "7", " 2024", "3.14", "Hello", " world", "don't", "I'M", "    ",
    ]
    atoms = [a for a in atoms if all(category_agrees(c) for c in a)]
    cases = []
    for pre in PATTERNS:
        for _ in range(150):
            text = "".join(rng.choice(atoms) for _ in range(rng.randint(1, 20)))
            cases.append({"pre": pre, "text": text, "chunks": split(text, PATTERNS[pre])})
    json.dump({"generator": "tests/golden/gen_pretokenizer_vectors.py",
               "regex_module": regex.__version__, "cases": cases},
              sys.stdout, ensure_ascii=True, indent=0)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
