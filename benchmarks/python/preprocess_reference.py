#!/usr/bin/python3
"""The Python peer of `ecgbench-preprocess` for PTB-XL: upstream ECG-Bench's per-record pipeline
(`PreprocessBaseECG._process_single_instance`, ../shared/reference/upstream-inventory.md section 2.2),
rewritten here from its semantics with numpy / scipy / PyWavelets, one process, one record at a time:
read the WFDB record (what `wfdb.rdsamp` returns: float64 (d - baseline) / gain, shape (5000, 12)),
the paper chain when asked (notch 50 and 60 Hz, band-pass 0.5-100 Hz, high-pass 0.05 Hz, each
`filtfilt` per lead, then db6 level-4 soft-threshold denoising), per-lead cubic `interp1d` 500 -> 250 Hz
on upstream's grids, float32, non-overlapping segments, one pickled dict per segment with `np.save`.

The WFDB reader is a small numpy one (Debian has no python3-wfdb); wfdb's own reader is slower, so
the peer's time is, if anything, flattering to it.

    /usr/bin/python3 benchmarks/python/preprocess_reference.py make-data --out DIR [--n 500]
    OMP_NUM_THREADS=1 /usr/bin/python3 benchmarks/python/preprocess_reference.py run \
        --data-dir DIR --out OUT [--filter none|paper] [--json times.json]

`make-data` builds a PTB-XL-layout folder of N records (ptbxl_database.csv + records500/) from the
ten real 500 Hz records in ../shared/data/ptbxl (or $ECGBENCH_TEST_DATA/ptbxl), copied under new ids.
"""
import argparse
import csv
import json
import os
import shutil
import sys
import time

import numpy as np


def shared_ptbxl():
    root = os.environ.get("ECGBENCH_TEST_DATA") or os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data")
    return os.path.join(root, "ptbxl")


