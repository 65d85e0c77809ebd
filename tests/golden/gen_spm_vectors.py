#!/usr/bin/env python3
"""Expected SentencePiece encodings from the reference implementation.

Encodes fixed and random strings with Google's `sentencepiece` (Debian's
python3-sentencepiece) for tok512.model and llama2-tokenizer.model, without
BOS (texts whose result depends on remove_extra_whitespaces are skipped for
tok512). tokenizer_vectors_test compares our SentencePiece-BPE against them.

Usage: SLM_MODELS_DIR=../shared/models /usr/bin/python3 tests/golden/gen_spm_vectors.py \
           > tests/golden/spm_vectors.json
"""
import json
import os
import random
import sys

import sentencepiece as spm

MODELS = ["tok512.model", "llama2-tokenizer.model"]
FIXED = [
    "", " ", "  ", "Hello world", " Hello world", "Hello  world", "Once upon a time, there was a little girl.",
    "\n", "a\n\nb", "\t tab", "\u00e9\u4e2d\U0001F999", "\U0001F999\U0001F999", "don't stop", "1234567890",
    "\u0436\u0443\u043a", "\u2581", "<s>", "</s>", "<unk>", "trailing ", "  leading",
]


def main():
    models_dir = os.environ.get("SLM_MODELS_DIR", os.path.join(os.path.dirname(__file__), "../../../shared/models"))
    rng = random.Random(42)
    atoms = ["a", "the", " ", "  ", "Once", " upon", " time", ".", ",", "!", "\n", "\t", "'s", "9", "42",
             "\u00e9", "\u00fc", "\u4e2d", "\u6587", "\u0436", "\U0001F999", "\U0001F600", "\u200d", "\u0301",
             "\x01", "\x7f", "Lily", " ball", "xyz", "qq", "\u3000", "\u00a0", "~", "{}"]
    texts = list(FIXED)
    for _ in range(300):
        texts.append("".join(rng.choice(atoms) for _ in range(rng.randint(1, 25))))
    cases = []
    for name in MODELS:
        sp = spm.SentencePieceProcessor(model_file=os.path.join(models_dir, name))
        for t in texts:
            # tok512 was trained with remove_extra_whitespaces (SentencePiece
            # collapses and strips spaces); llama.cpp, llama2.c and we do not,
            # so such texts are left out for it.
            if name == "tok512.model" and (t != t.strip(" ") or "  " in t or "\u2581" in t):
                continue
            cases.append({"model": name, "text": t, "ids": sp.encode(t)})
    json.dump({"generator": "tests/golden/gen_spm_vectors.py", "sentencepiece": spm.__version__,
               "cases": cases}, sys.stdout, ensure_ascii=True, indent=0)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
