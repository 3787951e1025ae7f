#!/usr/bin/env python3
"""Plain Python PyTorch peers of bench_elm.cpp (Debian python3-torch), timed the same way:

  ecg_byte_train_step  the demo's Llama (hidden 128, 2 layers, 4 heads / 2 KV heads, intermediate 256,
                       tied embeddings) on [8, 320] ids of a 1754-token vocabulary, loss on every token
  llava_train_step     MERL's ResNet-1D (BasicBlock [1, 1, 1, 1], frozen, no_grad, train mode) on [8, 12, 1250]
                       -> mean over time -> Linear(512, 128) spliced at position 1 of [8, 96] ids
                       (vocabulary 498), loss from position 80 on
  generate_b1/b8       greedy decoding with a KV cache, 64-id prompts, 32 new tokens per row

A training step is split into data (building the batch tensors from Python lists, as a collate
function does), forward + loss, backward and optimiser (torch.optim.AdamW, foreach=False: 1.13's
single-tensor path). Random weights; one intra-op thread unless OMP_NUM_THREADS says otherwise.

    OMP_NUM_THREADS=1 python3 benchmarks/python/elm_reference.py [--json out.json]
"""
import json
import sys
import time

import torch

H, I, L, NH, KV, D, THETA, EPS = 128, 256, 2, 4, 2, 32, 10000.0, 1e-5


class RmsNorm(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(H))

    def forward(self, x):
        h = x.float()
        return self.weight * (h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + EPS)).to(x.dtype)


def rotate_half(x):
    return torch.cat((-x[..., D // 2:], x[..., : D // 2]), -1)


class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        lin = lambda i, o: torch.nn.Linear(i, o, bias=False)
        self.q, self.k, self.v, self.o = lin(H, NH * D), lin(H, KV * D), lin(H, KV * D), lin(NH * D, H)
        self.gate, self.up, self.down = lin(H, I), lin(H, I), lin(I, H)
        self.n1, self.n2 = RmsNorm(), RmsNorm()

    def forward(self, x, cos, sin, mask, cache):
        b, t, _ = x.shape
        h = self.n1(x)
        q = self.q(h).view(b, t, NH, D).transpose(1, 2)
        k = self.k(h).view(b, t, KV, D).transpose(1, 2)
        v = self.v(h).view(b, t, KV, D).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        if cache is not None:
            if cache[0] is not None:
                k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
            cache[0], cache[1] = k, v
        k, v = k.repeat_interleave(NH // KV, 1), v.repeat_interleave(NH // KV, 1)
        a = torch.softmax(torch.matmul(q, k.transpose(2, 3)) / D ** 0.5 + mask, -1, dtype=torch.float32).to(q.dtype)
        x = x + self.o(torch.matmul(a, v).transpose(1, 2).reshape(b, t, NH * D))
        h = self.n2(x)
        return x + self.down(torch.nn.functional.silu(self.gate(h)) * self.up(h))


class Llama(torch.nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, H)
        self.layers = torch.nn.ModuleList([Layer() for _ in range(L)])
        self.norm = RmsNorm()
        self.inv_freq = 1.0 / (THETA ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))

    def forward(self, embeds, caches=None, past=0):
        b, t, _ = embeds.shape
        freqs = torch.outer(torch.arange(past, past + t).float(), self.inv_freq)
        emb = torch.cat([freqs, freqs], -1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        mask = torch.full((t, past + t), torch.finfo(torch.float32).min).triu(past + 1)[None, None]
        x = embeds
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, mask, None if caches is None else caches[i])
        return torch.nn.functional.linear(self.norm(x), self.embed.weight)  # tied output layer


class BasicBlock(torch.nn.Module):
    def __init__(self, inp, out, stride):
        super().__init__()
        nn = torch.nn
        self.conv1, self.bn1 = nn.Conv1d(inp, out, 3, stride=stride, padding=1, bias=False), nn.BatchNorm1d(out)
        self.conv2, self.bn2 = nn.Conv1d(out, out, 3, padding=1, bias=False), nn.BatchNorm1d(out)
        self.shortcut = nn.Sequential()
        if stride != 1 or inp != out:
            self.shortcut = nn.Sequential(nn.Conv1d(inp, out, 1, stride=stride, bias=False), nn.BatchNorm1d(out))

    def forward(self, x):
        o = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(o)) + self.shortcut(x))


class TinyResNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = torch.nn.Conv1d(12, 64, 7, stride=2, padding=3, bias=False), torch.nn.BatchNorm1d(64)
        blocks, inp = [], 64
        for width, stride in zip((64, 128, 256, 512), (1, 2, 2, 2)):
            blocks.append(BasicBlock(inp, width, stride))
            inp = width
        self.blocks = torch.nn.Sequential(*blocks)

    def forward(self, x):
        return self.blocks(torch.relu(self.bn1(self.conv1(x))))


def batch_lists(n, length, vocab, answer_from, signal):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab - 1, (n, length), generator=g).tolist()
    labels = [[t if j >= answer_from else -100 for j, t in enumerate(row)] for row in ids]
    series = [torch.randn(12 * 1250, generator=g).tolist() for _ in range(n)] if signal else None
    return ids, labels, series