def make_data(out, n):
    src = shared_ptbxl()
    with open(os.path.join(src, "ptbxl_database_excerpt.csv"), newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["filename_hr"].startswith("records500/06000/")]
    if not rows:
        sys.exit(f"{src}: no 500 Hz records in ptbxl_database_excerpt.csv")
    fields = list(rows[0].keys())
    os.makedirs(out, exist_ok=True)
    tmp = os.path.join(out, "ptbxl_database.csv.tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for i in range(n):
            r = dict(rows[i % len(rows)])
            ecg_id = 10000 + i
            folder = f"records500/{ecg_id // 1000 * 1000:05d}"
            stem = f"{ecg_id:05d}_hr"
            os.makedirs(os.path.join(out, folder), exist_ok=True)
            old = os.path.join(src, r["filename_hr"])
            with open(old + ".hea") as h:
                lines = h.read().splitlines()
            old_stem = os.path.basename(r["filename_hr"])
            lines = [l.replace(old_stem, stem) for l in lines]
            with open(os.path.join(out, folder, stem + ".hea"), "w") as h:
                h.write("\n".join(lines) + "\n")
            shutil.copyfile(old + ".dat", os.path.join(out, folder, stem + ".dat"))
            r["ecg_id"] = str(ecg_id)
            r["patient_id"] = f"{20000 + i}.0"
            r["filename_hr"] = f"{folder}/{stem}"
            r["filename_lr"] = f"records100/{ecg_id // 1000 * 1000:05d}/{ecg_id:05d}_lr"
            w.writerow(r)
    os.replace(tmp, os.path.join(out, "ptbxl_database.csv"))
    print(f"{out}: {n} records")


def rdsamp(path):
    """Format-16 WFDB record as wfdb.rdsamp returns it: float64 (d - baseline) / gain, (samples, leads)."""
    with open(path + ".hea") as h:
        lines = [l for l in h.read().splitlines() if l and not l.startswith("#")]
    name, nsig, fs, n = lines[0].split()[:4]
    nsig, fs, n = int(nsig), float(fs), int(n)
    gains, baselines = [], []
    for l in lines[1 : 1 + nsig]:
        parts = l.split()
        if parts[1] != "16":
            raise ValueError(f"{path}.hea: format {parts[1]} (this reader knows 16)")
        g = parts[2]
        gain = float(g.split("(")[0].split("/")[0])
        base = int(g.split("(")[1].split(")")[0]) if "(" in g else int(parts[4])
        gains.append(gain)
        baselines.append(base)
    d = np.fromfile(os.path.dirname(path) + "/" + lines[1].split()[0], dtype="<i2").reshape(n, nsig)
    return (d - np.array(baselines)) / np.array(gains), fs


def advanced_filter(ecg, fs):
    from scipy import signal

    nyq = fs / 2
    out = np.zeros_like(ecg)
    b50, a50 = signal.iirnotch(50, 30, fs)
    b60, a60 = signal.iirnotch(60, 30, fs)
    bb, ab = signal.butter(4, [0.5 / nyq, 100 / nyq], "band")
    bh, ah = signal.butter(4, 0.05 / nyq, "high")
    for i in range(ecg.shape[1]):
        x = signal.filtfilt(b50, a50, ecg[:, i])
        x = signal.filtfilt(b60, a60, x)
        x = signal.filtfilt(bb, ab, x)
        out[:, i] = signal.filtfilt(bh, ah, x)
    return out


def wavelet_denoise(ecg):
    import pywt
    from scipy import signal

    out = np.zeros_like(ecg)
    for i in range(ecg.shape[1]):
        coeffs = pywt.wavedec(ecg[:, i], "db6", level=4)
        sigma = np.median(np.abs(coeffs[-4])) / 0.6745
        for j in range(1, len(coeffs)):
            c = pywt.threshold(coeffs[j], sigma, mode="soft")
            c[~np.isfinite(c) | (np.abs(c) <= 1e-10)] = 0
            coeffs[j] = c
        rec = pywt.waverec(coeffs, "db6")
        if len(rec) != ecg.shape[0]:
            rec = signal.resample(rec, ecg.shape[0])
        out[:, i] = rec
    return np.nan_to_num(out, nan=0, posinf=0, neginf=0)


def nsample(ecg, fs, target_fs):
    from scipy.interpolate import interp1d

    n = ecg.shape[0]
    t = np.linspace(0, n / fs, n, endpoint=True)
    tn = np.linspace(0, n / fs, int(n * target_fs / fs), endpoint=True)
    out = np.zeros((len(tn), ecg.shape[1]))
    for i in range(ecg.shape[1]):
        out[:, i] = interp1d(t, ecg[:, i], kind="cubic", bounds_error=False, fill_value="extrapolate")(tn)
    return out


def run(data_dir, out, filt, seg_len=1250, target_fs=250.0):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(data_dir, "ptbxl_database.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    t0 = time.perf_counter()
    for r in rows:
        path = r["filename_hr"]
        ecg, fs = rdsamp(os.path.join(data_dir, path))
        assert fs == 500 and ecg.shape == (5000, 12), path
        if filt == "paper":
            ecg = wavelet_denoise(advanced_filter(ecg, fs))
        ecg = nsample(ecg, fs, target_fs).astype(np.float32)
        segs = [ecg[j * seg_len : (j + 1) * seg_len] for j in range(ecg.shape[0] // seg_len)]
        if any(np.isnan(s).any() or np.isinf(s).any() for s in segs):
            continue  # upstream skips the whole record
        for j, seg in enumerate(segs):
            d = {"ecg": seg.T, "report": r["report"], "path": path, "orig_sf": fs, "target_sf": target_fs, "seg_len": seg_len}
            p = os.path.join(out, "_".join(path.split("/")) + f"_{j}.npy")
            np.save(p, d)
            if os.path.getsize(p) == 0:
                raise IOError(p)
    return len(rows), time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make-data")
    m.add_argument("--out", required=True)
    m.add_argument("--n", type=int, default=500)
    r = sub.add_parser("run")
    r.add_argument("--data-dir", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--filter", choices=["none", "paper"], default="none")
    r.add_argument("--json")
    a = ap.parse_args()
    if a.cmd == "make-data":
        make_data(a.out, a.n)
        return
    n, s = run(a.data_dir, a.out, a.filter)
    res = {"records": n, "seconds": s, "records_per_s": n / s, "filter": a.filter}
    print(json.dumps(res))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f)


if __name__ == "__main__":
    main()
