"""The run's figures, one function per figure, each drawn with matplotlib (Agg, no pyplot state) and written
atomically. ``main(args)`` is what ``mangacolor figure NAME`` calls; the functions take paths and values only.

Figures: ``bins`` (prior and rebalancing weights over the ab plane), ``loss-curves`` (per optimiser, as the blog's
"loss with 3 different optimizers"), ``stages`` (fixed validation tiles after successive epochs), ``collapse``
(regression's greyish-brown collapse vs the classifier), ``pages`` (every strategy side by side, plus a seam
close-up), ``contour-aspect`` (aspect ratios of contours per chapter) and ``contour-overlay``.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import h5py
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..kernels.lab import lab_to_rgb, rgb_to_lab
from ..colorize.strategies import to_rgb
from ..io import atomic_path
from ..evaluate.metrics import colorfulness, psnr
from ..data.pages import load_page_folder

TILE_COLOR = "#ff8c00"  # the blog's orange tile outlines
OPTIMIZER_COLORS = {"sgd": "tab:blue", "adadelta": "tab:orange", "adam": "tab:green"}
STRATEGY_TITLES = {"tiles": "tiles (grid in orange)", "overlap": "overlapping tiles", "page": "whole page",
                   "contours": "contours"}
SWATCH_L = 65.0  # lightness at which ab swatches are shown


# ---------------------------------------------------------------- helpers
def save(fig: Figure, out, dpi: int) -> None:
    """Write ``fig`` as PNG to ``out`` atomically."""
    with atomic_path(out, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, format="png", facecolor="white")


def _image(ax, img, title=None, cmap=None) -> None:
    ax.imshow(img, cmap=cmap, vmin=0 if cmap else None, vmax=255 if cmap else None, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)


def _model_name(history_path) -> str:
    """``.../models/{kind}-{opt}/history.csv`` -> ``{kind}-{opt}``."""
    return Path(history_path).parent.name


def _swatch(ab) -> np.ndarray:
    """RGB (..., 3) uint8 of ab (..., 2) at lightness SWATCH_L."""
    ab = np.asarray(ab, np.float32)
    lab = np.concatenate([np.full(ab.shape[:-1] + (1,), SWATCH_L, np.float32), ab], axis=-1)
    return lab_to_rgb(lab)


# ---------------------------------------------------------------- 1. bins
def _ab_grid(centers: np.ndarray, values: np.ndarray, step: float):
    """(image (nb, na) with NaN off the bins, extent) so that imshow draws one step x step square per bin."""
    a, b = centers[:, 0], centers[:, 1]
    ia = np.rint((a - a.min()) / step).astype(int)
    ib = np.rint((b - b.min()) / step).astype(int)
    img = np.full((ib.max() + 1, ia.max() + 1), np.nan)
    img[ib, ia] = values
    h = step / 2
    return img, (a.min() - h, a.max() + h, b.min() - h, b.max() + h)


def figure_bins(bins_path, out, dpi) -> None:
    """Empirical prior (log10) and rebalancing weights at each ab bin, side by side."""
    with np.load(bins_path) as z:
        centers, prior, weights = z["centers"], z["prior"].astype(float), z["weights"].astype(float)
        step = float(z["step"]) if "step" in z else float(np.diff(np.unique(centers[:, 0])).min())
        rule = str(z["rule"]) if "rule" in z else "?"
        lam = float(z["lam"]) if "lam" in z else float("nan")
        counts = z["counts"] if "counts" in z else prior
    q = len(centers)
    with np.errstate(divide="ignore"):
        logp = np.where(prior > 0, np.log10(np.where(prior > 0, prior, 1)), np.nan)
    fig = Figure(figsize=(13, 5.8), layout="constrained")
    axes = fig.subplots(1, 2)
    seen = int((counts > 0).sum())
    panels = [(logp, "viridis", "log10 p(bin)", f"Empirical prior: {seen} of {q} bins seen (grey: p = 0)"),
              (weights, "magma", "weight w", f"Rebalancing weights (\u03bb = {lam:g})")]
    for ax, (values, cmap, label, title) in zip(axes, panels):
        # light grey under every bin shows through where a value is missing (p = 0); off the bins stays white
        bins_img, extent = _ab_grid(centers, np.ones(q), step)
        ax.imshow(bins_img, origin="lower", extent=extent, cmap=ListedColormap(["0.8"]).with_extremes(bad="none"),
                  interpolation="nearest")
        img, _ = _ab_grid(centers, values, step)
        im = ax.imshow(img, origin="lower", extent=extent, cmap=colormaps[cmap].with_extremes(bad="none"),
                       interpolation="nearest")
        ax.axhline(0, color="0.5", lw=0.6)
        ax.axvline(0, color="0.5", lw=0.6)
        ax.set_xlabel("a (green - red)")
        ax.set_ylabel("b (blue - yellow)")
        ax.set_title(title)
        ax.set_aspect("equal")
        fig.colorbar(im, ax=ax, label=label, shrink=0.9)
    fig.suptitle(f"ab bins: Q = {q}, step {step:g}, rule {rule} - one square per bin", fontsize=13)
    save(fig, out, dpi)


# ---------------------------------------------------------------- 2. loss curves
def figure_loss_curves(history_paths, out, dpi) -> None:
    """Classifier losses per optimiser, the regression baseline's losses, and val top-1/top-5 per model."""
    runs = {_model_name(p): pd.read_csv(p) for p in history_paths}
    fig = Figure(figsize=(16, 5), layout="constrained")
    ax_cls, ax_reg, ax_acc = fig.subplots(1, 3)

    def curves(ax, kind):
        names = [n for n in runs if n.startswith(kind)]
        for i, name in enumerate(names):
            h, opt = runs[name], name.split("-", 1)[-1]
            c = OPTIMIZER_COLORS.get(opt, f"C{i}") if kind == "classification" else "0.3"
            ax.plot(h["epoch"], h["train_loss"], "-o", color=c, ms=4, label=f"{opt} train")
            ax.plot(h["epoch"], h["val_loss"], "--s", color=c, ms=4, label=f"{opt} val")
        if names:
            ax.legend(fontsize=9)
        else:
            ax.text(0.5, 0.5, f"no {kind} model in this run", ha="center", va="center", transform=ax.transAxes)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)

    n_opt = sum(n.startswith("classification") for n in runs)
    curves(ax_cls, "classification")
    ax_cls.set_title(f"Classifier loss, {n_opt} optimisers (solid train, dashed val)")
    ax_cls.set_ylabel("soft cross-entropy per pixel")
    curves(ax_reg, "regression")
    ax_reg.set_title("Regression baseline loss")
    ax_reg.set_ylabel("MSE of ab (scaled)")
    for i, (name, h) in enumerate(runs.items()):
        opt = name.split("-", 1)[-1]
        c = OPTIMIZER_COLORS.get(opt, f"C{i}") if name.startswith("classification") else "0.3"
        short = name.replace("classification", "cls").replace("regression", "reg")
        ax_acc.plot(h["epoch"], h["val_top1"], "-o", color=c, ms=4, label=f"{short} top-1")
        ax_acc.plot(h["epoch"], h["val_top5"], "--s", color=c, ms=4, label=f"{short} top-5")
    ax_acc.set_title("Validation bin accuracy (solid top-1, dashed top-5)")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("share of grid cells")
    ax_acc.set_ylim(0, 1)
    ax_acc.grid(alpha=0.3)
    ax_acc.legend(fontsize=8, ncol=2)
    for ax in (ax_cls, ax_reg, ax_acc):
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle("Training history", fontsize=13)
    save(fig, out, dpi)


