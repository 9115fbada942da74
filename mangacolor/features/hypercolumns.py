"""Hypercolumn extraction: grey tiles -> VGG16 hypercolumns, in memory (`compute`) or streamed to HDF5.

The VGG pass is the expensive, bin-independent step of the pipeline, so its output is cached on disk once per
(backbone, layers, grid) and read back tile by tile (one HDF5 chunk per tile) during training.
"""
from __future__ import annotations

import contextlib
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Mapping

import numpy as np
import torch

import mangacolor
from .backbone import Hypercolumns
from .device import resolve_device  # noqa: F401 (re-exported: callers import it from here too)
from ..io import atomic_path

PRECISIONS = ("float32", "bfloat16")
COMPRESSIONS = (None, "lzf", "gzip")


def _cpu_has_native_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a private op: assume support if it is gone
        return True


def _autocast(device: torch.device, precision: str):
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "float32":
        return contextlib.nullcontext()
    if device.type == "cpu" and not _cpu_has_native_bf16():
        warnings.warn("precision='bfloat16' on a CPU without native bfloat16 (AVX512-BF16/AMX): oneDNN emulates it "
                      "and convolutions run many times slower than float32 (README, Config); use precision='float32'", stacklevel=3)
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def _check_tiles(gray_tiles) -> tuple[int, int, int]:
    shape, dtype = tuple(gray_tiles.shape), np.dtype(gray_tiles.dtype)
    if len(shape) != 3 or dtype != np.uint8:
        raise ValueError(f"expected grey tiles (N, T, T) uint8, got shape {shape} dtype {dtype}")
    return shape


def _forward(model: Hypercolumns, batch: np.ndarray, device: torch.device, precision: str) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(batch)).to(device, non_blocking=True)[:, None]
    with _autocast(device, precision):
        return model(x)


def compute(model: Hypercolumns, gray_tiles: np.ndarray, batch_size: int = 16, device: str = "auto",
            precision: str = "float32") -> np.ndarray:
    """Hypercolumns of a small set of grey tiles (N, T, T) uint8, in memory -> float32 (N, C, G, G)."""
    n = _check_tiles(gray_tiles)[0]
    device = resolve_device(device)
    model = model.to(device).eval()
    out = np.empty((n, model.channels, model.grid, model.grid), np.float32)
    with torch.inference_mode():
        for i in range(0, n, batch_size):
            out[i:i + batch_size] = _forward(model, gray_tiles[i:i + batch_size], device, precision).float().cpu()
    return out


def production_attrs(model: Hypercolumns, precision: str) -> dict[str, Any]:
    """What produced a features file: weights and their convention, layers, grid, precision, package version."""
    info = model.info
    return {
        "weights": str(info.get("source", "")), "weights_sha256": str(info.get("sha256", "")),
        "weights_seed": -1 if info.get("seed") is None else int(info["seed"]),
        "convention": str(info.get("convention", "")), "mean": np.asarray(info["mean"], np.float64),
        "std": np.asarray(info["std"], np.float64), "scale": float(info["scale"]), "bgr": bool(info["bgr"]),
        "layers": np.asarray(model.layers, np.int32), "grid": model.grid, "channels": model.channels,
        "precision": precision, "dtype": "float16", "mangacolor_version": mangacolor.__version__,
        "torch_version": str(torch.__version__),
    }


