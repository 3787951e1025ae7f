#!/usr/bin/python3
"""Golden trajectories of torch.optim for tests/train/train_test.cpp, made with Debian's python3-torch
(1.13, CPU, one thread): a small MLP (Linear 8->16, LayerNorm, tanh, Linear 16->4) on fixed batches
with a masked MSE whose mean runs over the valid targets. The training loop is the one the C++
Trainer documents: per optimizer step, micro-batches of 4 with gradient accumulation 2, each
backward on loss x count (count = valid targets), gradients divided by the step's total count,
clip_grad_norm_(1.0), the learning rate from torch.optim.lr_scheduler.LambdaLR (base lr 1.0, the
lambda is the schedule's rate), 50 steps. Parameter groups: weight decay on >= 2-D tensors only.

    OMP_NUM_THREADS=1 /usr/bin/python3 tests/train/golden/make_optim_golden.py
writes init.npz-style .npy files and final_<case>.npy per parameter into this folder.
"""
import math
import os

import numpy as np
import torch

torch.set_num_threads(1)
here = os.path.dirname(os.path.abspath(__file__))

N, D, H, O = 40, 8, 16, 4
g = torch.Generator().manual_seed(1234)
x = torch.randn(N, D, generator=g)
y = torch.randn(N, O, generator=g)
mask = (torch.rand(N, O, generator=g) < 0.7).float()
mask[:, 0] = 1.0  # every row has a target


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = torch.nn.Linear(D, H)
        self.ln = torch.nn.LayerNorm(H)
        self.l2 = torch.nn.Linear(H, O)

    def forward(self, x):
        return self.l2(torch.tanh(self.ln(self.l1(x))))


torch.manual_seed(7)
init = Mlp()
with torch.no_grad():  # non-trivial norm parameters
    init.ln.weight.add_(0.1 * torch.randn(H, generator=g))
    init.ln.bias.add_(0.1 * torch.randn(H, generator=g))
names = [n for n, _ in init.named_parameters()]


def noam_p(k, init_lr, warmup):  # upstream [P]/[H]: s = max(1, k), floor 1e-8
    s = max(1, k)
    return max(init_lr * min(1.0 / math.sqrt(s), s * warmup ** -1.5), 1e-8)


def cosine(k, peak, warmup, total):
    if k < warmup:
        return peak * k / max(1, warmup)
    p = (k - warmup) / max(1, total - warmup)
    return peak * max(0.0, 0.5 * (1.0 + math.cos(math.pi * p)))


CASES = {
    # name: (optimizer class, schedule(k))
    "adam_noam": (torch.optim.Adam, lambda k: noam_p(k, 0.05 * math.sqrt(10), 10)),
    "adamw_cosine": (torch.optim.AdamW, lambda k: cosine(k, 0.03, 5, 50)),
}


def run(opt_cls, sched):
    model = Mlp()
    model.load_state_dict(init.state_dict())
    decay = [p for p in model.parameters() if p.dim() >= 2]
    plain = [p for p in model.parameters() if p.dim() < 2]
    opt = opt_cls([{"params": decay, "weight_decay": 0.01}, {"params": plain, "weight_decay": 0.0}], lr=1.0, betas=(0.9, 0.99), eps=1e-8)
    lr = torch.optim.lr_scheduler.LambdaLR(opt, sched)
    batch, accum, steps = 4, 2, 50
    per_epoch = N // batch
    pos = 0
    for k in range(steps):
        opt.zero_grad()
        total = 0.0
        for _ in range(accum):
            i = (pos % per_epoch) * batch
            pos += 1
            xb, yb, mb = x[i:i + batch], y[i:i + batch], mask[i:i + batch]
            count = mb.sum()
            loss = (((model(xb) - yb) ** 2) * mb).sum() / count
            (loss * count).backward()
            total += count.item()
        for p in model.parameters():
            p.grad.div_(total)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        lr.step()
    return model


def save(name, t):
    np.save(os.path.join(here, name + ".npy"), t.detach().numpy().astype(np.float32))


save("x", x)
save("y", y)
save("mask", mask)
for n, p in init.named_parameters():
    save("init_" + n, p)
for case, (cls, sched) in CASES.items():
    m = run(cls, sched)
    for n, p in m.named_parameters():
        save("final_" + case + "_" + n, p)
print("wrote", len(os.listdir(here)) - 1, "files")
