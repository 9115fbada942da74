"""Per-page colourisation metrics (NumPy): PSNR, ab error AuC, bin accuracy, colourfulness and a seam score."""
from __future__ import annotations

from typing import Callable

import numpy as np


def psnr(pred_rgb: np.ndarray, true_rgb: np.ndarray, data_range: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB over all pixels and channels (inf for identical images)."""
    if pred_rgb.shape != true_rgb.shape:
        raise ValueError(f"shapes differ: {pred_rgb.shape} vs {true_rgb.shape}")
    mse = np.mean((pred_rgb.astype(np.float64) - true_rgb.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(data_range ** 2 / mse))


def ab_error(pred_ab: np.ndarray, true_ab: np.ndarray) -> np.ndarray:
    """Per-pixel Euclidean distance in the ab plane."""
    if pred_ab.shape != true_ab.shape or pred_ab.shape[-1] != 2:
        raise ValueError(f"ab arrays must be equal (..., 2), got {pred_ab.shape} vs {true_ab.shape}")
    d = pred_ab.astype(np.float64) - true_ab.astype(np.float64)
    return np.hypot(d[..., 0], d[..., 1])


def auc_ab(pred_ab: np.ndarray, true_ab: np.ndarray, mask: np.ndarray | None = None, max_t: float = 150.0,
           step: float = 1.0) -> float:
    """Area under the CDF of per-pixel ab error for thresholds 0..max_t, normalised to [0, 1] (Zhang et al. 2016):
    1 for a perfect prediction. NaN when the mask selects no pixel."""
    err = ab_error(pred_ab, true_ab)
    if mask is not None:
        err = err[np.asarray(mask, bool)]
    err = err.ravel()
    if err.size == 0:
        return float("nan")
    t = np.arange(0.0, max_t + step / 2, step)
    # err <= t_i = i * step  <=>  ceil(err / step) <= i: a histogram of that index gives the CDF without sorting
    first = np.minimum(np.ceil(err / step), len(t)).astype(np.int64)
    cdf = np.cumsum(np.bincount(first, minlength=len(t) + 1)[:len(t)]) / err.size  # share with error <= t
    return float(np.sum((cdf[1:] + cdf[:-1]) / 2 * np.diff(t)) / (t[-1] - t[0]))


def chroma(ab: np.ndarray) -> np.ndarray:
    return np.hypot(ab[..., 0].astype(np.float64), ab[..., 1].astype(np.float64))


def auc_colored(pred_ab: np.ndarray, true_ab: np.ndarray, min_chroma: float = 10.0, **kw) -> float:
    """``auc_ab`` over the pixels whose true chroma sqrt(a^2 + b^2) exceeds ``min_chroma``: the coloured ones,
    where predicting grey is not already right."""
    return auc_ab(pred_ab, true_ab, mask=chroma(true_ab) > min_chroma, **kw)


def bin_accuracy(pred_ab: np.ndarray, true_ab: np.ndarray, hard_fn: Callable[[np.ndarray], np.ndarray],
                 mask: np.ndarray | None = None) -> float:
    """Share of pixels whose predicted ab falls in the bin of the true ab; ``hard_fn`` maps ab (..., 2) to a bin
    index (e.g. ``ABQuantizer(...).hard``)."""
    same = np.asarray(hard_fn(np.ascontiguousarray(pred_ab, np.float32))) == \
        np.asarray(hard_fn(np.ascontiguousarray(true_ab, np.float32)))
    if mask is not None:
        same = same[np.asarray(mask, bool)]
    return float(same.mean()) if same.size else float("nan")


def colorfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk (2003): sigma_rgyb + 0.3 mu_rgyb with rg = R - G, yb = (R + G) / 2 - B; 0 for grey."""
    x = rgb.reshape(-1, 3).astype(np.float64)
    rg = x[:, 0] - x[:, 1]
    yb = 0.5 * (x[:, 0] + x[:, 1]) - x[:, 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def colorfulness_ratio(pred_rgb: np.ndarray, true_rgb: np.ndarray) -> float:
    """Colourfulness of the prediction over that of the truth (1 = as colourful; NaN when the truth is grey)."""
    t = colorfulness(true_rgb)
    return colorfulness(pred_rgb) / t if t > 0 else float("nan")


def _grid_lines(n: int, offset: int, tile: int, scale: float) -> np.ndarray:
    """Indices i such that page pixels i and i + 1 straddle a canvas tile boundary."""
    lines = np.arange(tile, offset + n * scale + tile, tile)          # canvas boundaries k * tile
    b = np.rint((lines - offset) / scale).astype(int)                 # first page pixel after each boundary
    return np.unique(b[(b >= 1) & (b <= n - 1)] - 1)


def seam_score(ab_page: np.ndarray, offset: tuple[int, int], tile: int = 224, scale: float = 1.0) -> float:
    """Mean ab jump (Euclidean) between the pixel pairs straddling the canvas tile grid lines over the mean jump
    between the other adjacent pairs of the page: about 1 without seams, >> 1 when tiles disagree.

    ``offset`` (y0, x0) and ``scale`` place the page on the canvas as ``CropPlan.offset``/``.scale`` do.
    """
    ab = np.asarray(ab_page, np.float64)
    h, w = ab.shape[:2]
    jump = lambda d: np.hypot(d[..., 0], d[..., 1])  # noqa: E731
    dv = jump(ab[1:] - ab[:-1])        # (h-1, w): pair (i, i+1) in a column
    dh = jump(ab[:, 1:] - ab[:, :-1])  # (h, w-1): pair (j, j+1) in a row
    sv = np.zeros(dv.shape, bool)
    sv[_grid_lines(h, offset[0], tile, scale)] = True
    sh = np.zeros(dh.shape, bool)
    sh[:, _grid_lines(w, offset[1], tile, scale)] = True
    seam = np.concatenate([dv[sv], dh[sh]])
    rest = np.concatenate([dv[~sv], dh[~sh]])
    if seam.size == 0 or rest.size == 0:
        return float("nan")
    s, r = seam.mean(), rest.mean()
    if r == 0:
        return float("nan") if s == 0 else float("inf")
    return float(s / r)


INK_PRINT = 100  # a print pixel at most this grey is ink
LINE_L = 30.0  # a pixel of lightness L* under this is dark (line art kept)
COLOURED = 10.0  # chroma above which a truth pixel is coloured


def ssim(pred_rgb: np.ndarray, true_rgb: np.ndarray) -> float:
    """Structural similarity (scikit-image, Gaussian-weighted, over the RGB channels) of two uint8 pages."""
    from skimage.metrics import structural_similarity

    return float(structural_similarity(pred_rgb, true_rgb, channel_axis=-1, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False, data_range=255))


def ink_masks(print_gray: np.ndarray, true_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(line art, recoloured ink) bool masks of a page: pixels that are ink in the print and dark in the truth
    (L* < LINE_L: the colour edition keeps them as line art), and pixels that are ink in the print but coloured
    in the truth (chroma > COLOURED and L* >= LINE_L: sound effects, glows, coloured outlines)."""
    from ..kernels.lab import rgb_to_lab

    lab = rgb_to_lab(true_rgb)
    ink = print_gray <= INK_PRINT
    dark = lab[..., 0] < LINE_L
    coloured = np.hypot(lab[..., 1], lab[..., 2]) > COLOURED
    return ink & dark, ink & ~dark & coloured


def ink_metrics(pred_rgb: np.ndarray, true_rgb: np.ndarray, print_gray: np.ndarray) -> dict:
    """``lineart_kept``: share of the line-art pixels (``ink_masks``) that the prediction keeps dark (L* < LINE_L);
    ``ink_recolored``: mean ab error (Euclidean) on the recoloured-ink pixels (NaN when a page has none)."""
    from ..kernels.lab import rgb_to_lab

    lines, recolored = ink_masks(print_gray, true_rgb)
    pred, true = rgb_to_lab(pred_rgb), rgb_to_lab(true_rgb)
    kept = float((pred[..., 0][lines] < LINE_L).mean()) if lines.any() else float("nan")
    err = np.hypot(*(pred[..., 1:][recolored] - true[..., 1:][recolored]).T) if recolored.any() else None
    return {"lineart_kept": kept, "ink_recolored": float(err.mean()) if err is not None else float("nan")}


def page_metrics(pred_rgb: np.ndarray, true_rgb: np.ndarray, pred_ab: np.ndarray | None = None,
                 true_ab: np.ndarray | None = None, hard_fn: Callable | None = None,
                 offset: tuple[int, int] | None = None, tile: int = 224, scale: float = 1.0,
                 max_t: float = 150.0, print_gray: np.ndarray | None = None) -> dict:
    """All metrics of one page as a flat dict. ab defaults to the Lab ab of the RGB images (what a reader sees,
    gamut clipping included); ``bin_accuracy`` needs ``hard_fn``, ``seam_score`` the canvas ``offset``, the ink
    metrics the page's ``print_gray``. ``delta_cf`` is |colourfulness - the truth's|."""
    from ..kernels.lab import rgb_to_lab

    if pred_ab is None:
        pred_ab = rgb_to_lab(pred_rgb)[..., 1:]
    if true_ab is None:
        true_ab = rgb_to_lab(true_rgb)[..., 1:]
    c_pred, c_true = colorfulness(pred_rgb), colorfulness(true_rgb)
    out = {"psnr": psnr(pred_rgb, true_rgb),
           "auc": auc_ab(pred_ab, true_ab, max_t=max_t),
           "auc_colored": auc_colored(pred_ab, true_ab, max_t=max_t),
           "colorfulness": c_pred,
           "colorfulness_true": c_true,
           "colorfulness_ratio": c_pred / c_true if c_true > 0 else float("nan"),
           "delta_cf": abs(c_pred - c_true),
           "ssim": ssim(pred_rgb, true_rgb)}
    if print_gray is not None:
        out.update(ink_metrics(pred_rgb, true_rgb, print_gray))
    if hard_fn is not None:
        out["bin_accuracy"] = bin_accuracy(pred_ab, true_ab, hard_fn)
    if offset is not None:
        out["seam_score"] = seam_score(pred_ab, offset, tile, scale)
    return out
