#!/usr/bin/env python3
"""Plain Python PyTorch peers of bench_train.cpp, timed the same way (Debian python3-torch):

  st_mem_forward   ST-MEM ViT-B (`forward_encoding`: 12 leads x (25 + 2) tokens, 12 blocks, width 768,
                   dim_head 64) on [8, 12, 1250], eval mode, no autograd -> samples/s
  merl_forward     MERL's ResNet-101 1-D (bottleneck [3, 4, 23, 3], conv1 k7 s2, no max-pool) on
                   [8, 12, 1250], eval mode, no autograd -> samples/s
  adamw_step       torch.optim.AdamW (foreach=False: 1.13's default single-tensor path, the one
                   ours follows step for step) over 100M parameters in 100 tensors of 1M, gradients
                   set -> ms per step

The modules follow upstream ECG-Bench's st_mem.py / merl_blocks.py layer for layer (written here from
their semantics; weights random). One intra-op thread unless OMP_NUM_THREADS says otherwise.

    OMP_NUM_THREADS=1 python3 benchmarks/python/encoders_reference.py [--json out.json]
"""
import json
import sys
import time

import torch


class Attention(torch.nn.Module):
    def __init__(self, dim, heads, dim_head=64):
        super().__init__()
        self.heads, self.dim_head = heads, dim_head
        self.to_qkv = torch.nn.Linear(dim, heads * dim_head * 3)
        self.to_out = torch.nn.Linear(heads * dim_head, dim)

    def forward(self, x):
        b, n, _ = x.shape
        q, k, v = self.to_qkv(x).view(b, n, 3, self.heads, self.dim_head).permute(2, 0, 3, 1, 4)
        a = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * self.dim_head ** -0.5, -1)
        return self.to_out(torch.matmul(a, v).transpose(1, 2).reshape(b, n, -1))


class Block(torch.nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.n1, self.n2 = torch.nn.LayerNorm(dim), torch.nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.ff = torch.nn.Sequential(torch.nn.Linear(dim, 4 * dim), torch.nn.GELU(), torch.nn.Linear(4 * dim, dim))

    def forward(self, x):
        x = self.attn(self.n1(x)) + x
        return self.ff(self.n2(x)) + x


class StMemVit(torch.nn.Module):
    def __init__(self, seq_len=1250, patch=50, leads=12, width=768, depth=12, heads=12):
        super().__init__()
        self.n, self.patch = seq_len // patch, patch
        self.embed = torch.nn.Sequential(torch.nn.LayerNorm(patch), torch.nn.Linear(patch, width), torch.nn.LayerNorm(width))
        self.pos = torch.nn.Parameter(torch.randn(1, self.n + 2, width) * 0.02, requires_grad=False)
        self.sep = torch.nn.Parameter(torch.randn(width) * 0.02)
        self.leads = torch.nn.Parameter(torch.randn(leads, width) * 0.02)
        self.blocks = torch.nn.ModuleList([Block(width, heads) for _ in range(depth)])
        self.norm = torch.nn.LayerNorm(width)

    def forward(self, series):
        b, c, _ = series.shape
        x = self.embed(series.reshape(b, c, self.n, self.patch)) + self.pos[:, 1:-1].unsqueeze(1)
        w = x.shape[-1]
        sep = self.sep.view(1, 1, 1, w).expand(b, c, 1, w)
        x = torch.cat([sep + self.pos[:, :1].unsqueeze(1), x, sep + self.pos[:, -1:].unsqueeze(1)], 2)
        x = (x + self.leads[:c].view(1, c, 1, w)).reshape(b, c * (self.n + 2), w)
        for blk in self.blocks:
            x = blk(x)
        x = x.view(b, c, self.n + 2, w)[:, :, 1:-1]
        return self.norm(x.mean((1, 2)))


class Bottleneck(torch.nn.Module):
    expansion = 4

    def __init__(self, inp, out, stride):
        super().__init__()
        nn = torch.nn
        self.conv1, self.bn1 = nn.Conv1d(inp, out, 1, bias=False), nn.BatchNorm1d(out)
        self.conv2, self.bn2 = nn.Conv1d(out, out, 3, stride=stride, padding=1, bias=False), nn.BatchNorm1d(out)
        self.conv3, self.bn3 = nn.Conv1d(out, out * 4, 1, bias=False), nn.BatchNorm1d(out * 4)
        self.shortcut = nn.Sequential()
        if stride != 1 or inp != out * 4:
            self.shortcut = nn.Sequential(nn.Conv1d(inp, out * 4, 1, stride=stride, bias=False), nn.BatchNorm1d(out * 4))

    def forward(self, x):
        o = torch.relu(self.bn1(self.conv1(x)))
        o = torch.relu(self.bn2(self.conv2(o)))
        o = self.bn3(self.conv3(o))
        return torch.relu(o + self.shortcut(x))


class ResNet1d(torch.nn.Module):
    def __init__(self, layers=(3, 4, 23, 3)):
        super().__init__()
        self.conv1, self.bn1 = torch.nn.Conv1d(12, 64, 7, stride=2, padding=3, bias=False), torch.nn.BatchNorm1d(64)
        stages, inp = [], 64
        for width, stride, count in zip((64, 128, 256, 512), (1, 2, 2, 2), layers):
            blocks = []
            for i in range(count):
                blocks.append(Bottleneck(inp, width, stride if i == 0 else 1))
                inp = width * 4
            stages.append(torch.nn.Sequential(*blocks))
        self.stages = torch.nn.Sequential(*stages)

    def forward(self, x):
        return self.stages(torch.relu(self.bn1(self.conv1(x))))


def timed(fn, min_seconds=0.0, min_iters=3):
    fn()  # warm-up
    iters, start = 0, time.perf_counter()
    while iters < min_iters or time.perf_counter() - start < min_seconds:
        fn()
        iters += 1
    return (time.perf_counter() - start) / iters


def main():
    torch.manual_seed(0)
    out = {"threads": torch.get_num_threads(), "torch": torch.__version__}
    x = torch.randn(8, 12, 1250)
    with torch.no_grad():
        vit = StMemVit().eval()
        t = timed(lambda: vit(x))
        out["st_mem_forward"] = {"seconds": t, "samples_per_s": 8 / t}
        res = ResNet1d().eval()
        t = timed(lambda: res(x))
        out["merl_forward"] = {"seconds": t, "samples_per_s": 8 / t}
    params = [torch.nn.Parameter(torch.randn(1_000_000) * 0.02) for _ in range(100)]
    for p in params:
        p.grad = torch.randn_like(p) * 1e-3
    opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.01, foreach=False)
    opt.step()  # allocates the moments, as the C++ side's warm-up step does
    t = timed(opt.step, min_seconds=3.0)
    out["adamw_step"] = {"seconds": t, "parameters": 100_000_000}
    for k in ("st_mem_forward", "merl_forward"):
        print(f"{k:16s} {out[k]['seconds'] * 1e3:9.1f} ms  {out[k]['samples_per_s']:8.2f} samples/s")
    print(f"{'adamw_step':16s} {out['adamw_step']['seconds'] * 1e3:9.1f} ms  (100M parameters)")
    if len(sys.argv) > 2 and sys.argv[1] == "--json":
        with open(sys.argv[2], "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
