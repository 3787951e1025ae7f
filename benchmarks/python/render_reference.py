#!/usr/bin/env python3
"""The matplotlib + PIL peer of bench_represent.cpp (Debian python3-matplotlib, python3-pil, numpy):
the figure upstream's ecg_plot fork (willxxy/ecg-plot d7eb9ac) draws for `get_plot_as_image(signal,
sample_rate=250, title="")` with the settings of ../shared/reference/upstream-inventory.md section 4.3
(2 columns, row height 6, figsize (2 secs, 7.2) at dpi 100, offsets -3 i, y in [-16.5, 1.5],
MaxNLocator(10) / AutoMinorLocator(5) grids, tick labels blanked, trace (0, 0, 0.7) width 0.5, lead
labels, separators, RGB from the Agg canvas), then transformers' ViT processor path (PIL resize to 224 x 224 BILINEAR, / 255,
(x - 0.5) / 0.5). Rewritten here from those semantics (ecg_plot is not packaged); the segment is the
same deterministic ECG-like signal as the C++ side. One thread.

    python3 benchmarks/python/render_reference.py [--json out.json]
"""
import json
import math
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import AutoMinorLocator, MaxNLocator  # noqa: E402
from PIL import Image  # noqa: E402

LEADS = ["I", "II", "III", "aVL", "aVR", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]


def segment():
    t = np.arange(1250) / 250.0
    s = np.zeros((12, 1250), np.float32)
    for l in range(12):
        phase = np.fmod(t + 0.05 * l, 0.8)
        spike = np.where(phase < 0.04, 1.2 * np.sin(math.pi * phase / 0.04), 0.0)
        s[l] = 0.1 * np.sin(2 * math.pi * 0.3 * t) + spike + 0.15 * np.sin(2 * math.pi * 1.5 * t + l)
    return s


def ecg_plot_image(ecg, sample_rate=250, columns=2, row_height=6):
    # Step by step what ecg_plot.plot() does with get_plot_as_image's defaults: tick labels blanked
    # (the tick marks stay), spines hidden, an empty suptitle, a separator per row of the second
    # column drawn from the previous lead's first value.
    lead_order = list(range(len(ecg)))
    secs = len(ecg[0]) / sample_rate
    leads = len(lead_order)
    rows = int(math.ceil(leads / columns))
    display_factor = 1
    line_width = 0.5
    fig, ax = plt.subplots(figsize=(secs * columns * display_factor, rows * row_height / 5 * display_factor))
    ax.set_yticklabels([])
    ax.set_xticklabels([])
    for s in ax.spines.values():
        s.set_visible(False)
    fig.subplots_adjust(hspace=0, wspace=0, left=0, right=1, bottom=0, top=1)
    fig.suptitle("")
    x_min, x_max = 0, columns * secs
    y_min, y_max = row_height / 4 - (rows / 2) * row_height, row_height / 4
    color_major, color_minor, color_line = (0.9, 0.3, 0.3), (0.95, 0.85, 0.85), (0, 0, 0.7)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=10))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=10))
    ax.minorticks_on()
    ax.xaxis.set_minor_locator(AutoMinorLocator(5))
    ax.grid(which="major", linestyle="-", linewidth=0.5 * display_factor, color=color_major)
    ax.grid(which="minor", linestyle="-", linewidth=0.5 * display_factor, color=color_minor)
    ax.set_ylim(y_min, y_max)
    ax.set_xlim(x_min, x_max)
    step = 1.0 / sample_rate
    t_lead = 0
    for c in range(columns):
        for i in range(rows):
            if c * rows + i < leads:
                y_offset = -(row_height / 2) * (i % rows)
                x_offset = 0
                if c > 0:
                    x_offset = secs * c
                    ax.plot([x_offset, x_offset], [ecg[t_lead][0] + y_offset - 0.3, ecg[t_lead][0] + y_offset + 0.3], linewidth=line_width * display_factor, color=color_line)
                t_lead = lead_order[c * rows + i]
                ax.text(x_offset + 0.07, y_offset - 0.5, LEADS[t_lead], fontsize=9 * display_factor)
                ax.plot(np.arange(0, len(ecg[t_lead]) * step, step) + x_offset, ecg[t_lead] + y_offset, linewidth=line_width * display_factor, color=color_line)
    fig = plt.gcf()
    fig.canvas.draw()
    w, h = fig.canvas.get_width_height()
    img = np.frombuffer(fig.canvas.tostring_rgb(), dtype=np.uint8).reshape(h, w, 3)
    plt.close(fig)
    return img


def vit_input(img):
    r = Image.fromarray(img).resize((224, 224), Image.BILINEAR)
    x = np.asarray(r, dtype=np.float32) / 255.0
    return ((x - 0.5) / 0.5).transpose(2, 0, 1)


def stacked(ecg):
    lo, hi = float(ecg.min()), float(ecg.max())
    g = ((ecg - lo) / (hi - lo + 1e-6) * 255).astype(np.uint8)
    return np.repeat(g[:, :, None], 3, 2)


def timed(fn, min_seconds=3.0):
    fn()
    n, start = 0, time.perf_counter()
    while n < 3 or time.perf_counter() - start < min_seconds:
        fn()
        n += 1
    return (time.perf_counter() - start) / n


def main():
    s = segment()
    out = {"matplotlib": matplotlib.__version__}
    img = ecg_plot_image(s)
    assert img.shape == (720, 1000, 3), img.shape
    out["ecg_plot"] = timed(lambda: ecg_plot_image(s))
    out["ecg_plot_vit_input"] = timed(lambda: vit_input(ecg_plot_image(s)))
    out["stacked_vit_input"] = timed(lambda: vit_input(stacked(s)))
    for k in ("ecg_plot", "ecg_plot_vit_input", "stacked_vit_input"):
        print(f"{k:20s} {out[k] * 1e3:8.2f} ms  {1 / out[k]:8.1f} images/s")
    if len(sys.argv) > 2 and sys.argv[1] == "--json":
        with open(sys.argv[2], "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