# ---------------------------------------------------------------- 3. stages of training
def figure_stages(samples_path, out, title, dpi, max_rows=6) -> None:
    """Fixed validation tiles: B&W input | prediction after each stored epoch | truth."""
    with np.load(samples_path) as z:
        if "gray" not in z:
            raise ValueError(f"{samples_path}: no 'gray' input tiles (keys: {', '.join(z.files)})")
        epochs = [int(e) for e in z["epochs"]]
        gray = z["gray"][:max_rows]
        preds = {e: z[f"epoch_{e}"][:max_rows] for e in epochs}
        if "color" in z:
            truth = z["color"][:max_rows]
        else:  # only the true ab on the grid: show it with the tile's own L
            truth = np.stack([to_rgb(g, ab) for g, ab in zip(gray, z["ab_true"][:max_rows])])
    n, cols = len(gray), len(epochs) + 2
    if n == 0:
        raise ValueError(f"{samples_path}: no sample tiles")
    fig = Figure(figsize=(2.3 * cols, 2.3 * n + 0.8), layout="constrained")
    axes = np.asarray(fig.subplots(n, cols, squeeze=False))
    for r in range(n):
        _image(axes[r, 0], gray[r], "B&W input" if r == 0 else None, cmap="gray")
        for c, e in enumerate(epochs, start=1):
            _image(axes[r, c], to_rgb(gray[r], preds[e][r]), f"epoch {e}" if r == 0 else None)
        _image(axes[r, -1], truth[r], "truth" if r == 0 else None)
        axes[r, 0].set_ylabel(f"tile {r}")
    fig.suptitle(f"Stages of training{': ' + title if title else ''}", fontsize=13)
    save(fig, out, dpi)


