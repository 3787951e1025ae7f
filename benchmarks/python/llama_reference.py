#!/usr/bin/env python3
"""The small Llama of bench_models.cpp written in plain Python PyTorch (Debian python3-torch), timed
the same way: forward tokens/s for [1, 128] and [4, 128], and greedy generation of 64 tokens after a
32-token prompt with a KV cache and without. One intra-op thread, eval mode, no autograd.

    OMP_NUM_THREADS=1 python3 benchmarks/python/llama_reference.py
"""
import math
import time

import torch

V, H, I, L, NH, KV, D = 4096, 256, 688, 4, 8, 4, 32
EPS, THETA = 1e-5, 500000.0


class RmsNorm(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(H))

    def forward(self, x):
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + EPS)
        return self.weight * h.to(x.dtype)


def rotate_half(x):
    return torch.cat((-x[..., D // 2:], x[..., : D // 2]), -1)


class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.q = torch.nn.Linear(H, NH * D, bias=False)
        self.k = torch.nn.Linear(H, KV * D, bias=False)
        self.v = torch.nn.Linear(H, KV * D, bias=False)
        self.o = torch.nn.Linear(NH * D, H, bias=False)
        self.gate = torch.nn.Linear(H, I, bias=False)
        self.up = torch.nn.Linear(H, I, bias=False)
        self.down = torch.nn.Linear(I, H, bias=False)
        self.n1, self.n2 = RmsNorm(), RmsNorm()

    def forward(self, x, cos, sin, mask, cache):
        b, t, _ = x.shape
        h = self.n1(x)
        q = self.q(h).view(b, t, NH, D).transpose(1, 2)
        k = self.k(h).view(b, t, KV, D).transpose(1, 2)
        v = self.v(h).view(b, t, KV, D).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if cache is not None:
            if cache[0] is not None:
                k = torch.cat([cache[0], k], 2)
                v = torch.cat([cache[1], v], 2)
            cache[0], cache[1] = k, v
        k = k.repeat_interleave(NH // KV, 1)
        v = v.repeat_interleave(NH // KV, 1)
        a = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(D) + mask
        a = torch.softmax(a, -1, dtype=torch.float32).to(q.dtype)
        x = x + self.o(torch.matmul(a, v).transpose(1, 2).reshape(b, t, NH * D))
        h = self.n2(x)
        return x + self.down(torch.nn.functional.silu(self.gate(h)) * self.up(h))


class Llama(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(V, H)
        self.layers = torch.nn.ModuleList([Layer() for _ in range(L)])
        self.norm = RmsNorm()
        self.head = torch.nn.Linear(H, V, bias=False)
        self.inv_freq = 1.0 / (THETA ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))

    def forward(self, ids, caches=None, past=0):
        b, t = ids.shape
        x = self.embed(ids)
        pos = torch.arange(past, past + t).float()
        freqs = torch.outer(pos, self.inv_freq)
        emb = torch.cat([freqs, freqs], -1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        s = past + t
        mask = torch.full((t, s), torch.finfo(torch.float32).min).triu(past + 1)[None, None]
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, mask, None if caches is None else caches[i])
        return self.head(self.norm(x))


def timeit(fn, min_time=1.0):
    fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_time:
        fn()
        n += 1
    return (time.perf_counter() - start) / n


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    m = Llama().eval()
    with torch.no_grad():
        for b in (1, 4):
            ids = torch.randint(0, V, (b, 128))
            sec = timeit(lambda: m(ids))
            print(f"forward [{b}, 128]: {sec * 1e3:.1f} ms, {b * 128 / sec:.0f} tokens/s")
        prompt = torch.randint(0, V, (1, 32))

        def gen(cache):
            if cache:
                caches = [[None, None] for _ in range(L)]
                logits = m(prompt, caches, 0)
                past = prompt.shape[1]
                for _ in range(64):
                    nxt = logits[:, -1].argmax(-1, keepdim=True)
                    logits = m(nxt, caches, past)
                    past += 1
            else:
                ids = prompt
                for _ in range(64):
                    nxt = m(ids)[:, -1].argmax(-1, keepdim=True)
                    ids = torch.cat([ids, nxt], 1)

        for cache in (True, False):
            sec = timeit(lambda: gen(cache))
            print(f"generate 64 ({'KV cache' if cache else 'no cache'}): {sec * 1e3:.0f} ms, {64 / sec:.0f} new tokens/s")


if __name__ == "__main__":
    main()
