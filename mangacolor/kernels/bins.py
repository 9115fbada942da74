"""The quantised ab output space (bins), soft encoding and the class-rebalancing prior.

Bins (after Zhang, Isola & Efros, "Colorful Image Colorization", ECCV 2016): the ab plane is cut by a grid of
spacing ``step`` (grid points are multiples of ``step``) and only grid points near the colours sRGB can show are
kept. "The gamut" below is the set of ab values of all 2^24 8-bit sRGB colours (any L), and "the hull" its convex
hull (which is also the hull of the RGB cube's 12 edges alone, what we compute it from). Rules:

- ``"gamut"`` (default), Zhang's in-gamut set: grid points g whose square g +- step (|da| <= step and
  |db| <= step) meets the hull. Step 10: Q = 313, a in [-90, 100], b in [-110, 100]. This is exactly the point
  set of Zhang's ``pts_in_hull.npy`` as transcribed in public code (its first rows, (-90, 50) and (-90, 60), also
  show in the hex dump quoted in richzhang/colorization issue #23), so bin j here is bin j there (both sorted by
  a, then b). The rule is not fragile: at step 10 the farthest kept point is 9.73 from the hull (Chebyshev), the
  nearest dropped one 10.12. Note the published set does reach b = 100 (six bins, a in [-50, 0]); no rule we
  tried gives 313 bins with b <= 90, and such a set could not match the published bins anyway.
- ``"reachable"``: grid points that are the nearest grid point of some 8-bit sRGB colour, i.e. the cells real
  pixels fall in. Step 10: Q = 261, a in [-90, 100], b in [-110, 90]. No margin for predictions at the gamut edge.
- ``"hull"``: grid points within Euclidean distance ``step`` of the hull (a disc instead of gamut's square).
  Step 10: Q = 295, a in [-90, 100], b in [-110, 100].

Encoding (``ABQuantizer``): hard = nearest bin; soft = the k nearest bins (k = 5) with weights
exp(-d^2 / 2 sigma^2), sigma = 5, normalised to sum 1. Both go through a lookup table over the ab plane (1-unit cells
over [-128, 128)^2, each listing every bin that can be among the k nearest of a point of the cell) and exact
distances to those candidates, so the result equals brute-force kNN on float32 squared distances (ties go to the
lower bin index); points outside the table fall back to brute force.

Prior and weights (Zhang et al. sec. 2.2): ``empirical_prior`` is the bins' frequency smoothed with a Gaussian of
sigma 5 ab units over the bin centres; ``rebalance_weights`` gives w proportional to 1 / ((1 - lam) p + lam / Q),
lam = 0.5, scaled so that sum(p * w) = 1.
"""
from __future__ import annotations

import functools

import numpy as np

from .. import _core
from .lab import check_last, rgb_to_lab

DEFAULT_RULE = "gamut"
RULES = ("gamut", "reachable", "hull")
_LUT_LO, _LUT_RES, _LUT_N = -128.0, 1.0, 256  # soft/hard lookup table: 1-unit cells over [-128, 128)^2


