"""Hypercolumns of a whole page in one fully convolutional pass, band by band.

Training cuts pages into 224 tiles and runs VGG16 on each. Its layers are 3x3 convolutions, ReLUs and 2x2 pools,
so the same network slid once over the whole page gives every ``cell`` x ``cell`` block of page pixels
(cell = tile / grid, 8 for 224 / 28) a hypercolumn, without recomputing what neighbouring tiles share.

Geometry. Cell (i, j) covers page pixels [i cell, (i + 1) cell) x [j cell, (j + 1) cell); a page (H, W) has
ceil(H / cell) x ceil(W / cell) cells. Before the pass the page is framed in black (0):
- black, because training pages are centred on a black canvas: a cell at the page's edge then sees what it saw
  in training (page, then black), neither the network's zero padding (mean grey after the input convention) nor
  an invented strip of white paper;
- ``margin`` pixels on every side, as far as the deepest layer reaches (`band_geometry`), so that no page cell
  sees the zero padding; the margin is whole cells, so the page starts on a cell boundary and padding enters
  only the last, partial row and column of cells (when H or W is no multiple of cell), which straddle page and
  black as the training cells at a page's edge did; the bottom and right are extended to a multiple of ``align``.

Bands. The framed page is processed in horizontal bands of ``band_rows`` page rows (a multiple of ``align``, so
every pool window and grid cell lines up with the whole-page pass), each with ``halo`` more rows above and below
(the reach rounded up to ``align``), then cropped: a band's cells are exactly the whole-page pass's. Memory is
that of one band, whatever the page's height.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
from torch import nn

from .backbone import Hypercolumns
from .device import resolve_device
from .scale import check_page

#: Default band size: page pixels (rows x padded width) per band, halo excluded; a 1200 x 780 page is one band.
BAND_PIXELS = 1 << 21


@dataclass(frozen=True)
class BandGeometry:
    """How a page is framed and cut for an extractor: all lengths in page pixels.

    cell: pixels per grid cell; align: every band start, band height and framed side is a multiple of it (the
    least common multiple of cell and the coarsest layer's stride); reach: how far from a grid cell's own
    pixels its hypercolumn can see; halo = margin: reach rounded up to align.
    """

    cell: int
    align: int
    reach: int
    halo: int

    @property
    def margin(self) -> int:
        return self.halo


def _pair(v) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


def band_geometry(extractor: Hypercolumns, cell: int = 8) -> BandGeometry:
    """Reach, alignment and halo of the extractor's layers for grid cells of ``cell`` pixels.

    Each "same" convolution (k, dilation d) widens what a position sees by d (k - 1) / 2 positions on each side,
    each pool by (k - 1) (its window reaches forward only; counted on both sides); a layer coarser than the cell
    is enlarged bilinearly, which reads one more of its positions. Raises ValueError for a module that cannot be
    banded exactly, or for a cell that is neither a multiple nor a divisor of a layer's stride.
    """
    if cell <= 0:
        raise ValueError(f"cell must be a positive number of pixels, got {cell}")
    reach, jump, need, strides = 0, 1, 0, []
    for i, module in enumerate(extractor.features):
        if isinstance(module, nn.Conv2d):
            (k, _), (d, _), (s, _), (p, _) = (_pair(module.kernel_size), _pair(module.dilation),
                                              _pair(module.stride), _pair(module.padding))
            if s != 1 or p != d * (k - 1) // 2:
                raise ValueError(f"features[{i}] is no 'same' convolution (stride {s}, padding {p}): cannot band it")
            reach += d * (k - 1) // 2 * jump
        elif isinstance(module, nn.MaxPool2d):
            (k, _), (s, _) = _pair(module.kernel_size), _pair(module.stride or module.kernel_size)
            if _pair(module.padding)[0] or _pair(module.dilation)[0] != 1:
                raise ValueError(f"features[{i}]: a padded or dilated pool cannot be banded")
            reach += (k - 1) * jump
            jump *= s
        elif not isinstance(module, nn.ReLU):
            raise ValueError(f"features[{i}] is a {type(module).__name__}: only Conv2d, ReLU and MaxPool2d band")
        if i in extractor.layers:
            if cell % jump and jump % cell:
                raise ValueError(f"cell {cell} px does not line up with layer {i} (stride {jump} px): "
                                 "use a cell that is a multiple or a divisor of every layer's stride")
            strides.append(jump)
            need = max(need, reach + (jump if jump > cell else 0))
    align = math.lcm(cell, max(strides))
    return BandGeometry(cell, align, need, -(-need // align) * align)


def _band_rows(band_rows: int | None, geo: BandGeometry, padded_width: int) -> int:
    if band_rows is None:
        return max(geo.align, BAND_PIXELS // padded_width // geo.align * geo.align)
    if band_rows <= 0 or band_rows % geo.align:
        raise ValueError(f"band_rows must be a positive multiple of {geo.align} (cell {geo.cell} px, layer strides), "
                         f"got {band_rows}")
    return int(band_rows)


def grid_shape(page_shape: tuple[int, int], cell: int, grid_multiple: int = 1) -> tuple[int, int]:
    """Cells (rows, cols) of a page: ceil(side / cell), rounded up to a multiple of grid_multiple."""
    return tuple(-(-side // (cell * grid_multiple)) * grid_multiple for side in page_shape)


def frame_page(gray: np.ndarray, geo: BandGeometry, grid_multiple: int = 1) -> np.ndarray:
    """The page (H, W) uint8 framed in black: ``margin`` on every side of its `grid_shape`, which is extended
    to a multiple of align."""
    gray = check_page(gray)
    m, a = geo.margin, geo.align
    rows, cols = (-(-n * geo.cell // a) * a for n in grid_shape(gray.shape, geo.cell, grid_multiple))
    out = np.zeros((2 * m + rows, 2 * m + cols), np.uint8)
    out[m:m + gray.shape[0], m:m + gray.shape[1]] = gray
    return out


def iter_page_hypercolumns(extractor: Hypercolumns, gray: np.ndarray, device: str | torch.device = "cpu",
                           band_rows: int | None = None, cell: int = 8, grid_multiple: int = 1
                           ) -> Iterator[tuple[int, torch.Tensor]]:
    """Hypercolumns of a grey page (H, W) uint8, band by band: yields (first cell row, (C, rows, ceil(W / cell))).

    Bands come top to bottom and tile the ceil(H / cell) cell rows; each is float32 on ``device``, computed
    without gradients. band_rows: page rows per band, a multiple of ``band_geometry(...).align`` (8 for the default
    layers); None fits a band into BAND_PIXELS. cell: page pixels per grid cell, the training tile / grid.
    grid_multiple: extend the grid into the black frame to a multiple of this many cells (`grid_shape`), as a head
    whose context pools cells needs whole windows.
    """
    geo = band_geometry(extractor, cell)
    framed = frame_page(gray, geo, grid_multiple)
    cells_h, cells_w = grid_shape(gray.shape, cell, grid_multiple)
    rows = _band_rows(band_rows, geo, framed.shape[1])
    device = resolve_device(device)
    extractor = extractor.to(device).eval()
    m, a, halo = geo.margin, geo.align, geo.halo
    c0 = m // cell  # first page column in framed cells
    for row0 in range(0, cells_h, rows // cell):
        row1 = min(row0 + rows // cell, cells_h)
        start, end = m + row0 * cell, m + row1 * cell  # framed pixel rows of the band's own cells
        lo, hi = max(0, start - halo), min(framed.shape[0], -(-end // a) * a + halo)
        x = torch.from_numpy(framed[lo:hi]).to(device)[None, None]
        with torch.no_grad():
            feats = extractor(x, size=((hi - lo) // cell, framed.shape[1] // cell))[0]
        yield row0, feats[:, (start - lo) // cell:(end - lo) // cell, c0:c0 + cells_w].float()


def page_hypercolumns(extractor: Hypercolumns, gray: np.ndarray, device: str | torch.device = "cpu",
                      band_rows: int | None = None, cell: int = 8, dtype=np.float32) -> np.ndarray:
    """Hypercolumns of a whole grey page (H, W) uint8 -> (C, ceil(H / cell), ceil(W / cell)) of ``dtype``.

    Equal to one pass over the whole framed page for any band_rows (module docstring). For large pages use
    dtype=np.float16 (half the memory) or consume `iter_page_hypercolumns` band by band.
    """
    gray = check_page(gray)
    out = np.empty((extractor.channels, -(-gray.shape[0] // cell), -(-gray.shape[1] // cell)), dtype)
    for row0, feats in iter_page_hypercolumns(extractor, gray, device, band_rows, cell):
        out[:, row0:row0 + feats.shape[1]] = feats.cpu().numpy()
    return out
