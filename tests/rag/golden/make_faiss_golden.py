#!/usr/bin/python3
"""Neighbours and distances of Python's faiss (Debian python3-faiss 1.7.3, the library the C++ side
links) for tests/rag/rag_test.cpp: an IndexIVFFlat over IndexFlatL2 with upstream's
nlist = min(100, max(1, n // 30)), k-means seeded (cp.seed = 1234), trained on all vectors, a direct
map, queried with nprobe 3 (fewer than nlist, so the clustering matters) and k = 4.

    /usr/bin/python3 tests/rag/golden/make_faiss_golden.py
"""
import os

import faiss
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.RandomState(7)
centres = rng.randn(6, 48).astype(np.float32) * 3
x = (centres[rng.randint(0, 6, 360)] + rng.randn(360, 48).astype(np.float32)).astype(np.float32)
q = (centres[rng.randint(0, 6, 8)] + rng.randn(8, 48).astype(np.float32)).astype(np.float32)
n, d = x.shape
nlist = min(100, max(1, n // 30))
quantizer = faiss.IndexFlatL2(d)
index = faiss.IndexIVFFlat(quantizer, d, nlist)
index.cp.seed = 1234
index.train(x)
index.add(x)
index.make_direct_map()
index.nprobe = 3
dist, ids = index.search(q, 4)
np.save(os.path.join(here, "vectors.npy"), x)
np.save(os.path.join(here, "queries.npy"), q)
np.save(os.path.join(here, "ids.npy"), ids.astype(np.int64))
np.save(os.path.join(here, "distances.npy"), dist.astype(np.float32))
print("nlist", nlist, "ids", ids[0], "faiss", faiss.__version__)
