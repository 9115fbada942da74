"""Training data: (hypercolumn features, labels) HDF5 pairs read lazily, one tile at a time.

Each chapter has a features file (dataset ``x`` (N, C, G, G) float16) and a labels file, tile for tile in the
same order: ``ab`` (N, G, G, 2) float16 and ``page`` (N,) int32 always (a bin-independent targets file, enough for
the regression head), plus the classifier's ``idx`` (N, G, G, k) int16, ``w`` (N, G, G, k) float16 and ``hard``
(N, G, G) int16 in a bins-dependent labels file. Files are opened on first access in each process (DataLoader workers
included), so memory is bounded by the batch and prefetch, not by the dataset size.

Sparse features (``features.sample``: ``x`` (N, C, S) with ``cells`` (N, S) and ``weight`` (N, S), see
``data.cells``) give items of S cells laid out as an (S, 1) map, the labels gathered at the stored cells: a per-cell
head (kernel 1, no context) sees exactly what it would see on the dense grid.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import h5py
import numpy as np
import torch
from torch.utils.data import Dataset


def _channels_first(a: np.ndarray, dtype) -> torch.Tensor:
    # Conversions and copies in NumPy, single-threaded: torch's small-tensor ops crawl when its threads are contended.
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(a.astype(dtype), -1, 0)))


class TileDataset(Dataset):
    """Tiles of one or more chapters, concatenated in the order given.

    An item is a dict of tensors, channels first as torch expects:
    ``x`` (C, G, G) float16 as stored (half the bytes through loader and host-to-device copy; ``train`` converts
    whole batches to float32, which torch does several times faster than NumPy tile by tile), ``ab`` (2, G, G)
    float32, ``index`` () int64 (position in this dataset), and when the labels files have them (``soft``) ``idx``
    (k, G, G) int64 and ``w`` (k, G, G) float32 (the soft target) and ``hard`` (G, G) int64 (``k`` is 0 without soft
    targets), and when they have it ``L`` (1, G, G) float32, the cells' fill lightness. With sparse features
    (``sparse``) every map is (..., S, 1) instead of (..., G, G), and ``weight`` (S, 1) float32 holds the cells each
    kept cell stands for (weighted means over them estimate dense means).
    """

    def __init__(self, features: Sequence[str | os.PathLike], labels: Sequence[str | os.PathLike]):
        if len(features) != len(labels) or not features:
            raise ValueError(f"need one labels file per features file, got {len(features)} and {len(labels)}")
        self.features = [Path(p) for p in features]
        self.labels = [Path(p) for p in labels]
        sizes, pages = [], []
        for fp, lp in zip(self.features, self.labels):
            with h5py.File(fp, "r") as f, h5py.File(lp, "r") as g:
                sparse = "cells" in f
                if sparse:
                    n, c, s = f["x"].shape
                    gh = gw = int(f.attrs["grid"])
                    if f["cells"].shape != (n, s) or f["weight"].shape != (n, s):
                        raise ValueError(f"{fp}: cells {f['cells'].shape} / weight {f['weight'].shape} do not match "
                                         f"x {f['x'].shape}")
                else:
                    n, c, gh, gw = f["x"].shape
                soft = "idx" in g
                if g["ab"].shape != (n, gh, gw, 2) or (soft and g["idx"].shape[:3] != (n, gh, gw)):
                    raise ValueError(f"{lp}: labels ab {g['ab'].shape}"
                                     f"{' / idx ' + str(g['idx'].shape) if soft else ''} do not match "
                                     f"features x {f['x'].shape}{f' (grid {gh})' if sparse else ''} in {fp}")
                shape = (c, gh, gw, g["idx"].shape[3] if soft else 0, s if sparse else 0)
                if sizes and shape != self.shape:
                    raise ValueError(f"{fp}: (C, G, G, k, sample) = {shape}, other chapters have {self.shape}")
                self.shape = shape
                sizes.append(n)
                pages.append(g["page"][:].astype(np.int64))
        self.in_channels, self.grid, _, self.k, self.sample = self.shape
        #: Whether items carry the fill lightness ``L`` (1, G, G) (every labels file has it).
        self.lightness = all(_has(lp, "L") for lp in self.labels)
        #: Whether items carry the classifier's soft targets (idx, w) and hard bins.
        self.soft = self.k > 0
        #: Whether the features keep ``sample`` cells per tile (items are (..., S, 1) maps) or every cell.
        self.sparse = self.sample > 0
        self.offsets = np.concatenate([[0], np.cumsum(sizes)])
        chapter = np.repeat(np.arange(len(sizes)), sizes)
        #: (N, 2) int64: (chapter number in the order given, page index) of every tile.
        self.pages = np.stack([chapter, np.concatenate(pages)], axis=1)
        self._files: list[tuple[h5py.File, h5py.File]] | None = None
        self._datasets: list[dict[str, h5py.Dataset]] = []
        self._pid: int | None = None

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def _open(self) -> list[dict[str, h5py.Dataset]]:
        """Per chapter, its datasets by name (resolved once: a name lookup per read costs as much as the read)."""
        # h5py handles must not cross a fork: each process (DataLoader worker) opens its own.
        if self._files is None or self._pid != os.getpid():
            self._files = [(h5py.File(fp, "r"), h5py.File(lp, "r")) for fp, lp in zip(self.features, self.labels)]
            keys = ("ab", "idx", "w", "hard") if self.soft else ("ab",)
            keys += ("L",) if self.lightness else ()
            sparse = ("cells", "weight") if self.sparse else ()
            self._datasets = [{"x": f["x"], **{k: f[k] for k in sparse}, **{k: g[k] for k in keys}}
                              for f, g in self._files]
            self._pid = os.getpid()
        return self._datasets

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_files"], state["_datasets"], state["_pid"] = None, [], None
        return state

    def _locate(self, i: int) -> tuple[dict[str, h5py.Dataset], int]:
        i = int(i)
        if not 0 <= i < len(self):
            raise IndexError(i)
        c = int(np.searchsorted(self.offsets, i, side="right") - 1)
        return self._open()[c], i - int(self.offsets[c])

    def cells(self, i: int) -> np.ndarray:
        """Flat grid positions (S,) int32 of tile ``i``'s stored cells (every cell of a dense file)."""
        d, j = self._locate(i)
        return d["cells"][j] if self.sparse else np.arange(self.grid * self.grid, dtype=np.int32)

    def grid_ab(self, i: int) -> np.ndarray:
        """The true ab of every grid cell of tile ``i``, (G, G, 2) float32, stored cells or not."""
        d, j = self._locate(i)
        return d["ab"][j].astype(np.float32)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        d, j = self._locate(i)
        if self.sparse:
            cells = d["cells"][j]

            def cell_map(a: np.ndarray) -> np.ndarray:  # (G, G, ...) -> (S, 1, ...), the stored cells
                return a.reshape(-1, *a.shape[2:])[cells][:, None]
        else:
            def cell_map(a: np.ndarray) -> np.ndarray:
                return a
        x = d["x"][j]
        item = {
            "x": torch.from_numpy(np.ascontiguousarray(x[..., None] if self.sparse else x, np.float16)),
            "ab": _channels_first(cell_map(d["ab"][j]), np.float32),
            "index": torch.tensor(int(i), dtype=torch.int64),
        }
        if self.soft:
            item.update(idx=_channels_first(cell_map(d["idx"][j]), np.int64),
                        w=_channels_first(cell_map(d["w"][j]), np.float32),
                        hard=torch.from_numpy(cell_map(d["hard"][j]).astype(np.int64)))
        if self.lightness:
            item["L"] = torch.from_numpy(cell_map(d["L"][j])[None].astype(np.float32))
        if self.sparse:
            item["weight"] = torch.from_numpy(d["weight"][j].astype(np.float32)[:, None])
        return item

    def close(self) -> None:
        for f, g in self._files or []:
            f.close()
            g.close()
        self._files, self._datasets = None, []


