#!/usr/bin/env python3
"""bench_gpu_step's peer: PyTorch eager training steps of the same model on the same ids.

transformers' LlamaForCausalLM built from the same config.json (random weights), attention "sdpa",
torch.autocast bf16 over float32 weights, torch.optim.AdamW(fused=True) on CUDA, no torch.compile.
Timed with CUDA events around the forward, backward and optimizer phases; median of the timed steps.

  gpu_step_reference.py make-ids --config C --batch B --seq T --seed S --out ids.npy
  gpu_step_reference.py run --config C --ids ids.npy [--device cuda] [--warmup 5 --steps 20] --out peer.json

Also writes nothing but the report; the ids file is shared with bench_gpu_step (--ids).
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np


def make_ids(a):
    cfg = json.load(open(a.config))
    rng = np.random.default_rng(a.seed)
    ids = rng.integers(0, cfg["vocab_size"], size=(a.batch, a.seq + 1), dtype=np.int64)
    np.save(a.out, ids)


def run(a):
    try:
        import torch
        import transformers
    except ImportError as e:
        r = {"bench": "pytorch-eager", "skipped": f"{e.name} is not installed"}
        print(json.dumps(r))
        json.dump(r, open(a.out, "w"))
        return 0
    cfg_dict = {k: v for k, v in json.load(open(a.config)).items() if not k.startswith("_")}
    config = transformers.LlamaConfig(**cfg_dict)
    config._attn_implementation = "sdpa"
    dev = torch.device(a.device)
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(config).to(dev)
    model.train()
    fused = dev.type == "cuda"
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.01, fused=fused) if fused else torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.01)
    ids = torch.from_numpy(np.load(a.ids)).to(dev)
    inputs, labels = ids[:, :-1], ids[:, 1:].reshape(-1)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)

    def stamp():
        if dev.type == "cuda":
            e = torch.cuda.Event(enable_timing=True)
            e.record()
            return e
        return time.perf_counter()

    def ms(x, y):
        if dev.type == "cuda":
            return x.elapsed_time(y)
        return (y - x) * 1000.0

    fwd, bwd, upd, tot = [], [], [], []
    loss = None
    for s in range(a.warmup + a.steps):
        t0 = stamp()
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16):
            logits = model(input_ids=inputs).logits
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), labels)
        t1 = stamp()
        loss.backward()
        t2 = stamp()
        opt.step()
        opt.zero_grad(set_to_none=True)
        t3 = stamp()
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        if s >= a.warmup:
            fwd.append(ms(t0, t1)), bwd.append(ms(t1, t2)), upd.append(ms(t2, t3)), tot.append(ms(t0, t3))
    step_ms = statistics.median(tot)
    r = {"bench": "pytorch-eager", "device": str(dev), "torch": torch.__version__, "transformers": transformers.__version__,
         "batch": ids.shape[0], "seq": ids.shape[1] - 1, "step_ms": step_ms, "forward_ms": statistics.median(fwd),
         "backward_ms": statistics.median(bwd), "optimizer_ms": statistics.median(upd),
         "tokens_per_s": ids.shape[0] * (ids.shape[1] - 1) / (step_ms / 1000.0), "last_loss": float(loss),
         "peak_memory_gib": torch.cuda.max_memory_allocated(dev) / 2**30 if dev.type == "cuda" else None}
    print(json.dumps(r))
    json.dump(r, open(a.out, "w"))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make-ids")
    m.add_argument("--config", required=True)
    m.add_argument("--batch", type=int, default=16)
    m.add_argument("--seq", type=int, default=1024)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--out", required=True)
    r = sub.add_parser("run")
    r.add_argument("--config", required=True)
    r.add_argument("--ids", required=True)
    r.add_argument("--device", default="cuda")
    r.add_argument("--warmup", type=int, default=5)
    r.add_argument("--steps", type=int, default=20)
    r.add_argument("--out", required=True)
    a = p.parse_args()
    if a.cmd == "make-ids":
        make_ids(a)
        return 0
    return run(a)


if __name__ == "__main__":
    sys.exit(main())
