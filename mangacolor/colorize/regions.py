"""Closed regions of the line art, and one flat colour per region.

A colour edition paints each area closed by ink lines in one flat colour. ``line_regions`` finds those areas:
connected components (4-connectivity) of the pixels that are not line art, after small gaps in the lines are
closed so that a region does not leak through a broken outline. Nested regions (an eye inside a face) fall out
as components of their own. Line pixels, and regions smaller than ``min_area``, get label 0: there the
per-cell prediction is used as it is.

``pool_regions`` turns the model's per-cell bin distributions into one distribution per region, and
``flat_colors`` decodes each region once, so a region gets one colour that never crosses an ink line. Pooling
rule: a region's log-probability of bin q is the area-weighted *mean of its cells' log-probabilities*,
renormalised (a weighted geometric mean of the cells' distributions). A cell's weight is the number of the
region's pixels in it. Why not the mean of probabilities: that mixture keeps every cell's mode, and an annealed
mean over it averages them (half the cells red, half blue gives purple); the geometric mean favours the bins
that all cells find plausible and drops those some cells rule out. Dividing by the total weight keeps the
sharpness of a single cell, so the decoder's temperature means the same as per cell. ``flat_lightness`` does the
same for a per-cell lightness prediction: the area-weighted mean L of each region.

The decoder is passed in (probabilities (Q, ...) -> ab (..., 2)), so this module does not import the model.
"""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

MIN_AREA = 64  # pixels: smaller closed regions keep the per-cell colour
GAP = 2  # pixels: gaps in the line art up to 2 * GAP wide are closed before regions are found

Decode = Callable[[np.ndarray], np.ndarray]


# ---------------------------------------------------------------- regions
def line_regions(lines: np.ndarray, min_area: int = MIN_AREA, gap: int = GAP) -> np.ndarray:
    """Labels of the closed regions between ink lines: int32 (H, W), 1..n numbered in row-major order of
    their first pixel, 0 on line pixels and in regions smaller than ``min_area`` pixels.

    ``lines``: bool (H, W) line art. Gaps up to ``2 * gap`` px are closed (a morphological closing with a disc
    of radius ``gap``) before labelling; the pixels the closing added are not ink, so they join the nearest
    region, except inside loops of the line art smaller than ``min_area``. ``gap=0`` closes nothing."""
    lines = np.asarray(lines)
    if lines.ndim != 2 or lines.dtype != bool:
        raise ValueError(f"lines must be a bool (H, W) mask, got {lines.dtype} {lines.shape}")
    if min_area < 1 or gap < 0:
        raise ValueError(f"min_area must be >= 1 and gap >= 0, got {min_area} and {gap}")
    barrier = lines.astype(np.uint8)
    if gap:
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * gap + 1,) * 2)
        barrier = cv2.morphologyEx(barrier, cv2.MORPH_CLOSE, disc)
    n, comp, stats, _ = cv2.connectedComponentsWithStats(1 - barrier, connectivity=4)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False
    comp = np.where(keep[comp], comp, 0).astype(np.int32)
    added = (barrier > 0) & ~lines  # closed gaps: give them to the nearest kept region
    if added.any() and comp.any():
        _, nearest = cv2.distanceTransformWithLabels((comp == 0).astype(np.uint8), cv2.DIST_L2, 3,
                                                     labelType=cv2.DIST_LABEL_PIXEL)
        lut = np.zeros(int(nearest.max()) + 1, np.int32)
        lut[nearest[comp > 0]] = comp[comp > 0]
        comp[added] = lut[nearest[added]]
    # ...unless they sit inside a closed loop of the line art too small to be a region of its own
    _, raw, raw_stats, _ = cv2.connectedComponentsWithStats((~lines).astype(np.uint8), connectivity=4)
    comp[(raw_stats[:, cv2.CC_STAT_AREA] < min_area)[raw] & ~lines] = 0
    return _renumber(comp)


def _renumber(comp: np.ndarray) -> np.ndarray:
    """Labels renumbered 1..n in row-major order of their first pixel, 0 kept: int32 (H, W)."""
    ids, first, inverse = np.unique(comp.ravel(), return_index=True, return_inverse=True)
    labelled = np.flatnonzero(ids != 0)
    new = np.zeros(len(ids), np.int32)
    new[labelled[np.argsort(first[labelled], kind="stable")]] = np.arange(1, len(labelled) + 1, dtype=np.int32)
    return new[inverse].reshape(comp.shape)