def _has(path: Path, key: str) -> bool:
    with h5py.File(path, "r") as f:
        return key in f


def collate(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack items into a batch with NumPy (torch.stack is slow on small CPU tensors when threads are contended)."""
    return {key: torch.from_numpy(np.stack([item[key].numpy() for item in items])) for key in items[0]}


def split_by_page(pages: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split tiles into (train, val) index arrays so that no page has tiles on both sides.

    ``pages`` (N, 2) identifies each tile's page as (chapter, page) (``TileDataset.pages``); a 1-D array is
    read as page numbers of a single chapter. round(val_fraction * pages) whole pages, drawn with ``seed``,
    go to validation: at least one when val_fraction > 0 and there are two pages or more, never all of them.
    """
    pages = np.asarray(pages)
    if pages.ndim == 1:
        pages = np.stack([np.zeros_like(pages), pages], axis=1)
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    unique, tile_page = np.unique(pages, axis=0, return_inverse=True)
    tile_page = tile_page.reshape(-1)
    n_val = int(round(val_fraction * len(unique)))
    if val_fraction > 0 and len(unique) > 1:
        n_val = min(max(n_val, 1), len(unique) - 1)
    val_pages = np.random.default_rng(seed).permutation(len(unique))[:n_val]
    is_val = np.isin(tile_page, val_pages)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)
