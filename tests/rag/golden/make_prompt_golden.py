#!/usr/bin/python3
"""Upstream's prompt text for a fixed retrieval, made by upstream's own `format_search` (ECG-Bench
[P] 6f69c02 `ecg_bench/utils/rag_utils.py`, given as the first argument; not copied here) and
scipy's find_peaks on small edge cases, for tests/rag/rag_test.cpp.

    git -C <ECG-Bench mirror> show 6f69c02:ecg_bench/utils/rag_utils.py > /tmp/rag_utils.py
    /usr/bin/python3 tests/rag/golden/make_prompt_golden.py /tmp/rag_utils.py
"""
import json
import os
import sys
import types

import numpy as np
from scipy import signal

here = os.path.dirname(os.path.abspath(__file__))
src = open(sys.argv[1]).read()
# Only the class body is needed: stub its imports.
for mod in ["faiss", "tqdm", "ecg_bench", "ecg_bench.utils", "ecg_bench.utils.preprocess_utils"]:
    m = types.ModuleType(mod)
    m.tqdm = lambda x, **k: x
    m.ECGFeatureExtractor = object
    sys.modules[mod] = m
ns = {}
exec(compile(src, "rag_utils.py", "exec"), ns)
cls = ns["RAGECGDatabase"]
db = cls.__new__(cls)
db.ecg_feature_list = ["mean", "std", "max", "min", "median", "25th percentile", "75th percentile", "total power", "peak frequency power",
                       "dominant frequency", "spectral centroid", "heart rate", "heart rate variability", "qrs duration", "t wave amplitude",
                       "st deviation", "wavelet coefficient approximation", "wavelet coefficient detail level 5", "wavelet coefficient detail level 4",
                       "wavelet coefficient detail level 3", "wavelet coefficient detail level 2", "wavelet coefficient detail level 1",
                       "average absolute difference", "root mean square difference"]
rng = np.random.RandomState(3)
feats = [rng.randn(288) * 10 ** rng.uniform(-6, 3, 288), rng.randn(288) * 0.0001, np.concatenate([rng.randn(100), np.zeros(188)]), rng.randn(288) * 50]
feats[0][5] = 1e-05
feats[0][6] = 123456789.125
feats[0][7] = 2.5
results = {i: {"feature": f, "report": f"report number {i}: sinus rhythm.", "distance": float(i)} for i, f in enumerate(feats)}
out = {"features": [f.tolist() for f in feats], "reports": [results[i]["report"] for i in results]}
for info in ["combined", "feature", "report"]:
    out["format_search_" + info] = db.format_search(dict(results), retrieved_information=info)
# scipy.signal.find_peaks edge cases: plateaus, equal heights, the distance rule's priority.
cases = [
    [0, 1, 1, 1, 0, 2, 2, 0, 3, 0],
    [0, 5, 0, 4, 0, 6, 0, 5.5, 0, 1, 0],
    [1, 3, 3, 2, 3, 3, 3, 1, 0, 2, 0],
    list(np.sin(np.linspace(0, 20, 200)) + 0.3 * np.sin(np.linspace(0, 97, 200))),
]
out["peaks"] = []
for c in cases:
    x = np.asarray(c, dtype=np.float64)
    height = 0.3 * (x.max() - x.min()) + x.min()
    for dist in [1, 3, 7]:
        p, _ = signal.find_peaks(x, height=height, distance=dist)
        out["peaks"].append({"x": x.tolist(), "height": height, "distance": dist, "peaks": p.tolist()})
json.dump(out, open(os.path.join(here, "prompt_and_peaks.json"), "w"), indent=1)
print("wrote prompt_and_peaks.json")
