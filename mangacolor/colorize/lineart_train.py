"""Training the line-art network (``colorize.lineart.LineNet``) on the synthetic series against its ink layer.

Every training page of the series is printed several ways: by the print model (``data.printing``, two artists'
variants), by the palette's coverages under random sheets (dots, line screens, hatching, cross-hatching at a
random angle and ruling per page: dense toning, as in the fixed print but not its one lattice), by the fixed
print every third page, and as pure line art every fifth. Each print then gets scan degradations drawn from the
seed: paper and ink levels (faded ink down to grey), blur, noise, JPEG. Pixel targets (``line_targets``): ink
coverage >= ``INK_CUT`` is line, unless it lies inside a solid black region where no print shows it; the inside
of regions printed all black is solid; the rest is paper or screen. Chapter ``ch2`` is never trained on: it is
the series' chapter for measuring the network (``measure``).

Run (the shipped weights): ``python -m mangacolor.colorize.lineart_train --out mangacolor/colorize/lineart_net.npz
--pages 8 --steps 4000 --crop 64 --lr 3e-3 --seed 0`` (``--init`` fine-tunes given weights; the file's meta lists
every run); it trains on one thread so that the seed fixes the weights (this command writes the shipped file bit
for bit, in about 7 minutes on 2 CPUs), prints the held-out precision and recall and the file's SHA-256, which goes
into ``lineart.WEIGHTS_SHA256``.
"""
from __future__ import annotations

import argparse
import sys
import time

import cv2
import numpy as np
import torch
from torch import nn

from ..data.printing import INK_CUT, SCREEN_KINDS, draw_sheet, label_regions, potential
from ..data.synth.ink import compose
from ..data.synth.page import render_layers, render_print, stable_seed
from ..data.synth.palette import COVER, PATTERN
from ..io import atomic_path
from .lineart import LINE, SOLID, LineNet, darkness, extract_lineart, file_sha256, load_linenet, save_linenet

SERIES_SEED = 2016
TRAIN_CHAPTERS = ("ch1", "ch3", "ch4", "ch5")
HELD_OUT_CHAPTER = "ch2"
SOLID_FRACTION = 0.98  # a region is solid when at least this fraction of its pixels off the ink print black
EMBED_REACH = 2  # ink pixels with only black within this many pixels, touching a solid region, are solid


# ---------------------------------------------------------------- targets and prints
def line_targets(label: np.ndarray, ink: np.ndarray, clean_print: np.ndarray) -> np.ndarray:
    """Per-pixel class of a page, uint8 (H, W): 0 paper/screen, LINE, SOLID (``lineart.CLASSES``).

    ``label``, ``ink``: the page's layers (``render_layers``); ``clean_print``: its B&W print before any scan
    degradation (uint8 (H, W)), which decides which regions printed solid black."""
    regions = label_regions(label, ink)
    is_ink = ink >= INK_CUT
    black = clean_print < 128
    off_ink = ~is_ink
    n = int(regions.max()) + 1
    area = np.bincount(regions[off_ink], minlength=n)
    dark = np.bincount(regions[off_ink & black], minlength=n)
    solid_region = (area > 0) & (dark >= SOLID_FRACTION * np.maximum(area, 1))
    solid = solid_region[regions] & off_ink & black
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * EMBED_REACH + 1,) * 2)
    all_black = cv2.erode(black.astype(np.uint8), disk).astype(bool)
    near_solid = cv2.dilate(solid.astype(np.uint8), disk).astype(bool)
    embedded = is_ink & all_black & near_solid
    target = np.zeros(label.shape, np.uint8)
    target[is_ink & ~embedded] = LINE
    target[solid | embedded] = SOLID
    return target


def dense_print(label: np.ndarray, ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The palette's coverages (every mid tone screened, as the fixed print) under random sheets: one sheet
    per palette screen pattern, of a random kind, angle and ruling. uint8 (H, W)."""
    h, w = label.shape
    ys, xs = (a.astype(np.float32) for a in np.mgrid[0:h, 0:w])
    sheets = [draw_sheet(rng, str(rng.choice([k for k in SCREEN_KINDS if k != "gradient"]))) for _ in range(4)]
    pot = np.stack([potential(s, ys.ravel(), xs.ravel()).reshape(h, w) for s in sheets])
    pot = np.take_along_axis(pot, PATTERN[label][None].astype(np.intp), 0)[0]
    screen = np.where(COVER[label] > 1.0 - pot, 0.0, 255.0)
    return _ink_over(screen, ink)


def _ink_over(screen: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """Crisp ink lines printed over a screen (float, 0 ink .. 255 paper), as ``synth.ink.compose`` does."""
    keep = 1.0 - np.clip(2.0 * ink.astype(np.float32) - 127.5, 0, 255) / 255.0
    return np.round(screen * keep).astype(np.uint8)


def scan_degrade(bw: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Scan-like degradations without moving a pixel (targets stay aligned): paper 200-255 and ink 0-90 grey
    levels, blur (sigma up to 1.1 px, half the pages), noise (sigma up to 8 levels), JPEG (half the pages)."""
    paper, ink = rng.uniform(200, 255), rng.uniform(0, 90)
    img = ink + (paper - ink) * (bw.astype(np.float32) / 255.0)
    if rng.random() < 0.5:
        img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.3, 1.1)))
    img += rng.normal(0.0, rng.uniform(0.0, 8.0), img.shape).astype(np.float32)
    img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        ok, jpeg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(50, 95))])
        if not ok:
            raise RuntimeError("scan_degrade: OpenCV could not encode the page as JPEG")
        img = cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)
    return img


