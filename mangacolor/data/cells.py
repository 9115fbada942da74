"""Sparse hypercolumn storage: which grid cells of each tile are kept (``features.sample``), and what each stands for.

A full-size hypercolumn (960 channels on a 224 grid) is ~96 MB per tile; storing a sample of N cells per tile, as
Larsson et al. (2016) train on a few hundred sampled pixels per image, divides that by G*G / N. The sample is
stratified on the colour of each cell, its nearest reference bin (step 10, the 313 bins of Zhang et al.): every bin
that occurs in a tile keeps at least one cell, and the other cells go to the bins in proportion to their area. Each
kept cell carries the number of the tile's cells it stands for (its bin's cells over its bin's kept cells; they sum to
G*G), so a weighted mean over the kept cells estimates the mean over every cell without bias (Horvitz-Thompson):
training on the sample learns the dense objective, and scores on a sampled held-out chapter estimate dense scores.
"""
from __future__ import annotations

import os

import numpy as np

#: Bins the sample is stratified on, as (step, rule): independent of the configured bins, so a bin change never
#: resamples (or recomputes) hypercolumns.
REFERENCE_BINS = (10, "gamut")
BATCH = 256


def stratified_cells(bins: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Choose ``n`` of one tile's cells, stratified on their bins (any int array, read flat: (G*G,)).

    Returns ``cells`` (n,) int32, flat positions (y * G + x) in increasing order, and ``weight`` (n,) float32, the
    cells each kept cell stands for (sum G*G). Allocation: one cell per bin present, the remaining n - K shared in
    proportion to each bin's other cells (largest remainders, ties at random); cells within a bin drawn uniformly.
    A tile with more bins than ``n`` keeps one cell of each of its ``n`` rarest bins.
    """
    bins = np.asarray(bins).reshape(-1)
    total = bins.size
    if not 0 < n <= total:
        raise ValueError(f"sample must be in [1, {total}] cells of the tile, got {n}")
    if n == total:
        return np.arange(total, dtype=np.int32), np.ones(total, np.float32)
    present, inverse, counts = np.unique(bins, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    k = len(present)
    if k >= n:
        alloc = np.zeros(k, np.int64)
        alloc[np.lexsort((rng.random(k), counts))[:n]] = 1  # the n rarest bins, ties at random
    else:
        # exact integer shares of the n - k cells left after one per bin: (n - k) (c - 1) / (total - k)
        share = (n - k) * (counts - 1)
        alloc = 1 + share // (total - k)
        left = n - int(alloc.sum())
        alloc[np.lexsort((rng.random(k), -(share % (total - k))))[:left]] += 1
    # a random rank for every cell within its bin; keep the first alloc[bin] of each bin
    order = np.lexsort((rng.random(total), inverse))
    rank = np.empty(total, np.int64)
    rank[order] = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    cells = np.flatnonzero(rank < alloc[inverse])
    weight = counts[inverse[cells]] / alloc[inverse[cells]]
    return cells.astype(np.int32), weight.astype(np.float32)


def sample_chapter_cells(targets_path: str | os.PathLike, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The stratified sample of every tile of a chapter from its targets file (dataset ``ab`` (N, G, G, 2)).

    Returns ``cells`` (N, n) int32 and ``weight`` (N, n) float32 (see ``stratified_cells``). Deterministic in
    ``seed``: tile i draws from ``default_rng([seed, i])``, whatever the batching.
    """
    import h5py

    from ..kernels.bins import ABQuantizer

    quantizer = ABQuantizer(*REFERENCE_BINS)
    with h5py.File(targets_path, "r") as f:
        if "ab" not in f:
            raise ValueError(f"{targets_path}: no dataset 'ab' (a targets file from `mangacolor targets`)")
        ab = f["ab"]
        count, grid = ab.shape[0], ab.shape[1]
        if not 0 < n < grid * grid:
            raise ValueError(f"{targets_path}: sample must be in [1, {grid * grid - 1}] cells of the {grid}x{grid} "
                             f"grid (0 = dense, no sample), got {n}")
        cells = np.empty((count, n), np.int32)
        weight = np.empty((count, n), np.float32)
        for start in range(0, count, BATCH):
            hard = quantizer.hard(ab[start:start + BATCH].astype(np.float32))
            for j, tile_bins in enumerate(hard, start):
                cells[j], weight[j] = stratified_cells(tile_bins, n, np.random.default_rng([seed, j]))
    return cells, weight


def gather_cells(grid_values: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Values of one tile's kept cells: (G, G, ...) -> (S, ...) at flat positions ``cells`` (S,)."""
    return grid_values.reshape(-1, *grid_values.shape[2:])[cells]


def fill_grid(values: np.ndarray, cells: np.ndarray, grid: int) -> np.ndarray:
    """One tile's kept cells back on its grid: (S, ...) at ``cells`` (S,) -> (G, G, ...), each other cell taking
    the value of the nearest kept cell (for pictures of sparse predictions)."""
    from scipy.ndimage import distance_transform_edt

    missing = np.ones(grid * grid, bool)
    missing[cells] = False
    slot = np.full(grid * grid, -1, np.int64)
    slot[cells] = np.arange(len(cells))
    _, (iy, ix) = distance_transform_edt(missing.reshape(grid, grid), return_indices=True)
    return values[slot[(iy * grid + ix).reshape(-1)]].reshape(grid, grid, *values.shape[1:])
