#!/usr/bin/env python3
"""The numpy / scipy / PyWavelets peer of bench_rag.cpp's feature benchmarks: upstream ECG-Bench's
`ECGFeatureExtractor.extract_features` / `extract_rag_features` (ecg_bench/utils/ecg_feature_extractor.py,
target_sf 250), rewritten here from its semantics, on the same deterministic [12, 1250] segment as
the C++ side, one thread. With ECGBENCH_TEST_DATA set (or ../shared/data beside the checkout) it
first checks itself against the golden feature vectors upstream's own class wrote.

    OMP_NUM_THREADS=1 python3 benchmarks/python/features_reference.py [--json out.json]
"""
import json
import math
import os
import sys
import time

import numpy as np
import pywt
from scipy import signal

FS = 250


def heart_rate_features(x, peaks):
    if len(peaks) < 2:
        return [0, 0, 0, 0, 0]
    rr = np.diff(peaks) / FS
    hr = 60 / np.mean(rr) if np.mean(rr) > 0 else 0
    hrv = np.std(rr) if len(rr) > 1 else 0
    w = int(0.1 * FS)
    qrs = []
    for p in peaks:
        seg = x[max(0, p - w):min(len(x), p + w)]
        if len(seg) == 0 or np.max(seg) == np.min(seg):
            qrs.append(0)
            continue
        thr = 0.1 * (np.max(seg) - np.min(seg)) + np.min(seg)
        qrs.append(np.sum(np.abs(seg - np.mean(seg)) > thr) / FS)
    start, end = peaks[-2], min(peaks[-1], len(x) - 1)
    t_amp = 0 if start >= end or start < 0 else (np.max(x[start:end]) - np.min(x[start:end]))
    st = 0
    if peaks[-1] < len(x):
        st_point = min(peaks[-1] + int(0.08 * FS), len(x) - 1)
        st = x[st_point] - x[peaks[-1]]
    return [hr, hrv, np.mean(qrs), t_amp, st]


def features(ecg, rag):
    out = []
    for x in ecg:
        stats = [np.max(x), np.min(x)] if rag else [np.mean(x), np.std(x), np.max(x), np.min(x), np.median(x), np.percentile(x, 25), np.percentile(x, 75)]
        out.extend(stats)
        freqs, psd = signal.welch(x, fs=FS, nperseg=min(1024, len(x)))
        total = np.sum(psd)
        out.extend([total, np.max(psd), freqs[np.argmax(psd)], np.sum(freqs * psd) / total if total > 0 else 0])
        if np.max(x) != np.min(x):
            peaks, _ = signal.find_peaks(x, height=0.3 * (np.max(x) - np.min(x)) + np.min(x), distance=max(int(0.2 * FS), 1))
        else:
            peaks = []
        out.extend(heart_rate_features(x, peaks))
        try:
            coeffs = pywt.wavedec(x, "db4", level=min(5, pywt.dwt_max_level(len(x), "db4")))
            out.extend([np.mean(np.abs(c)) for c in coeffs])
        except Exception:
            out.extend([0] * 6)
        out.append(np.mean(np.abs(np.diff(x))))
        out.append(np.sqrt(np.mean(np.square(np.diff(x)))))
    return np.array(out)


def segment():
    t = np.arange(1250) / 250.0
    s = np.zeros((12, 1250), np.float32)
    for l in range(12):
        phase = np.fmod(t + 0.05 * l, 0.8)
        s[l] = 0.1 * np.sin(2 * math.pi * 0.3 * t) + np.where(phase < 0.04, 1.2 * np.sin(math.pi * phase / 0.04), 0.0) + 0.15 * np.sin(2 * math.pi * 1.5 * t + l)
    return s


def self_check():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.environ.get("ECGBENCH_TEST_DATA", os.path.join(here, "..", "..", "..", "shared", "data"))
    d = os.path.join(root, "golden", "ecg-features")
    if not os.path.isdir(d):
        return "not checked (no golden folder)"
    worst = 0.0
    for name in sorted(f[:-4] for f in os.listdir(d) if f.endswith(".npy") and "features" not in f):
        x = np.load(os.path.join(d, name + ".npy"))
        for rag, suffix in ((False, ".features.npy"), (True, ".rag_features.npy")):
            want = np.load(os.path.join(d, name + suffix))
            got = features(x, rag)
            assert got.shape == want.shape, (name, got.shape, want.shape)
            worst = max(worst, float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want)))))
    assert worst < 1e-9, f"the peer differs from upstream's goldens by {worst}"
    return f"equal to upstream's goldens (max relative difference {worst:.1e})"


def timed(fn, min_seconds=3.0):
    fn()
    n, start = 0, time.perf_counter()
    while n < 3 or time.perf_counter() - start < min_seconds:
        fn()
        n += 1
    return (time.perf_counter() - start) / n


def main():
    out = {"check": self_check()}
    s = segment()
    out["rag_features"] = timed(lambda: features(s, True))
    out["features"] = timed(lambda: features(s, False))
    print(out["check"])
    for k in ("rag_features", "features"):
        print(f"{k:14s} {out[k] * 1e3:8.2f} ms  {1 / out[k]:8.1f} ECGs/s")
    if len(sys.argv) > 2 and sys.argv[1] == "--json":
        with open(sys.argv[2], "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