def page_prints(chapter: str, index: int, series_seed: int = SERIES_SEED) -> list[tuple[str, np.ndarray]]:
    """The clean prints of one page that training sees: [(kind, uint8 (H, W))]."""
    label, ink = render_layers(series_seed, chapter, index)
    rng = np.random.default_rng(stable_seed(series_seed, chapter, index, "lineart-prints"))
    prints = [(f"screentone{k}", render_print(series_seed, chapter, index, "screentone", variant=k)[1])
              for k in range(2)]
    prints.append(("dense", dense_print(label, ink, rng)))
    if index % 3 == 0:
        prints.append(("fixed", compose(label, ink)[1]))
    if index % 5 == 0:
        prints.append(("lineart", _ink_over(np.full(label.shape, 255.0), ink)))
    return prints


def training_set(chapters=TRAIN_CHAPTERS, pages: int = 8, series_seed: int = SERIES_SEED, log=None):
    """(inputs uint8 (N, H, W) darkness * 255 of degraded prints, targets uint8 (N, H, W)) of every print of
    ``pages`` pages per chapter."""
    xs, ys = [], []
    for chapter in chapters:
        for index in range(pages):
            label, ink = render_layers(series_seed, chapter, index)
            rng = np.random.default_rng(stable_seed(series_seed, chapter, index, "lineart-scan"))
            for kind, bw in page_prints(chapter, index, series_seed):
                target = line_targets(label, ink, bw)
                if kind == "lineart":  # no solid fills were printed: only the line art
                    target = np.where(target == SOLID, 0, target).astype(np.uint8)
                xs.append(np.round(darkness(scan_degrade(bw, rng)) * 255).astype(np.uint8))
                ys.append(target)
            if log:
                print(f"training prints: {chapter} page {index} ({len(xs)} prints)", file=log, flush=True)
    return np.stack(xs), np.stack(ys)


# ---------------------------------------------------------------- training
def train_linenet(inputs: np.ndarray, targets: np.ndarray, steps: int = 2500, batch: int = 16, crop: int = 96,
                  lr: float = 3e-3, seed: int = 0, init: LineNet | None = None, log=None) -> tuple[LineNet, list[float]]:
    """Adam on random crops, cross-entropy per pixel, learning rate annealed by a cosine to 0, from random
    weights or from ``init`` (fine-tuning). Returns the trained net (eval mode) and the loss of every step."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    net = LineNet()
    if init is not None:
        net.load_state_dict(init.state_dict())
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    n, h, w = inputs.shape
    losses = []
    net.train()
    for step in range(steps):
        k = rng.integers(n, size=batch)
        y0, x0 = rng.integers(h - crop + 1, size=batch), rng.integers(w - crop + 1, size=batch)
        xb = np.stack([inputs[i, a:a + crop, b:b + crop] for i, a, b in zip(k, y0, x0)])
        yb = np.stack([targets[i, a:a + crop, b:b + crop] for i, a, b in zip(k, y0, x0)])
        scores = net(torch.from_numpy(xb.astype(np.float32) / 255.0)[:, None])
        loss = nn.functional.cross_entropy(scores, torch.from_numpy(yb.astype(np.int64)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
        if log and (step % 100 == 0 or step == steps - 1):
            print(f"step {step}: loss {np.mean(losses[-100:]):.4f}", file=log, flush=True)
    return net.eval(), losses


def precision_recall(found: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(precision, recall) of a bool mask against a true bool mask (1.0 where nothing was found / true)."""
    tp = float((found & truth).sum())
    return tp / max(float(found.sum()), 1.0), tp / max(float(truth.sum()), 1.0)


def measure(net: LineNet, pages=range(3), chapter: str = HELD_OUT_CHAPTER, series_seed: int = SERIES_SEED):
    """Held-out scores: {(print style, page): (precision, recall)} of ``lines`` against ink >= INK_CUT."""
    out = {}
    for index in pages:
        _, ink = render_layers(series_seed, chapter, index)
        for style in ("fixed", "screentone"):
            bw = render_print(series_seed, chapter, index, style)[1]
            out[style, index] = precision_recall(extract_lineart(bw, net).lines, ink >= INK_CUT)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="weights file to write (.npz)")
    ap.add_argument("--pages", type=int, required=True, help="training pages per chapter")
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--lr", type=float, required=True, help="initial learning rate (Adam, cosine to 0)")
    ap.add_argument("--crop", type=int, required=True, help="training crop side, pixels")
    ap.add_argument("--init", help="weights to fine-tune (.npz); default: random")
    args = ap.parse_args(argv)
    init, init_meta = load_linenet(args.init, sha256=None) if args.init else (None, None)
    torch.set_num_threads(1)  # one thread: the same seed gives the same weights, whatever the machine's cores
    t0 = time.time()
    inputs, targets = training_set(pages=args.pages, log=sys.stderr)
    net, losses = train_linenet(inputs, targets, steps=args.steps, crop=args.crop, lr=args.lr, seed=args.seed,
                                init=init, log=sys.stderr)
    run = {"pages": args.pages, "prints": int(len(inputs)), "steps": args.steps, "crop": args.crop, "lr": args.lr,
           "seed": args.seed, "threads": 1, "final_loss": float(np.mean(losses[-100:]))}
    meta = {"series_seed": SERIES_SEED, "chapters": list(TRAIN_CHAPTERS),
            "runs": (init_meta or {}).get("runs", []) + [run]}  # fine-tuning appends its run
    with atomic_path(args.out) as tmp:
        save_linenet(net, tmp, meta)
    for (style, index), (p, r) in measure(net).items():
        print(f"held-out {HELD_OUT_CHAPTER} page {index} {style}: precision {p:.3f} recall {r:.3f}")
    print(f"trained in {time.time() - t0:.0f} s; SHA-256 {file_sha256(args.out)}")


if __name__ == "__main__":
    main()