def _reached_cells(step: int) -> set[tuple[int, int]]:
    """Grid cells (a, b) // step, rounded to the nearest grid point, that some 8-bit sRGB colour falls in."""
    v = np.arange(256, dtype=np.uint8)
    rgb = np.empty((65536, 3), np.uint8)
    rgb[:, 1:] = np.stack(np.meshgrid(v, v, indexing="ij"), -1).reshape(-1, 2)
    n = 2 * (200 // step) + 1  # cells -n/2..n/2 cover |ab| < 200
    hit = np.zeros(n * n, bool)
    for r in range(256):  # one red value at a time: 65536 colours
        rgb[:, 0] = r
        cell = np.floor(rgb_to_lab(rgb)[:, 1:] / step + 0.5).astype(np.int64) + n // 2
        hit[cell[:, 0] * n + cell[:, 1]] = True
    i, j = np.divmod(np.flatnonzero(hit), n)
    return set(zip((i - n // 2).tolist(), (j - n // 2).tolist()))


def _convex_hull(points: np.ndarray) -> np.ndarray:
    """Vertices of the convex hull of 2-D points, counter-clockwise (Andrew's monotone chain)."""
    pts = np.unique(np.asarray(points, np.float64), axis=0)  # sorted by x, then y

    def half(seq):
        chain: list = []
        for p in seq:
            while len(chain) >= 2:
                (ox, oy), (ax, ay) = chain[-2], chain[-1]
                if (ax - ox) * (p[1] - oy) - (ay - oy) * (p[0] - ox) > 0:
                    break
                chain.pop()
            chain.append(p)
        return chain

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1])


@functools.lru_cache(maxsize=1)
def _gamut_hull() -> np.ndarray:
    """Convex hull of the 8-bit sRGB ab gamut. Its vertices lie on the RGB cube's edges (checked against the hull
    of all 2^24 colours with scipy.spatial.ConvexHull: the same vertices), so the 12 edges' colours are enough."""
    v = np.arange(256)
    edges = []
    for axis in range(3):
        for hi in ((0, 0), (0, 255), (255, 0), (255, 255)):
            c = np.empty((256, 3), np.uint8)
            c[:, axis] = v
            c[:, [i for i in range(3) if i != axis]] = hi
            edges.append(c)
    return _convex_hull(rgb_to_lab(np.concatenate(edges))[:, 1:])


def _grid(step: int) -> np.ndarray:
    """All grid points (multiples of step) that could be near the gamut, sorted by a, then b."""
    g = step * np.arange(-(140 // step) - 1, 140 // step + 2)
    return np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2).astype(np.float64)


def _hull_distances(points: np.ndarray, hull: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Chebyshev, Euclidean) distance of each point to the filled convex polygon ``hull`` (counter-clockwise)."""
    a, b = hull, np.roll(hull, -1, axis=0)
    normal = np.stack([b[:, 1] - a[:, 1], a[:, 0] - b[:, 0]], -1)  # outward for a counter-clockwise polygon
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    beyond = points @ normal.T - (a * normal).sum(1)  # signed distance past each edge's line
    # Chebyshev: the square of half-width r first meets the polygon when it stops being separated by the x or y
    # axis or by an edge line (separating axis theorem); along edge e that takes beyond_e / (|nx| + |ny|).
    cheb = np.maximum.reduce([
        (beyond / np.abs(normal).sum(1)).max(1),
        hull[:, 0].min() - points[:, 0], points[:, 0] - hull[:, 0].max(),
        hull[:, 1].min() - points[:, 1], points[:, 1] - hull[:, 1].max(),
        np.zeros(len(points))])
    ab = b - a
    t = np.clip(((points[:, None] - a) * ab).sum(-1) / (ab * ab).sum(-1), 0.0, 1.0)
    seg = np.linalg.norm(points[:, None] - (a + t[..., None] * ab), axis=-1).min(1)
    euclid = np.where((beyond <= 0).all(1), 0.0, seg)
    return cheb, euclid


@functools.lru_cache(maxsize=16)
def _bin_centers(step: int, rule: str) -> np.ndarray:
    grid = _grid(step)
    if rule == "reachable":
        hit = _reached_cells(step)
        keep = np.array([(round(a / step), round(b / step)) in hit for a, b in grid])
    else:
        cheb, euclid = _hull_distances(grid, _gamut_hull())
        keep = (cheb if rule == "gamut" else euclid) <= step
    centers = grid[keep].astype(np.float32)
    centers.flags.writeable = False
    return centers


def bin_centers(step: int = 10, rule: str = DEFAULT_RULE) -> np.ndarray:
    """In-gamut ab bin centres float32 (Q, 2), sorted by a then b; see the module docstring for the rules."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if int(step) != step or step < 1:
        raise ValueError(f"step must be a positive integer, got {step}")
    return _bin_centers(int(step), rule).copy()


def _as_ab(ab) -> np.ndarray:
    ab = np.asarray(ab)
    if ab.dtype.kind != "f":
        raise ValueError(f"ab must have a floating dtype (float32 preferred), got {ab.dtype}")
    check_last(ab, 2, "ab")
    return ab.astype(np.float32, copy=False)


class ABQuantizer:
    """Hard and soft encoding of ab values onto bin centres (C++ lookup table; ``*_ref`` are brute-force NumPy).

    ab arrays are (..., 2), float32 (other float dtypes are converted to float32 first; integer dtypes raise
    ValueError); NaN or inf raises ValueError. Bin indices are int16.
    """

    def __init__(self, step: int = 10, rule: str = DEFAULT_RULE, centers: np.ndarray | None = None):
        self.step, self.rule = step, rule
        if centers is None:
            centers = bin_centers(step, rule)
        centers = np.ascontiguousarray(centers, np.float32)
        if centers.ndim != 2 or centers.shape[1] != 2 or not 1 <= len(centers) <= 32767:
            raise ValueError(f"centers must have shape (Q, 2) with 1 <= Q <= 32767, got {centers.shape}")
        self.centers = centers
        self._luts: dict[int, tuple] = {}

    def _lut(self, k: int) -> tuple:
        if k not in self._luts:
            self._luts[k] = _core.build_knn_lut(self.centers, k, _LUT_LO, _LUT_RES, _LUT_N)
        return self._luts[k]

    def _check_k(self, k: int) -> None:
        if not 1 <= k <= min(len(self.centers), 64):
            raise ValueError(f"k must be in [1, {min(len(self.centers), 64)}], got {k}")

    def hard(self, ab) -> np.ndarray:
        """Index of the nearest bin, int16 (...)."""
        idx = _core.knn_encode(_as_ab(ab), self.centers, self._lut(1), _LUT_LO, _LUT_RES, _LUT_N, 1, 1.0, False)
        return idx[..., 0]

    def soft(self, ab, k: int = 5, sigma: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
        """k nearest bins, int16 (..., k) nearest first, and their Gaussian weights float32 (..., k) summing to 1."""
        self._check_k(k)
        if not sigma > 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        return _core.knn_encode(_as_ab(ab), self.centers, self._lut(k), _LUT_LO, _LUT_RES, _LUT_N, k, float(sigma),
                                True)

    def _knn_ref(self, ab: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Brute force: squared float32 distances to every centre, stable sort so ties go to the lower index."""
        flat = _as_ab(ab).reshape(-1, 2)
        if not np.isfinite(flat).all():
            raise ValueError("ab must be finite")
        c = self.centers
        idx = np.empty((len(flat), k), np.int64)
        d2 = np.empty((len(flat), k), np.float32)
        for s in range(0, len(flat), 4096):  # bounded memory: (chunk, Q) distances at a time
            d = (flat[s:s + 4096, None, 0] - c[:, 0]) ** 2 + (flat[s:s + 4096, None, 1] - c[:, 1]) ** 2
            order = np.argsort(d, axis=1, kind="stable")[:, :k]
            idx[s:s + 4096], d2[s:s + 4096] = order, np.take_along_axis(d, order, 1)
        return idx, d2

    def hard_ref(self, ab) -> np.ndarray:
        ab = _as_ab(ab)
        idx, _ = self._knn_ref(ab, 1)
        return idx[:, 0].astype(np.int16).reshape(ab.shape[:-1])

    def soft_ref(self, ab, k: int = 5, sigma: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
        ab = _as_ab(ab)
        self._check_k(k)
        idx, d2 = self._knn_ref(ab, k)
        d2 = d2.astype(np.float64)
        w = np.exp(-(d2 - d2[:, :1]) / (2 * sigma ** 2))  # relative to the nearest: same after normalising
        w /= w.sum(1, keepdims=True)
        shape = ab.shape[:-1] + (k,)
        return idx.astype(np.int16).reshape(shape), w.astype(np.float32).reshape(shape)


# ---------------------------------------------------------------- prior and rebalancing
def empirical_prior(hard, centers_or_q, smooth_sigma: float = 5.0, *, kind: str = "auto") -> np.ndarray:
    """Empirical bin distribution (Q,) float64 summing to 1, Gaussian-smoothed over the ab plane (Zhang et al.).

    ``hard``: bin counts (Q,) or hard index arrays (one array or an iterable of them); ``kind="auto"`` takes a
    single 1-D array of length Q as counts (e.g. summed ``np.bincount``) and anything else as indices; pass
    ``kind="indices"`` for a flat index array that happens to have length Q.
    ``centers_or_q``: the bin centres (Q, 2), or Q when the bins are the default ``bin_centers()`` (needed to
    smooth). Smoothing moves each bin's mass to the others in proportion to exp(-|ci - cj|^2 / 2 sigma^2), so
    the total is kept; ``smooth_sigma=0`` leaves the raw frequencies.
    """
    if np.ndim(centers_or_q) == 0:
        q, centers = int(centers_or_q), None
    else:
        centers = np.asarray(centers_or_q, np.float64)
        if centers.ndim != 2 or centers.shape[1] != 2:
            raise ValueError(f"centers must have shape (Q, 2), got {centers.shape}")
        q = len(centers)
    arrays = [np.asarray(hard)] if isinstance(hard, np.ndarray) or np.isscalar(hard) else \
        [np.asarray(h) for h in hard]
    if kind not in ("auto", "counts", "indices"):
        raise ValueError(f"kind must be 'auto', 'counts' or 'indices', got {kind!r}")
    as_counts = kind == "counts" or (kind == "auto" and len(arrays) == 1 and arrays[0].shape == (q,))
    if as_counts:
        counts = np.asarray(arrays[0], np.float64)
        if counts.shape != (q,) or (counts < 0).any():
            raise ValueError(f"counts must be non-negative with shape ({q},), got shape {counts.shape}")
    else:
        counts = np.zeros(q, np.float64)
        for h in arrays:
            if h.size and h.dtype.kind not in "iu":
                raise ValueError(f"hard indices must be integers, got {h.dtype} (pass kind='counts' for counts)")
            h = h.ravel().astype(np.int64)
            if h.size and (h.min() < 0 or h.max() >= q):
                raise ValueError(f"hard indices must lie in [0, {q}), got [{h.min()}, {h.max()}]")
            counts += np.bincount(h, minlength=q)
    if counts.sum() <= 0:
        raise ValueError("empirical_prior needs at least one count")
    p = counts / counts.sum()
    if smooth_sigma > 0:
        if centers is None:
            centers = bin_centers().astype(np.float64)
            if len(centers) != q:
                raise ValueError(f"pass the bin centres to smooth: Q={q} is not the default bins' {len(centers)}")
        d2 = ((centers[:, None] - centers[None]) ** 2).sum(-1)
        kernel = np.exp(-d2 / (2 * smooth_sigma ** 2))
        p = p @ (kernel / kernel.sum(1, keepdims=True))
    return p / p.sum()


def rebalance_weights(prior: np.ndarray, lam: float = 0.5) -> np.ndarray:
    """Class-rebalancing weights (Q,) float32: w ~ 1 / ((1 - lam) p + lam / Q), scaled so sum(p * w) = 1."""
    p = np.asarray(prior, np.float64)
    if p.ndim != 1 or not len(p):
        raise ValueError(f"prior must have shape (Q,), got {p.shape}")
    if not 0 <= lam <= 1:
        raise ValueError(f"lam must be in [0, 1], got {lam}")
    w = 1.0 / ((1 - lam) * p + lam / len(p))
    return (w / (p * w).sum()).astype(np.float32)