def extract_to_h5(gray_tiles, out_path: str | os.PathLike, model: Hypercolumns, batch_size: int = 16,
                  device: str = "auto", attrs: Mapping[str, Any] | None = None, compression: str | None = None,
                  precision: str = "float32", threads: int | None = None, progress: bool = True,
                  cells: np.ndarray | None = None, cell_weights: np.ndarray | None = None) -> None:
    """Stream hypercolumns of grey tiles (N, T, T) uint8 into `out_path`, dataset `x` (N, C, G, G) float16.

    gray_tiles may be any array-like that slices to NumPy (an h5py dataset works); only a few batches are in memory
    at a time. A background thread reads the next batch and another writes the previous one while the network
    runs. One chunk per tile, so training reads tiles at random cheaply. Written atomically; the file's attributes
    record what produced it (`production_attrs`) plus `attrs`. threads, if given, sets torch's (process-wide)
    intra-op thread count; precision "bfloat16" runs the network under autocast (storage stays float16).

    Sparse storage: with ``cells`` (N, S) int flat grid positions (y * G + x) and ``cell_weights`` (N, S) (the
    cells each stands for, ``data.cells.sample_chapter_cells``), only those cells of each tile's dense hypercolumn
    are kept: ``x`` (N, C, S) float16, beside ``cells`` (N, S) int32 and ``weight`` (N, S) float32; attribute
    ``sample`` = S (0 for a dense file).
    """
    import h5py
    from tqdm import tqdm

    n, t, _ = _check_tiles(gray_tiles)
    if compression not in COMPRESSIONS:
        raise ValueError(f"compression must be one of {COMPRESSIONS}, got {compression!r}")
    if threads:
        torch.set_num_threads(int(threads))
    device = resolve_device(device)
    model = model.to(device).eval()
    _autocast(device, precision)  # validates precision before any file is created
    g2 = model.grid * model.grid
    if cells is not None:
        cells = np.asarray(cells)
        cell_weights = np.asarray(cell_weights if cell_weights is not None else np.ones(cells.shape), np.float32)
        if cells.ndim != 2 or len(cells) != n or cell_weights.shape != cells.shape:
            raise ValueError(f"cells {cells.shape} and cell_weights {cell_weights.shape} must both be (N, S) with "
                             f"N = {n} tiles")
        if cells.size and not (0 <= cells.min() and cells.max() < g2):
            raise ValueError(f"cells must be flat positions in [0, {g2}) of the {model.grid}x{model.grid} grid")
    shape = (n, model.channels, model.grid, model.grid) if cells is None else (n, model.channels, cells.shape[1])
    starts = list(range(0, n, batch_size))

    def read(i: int) -> np.ndarray:
        return np.asarray(gray_tiles[i:i + batch_size])

    with atomic_path(out_path) as tmp, h5py.File(tmp, "w") as f:
        dset = f.create_dataset("x", shape=shape, dtype=np.float16, chunks=(1, *shape[1:]),
                                maxshape=(None, *shape[1:]), compression=compression)  # maxshape: allows N == 0
        f.attrs.update(production_attrs(model, precision))
        f.attrs.update({"tile": t, "n": n, "sample": 0 if cells is None else cells.shape[1]})
        if cells is not None:
            f.create_dataset("cells", data=cells.astype(np.int32))
            f.create_dataset("weight", data=cell_weights)
        f.attrs.update(dict(attrs or {}))

        # Two float16 host buffers, alternately filled here and written by the writer thread. Reusing them (rather
        # than allocating a converted copy per batch in the writer thread) keeps glibc's heaps from growing with N.
        buffers = [np.empty((min(batch_size, n), *shape[1:]), np.float16) for _ in range(2 if n > batch_size else 1)]

        def write(i: int, buf: np.ndarray) -> None:
            dset[i:i + len(buf)] = buf

        # One batch being read and one being written while the network runs: memory is flat in N.
        with ThreadPoolExecutor(1) as reader, ThreadPoolExecutor(1) as writer, \
                tqdm(total=n, unit="tile", desc="hypercolumns", disable=not progress) as bar, torch.inference_mode():
            pending_read = reader.submit(read, starts[0]) if starts else None
            pending_write = None
            for k, i in enumerate(starts):
                batch = pending_read.result()
                if k + 1 < len(starts):
                    pending_read = reader.submit(read, starts[k + 1])
                out = _forward(model, batch, device, precision)
                if cells is not None:  # gathered on the device: only the kept cells travel to the host
                    keep = torch.from_numpy(cells[i:i + len(batch)].astype(np.int64)).to(out.device)
                    out = out.flatten(2).gather(2, keep[:, None, :].expand(-1, out.shape[1], -1))
                buf = buffers[k % len(buffers)][:len(batch)]  # its last write (batch k - 2) has finished
                torch.from_numpy(buf).copy_(out)
                del out
                if pending_write is not None:
                    pending_write.result()
                pending_write = writer.submit(write, i, buf)
                bar.update(len(batch))
            if pending_write is not None:
                pending_write.result()
