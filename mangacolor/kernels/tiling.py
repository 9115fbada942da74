"""Tiling: a page centred on a square black canvas and cut into square tiles.

A page (H, W) or (H, W, C) uint8 is placed at offset ((canvas - H) // 2, (canvas - W) // 2) on a black
canvas x canvas image (pages larger than the canvas are first scaled down to fit, ``fit_to_canvas``), and the canvas
is cut into (canvas // tile)^2 tiles in row-major order. A tile is blank when all its bytes are zero: padding, or
solid black ink; callers drop blank tiles by default. The C++ kernels write the tiles (and read the page through its
strides) in one pass; ``pad_and_tile_ref`` is the NumPy statement of the same thing.
"""
from __future__ import annotations

import dataclasses
import functools
import logging

import cv2
import numpy as np

from .. import _core

#: Where the scale note goes: a logger, so that a command can route it around its progress bar
#: (``tqdm.contrib.logging.logging_redirect_tqdm``); Python prints it on stderr when nobody configured logging.
log = logging.getLogger(__name__)


@dataclasses.dataclass
class Tiles:
    """All canvas tiles of one page, row-major, with where each came from."""

    tiles: np.ndarray  # (N, tile, tile[, C]) uint8
    positions: np.ndarray  # (N, 2) int32 (row, col) tile indices
    blank: np.ndarray  # (N,) bool, tile is all zero
    offset: tuple[int, int]  # (y0, x0) of the page on the canvas
    page_shape: tuple[int, int]  # (h, w) of the page as placed (after any scaling)
    scale: float  # the page's scale factor from fit_to_canvas (1.0 unless it was larger than the canvas)

    def nonblank(self) -> "Tiles":
        """The same tiles without the blank ones."""
        keep = ~self.blank
        return dataclasses.replace(self, tiles=self.tiles[keep], positions=self.positions[keep],
                                   blank=self.blank[keep])


def _check_grid(canvas: int, tile: int) -> None:
    if tile <= 0 or canvas <= 0 or canvas % tile:
        raise ValueError(f"tile {tile} must be positive and divide canvas {canvas}")


def _check_page(page: np.ndarray) -> np.ndarray:
    page = np.asarray(page)
    if page.dtype != np.uint8:
        raise ValueError(f"page must have dtype uint8, got {page.dtype}")
    if page.ndim not in (2, 3) or (page.ndim == 3 and page.shape[2] < 1):
        raise ValueError(f"page must have shape (H, W) or (H, W, C), got {page.shape}")
    return page


def fit_to_canvas(page: np.ndarray, canvas: int = 1344) -> tuple[np.ndarray, float]:
    """(page, scale): a page larger than the canvas in either side is scaled down (cv2.INTER_AREA) to fit, keeping
    its aspect ratio, with a warning on `log` naming both sizes as width x height (as every page error does); a page
    that fits comes back unchanged with scale 1.0."""
    page = _check_page(page)
    h, w = page.shape[:2]
    if h <= canvas and w <= canvas:
        return page, 1.0
    scale = canvas / max(h, w)
    nh, nw = min(canvas, max(1, round(h * scale))), min(canvas, max(1, round(w * scale)))
    log.warning("page of %dx%d (width x height) is larger than the %dx%d canvas: scaled by %.4f to %dx%d",
                w, h, canvas, canvas, scale, nw, nh)
    small = cv2.resize(np.ascontiguousarray(page), (nw, nh), interpolation=cv2.INTER_AREA)
    return small.reshape((nh, nw) + page.shape[2:]), scale


def page_offset(page_shape: tuple[int, int], canvas: int) -> tuple[int, int]:
    """(y0, x0) that centres a page of ``page_shape`` on the canvas."""
    return (canvas - page_shape[0]) // 2, (canvas - page_shape[1]) // 2


@functools.lru_cache(maxsize=8)
def _grid_positions(canvas: int, tile: int) -> np.ndarray:
    n = canvas // tile
    return np.stack(np.divmod(np.arange(n * n, dtype=np.int32), n), axis=1)


def _positions(canvas: int, tile: int) -> np.ndarray:
    return _grid_positions(canvas, tile).copy()


def pad_and_tile(page: np.ndarray, canvas: int = 1344, tile: int = 224) -> Tiles:
    """Centre a uint8 page (H, W) or (H, W, C) on a black canvas (scaling it down first if it is larger) and cut
    the canvas into tiles (C++, one pass, any page strides). Raises ValueError if tile does not divide canvas."""
    _check_grid(canvas, tile)
    page, scale = fit_to_canvas(page, canvas)
    offset = page_offset(page.shape[:2], canvas)
    tiles, blank = _core.pad_and_tile(page, canvas, tile, *offset)
    return Tiles(tiles, _positions(canvas, tile), blank, offset, tuple(page.shape[:2]), scale)


def pad_and_tile_ref(page: np.ndarray, canvas: int = 1344, tile: int = 224) -> Tiles:
    """NumPy reference of ``pad_and_tile``: paste onto a zero canvas, reshape into tiles, test each for any byte."""
    _check_grid(canvas, tile)
    page, scale = fit_to_canvas(page, canvas)
    (y0, x0), (h, w), n = page_offset(page.shape[:2], canvas), page.shape[:2], canvas // tile
    img = np.zeros((canvas, canvas) + page.shape[2:], np.uint8)
    img[y0:y0 + h, x0:x0 + w] = page
    channels = page.shape[2:]
    tiles = img.reshape((n, tile, n, tile) + channels).swapaxes(1, 2).reshape((n * n, tile, tile) + channels)
    blank = ~tiles.reshape(n * n, -1).any(axis=1)
    return Tiles(tiles, _positions(canvas, tile), blank, (y0, x0), (h, w), scale)