# ---------------------------------------------------------------- 4. regression collapse
def _read_strategy(f: h5py.File, i: int, strategy: str) -> np.ndarray:
    """The chroma-only page (the print's lightness with the predicted ab): the form regression also has."""
    g = f[f"page{i:03d}/{strategy}"]
    return (g["rgb_chroma"] if "rgb_chroma" in g else g["rgb"])[()]


def _dominant_colors(rgb_pages, k=6, n=20000, seed=0):
    """(ab centres (k, 2), shares (k,)) of k-means on the ab of a pixel sample, biggest share first."""
    rng = np.random.default_rng(seed)
    ab = np.concatenate([rgb_to_lab(p)[..., 1:].reshape(-1, 2) for p in rgb_pages])
    ab = ab[rng.choice(len(ab), min(n, len(ab)), replace=False)].astype(np.float32)
    k = min(k, len(ab))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.5)
    cv2.setRNGSeed(seed)
    _, labels, centers = cv2.kmeans(ab, k, None, criteria, 3, cv2.KMEANS_PP_CENTERS)
    shares = np.bincount(labels.ravel(), minlength=k) / len(labels)
    order = np.argsort(-shares)
    return centers[order], shares[order], ab.mean(axis=0)


def _swatch_strip(centers, shares, mean_ab, height=40, width=400, gap=12) -> np.ndarray:
    """A mean-colour square, a gap, then the dominant colours with widths proportional to their share."""
    strip = np.full((height, height + gap + width, 3), 255, np.uint8)
    strip[:, :height] = _swatch(mean_ab)
    x = height + gap
    edges = x + np.rint(np.cumsum(np.r_[0, shares]) * width).astype(int)
    for c, x0, x1 in zip(_swatch(centers), edges[:-1], edges[1:]):
        strip[:, x0:x1] = c
    return strip


def _colorful_crop(color: np.ndarray, size: int = 300, step: int = 50) -> tuple[int, int, int]:
    """(y0, x0, size) of the size x size window of the page with the most colourful truth."""
    h, w = color.shape[:2]
    size = min(size, h, w)
    best = (-1.0, 0, 0)
    for y in range(0, h - size + 1, step):
        for x in range(0, w - size + 1, step):
            best = max(best, (colorfulness(color[y:y + size:4, x:x + size:4]), y, x))
    return best[1], best[2], size


