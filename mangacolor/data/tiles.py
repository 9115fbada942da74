"""The tiles HDF5 of a chapter: B&W and colour tiles of every page with their page index and grid position."""
from __future__ import annotations

import contextlib
from pathlib import Path

import h5py
import numpy as np
from tqdm import tqdm

from ..io import atomic_path
from .pages import load_page_folder
from ..kernels.tiling import fit_to_canvas, pad_and_tile


def write_tiles(pages_dir: str | Path, out: str | Path, canvas: int = 1344, tile: int = 224,
                drop_blank: bool = True) -> int:
    """Pad and tile every print of every page of a page folder into ``out`` (datasets gray, color, page, pos);
    returns the tile count. Tiles of all prints of a page share its ``page`` index (the validation split keeps
    them together).

    Blank (all-black) tiles are judged on the B&W page and dropped unless ``drop_blank`` is False. Datasets grow
    page by page, so memory holds one page's tiles at a time.
    """
    rows, pages = load_page_folder(pages_dir, all_prints=True)
    page_of = [i for i, row in enumerate(rows) for _ in range(int(row.get("prints") or 1))]
    with atomic_path(out) as tmp, h5py.File(tmp, "w") as f:
        gray = f.create_dataset("gray", (0, tile, tile), np.uint8, maxshape=(None, tile, tile),
                                chunks=(1, tile, tile))
        color = f.create_dataset("color", (0, tile, tile, 3), np.uint8, maxshape=(None, tile, tile, 3),
                                 chunks=(1, tile, tile, 3))
        page_idx = f.create_dataset("page", (0,), np.int32, maxshape=(None,))
        pos = f.create_dataset("pos", (0, 2), np.int32, maxshape=(None, 2))
        for i, (rgb, bw) in zip(page_of, tqdm(pages, total=len(page_of), desc=f"tiles {Path(out).stem}",
                                              unit="print")):
            bw, _ = fit_to_canvas(bw, canvas)
            rgb, _ = fit_to_canvas(rgb, canvas)
            g = pad_and_tile(bw, canvas, tile)
            c = pad_and_tile(rgb, canvas, tile)
            keep = ~g.blank if drop_blank else np.ones(len(g.blank), bool)
            n0, n = len(gray), int(keep.sum())
            for ds in (gray, color, page_idx, pos):
                ds.resize(n0 + n, axis=0)
            gray[n0:] = g.tiles[keep]
            color[n0:] = c.tiles[keep]
            page_idx[n0:] = i
            pos[n0:] = g.positions[keep]
        f.attrs.update(canvas=canvas, tile=tile, drop_blank=drop_blank, pages=len(rows))
        count = len(gray)
    print(f"{out}: {count} tiles from {len(rows)} pages")
    return count


def read_tiles(tiles_paths: list[str | Path], indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """B&W and colour tiles at ``indices`` into the concatenation of several chapters' tiles files, in order."""
    gray, color = [], []
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(h5py.File(p, "r")) for p in tiles_paths]
        ends = np.cumsum([len(f["gray"]) for f in files])
        for i in np.asarray(indices, np.int64):
            k = int(np.searchsorted(ends, i, side="right"))
            j = int(i - (ends[k - 1] if k else 0))
            gray.append(files[k]["gray"][j])
            color.append(files[k]["color"][j])
        tile = files[0]["gray"].shape[1] if files else 0
    return (np.array(gray, np.uint8).reshape(-1, tile, tile), np.array(color, np.uint8).reshape(-1, tile, tile, 3))


def read_prints(tiles_path: str | Path, limit: int) -> list[np.ndarray]:
    """Up to ``limit`` B&W prints of a tiles file, reassembled from their tiles: each print's canvas cropped to the
    box of its non-black pixels (the page; the black canvas around it dropped), grey (H, W) uint8, in file order.

    A print's tiles are stored together in grid order, so a new print starts where the page index changes or a
    grid position (row, column) comes back."""
    prints = []
    with h5py.File(tiles_path, "r") as f:
        canvas, tile = int(f.attrs["canvas"]), f["gray"].shape[1]
        page, pos = f["page"][()], f["pos"][()]
        starts = [0] + [i for i in range(1, len(page))
                        if page[i] != page[i - 1] or tuple(pos[i]) <= tuple(pos[i - 1])] + [len(page)]
        for a, b in zip(starts[:-1], starts[1:]):
            if len(prints) == limit:
                break
            board = np.zeros((canvas, canvas), np.uint8)
            for (row, col), t in zip(pos[a:b], f["gray"][a:b]):  # grid positions
                board[row * tile:(row + 1) * tile, col * tile:(col + 1) * tile] = t
            rows, cols = np.flatnonzero(board.any(1)), np.flatnonzero(board.any(0))
            if len(rows):
                prints.append(board[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].copy())
    return prints
