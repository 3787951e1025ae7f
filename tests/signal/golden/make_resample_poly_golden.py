#!/usr/bin/python3
"""Golden outputs of scipy.signal.resample_poly (Debian's python3-scipy 1.10.1) for the polyphase
resampler test: 500 -> 250, 360 -> 250 and 1000 -> 250 Hz, each on an even and an odd length,
default window ('kaiser', 5.0) and padtype 'constant'. Inputs: a seeded random walk plus a 7 Hz
sine (rough, so the edges and the whole filter matter). Writes in_<name>.npy and out_<name>.npy.

Usage: cd tests/signal/golden && /usr/bin/python3 make_resample_poly_golden.py
"""
from fractions import Fraction

import numpy as np
import scipy
from scipy.signal import resample_poly

rng = np.random.default_rng(20261202)
cases = {"500_2000": (500, 2000), "500_2001": (500, 2001), "360_1440": (360, 1440), "360_1441": (360, 1441),
         "1000_4000": (1000, 4000), "1000_3999": (1000, 3999)}
for name, (fs, n) in cases.items():
    t = np.arange(n) / fs
    x = np.cumsum(rng.standard_normal(n)) * 0.05 + np.sin(2 * np.pi * 7 * t)
    r = Fraction(250, fs)
    y = resample_poly(x, r.numerator, r.denominator)
    np.save(f"in_{name}.npy", x)
    np.save(f"out_{name}.npy", y)
    print(name, r.numerator, r.denominator, len(y), "scipy", scipy.__version__)