def figure_collapse(pages_dir, colorized_paths, out, dpi) -> None:
    """Colourfulness per page and dominant colours of regression (tiles) vs classifier (its best strategy) vs
    truth, with one crop side by side."""
    files = [h5py.File(p, "r") for p in colorized_paths]
    try:
        reg = next((f for f in files if str(f.attrs["kind"]) == "regression"), None)
        cls = next((f for f in files if str(f.attrs["kind"]) != "regression"), None)
        if cls is None:
            raise ValueError(f"collapse figure needs a classifier's colourised chapter among {colorized_paths}")
        rows, pages = load_page_folder(pages_dir)
        truth = [color for color, _ in pages]
        strategies = [str(s) for s in cls.attrs["strategies"]]
        # the classifier's best strategy: highest mean PSNR against the truth over the chapter
        score = {s: np.mean([psnr(_read_strategy(cls, i, s), t) for i, t in enumerate(truth)]) for s in strategies}
        best = max(score, key=score.get)
        methods = {}
        if reg is not None:
            methods[f"regression ({reg.attrs.get('optimizer', '')}, tiles)"] = \
                [_read_strategy(reg, i, "tiles") for i in range(len(truth))]
        methods[f"classifier ({cls.attrs.get('optimizer', '')}, {best})"] = \
            [_read_strategy(cls, i, best) for i in range(len(truth))]
        methods["truth"] = truth
    finally:
        for f in files:
            f.close()
    colors = {"regression": "#8c6d4f", "classifier": "tab:blue", "truth": "0.25"}

    fig = Figure(figsize=(15, 10), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.15])
    ax_bar, ax_sw = top.subplots(1, 2, width_ratios=[1, 1.1])
    n, m = len(truth), len(methods)
    x = np.arange(n + 1)
    width = 0.8 / m
    means = {}
    for j, (name, imgs) in enumerate(methods.items()):
        vals = [colorfulness(p) for p in imgs]
        means[name.split()[0]] = np.mean(vals)
        ax_bar.bar(x + (j - (m - 1) / 2) * width, vals + [np.mean(vals)], width, color=colors[name.split()[0]],
                   label=name)
    ax_bar.set_xticks(x, [f"page {i}" for i in range(n)] + ["mean"])
    ax_bar.set_ylabel("colourfulness (Hasler & Suesstrunk)")
    ax_bar.set_title("Colourfulness per page")
    ax_bar.set_ylim(0, 1.3 * ax_bar.get_ylim()[1])
    ax_bar.legend(fontsize=9, ncol=m, loc="upper center")
    ax_bar.grid(axis="y", alpha=0.3)

    strips = []
    for imgs in methods.values():
        strips.append(_swatch_strip(*_dominant_colors(imgs)))
        strips.append(np.full((14,) + strips[-1].shape[1:], 255, np.uint8))
    sheet = np.concatenate(strips[:-1])
    ax_sw.imshow(sheet, interpolation="nearest", aspect="auto")
    ax_sw.set_yticks([20 + 54 * j for j in range(m)], list(methods), fontsize=10)
    ax_sw.set_xticks([20, 52 + 200], ["mean", "dominant colours (k-means on ab, width = share)"],
                     fontsize=10)
    ax_sw.tick_params(length=0)
    for s in ax_sw.spines.values():
        s.set_visible(False)
    ax_sw.set_title(f"Colours over the chapter's {n} pages, shown at L = {SWATCH_L:g}\n"
                    "(the mean of the true colours is itself greyish: the least-squares guess)", fontsize=11)

    page = int(np.argmax([colorfulness(t[::4, ::4]) for t in truth]))
    y0, x0, size = _colorful_crop(truth[page])
    axes = bottom.subplots(1, m)
    for ax, (name, imgs) in zip(np.atleast_1d(axes), methods.items()):
        _image(ax, imgs[page][y0:y0 + size, x0:x0 + size], name)
    bottom.suptitle(f"Page {page}, crop at (y {y0}, x {x0}), {size} x {size} px", fontsize=11)
    shares = ", ".join(f"{k} {means[k] / means['truth']:.0%}" for k in ("regression", "classifier") if k in means)
    fig.suptitle(f"Regression vs classification: colourfulness as a share of the truth's: {shares}", fontsize=14)
    save(fig, out, dpi)


