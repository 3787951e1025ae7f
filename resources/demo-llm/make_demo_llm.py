#!/usr/bin/python3
"""Writes the small LLM the demo trains from scratch (no download anywhere): a byte-level BPE
tokenizer (tokenizer.json in Hugging Face's format, Llama-3 special tokens and chat template) learnt
from the synthetic ECG-QA vocabulary of include/ecgbench/synth/dataset.hpp, and a tiny
Llama-architecture config.json (random initialisation happens in ecgbench-train).

    python3 resources/demo-llm/make_demo_llm.py      (standard library only; deterministic)
"""
import collections
import json
import os
import re

here = os.path.dirname(os.path.abspath(__file__))

RHYTHMS = ["sinus rhythm", "sinus bradycardia", "sinus tachycardia", "atrial fibrillation", "first degree av block",
           "right bundle branch block", "st elevation"]
corpus = []
for r in RHYTHMS:
    corpus.append(f"Does this ECG show {r}?")
    corpus.append(r)
corpus += ["Which rhythm does this ECG show, sinus rhythm or atrial fibrillation?", "What is the heart rate category of this ECG?",
           "Is the PR interval prolonged in this ECG?", "Is the QRS duration prolonged in this ECG?", "yes", "no", "none",
           "bradycardia", "tachycardia", "normal", "You are an expert ECG assistant. Answer the question about the ECG briefly.",
           "system", "user", "assistant", "rate bpm. normal ecg. with a mean ventricular rate of", "(pr ms). (qrs ms).", "in leads v1-v4.",
           "0 1 2 3 4 5 6 7 8 9 10 20 30 40 50 60 70 80 90 100 110 120 130 140 150 160 170 180 190 200"]
corpus = corpus * 3 + [c.lower() for c in corpus]

# GPT-2's byte-to-unicode table.
bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
cs = bs[:]
n = 0
for b in range(256):
    if b not in bs:
        bs.append(b)
        cs.append(256 + n)
        n += 1
byte_enc = {b: chr(c) for b, c in zip(bs, cs)}
# Llama 3's split pattern with ASCII classes (the same splits on this ASCII corpus).
pat = re.compile(r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\nA-Za-z0-9]?[A-Za-z]+|[0-9]{1,3}| ?[^\sA-Za-z0-9]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""")
words = collections.Counter()
for text in corpus:
    for w in pat.findall(text):
        words[tuple(byte_enc[b] for b in w.encode("utf-8"))] += 1

vocab = {byte_enc[b]: i for i, b in enumerate(sorted(range(256), key=lambda b: bs.index(b)))}
merges = []
target = 640
while len(vocab) < target:
    pairs = collections.Counter()
    for w, c in words.items():
        for a, b in zip(w, w[1:]):
            pairs[(a, b)] += c
    if not pairs:
        break
    (a, b), count = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
    if count < 2:
        break
    merges.append(f"{a} {b}")
    vocab[a + b] = len(vocab)
    new = collections.Counter()
    for w, c in words.items():
        out, i = [], 0
        while i < len(w):
            if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                out.append(a + b)
                i += 2
            else:
                out.append(w[i])
                i += 1
        new[tuple(out)] += c
    words = new

specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<pad>"]
added = []
for s in specials:
    vocab_id = len(vocab) + len(added)
    added.append({"id": vocab_id, "content": s, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True})
tokenizer = {
    "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
         "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
    "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
    "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
    "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None, "end_of_word_suffix": None,
              "fuse_unk": False, "byte_fallback": False, "ignore_merges": False, "vocab": vocab, "merges": merges},
}
with open(os.path.join(here, "tokenizer.json"), "w") as f:
    json.dump(tokenizer, f, ensure_ascii=False, indent=None, separators=(",", ":"))
chat_template = ("{{- bos_token }}{%- for message in messages %}{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
                 " + message['content'] | trim + '<|eot_id|>' }}{%- endfor %}{%- if add_generation_prompt %}"
                 "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}")
config_tok = {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "pad_token": "<pad>", "add_bos_token": False,
              "model_max_length": 4096, "tokenizer_class": "PreTrainedTokenizerFast", "chat_template": chat_template}
with open(os.path.join(here, "tokenizer_config.json"), "w") as f:
    json.dump(config_tok, f, indent=2)
vocab_size = len(vocab) + len(added)
ids = {a["content"]: a["id"] for a in added}
config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": vocab_size, "hidden_size": 128,
          "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
          "max_position_embeddings": 2048, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu",
          "tie_word_embeddings": True, "initializer_range": 0.02, "bos_token_id": ids["<|begin_of_text|>"],
          "eos_token_id": ids["<|eot_id|>"], "pad_token_id": ids["<pad>"], "torch_dtype": "float32"}
with open(os.path.join(here, "config.json"), "w") as f:
    json.dump(config, f, indent=2)
with open(os.path.join(here, "generation_config.json"), "w") as f:
    json.dump({"bos_token_id": config["bos_token_id"], "eos_token_id": [config["eos_token_id"]], "do_sample": False}, f, indent=2)
print(f"vocab {vocab_size} ({len(merges)} merges), tokenizer.json {os.path.getsize(os.path.join(here, 'tokenizer.json'))} bytes")
