"""Chapter metrics: every strategy of the main model, and the grey and regression baselines, page by page.

``metrics.csv`` has one row per (method, page); ``metrics.json`` holds the chapter means in the layout
``{"strategies": {name: {...}}, "baselines": {"gray": {...}, "regression": {...}}}``. The regression baseline is
colourised with the ``tiles`` strategy (the blog's set-up); the grey baseline predicts a = b = 0 everywhere.
Two ``references`` rows give the ceilings of the method: ``true_ab`` is the truth's own ab on the B&W page's
lightness (the colourfulness a chroma-only method can reach while the page keeps its screentones), ``grid_truth``
the truth's ab area-averaged to the hypercolumn grid and upsampled as the strategies upsample (what a perfect
model at that grid would score).
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import h5py
import numpy as np
import pandas as pd

from ..kernels.bins import ABQuantizer
from ..kernels.lab import rgb_to_lab
from ..colorize.strategies import to_rgb
from ..io import atomic_path
from ..data.targets import load_bins
from .metrics import page_metrics
from ..data.pages import load_page_folder
from ..kernels.tiling import fit_to_canvas

KEYS = {"psnr": "psnr", "auc": "auc", "auc_colored": "auc_colored", "bin_accuracy": "bin_accuracy",
        "colorfulness_ratio": "colorfulness_ratio", "seam_score": "seam", "ssim": "ssim", "delta_cf": "delta_cf",
        "lineart_kept": "lineart_kept", "ink_recolored": "ink_recolored"}
BASELINE_STRATEGY = "tiles"


def canvas_geometry(shape: tuple[int, int], canvas: int) -> tuple[tuple[int, int], float]:
    """Offset (y0, x0) of a page on the canvas and its scale, as tiling places it (larger pages are shrunk)."""
    fitted, scale = fit_to_canvas(np.zeros(shape, np.uint8), canvas)
    return ((canvas - fitted.shape[0]) // 2, (canvas - fitted.shape[1]) // 2), scale


def grid_truth(true_ab: np.ndarray, cell: float) -> np.ndarray:
    """``true_ab`` (H, W, 2) area-averaged to cells of ``cell`` page pixels, then upsampled bilinearly."""
    h, w = true_ab.shape[:2]
    small = cv2.resize(true_ab, (max(1, round(w / cell)), max(1, round(h / cell))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def region_truth(bw: np.ndarray, color: np.ndarray) -> np.ndarray:
    """The colour form's ceiling: the truth's Lab made flat per closed region of the print's line art, composed
    like a prediction (``colorize.compose_color``)."""
    from ..colorize.compose_color import compose_color
    from ..colorize.lineart import extract_lineart
    from ..colorize.regions import line_regions, region_means

    lineart = extract_lineart(bw)
    return compose_color(bw, lineart, region_means(rgb_to_lab(color), line_regions(lineart.lines)))


def chapter_rows(pages_dir, bins_path, colorized, baseline, canvas: int, tile: int, grid: int | None,
                 tone_lookup=None) -> pd.DataFrame:
    """One row of metrics per (method, page); the ``references`` rows need the hypercolumn ``grid``, the
    ``tone_lookup`` baseline its fitted model (a path)."""
    from .tone_lookup import ToneLookup

    lookup = ToneLookup.load(tone_lookup) if tone_lookup else None
    bins = load_bins(bins_path)
    quantizer = ABQuantizer(int(bins["step"]), str(bins["rule"]))
    rows, pages = load_page_folder(pages_dir)
    sources = [("strategy", colorized, None)] + ([("baseline", baseline, BASELINE_STRATEGY)] if baseline else [])
    files = {path: h5py.File(path, "r") for _, path, _ in sources}
    records = []
    try:
        for i, (color, bw) in enumerate(pages):
            true_ab = rgb_to_lab(color)[..., 1:]
            offset, scale = canvas_geometry(bw.shape, canvas)
            common = dict(true_ab=true_ab, hard_fn=quantizer.hard, offset=offset, tile=tile, scale=scale,
                          print_gray=bw)
            gray_rgb = np.repeat(bw[..., None], 3, axis=2)
            m = page_metrics(gray_rgb, color, pred_ab=np.zeros_like(true_ab), **common)
            records.append({"group": "baselines", "method": "gray", "page": i, **m})
            if lookup is not None:
                ab = lookup.predict_page(bw)
                m = page_metrics(to_rgb(bw, ab), color, pred_ab=ab, **common)
                records.append({"group": "baselines", "method": "tone_lookup", "page": i, **m})
            if grid:
                for name, ab in (("true_ab", true_ab), ("grid_truth", grid_truth(true_ab, tile / grid / scale))):
                    m = page_metrics(to_rgb(bw, ab), color, pred_ab=ab, **common)
                    records.append({"group": "references", "method": name, "page": i, **m})
                # the colour form's ceiling: the truth's own colours, flat per closed region, under the line art
                rgb = region_truth(bw, color)
                m = page_metrics(rgb, color, **{**common, "true_ab": true_ab})
                records.append({"group": "references", "method": "region_truth", "page": i, **m})
            for group, path, only in sources:
                f = files[path]
                for strategy in ([only] if only else [str(s) for s in f.attrs["strategies"]]):
                    g = f[f"page{i:03d}/{strategy}"]
                    chroma = g["rgb_chroma"] if "rgb_chroma" in g else g["rgb"]
                    m = page_metrics(chroma[()], color, pred_ab=g["ab"][()].astype(np.float32), **common)
                    name = str(f.attrs["kind"]) if group == "baseline" else strategy
                    records.append({"group": "baselines" if group == "baseline" else "strategies",
                                    "method": name, "page": i, **m})
                    if group != "baseline" and "rgb_color" in g:
                        m = page_metrics(g["rgb_color"][()], color, **common)
                        records.append({"group": "color", "method": strategy, "page": i, **m})
    finally:
        for f in files.values():
            f.close()
    return pd.DataFrame.from_records(records)


def write_metrics(pages_dir, bins_path, colorized, baseline, out_json, out_csv, canvas: int, tile: int,
                  grid: int | None, tone_lookup=None) -> dict:
    """Write per-page ``metrics.csv`` and chapter means ``metrics.json``; returns the means."""
    df = chapter_rows(pages_dir, bins_path, colorized, baseline, canvas, tile, grid, tone_lookup)
    with atomic_path(out_csv) as tmp:
        df.to_csv(tmp, index=False, float_format="%.6g")
    means = {"strategies": {}, "baselines": {}, **({"references": {}} if grid else {}),
             **({"color": {}} if (df.group == "color").any() else {})}
    for (group, method), part in df.groupby(["group", "method"], sort=False):
        means[group][method] = {KEYS[k]: round(float(part[k].mean()), 6) for k in KEYS if k in part}
    with atomic_path(out_json) as tmp:
        Path(tmp).write_text(json.dumps(means, indent=2, sort_keys=True) + "\n")
    for group in means:
        for method, m in means[group].items():
            print(f"{group:10s} {method:14s} " + "  ".join(f"{k}={v:.3f}" for k, v in m.items()))
    return means
