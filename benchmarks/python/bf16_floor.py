#!/usr/bin/env python3
"""How close bf16 can get to transformers' float32 goldens on the golden causal LMs.

The floor: the goldens' weights rounded to bf16 (round to nearest even) but computed in float32. Beside
it, our bf16 runs (weights in bf16; float32 weights under bf16 autocast), all through ecgbench-forward.
Relative error = ||got - want|| / ||want|| over the valid (mask = 1) rows, as the model tests compute it.
Usage: bf16_floor.py [BUILD_DIR] [DATA_DIR] (defaults: build, ../shared/data). Needs numpy only.
"""
import json, os, shutil, struct, subprocess, sys, tempfile
import numpy as np
G = os.path.join(sys.argv[2] if len(sys.argv) > 2 else os.environ.get("ECGBENCH_TEST_DATA", "../shared/data"), "golden")
B = os.path.join(sys.argv[1] if len(sys.argv) > 1 else "build", "apps", "ecgbench-forward")
T = tempfile.mkdtemp(prefix="bf16-floor-")
def round_bf16(a):
    u = a.astype(np.float32).view(np.uint32).astype(np.uint64)
    u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
    return u.astype(np.uint32).view(np.float32)
def rewrite(src, dst):
    raw = open(src, "rb").read(); n = struct.unpack("<Q", raw[:8])[0]; hdr = json.loads(raw[8:8 + n]); data = bytearray(raw[8 + n:])
    for k, v in hdr.items():
        if k == "__metadata__" or v["dtype"] != "F32": continue
        a, b = v["data_offsets"]; arr = np.frombuffer(bytes(data[a:b]), dtype=np.float32)
        data[a:b] = round_bf16(arr).tobytes()
    open(dst, "wb").write(raw[:8 + n] + bytes(data))
def rel(got, want, mask):
    m = mask.astype(bool)[..., None] if mask is not None else np.ones(want.shape[:-1] + (1,), bool)
    g = np.where(m, got.astype(np.float64), 0); w = np.where(m, want.astype(np.float64), 0)
    return np.linalg.norm(g - w) / np.linalg.norm(w)
for name in ["llama", "qwen2", "gemma2", "gpt2", "opt"]:
    d = f"{G}/{name}"; r = f"{T}/{name}"; os.makedirs(r, exist_ok=True)
    for f in os.listdir(d):
        if f.endswith(".json"): shutil.copy(f"{d}/{f}", r)
    rewrite(f"{d}/model.safetensors", f"{r}/model.safetensors")
    args = ["--input-ids", f"{d}/input_ids.npy", "--attention-mask", f"{d}/attention_mask.npy"]
    if name != "opt": args += ["--position-ids", f"{d}/position_ids.npy"]
    want = np.load(f"{d}/logits.npy"); mask = np.load(f"{d}/attention_mask.npy")
    out = {}
    for label, model, extra in [("fp32", d, []), ("weights-rounded fp32", r, []), ("bf16", d, ["--precision", "bf16"]), ("bf16-autocast", d, ["--precision", "bf16-autocast"])]:
        o = f"{T}/{name}-{label.replace(' ', '_')}.npy"
        subprocess.run([B, "--model", model, *args, *extra, "--out", o], check=True, capture_output=True)
        out[label] = rel(np.load(o), want, mask)
    print(name, " ".join(f"{k}={v:.4f}" for k, v in out.items()))
shutil.rmtree(T)
