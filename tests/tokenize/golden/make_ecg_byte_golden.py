#!/usr/bin/python3
"""Golden ECG-Byte encodings of the fixture segments with upstream's shipped 5000-merge tokenizer.

Independent of ecgbench: the segments are the scipy/PyWavelets reference outputs in
preprocess-golden/paper/ (made by the fixture's own generator), the symbols come from upstream's
BuildECGByte.ecg_to_symbol (global min-max with eps 1e-6, clip, floor(x * 26) capped at 25, 'a'..'z',
lead-major), and the ids from upstream's greedy longest-match trie encoder (lib.rs encode_symbol),
both transcribed below from willxxy/ECG-Bench b115bc4.

Usage: /usr/bin/python3 make_ecg_byte_golden.py ../shared/data > ecg_byte_5000_paper.json
"""
import json
import pickle
import sys
from pathlib import Path

import numpy as np


def ecg_to_symbol(ecg):
    mn, mx = np.min(ecg), np.max(ecg)
    normalized = np.clip((ecg - mn) / (mx - mn + 1e-6), 0, 1)
    quantized = np.minimum(np.floor(normalized * 26), 25).astype(np.uint8)
    return "".join(np.vectorize(lambda x: "abcdefghijklmnopqrstuvwxyz"[x])(quantized).flatten())


def encode_symbol(text, merges):
    root = {}
    def insert(seq, tid):
        node = root
        for b in seq:
            node = node.setdefault(b, {})
        node[None] = tid
    for b in range(256):
        insert([b], b)
    for seq, tid in merges:
        insert(seq, tid)
    ids = list(text.encode())
    out, i = [], 0
    while i < len(ids):
        node, match_len, match_id = root, 0, None
        for j in range(i, len(ids)):
            node = node.get(ids[j])
            if node is None:
                break
            if None in node:
                match_len, match_id = j - i + 1, node[None]
        if match_id is None:
            out.append(ids[i]); i += 1
        else:
            out.append(match_id); i += match_len
    return out


def main():
    data = Path(sys.argv[1])
    with open(data / "ecg-byte/ecg_byte_tokenizer_5000_500000.pkl", "rb") as f:
        vocab, merges = pickle.load(f)
    segments = {}
    total_symbols = total_tokens = 0
    for p in sorted((data / "preprocess-golden/paper").glob("*.npy")):
        symbols = ecg_to_symbol(np.load(p))
        ids = encode_symbol(symbols, merges)
        assert "".join(vocab[t] for t in ids) == symbols
        segments[p.stem] = {"symbols": len(symbols), "tokens": len(ids), "ids": ids}
        total_symbols += len(symbols)
        total_tokens += len(ids)
    json.dump({"tokenizer": "ecg_byte_tokenizer_5000_500000.pkl", "source": "preprocess-golden/paper",
               "total_symbols": total_symbols, "total_tokens": total_tokens,
               "compression": total_symbols / total_tokens, "segments": segments}, sys.stdout)


if __name__ == "__main__":
    main()