def train_step_timings(model_fn, params, lists, min_seconds=3.0):
    opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.01, foreach=False)
    ids_l, labels_l, series_l = lists
    parts = {"data": 0.0, "forward": 0.0, "backward": 0.0, "optimizer": 0.0}

    def step(record):
        t0 = time.perf_counter()
        ids = torch.tensor(ids_l, dtype=torch.int64)
        labels = torch.tensor(labels_l, dtype=torch.int64)
        series = torch.tensor(series_l, dtype=torch.float32).view(-1, 12, 1250) if series_l else None
        t1 = time.perf_counter()
        opt.zero_grad()
        logits = model_fn(ids, series)
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1), ignore_index=-100)
        t2 = time.perf_counter()
        loss.backward()
        t3 = time.perf_counter()
        opt.step()
        t4 = time.perf_counter()
        if record:
            for k, a, b in (("data", t0, t1), ("forward", t1, t2), ("backward", t2, t3), ("optimizer", t3, t4)):
                parts[k] += b - a

    step(False)
    n, start = 0, time.perf_counter()
    while n < 3 or time.perf_counter() - start < min_seconds:
        step(True)
        n += 1
    total = (time.perf_counter() - start) / n
    out = {k + "_ms": v / n * 1e3 for k, v in parts.items()}
    out.update({"seconds": total, "steps_per_s": 1 / total, "tokens_per_s": len(ids_l) * len(ids_l[0]) / total})
    return out


def generate_timing(lm, b, min_seconds=2.0):
    prompt = torch.randint(0, 1753, (b, 64), generator=torch.Generator().manual_seed(1))

    def gen():
        caches = [[None, None] for _ in range(L)]
        logits = lm(lm.embed(prompt), caches, 0)
        past = 64
        out = []
        for _ in range(32):
            nxt = logits[:, -1].argmax(-1, keepdim=True)
            out.append(nxt)
            logits = lm(lm.embed(nxt), caches, past)
            past += 1
        return torch.cat(out, 1)

    with torch.no_grad():
        gen()
        n, start = 0, time.perf_counter()
        while n < 3 or time.perf_counter() - start < min_seconds:
            gen()
            n += 1
    sec = (time.perf_counter() - start) / n
    return {"seconds": sec, "tokens_per_s": 32 * b / sec, "turns_per_s": b / sec}


def main():
    torch.manual_seed(0)
    out = {"threads": torch.get_num_threads(), "torch": torch.__version__}
    lm = Llama(1754).train()
    out["ecg_byte_train_step"] = train_step_timings(lambda ids, _: lm(lm.embed(ids)), list(lm.parameters()), batch_lists(8, 320, 1754, 0, False))

    lm2 = Llama(498).train()
    enc = TinyResNet().train()  # the Elm trains in train mode as a whole: BatchNorm on batch statistics
    for p in enc.parameters():
        p.requires_grad_(False)
    proj = torch.nn.Linear(512, H)

    def llava(ids, series):
        with torch.no_grad():
            feat = enc(series).mean(-1)  # adaptive average pooling to one token
        e = lm2.embed(ids)
        e = torch.cat([e[:, :1], proj(feat).unsqueeze(1), e[:, 2:]], 1)
        return lm2(e)

    out["llava_train_step"] = train_step_timings(llava, list(lm2.parameters()) + list(proj.parameters()), batch_lists(8, 96, 498, 80, True))
    lm.eval()
    for b in (1, 8):
        out[f"generate_b{b}"] = generate_timing(lm, b)
    for k in ("ecg_byte_train_step", "llava_train_step"):
        r = out[k]
        print(f"{k:20s} {r['seconds'] * 1e3:8.1f} ms/step  {r['tokens_per_s']:9.0f} tokens/s  data {r['data_ms']:.2f}  "
              f"forward {r['forward_ms']:.1f}  backward {r['backward_ms']:.1f}  optimizer {r['optimizer_ms']:.1f} ms")
    for b in (1, 8):
        r = out[f"generate_b{b}"]
        print(f"generate_b{b:<10d} {r['seconds'] * 1e3:8.1f} ms  {r['tokens_per_s']:9.0f} tokens/s  {r['turns_per_s']:.1f} turns/s")
    if len(sys.argv) > 2 and sys.argv[1] == "--json":
        with open(sys.argv[2], "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