# ---------------------------------------------------------------- 5. pages side by side, seams
def _grid_lines(boxes: np.ndarray, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Tile boundary rows and columns strictly inside the page (first pixel after each boundary)."""
    ys = np.unique(boxes[:, [0, 2]])
    xs = np.unique(boxes[:, [1, 3]])
    return ys[(ys > 0) & (ys < h)], xs[(xs > 0) & (xs < w)]


def _draw_boxes(ax, boxes: np.ndarray, h: int, w: int, color=TILE_COLOR, lw=1.0) -> None:
    for y0, x0, y1, x1 in np.asarray(boxes):
        y0, y1 = np.clip([y0, y1], 0, h)
        x0, x1 = np.clip([x0, x1], 0, w)
        if y1 > y0 and x1 > x0:
            ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec=color, lw=lw))


def _worst_corner(ab: np.ndarray, boxes: np.ndarray, r: int = 100) -> tuple[float, int, int]:
    """(jump, y, x) of the tile corner inside the page with the largest mean ab jump across its two grid lines
    (within r pixels of the corner)."""
    h, w = ab.shape[:2]
    ys, xs = _grid_lines(boxes, h, w)
    best = (-1.0, h // 2, w // 2)
    for y in ys:
        for x in xs:
            row = slice(max(0, x - r), min(w, x + r))
            col = slice(max(0, y - r), min(h, y + r))
            jump = (np.linalg.norm(ab[y, row] - ab[y - 1, row], axis=-1).mean()
                    + np.linalg.norm(ab[col, x] - ab[col, x - 1], axis=-1).mean()) / 2
            best = max(best, (float(jump), int(y), int(x)))
    return best


def figure_pages(pages_dir, colorized_path, out_dir, n_pages, seams_out, dpi) -> None:
    """``out_dir/page{i:03d}.png``: B&W | each strategy | truth for the first ``n_pages`` pages; ``seams_out``: a
    close-up of the worst tile corner (tiles | overlap | truth)."""
    chapter = Path(pages_dir).name
    rows, pages = load_page_folder(pages_dir)
    n_pages = min(n_pages, len(rows))
    worst = None  # (jump, page, y, x, boxes, tiles rgb, overlap rgb, truth)
    with h5py.File(colorized_path, "r") as f, atomic_path(out_dir, suffix=".tmpdir") as tmp:
        tmp.mkdir()
        strategies = [str(s) for s in f.attrs["strategies"]]
        for i, (color, bw) in zip(range(n_pages), pages):
            h, w = bw.shape
            cols = [("B&W input", bw, None)]
            cols += [(STRATEGY_TITLES.get(s, s), f[f"page{i:03d}/{s}/rgb"][()], s) for s in strategies]
            cols.append(("truth", color, None))
            fig = Figure(figsize=(3.6 * len(cols), 3.6 * h / w + 0.5), layout="constrained")
            axes = fig.subplots(1, len(cols))
            for ax, (title, img, s) in zip(axes, cols):
                _image(ax, img, title, cmap="gray" if img.ndim == 2 else None)
                if s == "tiles":
                    _draw_boxes(ax, f[f"page{i:03d}/tiles/boxes"][()], h, w)
            fig.suptitle(f"{chapter} page {i}: colourisation strategies side by side", fontsize=13)
            save(fig, tmp / f"page{i:03d}.png", dpi)
            if seams_out and "tiles" in strategies:
                boxes = f[f"page{i:03d}/tiles/boxes"][()]
                jump, y, x = _worst_corner(f[f"page{i:03d}/tiles/ab"][()].astype(np.float32), boxes)
                if worst is None or jump > worst[0]:
                    other = "overlap" if "overlap" in strategies else strategies[-1]
                    worst = (jump, i, y, x, boxes, f[f"page{i:03d}/tiles/rgb"][()],
                             (other, f[f"page{i:03d}/{other}/rgb"][()]), color)
    if seams_out:
        if worst is None:
            raise ValueError(f"{colorized_path}: the seams figure needs the 'tiles' strategy")
        figure_seams(*worst, chapter=chapter, out=seams_out, dpi=dpi)


def figure_seams(jump, page, y, x, boxes, tiles_rgb, other, truth, chapter="", out=None, dpi=100, size=200):
    """Close-up (size x size) around tile corner (y, x): tiles | other strategy | truth, grid lines dashed."""
    h, w = truth.shape[:2]
    size = min(size, h, w)
    y0 = int(np.clip(y - size // 2, 0, h - size))
    x0 = int(np.clip(x - size // 2, 0, w - size))
    ys, xs = _grid_lines(boxes, h, w)
    name, other_rgb = other
    fig = Figure(figsize=(13, 5), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, (title, img) in zip(axes, [("tiles", tiles_rgb), (STRATEGY_TITLES.get(name, name), other_rgb),
                                       ("truth", truth)]):
        _image(ax, img[y0:y0 + size, x0:x0 + size], title)
        for gy in ys[(ys > y0) & (ys < y0 + size)]:
            ax.axhline(gy - y0 - 0.5, color=TILE_COLOR, ls="--", lw=1.2)
        for gx in xs[(xs > x0) & (xs < x0 + size)]:
            ax.axvline(gx - x0 - 0.5, color=TILE_COLOR, ls="--", lw=1.2)
    fig.suptitle(f"Seams: {chapter} page {page}, tile corner at (y {y}, x {x}), mean ab jump {jump:.1f} "
                 f"across the grid (dashed)", fontsize=12)
    save(fig, out, dpi)


# ---------------------------------------------------------------- 6. line art and regions
def _busiest_window(gray: np.ndarray, size: int) -> tuple[int, int]:
    """(y0, x0) of the size x size window of a page with the most ink edges (a readable close-up)."""
    edges = cv2.Canny(gray, 50, 150).astype(np.float32)
    box = cv2.boxFilter(edges, -1, (size, size), normalize=False, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    h, w = gray.shape
    box = box[:max(1, h - size + 1), :max(1, w - size + 1)]
    y0, x0 = np.unravel_index(int(np.argmax(box)), box.shape)
    return int(y0), int(x0)


def _region_colours(regions: np.ndarray) -> np.ndarray:
    """A random light colour per region id (seeded), white for label 0: RGB uint8 (H, W, 3)."""
    palette = np.random.default_rng(0).integers(90, 256, (int(regions.max()) + 1, 3), dtype=np.uint8)
    palette[0] = 255
    return palette[regions]


def figure_lineart(pages_dir, out, dpi, size=420) -> None:
    """Line-art extraction over one page: the print, what is kept as line art (lines black, solid areas blue) and
    the closed regions between the lines (one random colour each), whole page and a close-up."""
    from ..colorize.lineart import extract_lineart
    from ..colorize.regions import line_regions

    _, pages = load_page_folder(pages_dir)
    _, bw = next(pages)
    art = extract_lineart(bw)
    regions = line_regions(art.lines)
    lines = np.full(bw.shape + (3,), 255, np.uint8)
    lines[art.solid] = (70, 110, 220)
    lines[art.lines] = 0
    fills = _region_colours(regions)
    fills[art.lines] = 0
    y0, x0 = _busiest_window(bw, size)
    crop = (slice(y0, y0 + size), slice(x0, x0 + size))
    h, w = bw.shape
    fig = Figure(figsize=(13, 13 / 3 * (h / w + 1) + 0.8), layout="constrained")
    axes = fig.subplots(2, 3, height_ratios=[h / w, 1.0])
    panels = [(np.repeat(bw[..., None], 3, 2), "print (B&W)"), (lines, "line art (black) and solid ink (blue)"),
              (fills, f"{int(regions.max())} closed regions")]
    for col, (img, title) in enumerate(panels):
        _image(axes[0, col], img, title)
        axes[0, col].add_patch(Rectangle((x0, y0), size, size, fill=False, color=TILE_COLOR, lw=1.5))
        _image(axes[1, col], img[crop], f"close-up (orange box): {title.split(' (')[0]}")
    fig.suptitle(f"Line art of a screentoned print ({Path(pages_dir).name} page 0): screens are neither line art "
                 "nor solid; the colour page paints each region flat", fontsize=12)
    save(fig, out, dpi)


# ---------------------------------------------------------------- 7. close-ups: print, chroma only, colour, truth
def figure_closeups(pages_dir, colorized_path, out, n_pages, dpi, size=300) -> None:
    """Per page (the first ``n_pages``), the same close-up of the print, the chroma-only output and the colour page
    of each strategy in ``colorized_path``, and the truth; one row per page."""
    rows, pages = load_page_folder(pages_dir)
    with h5py.File(colorized_path, "r") as f:
        strategies = [str(s) for s in f.attrs["strategies"]]
        shown = [s for s in ("overlap", "page", "contours") if s in strategies] or strategies[:1]
        records = []
        for i, (color, bw) in enumerate(pages):
            if i >= n_pages:
                break
            y0, x0 = _busiest_window(bw, size)
            crop = (slice(y0, y0 + size), slice(x0, x0 + size))
            cols = [("print", np.repeat(bw[..., None], 3, 2))]
            cols.append((f"chroma only ({shown[0]})", f[f"page{i:03d}/{shown[0]}/rgb_chroma"][()]))
            cols += [(f"colour page ({s})", f[f"page{i:03d}/{s}/rgb_color"][()]) for s in shown
                     if f"page{i:03d}/{s}/rgb_color" in f]
            cols.append(("truth", color))
            records.append((i, y0, x0, [(t, img[crop]) for t, img in cols]))
    ncol = max(len(r[3]) for r in records)
    fig = Figure(figsize=(2.6 * ncol, 2.75 * len(records) + 0.6), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(records), ncol))
    for r, (i, y0, x0, cols) in enumerate(records):
        for c in range(ncol):
            if c < len(cols):
                _image(axes[r, c], cols[c][1], cols[c][0] if r == 0 else None)
            else:
                axes[r, c].axis("off")
        axes[r, 0].set_ylabel(f"page {i} (y {y0}, x {x0})")
    fig.suptitle(f"Close-ups of {Path(pages_dir).name}: the print, the seed's chroma-only output (dots and black "
                 "ink stay), the colour pages (line art over flat colours) and the truth", fontsize=11)
    save(fig, out, dpi)


# A scan as users have them: another scale, an offset and a fraction of a degree of rotation.
SCAN_SCALE, SCAN_SHIFT, SCAN_TURN = 0.97, (13.0, -9.0), 0.5


def figure_registration(pages_dir, out, dpi) -> None:
    """A registered pair: the chapter's first print turned into a misaligned scan (SCAN_*), registered back onto
    its colour page (``data.register``); before and after overlays, titled with the corner error and score."""
    from ..data.register import Registration, corner_error_px, draw_overlay, register_pair

    _, pages = load_page_folder(pages_dir)
    color, bw = next(pages)
    h, w = bw.shape
    true = cv2.getRotationMatrix2D((w / 2, h / 2), SCAN_TURN, SCAN_SCALE)
    true[:, 2] += SCAN_SHIFT
    scan = cv2.warpAffine(bw, true, (w + 20, h + 30), borderValue=255)
    reg = register_pair(scan, color, name=f"{Path(pages_dir).name} page 0")
    error = corner_error_px(reg.matrix, cv2.invertAffineTransform(true), (h, w))
    before = Registration(np.ascontiguousarray(scan[:h, :w]), np.eye(2, 3), 0.0)
    fig = Figure(figsize=(2 * 6 * w / h + 0.6, 6.8), layout="constrained")
    ax = fig.subplots(1, 2)
    _image(ax[0], draw_overlay(color, before), "before: the scan laid on as it comes")
    _image(ax[1], draw_overlay(color, reg), f"registered: mean corner error {error:.2f} px, score {reg.score:.2f}")
    fig.suptitle(f"Registering a B&W scan onto its colour page ({Path(pages_dir).name} page 0)\nscan scaled "
                 f"{SCAN_SCALE}, shifted {SCAN_SHIFT[0]:.0f}, {SCAN_SHIFT[1]:.0f} px, turned {SCAN_TURN} deg; "
                 "magenta: the scan's line art over the faded colour page", fontsize=11)
    save(fig, out, dpi)


# ---------------------------------------------------------------- CLI entry
