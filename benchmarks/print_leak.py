"""How much a print gives colour away: predict a pixel's palette colour from the local tone alone.

    python benchmarks/print_leak.py [--train 4] [--test 2] [--k 5]

A design check of the print model (``mangacolor.data.printing``), not a metric of the method. The page is cut
into 8 x 8 cells; a cell that is one palette colour (at least 90 % of its pixels) and free of line art (ink
under 64) gives one sample: the colour, and two tone features, its ink coverage and the dominant frequency
(fy, fx) of the 16 x 16 window around it (the screen's ruling and angle; 0 for paper and solid ink). A k-NN
classifier learns colour from the features on ``--train`` pages of a chapter and predicts the cells of its
next ``--test`` pages, for the fixed print (one screen per colour) and the new one; for the new one also the
training pages printed under another variant. Page paper (palette index 0) is left out: it
is paper in every print. Reported per print: accuracy, the majority-class accuracy, and the mutual information
between colour and prediction (bits; a lower bound of what the tone says about colour) next to the colour's
entropy (accuracy moves with how often each colour occurs; information is the fairer measure).
The last line printed is JSON.
"""
from __future__ import annotations

import argparse
import json

import numpy as np
from sklearn.neighbors import KNeighborsClassifier

from mangacolor.data.synth.page import render_layers, render_print

CELL, WINDOW = 8, 16
SERIES, CHAPTER = 11, "leak"


def cell_samples(bw: np.ndarray, label: np.ndarray, ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Features (N, 3) float32 (coverage, fy, fx in cycles per window) and colours (N,) of a page's pure cells."""
    h, w = (s // CELL * CELL for s in bw.shape)
    dark = 1.0 - bw[:h, :w].astype(np.float32) / 255.0
    cells = dark.reshape(h // CELL, CELL, w // CELL, CELL)
    cover = cells.mean((1, 3))
    lab = label[:h, :w].reshape(h // CELL, CELL, w // CELL, CELL).transpose(0, 2, 1, 3)
    lab = lab.reshape(h // CELL, w // CELL, -1)
    majority = np.apply_along_axis(lambda v: np.bincount(v, minlength=256).argmax(), 2, lab)
    pure = (lab == majority[..., None]).mean(2) >= 0.9
    pure &= ink[:h, :w].reshape(h // CELL, CELL, w // CELL, CELL).max((1, 3)) < 64
    pure &= majority != 0
    pure[0], pure[-1], pure[:, 0], pure[:, -1] = False, False, False, False  # the window must fit
    feats, colours = [], []
    half = (WINDOW - CELL) // 2
    for i, j in zip(*np.nonzero(pure)):
        y, x = i * CELL - half, j * CELL - half
        win = dark[y:y + WINDOW, x:x + WINDOW]
        spec = np.abs(np.fft.rfft2(win - win.mean()))
        spec[0, 0] = 0.0
        fy, fx = np.unravel_index(np.argmax(spec), spec.shape)
        if spec.max() < 1e-3:  # flat: paper or solid
            fy, fx = 0, 0
        fy = fy if fy <= WINDOW // 2 else fy - WINDOW
        feats.append((cover[i, j], fy / WINDOW, fx / WINDOW))
        colours.append(majority[i, j])
    return np.array(feats, np.float32), np.array(colours)


def mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """I(a; b) in bits from the joint histogram of two label arrays."""
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    joint = np.zeros((ia.max() + 1, ib.max() + 1))
    np.add.at(joint, (ia, ib), 1)
    p = joint / joint.sum()
    pa, pb = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
    nz = p > 0
    return float((p[nz] * np.log2(p[nz] / (pa @ pb)[nz])).sum())


def entropy(a: np.ndarray) -> float:
    p = np.unique(a, return_counts=True)[1] / len(a)
    return float(-(p * np.log2(p)).sum())


def samples(pages: range, style: str, variant: int):
    parts = []
    for index in pages:
        label, ink = render_layers(SERIES, CHAPTER, index)
        _, bw = render_print(SERIES, CHAPTER, index, style, variant=variant)
        parts.append(cell_samples(bw, label, ink))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def score(train, test, k: int) -> dict:
    (xtr, ytr), (xte, yte) = train, test
    knn = KNeighborsClassifier(n_neighbors=k).fit(xtr * (4.0, 1.0, 1.0), ytr)  # coverage weighs like a frequency
    pred = knn.predict(xte * (4.0, 1.0, 1.0))
    values, counts = np.unique(ytr, return_counts=True)
    return {"accuracy": round(float((pred == yte).mean()), 3),
            "majority_accuracy": round(float((yte == values[np.argmax(counts)]).mean()), 3),
            "mi_bits": round(mutual_information(yte, pred), 3), "colour_entropy_bits": round(entropy(yte), 3),
            "mi_fraction": round(mutual_information(yte, pred) / entropy(yte), 3),
            "test_cells": int(len(yte))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--train", type=int, default=4)
    p.add_argument("--test", type=int, default=2)
    p.add_argument("--k", type=int, default=5)
    a = p.parse_args()
    out = {}
    for style in ("fixed", "screentone"):
        train = samples(range(a.train), style, 0)
        out[f"{style}/other_pages"] = score(train, samples(range(a.train, a.train + a.test), style, 0), a.k)
        if style == "screentone":
            out[f"{style}/same_pages_other_variant"] = score(train, samples(range(a.train), style, 1), a.k)
    for name, r in out.items():
        print(f"{name:38s} " + "  ".join(f"{k}={v}" for k, v in r.items()))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
