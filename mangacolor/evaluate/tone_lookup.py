"""Tone-lookup baseline: each cell's ab colour predicted from the local tone of the B&W print alone.

It measures how much of a score a lookup of local tone earns without recognising any shape: if the print gives
every colour its own screentone, a colouriser can score well by reading the tone, and the score says little about
the method. A cell (``cell`` x ``cell`` px) is described by ``FEATURES`` computed on a ``window`` x ``window``
px neighbourhood centred on it (the page edge-reflected where the window leaves it):

- ``darkness``, ``spread``: mean and standard deviation of the grey level (0..1 of 255);
- ``hist0..3``: the fraction of pixels in each quarter of the grey range (ink, dark, light, paper);
- ``band0..3``: the share of the window's (mean-removed) FFT power in radial frequency bands of
  ``FFT_BANDS`` cycles/px, the screen's ruling;
- ``edge``, ``orient_cos``, ``orient_sin``: mean Sobel gradient magnitude, and the mean doubled-angle gradient
  vector over it (the dominant orientation of line screens and hatching, 0 for dots and flat tone).

The model is k-nearest neighbours in the standardised feature space (each feature scaled to zero mean and unit
variance over the training cells): a cell's ab is the mean ab of its ``k`` nearest training cells. Training cells are
a seeded subsample of at most ``max_cells``; search is brute force in NumPy, chunked.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..io import atomic_path

FEATURES = ("darkness", "spread", "hist0", "hist1", "hist2", "hist3", "band0", "band1", "band2", "band3", "edge",
            "orient_cos", "orient_sin")
FFT_BANDS = (0.0, 0.125, 0.25, 0.5, np.inf)  # cycles/px: band edges of the power shares band0..band3
QUERY_CHUNK = 2048  # query cells per distance block in the k-NN search
_KEYS = ("features", "ab", "mean", "scale", "k", "cell", "window")


def _windows(gray: np.ndarray, cell: int, window: int) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 view (gh, gw, window, window) of the window around each cell of a uint8 (h, w) page, gh =
    ceil(h / cell); the edge-reflected page that view reads, (gh * cell + window - cell, ...))."""
    h, w = gray.shape
    gh, gw = -(-h // cell), -(-w // cell)
    margin = (window - cell) // 2
    padded = cv2.copyMakeBorder(np.ascontiguousarray(gray), margin, margin + gh * cell - h, margin,
                                margin + gw * cell - w, cv2.BORDER_REFLECT_101)
    s0, s1 = padded.strides
    return np.lib.stride_tricks.as_strided(padded, (gh, gw, window, window), (cell * s0, cell * s1, s0, s1),
                                           writeable=False), padded


def _band_masks(window: int) -> np.ndarray:
    """bool (bands, window, window // 2 + 1): which rfft2 frequencies fall in each FFT_BANDS band (DC in none)."""
    fy = np.fft.fftfreq(window)[:, None]
    fx = np.fft.rfftfreq(window)[None, :]
    radius = np.hypot(fy, fx)
    return np.stack([(radius > lo) & (radius <= hi) for lo, hi in zip(FFT_BANDS[:-1], FFT_BANDS[1:])])


def _windows_sum(plane: np.ndarray, cell: int, window: int, gh: int, gw: int) -> np.ndarray:
    """(gh * gw,) sums of a padded float32 plane over each cell's window (an integral image)."""
    integral = cv2.integral(plane, sdepth=cv2.CV_64F)
    y0, x0 = np.arange(gh) * cell, np.arange(gw) * cell
    y1, x1 = y0 + window, x0 + window
    total = (integral[y1][:, x1] - integral[y0][:, x1] - integral[y1][:, x0] + integral[y0][:, x0])
    return total.ravel()


def cell_features(gray: np.ndarray, cell: int, window: int) -> np.ndarray:
    """float32 (gh, gw, len(FEATURES)) tone features of each ``cell`` px cell of a uint8 (h, w) page."""
    if gray.dtype != np.uint8 or gray.ndim != 2:
        raise ValueError(f"grey page must be uint8 (h, w), got {gray.dtype} {gray.shape}")
    win, padded = _windows(gray, cell, window)
    gh, gw = win.shape[:2]
    g = win.reshape(gh * gw, window, window).astype(np.float32) / 255.0
    mean = g.mean(axis=(1, 2))
    centred = g - mean[:, None, None]
    spread = np.sqrt((centred ** 2).mean(axis=(1, 2)))
    quarter = np.minimum((g * 4).astype(np.int64), 3).reshape(len(g), -1)
    hist = np.stack([(quarter == q).mean(1) for q in range(4)], 1)
    power = np.abs(np.fft.rfft2(centred)) ** 2
    power[:, :, 1:(window + 1) // 2] *= 2  # rfft2 keeps half the spectrum: count the mirrored columns too
    bands = np.stack([power[:, m].sum(1) for m in _band_masks(window)], 1)
    bands /= np.maximum(bands.sum(1, keepdims=True), 1e-12)

    img = padded.astype(np.float32) / 255.0
    gx, gy = cv2.Sobel(img, cv2.CV_32F, 1, 0), cv2.Sobel(img, cv2.CV_32F, 0, 1)
    magnitude = np.hypot(gx, gy)
    safe = np.maximum(magnitude, 1e-6)
    # magnitude * (cos 2 theta, sin 2 theta): opposite gradients of one line add up instead of cancelling
    cos2, sin2 = (gx ** 2 - gy ** 2) / safe, 2 * gx * gy / safe
    edge, orient_cos, orient_sin = (_windows_sum(p, cell, window, gh, gw) for p in (magnitude, cos2, sin2))
    orient = np.stack([orient_cos, orient_sin], 1) / np.maximum(edge, 1e-6)[:, None]
    feats = np.column_stack([1.0 - mean, spread, hist, bands, edge / window ** 2, orient])
    return feats.reshape(gh, gw, len(FEATURES)).astype(np.float32)


@dataclass(frozen=True)
class ToneLookup:
    """k-NN from standardised tone features of a cell to its ab colour."""

    features: np.ndarray  # (M, F) float32 standardised features of the training cells
    ab: np.ndarray  # (M, 2) float32 their ab
    mean: np.ndarray  # (F,) float32 feature means over the training cells
    scale: np.ndarray  # (F,) float32 feature standard deviations (floored) over the training cells
    k: int  # neighbours averaged per prediction
    cell: int  # px per cell side
    window: int  # px per feature window side, centred on its cell

    def predict_cells(self, gray_page: np.ndarray) -> np.ndarray:
        """float32 (gh, gw, 2) ab per cell of a uint8 (H, W) page, gh = ceil(H / cell), gw = ceil(W / cell)."""
        feats = cell_features(gray_page, self.cell, self.window)
        gh, gw, n = feats.shape
        query = (feats.reshape(-1, n) - self.mean) / self.scale
        k = min(self.k, len(self.features))
        norms = np.einsum("ij,ij->i", self.features, self.features)
        out = np.empty((len(query), 2), np.float32)
        for start in range(0, len(query), QUERY_CHUNK):
            q = query[start:start + QUERY_CHUNK]
            dist = norms[None, :] - 2.0 * q @ self.features.T  # + |q|^2, the same for every candidate
            nearest = np.argpartition(dist, k - 1, axis=1)[:, :k]
            out[start:start + len(q)] = self.ab[nearest].mean(1)
        return out.reshape(gh, gw, 2)

    def predict_page(self, gray_page: np.ndarray) -> np.ndarray:
        """float32 (H, W, 2) ab of a uint8 (H, W) page: the per-cell prediction upsampled bilinearly (cell centres
        at their cells' centres)."""
        cells = self.predict_cells(gray_page)
        gh, gw = cells.shape[:2]
        full = cv2.resize(cells, (gw * self.cell, gh * self.cell), interpolation=cv2.INTER_LINEAR)
        h, w = gray_page.shape
        return np.ascontiguousarray(full[:h, :w])

    def save(self, path: str | Path) -> None:
        """Write the lookup as a .npz (no pickled objects), atomically."""
        with atomic_path(path, suffix=".npz") as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, features=self.features, ab=self.ab, mean=self.mean, scale=self.scale, k=self.k,
                         cell=self.cell, window=self.window)

    @classmethod
    def load(cls, path: str | Path) -> "ToneLookup":
        """Read a lookup written by ``save``; ValueError naming the file and key if one is missing or malformed."""
        with np.load(path, allow_pickle=False) as data:
            missing = [key for key in _KEYS if key not in data.files]
            if missing:
                raise ValueError(f"{path}: not a tone lookup, missing {', '.join(missing)}")
            arrays = {key: data[key] for key in _KEYS}
        features = arrays["features"].astype(np.float32)
        if features.ndim != 2 or features.shape[1] != len(FEATURES):
            raise ValueError(f"{path}: 'features' must be (M, {len(FEATURES)}), got {features.shape}")
        if arrays["ab"].shape != (len(features), 2):
            raise ValueError(f"{path}: 'ab' must be ({len(features)}, 2), got {arrays['ab'].shape}")
        return cls(features, arrays["ab"].astype(np.float32), arrays["mean"].astype(np.float32),
                   arrays["scale"].astype(np.float32), int(arrays["k"]), int(arrays["cell"]),
                   int(arrays["window"]))


def fit_tone_lookup(gray_tiles: np.ndarray, target_ab: np.ndarray, seed: int, max_cells: int = 10000, k: int = 12,
                    window: int | None = None) -> ToneLookup:
    """Fit the lookup on B&W tiles uint8 (N, T, T) and their per-cell ab float (N, G, G, 2), cell = T / G px.

    ``window`` (px, default 2 * cell) must exceed the cell by an even number of px. At most ``max_cells`` training
    cells are kept, drawn without replacement by ``seed``; the result is deterministic in its arguments.
    """
    gray_tiles, target_ab = np.asarray(gray_tiles), np.asarray(target_ab)
    if gray_tiles.dtype != np.uint8 or gray_tiles.ndim != 3 or gray_tiles.shape[1] != gray_tiles.shape[2]:
        raise ValueError(f"gray_tiles must be uint8 (N, T, T), got {gray_tiles.dtype} {gray_tiles.shape}")
    n, tile = gray_tiles.shape[:2]
    if target_ab.ndim != 4 or target_ab.shape[0] != n or target_ab.shape[1] != target_ab.shape[2] \
            or target_ab.shape[3] != 2:
        raise ValueError(f"target_ab must be (N={n}, G, G, 2), got {target_ab.shape}")
    grid = target_ab.shape[1]
    if grid == 0 or tile % grid:
        raise ValueError(f"tile side {tile} is not a whole number of cells of the {grid}x{grid} target grid")
    cell = tile // grid
    window = 2 * cell if window is None else int(window)
    if window < cell or (window - cell) % 2:
        raise ValueError(f"window {window} px must be >= the {cell} px cell and exceed it by an even number of px")
    if n == 0 or max_cells < 1 or k < 1:
        raise ValueError(f"need tiles (got {n}), max_cells >= 1 (got {max_cells}) and k >= 1 (got {k})")

    rng = np.random.default_rng(seed)
    total = n * grid * grid
    keep = np.sort(rng.choice(total, size=min(max_cells, total), replace=False))
    tiles_needed = np.unique(keep // (grid * grid))
    feats = np.zeros((total, len(FEATURES)), np.float32)
    for t in tiles_needed:
        feats[t * grid * grid:(t + 1) * grid * grid] = cell_features(gray_tiles[t], cell, window).reshape(-1,
                                                                                                      len(FEATURES))
    feats = feats[keep]
    ab = target_ab.reshape(total, 2)[keep].astype(np.float32)
    mean = feats.mean(0)
    scale = np.maximum(feats.std(0), 1e-3).astype(np.float32)
    return ToneLookup(((feats - mean) / scale).astype(np.float32), ab, mean.astype(np.float32), scale, int(k), cell,
                      window)


def write_tone_lookup(tiles_paths, targets_paths, out, seed: int, max_cells: int, k: int) -> ToneLookup:
    """Fit the lookup on training chapters (their tiles files' B&W tiles and targets files' grid ab) and save it."""
    import h5py

    gray, ab = [], []
    for tiles_path, targets_path in zip(tiles_paths, targets_paths):
        with h5py.File(tiles_path, "r") as t, h5py.File(targets_path, "r") as a:
            gray.append(t["gray"][()])
            ab.append(a["ab"][()].astype(np.float32))
    lookup = fit_tone_lookup(np.concatenate(gray), np.concatenate(ab), seed, max_cells=max_cells, k=k)
    lookup.save(out)
    print(f"{out}: tone lookup over {len(lookup.ab)} training cells, k = {lookup.k}")
    return lookup
