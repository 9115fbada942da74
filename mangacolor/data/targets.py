"""Training targets: per-chapter grid ab (bin-independent), the bin grid with its empirical prior and rebalancing
weights, and per-chapter soft labels."""
from __future__ import annotations

from pathlib import Path

import cv2
import h5py
import numpy as np
from tqdm import tqdm

from ..kernels.bins import ABQuantizer, empirical_prior, rebalance_weights
from ..kernels.lab import rgb_to_lab
from ..io import atomic_path

BATCH = 64
INK_L = 25.0  # colour-page pixels darker than this are line art / black ink: a cell's fill lightness skips them
MIN_FILL = 0.25  # ... unless they cover more than 1 - MIN_FILL of the cell (a black fill: then its plain mean)


def _color_batches(tiles_path: str | Path, desc: str):
    with h5py.File(tiles_path, "r") as f:
        color = f["color"]
        for start in tqdm(range(0, len(color), BATCH), desc=desc, unit="batch"):
            yield color[start:start + BATCH]


def tile_ab(color_tiles: np.ndarray, grid: int | None = None) -> np.ndarray:
    """ab of colour tiles (N, T, T, 3) uint8 as float32 (N, g, g, 2), area-averaged to ``grid`` when given."""
    ab = rgb_to_lab(color_tiles)[..., 1:]
    if grid is None or grid == ab.shape[1]:
        return np.ascontiguousarray(ab)
    return np.stack([cv2.resize(t, (grid, grid), interpolation=cv2.INTER_AREA) for t in ab])


def _area(planes: np.ndarray, grid: int) -> np.ndarray:
    """(N, T, T) float32 area-averaged to (N, grid, grid)."""
    if grid == planes.shape[1]:
        return np.ascontiguousarray(planes)
    return np.stack([cv2.resize(t, (grid, grid), interpolation=cv2.INTER_AREA) for t in planes])


def tile_fill_lightness(color_tiles: np.ndarray, grid: int) -> np.ndarray:
    """Lightness of what fills each cell of colour tiles (N, T, T, 3) uint8 -> float32 (N, grid, grid), L 0..100:
    the mean L* of the cell's pixels lighter than INK_L (the line art left out), or of all its pixels where ink
    covers all but MIN_FILL of it. The colour edition's flat colours are what the lightness head learns."""
    light = rgb_to_lab(color_tiles)[..., 0]
    fill = (light > INK_L).astype(np.float32)
    share = _area(fill, grid)
    fill_mean = _area(light * fill, grid) / np.maximum(share, 1e-6)
    return np.where(share >= MIN_FILL, fill_mean, _area(light, grid)).astype(np.float32)


def write_bins(targets_paths: list[str | Path], out: str | Path, step: int = 10, rule: str = "gamut",
               lam: float = 0.5) -> None:
    """Bin centres, the empirical prior of the training chapters' colours and the rebalancing weights -> npz.

    The prior is counted on the grid targets (``write_targets``: ab area-averaged over each cell), the very
    values the classifier's loss sees through ``write_labels``: averaging moves mass from saturated pixels to
    the blends between them, which a prior of full-resolution pixels would miss."""
    quantizer = ABQuantizer(step, rule)
    q = len(quantizer.centers)
    counts = np.zeros(q, np.int64)
    grids = set()
    for path in targets_paths:
        with h5py.File(path, "r") as f:
            ab = f["ab"]
            grids.add(int(f.attrs["grid"]))
            for start in tqdm(range(0, len(ab), BATCH), desc=f"bins {Path(path).stem}", unit="batch"):
                hard = quantizer.hard(ab[start:start + BATCH].astype(np.float32))
                counts += np.bincount(hard.ravel(), minlength=q)
    if len(grids) > 1:
        raise ValueError(f"targets files of different grids {sorted(grids)}: {[str(p) for p in targets_paths]}")
    prior = empirical_prior(counts, quantizer.centers)
    weights = rebalance_weights(prior, lam)
    with atomic_path(out) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, centers=quantizer.centers, prior=prior, weights=weights, counts=counts,
                     step=step, rule=rule, lam=lam, grid=grids.pop())
    used = int((counts > 0).sum())
    print(f"{out}: {q} bins (rule {rule}, step {step}), {used} used by the training chapters' grid targets")


def load_bins(path: str | Path) -> dict:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def write_targets(tiles_path: str | Path, out: str | Path, grid: int = 56) -> None:
    """Bin-independent targets of every tile of a chapter: ab area-averaged to ``grid``, the fill lightness ``L``
    (``tile_fill_lightness``) and the page index.

    The regression baseline trains on these alone; ``write_labels`` quantises them for the classifier."""
    with h5py.File(tiles_path, "r") as src:
        n, page = len(src["color"]), src["page"][:]
    with atomic_path(out) as tmp, h5py.File(tmp, "w") as f:
        ab_ds = f.create_dataset("ab", (n, grid, grid, 2), np.float16, chunks=(1, grid, grid, 2))
        l_ds = f.create_dataset("L", (n, grid, grid), np.float16, chunks=(1, grid, grid))
        f.create_dataset("page", data=page)
        start = 0
        for color in _color_batches(tiles_path, f"targets {Path(out).stem}"):
            ab = tile_ab(color, grid)
            ab_ds[start:start + len(ab)] = ab
            l_ds[start:start + len(ab)] = tile_fill_lightness(color, grid)
            start += len(ab)
        f.attrs.update(grid=grid)
    print(f"{out}: ab targets of {n} tiles at {grid}x{grid}")


def write_labels(targets_path: str | Path, bins_path: str | Path, out: str | Path, k: int = 5,
                 sigma: float = 5.0) -> None:
    """Soft-encoded targets (idx, w) and hard bins of a chapter's ``write_targets`` file, which ``ab`` and
    ``page`` are copied from (a labels file alone feeds the classifier)."""
    bins = load_bins(bins_path)
    quantizer = ABQuantizer(int(bins["step"]), str(bins["rule"]))
    with h5py.File(targets_path, "r") as src, atomic_path(out) as tmp, h5py.File(tmp, "w") as f:
        n, grid = src["ab"].shape[:2]
        idx = f.create_dataset("idx", (n, grid, grid, k), np.int16, chunks=(1, grid, grid, k))
        w = f.create_dataset("w", (n, grid, grid, k), np.float16, chunks=(1, grid, grid, k))
        hard = f.create_dataset("hard", (n, grid, grid), np.int16, chunks=(1, grid, grid))
        ab_ds = f.create_dataset("ab", (n, grid, grid, 2), np.float16, chunks=(1, grid, grid, 2))
        f.create_dataset("page", data=src["page"][()])
        if "L" in src:
            f.create_dataset("L", data=src["L"][()], chunks=(1, grid, grid))
        for start in tqdm(range(0, n, BATCH), desc=f"labels {Path(out).stem}", unit="batch"):
            ab16 = src["ab"][start:start + BATCH]  # read once, batch by batch: memory stays bounded by BATCH
            stop = start + len(ab16)
            ab_ds[start:stop] = ab16
            ab = ab16.astype(np.float32)
            idx[start:stop], w[start:stop] = quantizer.soft(ab, k=k, sigma=sigma)
            hard[start:stop] = quantizer.hard(ab)
        f.attrs.update(grid=grid, k=k, sigma=sigma, n_bins=len(quantizer.centers), step=int(bins["step"]),
                       rule=str(bins["rule"]))
    print(f"{out}: soft labels of {n} tiles at {grid}x{grid}, k={k}, sigma={sigma}")
