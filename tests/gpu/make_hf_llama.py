#!/usr/bin/env python3
"""Writes the GPU check's transformers reference: a random LlamaForCausalLM of the given config
(resources/gpu/llama-3.2-1b-ecg-byte.json: Llama-3.2-1B's shape) saved with save_pretrained
(safetensors), left-padded ids, and its logits on the device in float32 (TF32 off) and bf16
(weights in bf16), "sdpa" attention. The "[.hf1b]" case of tests/gpu/gpu_test.cpp compares ours.

  make_hf_llama.py --config C --out DIR [--device cuda] [--batch 2 --seq 64]
"""
import argparse
import json
import os
import sys

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--device", default="cuda")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--seq", type=int, default=64)
    a = p.parse_args()
    try:
        import torch
        import transformers
    except ImportError as e:
        print(f"make_hf_llama: skipped ({e})")
        return 3
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    cfg = {k: v for k, v in json.load(open(a.config)).items() if not k.startswith("_")}
    config = transformers.LlamaConfig(**cfg)
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(config).eval()
    os.makedirs(a.out, exist_ok=True)
    model.save_pretrained(a.out, safe_serialization=True)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, cfg["vocab_size"], size=(a.batch, a.seq), dtype=np.int64)
    mask = np.ones_like(ids)
    mask[1, :a.seq // 4] = 0  # row 1 left-padded
    pos = np.clip(np.cumsum(mask, axis=1) - 1, 0, None)
    pos[mask == 0] = 1
    np.save(os.path.join(a.out, "input_ids.npy"), ids)
    np.save(os.path.join(a.out, "attention_mask.npy"), mask)
    np.save(os.path.join(a.out, "position_ids.npy"), pos)
    dev = torch.device(a.device)
    t = lambda x: torch.from_numpy(x).to(dev)
    with torch.no_grad():
        m = model.to(dev)
        out = m(input_ids=t(ids), attention_mask=t(mask), position_ids=t(pos)).logits.float().cpu().numpy()
        np.save(os.path.join(a.out, "logits_fp32.npy"), out)
        m = m.to(torch.bfloat16)
        out = m(input_ids=t(ids), attention_mask=t(mask), position_ids=t(pos)).logits.float().cpu().numpy()
        np.save(os.path.join(a.out, "logits_bf16.npy"), out)
    json.dump({"torch": torch.__version__, "transformers": transformers.__version__, "device": str(dev)}, open(os.path.join(a.out, "made_by.json"), "w"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