# ---------------------------------------------------------------- pooling per region
def _cell_overlaps(regions: np.ndarray, cell: int, grid: tuple[int, int]):
    """(region id, flat cell index, pixel count) of every (region > 0, cell) pair that overlaps."""
    h, w = regions.shape
    gh, gw = grid
    if cell < 1:
        raise ValueError(f"cell must be >= 1 px, got {cell}")
    if not (gh == -(-h // cell) or gh == h // cell) or not (gw == -(-w // cell) or gw == w // cell):
        raise ValueError(f"cell grid {grid} does not cover a {h}x{w} page in {cell} px cells "
                         f"(expected {(-(-h // cell), -(-w // cell))})")
    cy = np.minimum(np.arange(h) // cell, gh - 1)
    cx = np.minimum(np.arange(w) // cell, gw - 1)
    cells = (cy[:, None] * gw + cx[None, :]).ravel()
    ids = regions.ravel().astype(np.int64)
    inside = ids > 0
    key = ids[inside] * (gh * gw) + cells[inside]
    pairs, count = np.unique(key, return_counts=True)
    return pairs // (gh * gw), pairs % (gh * gw), count.astype(np.float64)


def _check_regions(regions, shape=None) -> np.ndarray:
    regions = np.asarray(regions)
    if regions.ndim != 2 or regions.dtype.kind not in "iu" or (regions.size and regions.min() < 0):
        raise ValueError(f"regions must be non-negative integer labels (H, W), got {regions.dtype} {regions.shape}")
    return regions


def pool_regions(log_probs: np.ndarray, regions: np.ndarray, cell: int) -> np.ndarray:
    """Each region's bin distribution from its cells': float32 (n + 1, Q) log-probabilities, row r for
    region label r (n = regions.max()); row 0, and rows of labels with no pixels, are NaN.

    ``log_probs``: float (Q, gh, gw), the model's per-cell log-probabilities over Q bins on a grid of
    ``cell`` x ``cell`` px cells covering the page; ``regions``: int (H, W) labels, 0 = no region. Rule: the
    area-weighted mean of the cells' log-probabilities, renormalised (module docstring)."""
    lp = np.asarray(log_probs, np.float64)
    if lp.ndim != 3:
        raise ValueError(f"log_probs must be (Q, h, w), got shape {lp.shape}")
    regions = _check_regions(regions)
    q = lp.shape[0]
    rid, cid, count = _cell_overlaps(regions, cell, lp.shape[1:])
    n = int(regions.max()) if regions.size else 0
    total = np.zeros((n + 1, q))
    if len(rid):  # pairs come sorted by region: sum each region's run of weighted cell rows
        starts = np.flatnonzero(np.r_[True, rid[1:] != rid[:-1]])
        total[rid[starts]] = np.add.reduceat(count[:, None] * lp.reshape(q, -1)[:, cid].T, starts, axis=0)
    weight = np.bincount(rid, count, minlength=n + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / weight[:, None]
        mean -= np.logaddexp.reduce(mean, axis=1, keepdims=True)  # renormalise: log-probabilities again
    mean[weight == 0] = np.nan
    return mean.astype(np.float32)


def _per_cell_to_page(values: np.ndarray, cell: int, shape: tuple[int, int]) -> np.ndarray:
    """Per-cell values (gh, gw[, C]) -> per-pixel (H, W[, C]) float32, bilinear with cell centres aligned."""
    gh, gw = values.shape[:2]
    up = cv2.resize(np.ascontiguousarray(values, np.float32), (gw * cell, gh * cell), interpolation=cv2.INTER_LINEAR)
    h, w = shape
    if up.shape[0] < h or up.shape[1] < w:
        up = cv2.copyMakeBorder(up, 0, max(0, h - up.shape[0]), 0, max(0, w - up.shape[1]), cv2.BORDER_REPLICATE)
    return up[:h, :w]


def flat_colors(log_probs: np.ndarray, regions: np.ndarray, cell: int, decode: Decode) -> np.ndarray:
    """Per-pixel ab float32 (H, W, 2): one constant per region (its pooled distribution decoded once), and the
    per-cell decode, upsampled bilinearly, on label 0 (lines, small regions).

    ``decode``: probabilities (Q, ...) -> ab (..., 2), e.g. an annealed mean over the bin centres."""
    lp = np.asarray(log_probs, np.float32)
    regions = _check_regions(regions)
    per_cell = np.asarray(decode(np.exp(lp)), np.float32)  # (gh, gw, 2)
    if per_cell.shape != lp.shape[1:] + (2,):
        raise ValueError(f"decode must map (Q, h, w) probabilities to (h, w, 2) ab, got {per_cell.shape}")
    ab = _per_cell_to_page(per_cell, cell, regions.shape)
    pooled = pool_regions(lp, regions, cell)
    present = ~np.isnan(pooled[:, 0])
    if present.any():
        region_ab = np.zeros((len(pooled), 2), np.float32)
        region_ab[present] = np.asarray(decode(np.exp(pooled[present]).T), np.float32)
        inside = regions > 0
        ab[inside] = region_ab[regions[inside]]
    return ab


def flat_lightness(lightness: np.ndarray, regions: np.ndarray, cell: int) -> np.ndarray:
    """Per-pixel L float32 (H, W): each region's area-weighted mean of a per-cell L prediction (gh, gw), and
    the per-cell L upsampled bilinearly on label 0."""
    cells = np.asarray(lightness, np.float64)
    if cells.ndim != 2:
        raise ValueError(f"lightness must be a per-cell (h, w) map, got shape {cells.shape}")
    regions = _check_regions(regions)
    out = _per_cell_to_page(cells, cell, regions.shape)
    rid, cid, count = _cell_overlaps(regions, cell, cells.shape)
    if len(rid):
        n = int(regions.max())
        weight = np.bincount(rid, count, minlength=n + 1)
        mean = np.bincount(rid, count * cells.ravel()[cid], minlength=n + 1) / np.maximum(weight, 1)
        inside = regions > 0
        out[inside] = mean[regions[inside]].astype(np.float32)
    return out


def region_means(values: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """Per-pixel values (H, W, C) made flat per region: every pixel of region r > 0 takes the region's mean value;
    label 0 (lines, small regions) keeps its own. float32 (H, W, C)."""
    values = np.asarray(values, np.float32)
    regions = _check_regions(regions, values.shape[:2])
    if regions.shape != values.shape[:2]:
        raise ValueError(f"regions {regions.shape} do not match values {values.shape}")
    ids = regions.ravel()
    n = int(ids.max()) + 1 if ids.size else 1
    flat = values.reshape(len(ids), -1).astype(np.float64)
    count = np.bincount(ids, minlength=n)
    means = np.stack([np.bincount(ids, flat[:, k], minlength=n) for k in range(flat.shape[1])], 1)
    means /= np.maximum(count, 1)[:, None]
    out = np.where((ids > 0)[:, None], means[ids], flat)
    return out.reshape(values.shape).astype(np.float32)
