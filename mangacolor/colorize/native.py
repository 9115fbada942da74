"""The native ``page`` strategy: a trained head applied fully convolutionally to a whole page's hypercolumns.

`features.native` gives every 8 x 8 px cell of the page its hypercolumn in one VGG pass; the heads are
convolutional too (1x1 and 3x3 convolutions, and a context branch on the grid pooled CONTEXT_POOL times), so the
head runs over the page's whole cell grid as over a training tile's 28 x 28, with neither tiles nor seams.

Exactness of bands. The grid is extended into the page's black frame to a multiple of CONTEXT_POOL cells, so the
context branch pools whole windows and enlarges by exactly CONTEXT_POOL (as on a 28 grid); the head then runs
on bands of cell rows starting on multiples of CONTEXT_POOL, each with `head_halo` more rows on either side, and
the bands' scores equal those of the head on the whole grid. Hypercolumn bands are consumed as they come, so the
memory is a few bands' whatever the page's height.

Pixels. ab on the cell grid is enlarged bilinearly to (ceil(H / 8) 8, ceil(W / 8) 8), cell centres on pixel
centres, and cropped to the page (H, W).
"""
from __future__ import annotations

from typing import Iterator

import cv2
import numpy as np
import torch
from torch import nn

from ..features.backbone import Hypercolumns
from ..features.device import resolve_device
from ..features.native import grid_shape, iter_page_hypercolumns
from ..features.scale import check_page, to_reference_scale
from ..model.decode import decode
from ..model.heads import CONTEXT_POOL, Head


def _conv_reach(modules: nn.Module) -> int:
    """Cells a stack of 'same' convolutions adds on each side of what a cell sees."""
    return sum(m.dilation[0] * (m.kernel_size[0] - 1) // 2 for m in modules.modules() if isinstance(m, nn.Conv2d))


def head_halo(head: nn.Module) -> tuple[int, int | None]:
    """(grid multiple, halo in cells) for banding ``head``: bands start on multiples of the first and carry the
    second more rows on each side. A `Head` with a context branch: CONTEXT_POOL, and the branch's reach (its pool
    window, its convolutions on the pooled grid, and the bilinear enlargement's neighbour) rounded up to it.
    Any other module: (1, None), i.e. run it on the whole grid at once.
    """
    if not isinstance(head, Head):
        return 1, None
    reach = _conv_reach(head.stem) + _conv_reach(head.fine)
    if head.context is None:
        return 1, reach
    context = _conv_reach(head.stem) + CONTEXT_POOL * (_conv_reach(head.context) + 1) + CONTEXT_POOL - 1
    return CONTEXT_POOL, -(-max(reach, context) // CONTEXT_POOL) * CONTEXT_POOL


def iter_native_scores(extractor: Hypercolumns, head: nn.Module, gray: np.ndarray,
                       device: str | torch.device = "cpu", band_rows: int | None = None, cell: int = 8
                       ) -> Iterator[tuple[int, torch.Tensor]]:
    """Head output on a grey page (H, W) uint8, band by band: yields (first cell row, (Q, rows, ceil(W / cell))).

    Q is the head's output channels (bin logits, or ab for a regression head); bands tile the ceil(H / cell) cell
    rows top to bottom, float32 on ``device``. The head runs in eval mode without gradients. band_rows and cell
    are those of `features.native.iter_page_hypercolumns`.
    """
    gray = check_page(gray)
    device = resolve_device(device)
    multiple, halo = head_halo(head)
    page_rows, page_cols = grid_shape(gray.shape, cell)
    total = grid_shape(gray.shape, cell, multiple)[0]
    head = head.to(device)
    was_training = head.training
    head.eval()
    try:
        buf, buf0, done = None, 0, 0  # buffered hypercolumn rows [buf0, buf0 + len); rows [0, done) are out
        for row0, feats in iter_page_hypercolumns(extractor, gray, device, band_rows, cell, multiple):
            buf = feats if buf is None else torch.cat([buf, feats], dim=1)
            have = buf0 + buf.shape[1]
            if have < total and (halo is None or have - halo <= done):
                continue
            end = total if have == total else (have - halo) // multiple * multiple
            if end <= done:
                continue
            lo = 0 if halo is None else max(0, done - halo)
            hi = have if halo is None else min(have, end + halo)
            with torch.no_grad():
                scores = head(buf[None, :, lo - buf0:hi - buf0])[0].float()
            if done < page_rows:  # rows past the page are the frame's, there for the context's pooling only
                yield done, scores[:, done - lo:min(end, page_rows) - lo, :page_cols]
            done = end
            if halo is not None and done - halo > buf0:
                buf, buf0 = buf[:, done - halo - buf0:], done - halo
    finally:
        head.train(was_training)


def colorize_native(extractor: Hypercolumns, head: nn.Module, gray: np.ndarray, device: str | torch.device = "cpu",
                    band_rows: int | None = None, cell: int = 8) -> np.ndarray:
    """Head output on the whole grey page (H, W) uint8 -> float32 (Q, ceil(H / cell), ceil(W / cell)), NumPy.

    Logits over the bins for a classification head (decode them with `model.decode.decode`), ab for regression.
    """
    parts = [scores.cpu().numpy() for _, scores in iter_native_scores(extractor, head, gray, device, band_rows, cell)]
    return np.concatenate(parts, axis=1)


def cells_to_pixels(ab_cells: np.ndarray, page_shape: tuple[int, int], cell: int = 8) -> np.ndarray:
    """ab on the cell grid (rows, cols, 2) -> ab per pixel (H, W, 2) float32: bilinear, cell centres on the centres
    of their cell x cell pixels, cropped to the page."""
    rows, cols = ab_cells.shape[:2]
    ab = cv2.resize(np.ascontiguousarray(ab_cells, np.float32), (cols * cell, rows * cell),
                    interpolation=cv2.INTER_LINEAR)
    return ab[:page_shape[0], :page_shape[1]]


def native_ab(extractor: Hypercolumns, head: nn.Module, gray: np.ndarray, kind: str, centers: np.ndarray,
              method: str, temperature: float, device: str | torch.device = "cpu", band_rows: int | None = None,
              cell: int = 8, reference: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """ab per pixel of a grey page (H, W) uint8 -> (ab (H, W, 2) float32, the page's scale).

    kind: the head's ("classification": logits decoded by ``method`` at ``temperature`` over ``centers`` (Q, 2),
    band by band; "regression": ab as predicted). reference: the training pages' screen profile
    (`features.scale.reference_profile`); when given the page is first brought to the training scale
    (`to_reference_scale`, which falls back to 1 with a warning) and its ab enlarged back onto (H, W).
    """
    if kind not in ("classification", "regression"):
        raise ValueError(f"kind must be 'classification' or 'regression', got {kind!r}")
    gray = check_page(gray)
    page, scale = to_reference_scale(gray, reference)
    rows, cols = grid_shape(page.shape, cell)
    ab_cells = np.empty((rows, cols, 2), np.float32)
    for row0, scores in iter_native_scores(extractor, head, page, device, band_rows, cell):
        if kind == "classification":
            ab = decode(scores[None], centers, method=method, T=temperature)[0]
        else:
            ab = scores.permute(1, 2, 0).cpu().numpy()
        ab_cells[row0:row0 + ab.shape[0]] = ab
    ab = cells_to_pixels(ab_cells, page.shape, cell)
    if ab.shape[:2] != gray.shape:
        ab = cv2.resize(ab, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    return ab, scale


# ---------------------------------------------------------------- the native strategies of a chapter run
#: Strategies that run on the whole page's cell grid, not on crops: ``page`` decodes every cell, ``contours``
#: decodes every closed region of the line art once (one flat colour per region, ``regions.flat_colors``).
NATIVE_STRATEGIES = ("page", "contours")


def native_features(extractor: Hypercolumns, gray: np.ndarray, device: str | torch.device = "cpu",
                    cell: int = 8) -> np.ndarray:
    """The page's hypercolumns on its cell grid extended into the black frame to whole context windows:
    float16 (C, rows, cols) with rows, cols multiples of CONTEXT_POOL (the page's cells first), so a head runs on
    it at once exactly as in bands."""
    bands = [f.cpu().numpy().astype(np.float16)
             for _, f in iter_page_hypercolumns(extractor, check_page(gray), device, None, cell, CONTEXT_POOL)]
    return np.concatenate(bands, axis=1)


def native_scores(head: nn.Module, meta: dict, x: np.ndarray, page_shape: tuple[int, int], cell: int
                  ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A trained head on cached native features (C, rows, cols) -> (scores (Q or 2, r, c), lightness (r, c) or
    None), cropped to the page's r x c cells."""
    r, c = grid_shape(page_shape, cell)
    with torch.inference_mode():
        xb = torch.from_numpy(np.asarray(x, np.float32))[None]
        if meta.get("lightness"):
            scores, light = head(xb, with_lightness=True)
            return scores[0, :, :r, :c], light[0, 0, :r, :c]
        return head(xb)[0, :, :r, :c], None


def native_lab(head: nn.Module, meta: dict, x: np.ndarray, page_shape: tuple[int, int], cell: int, strategy: str,
               centers: np.ndarray, method: str, temperature: float, abstention: dict | None,
               regions: np.ndarray | None = None) -> np.ndarray:
    """ab (H, W, 2), or Lab (H, W, 3) for a head with a lightness output, of a page from its native features.

    ``page``: every cell decoded, enlarged bilinearly to pixels. ``contours``: every closed region of the line art
    (``regions`` (H, W), 0 = none) pools its cells' distributions and is decoded once (``regions.flat_colors``),
    its lightness the area-weighted mean of its cells'; elsewhere the per-cell result. A regression head has no
    distributions: its ab is averaged per region."""
    from .regions import flat_colors, flat_lightness, region_means

    if strategy not in NATIVE_STRATEGIES:
        raise ValueError(f"native strategy must be one of {NATIVE_STRATEGIES}, got {strategy!r}")
    scores, light = native_scores(head, meta, x, page_shape, cell)
    classifier = meta["kind"] == "classification"

    def decode_probs(p: np.ndarray) -> np.ndarray:  # probabilities (Q, ...) -> ab (..., 2)
        flat = p.reshape(p.shape[0], -1, 1)[None]
        ab = decode(flat, centers, method=method, T=temperature, probs=True, abstention=abstention)
        return ab[0, :, 0].reshape(p.shape[1:] + (2,))

    if strategy == "contours" and regions is None:
        raise ValueError("the contours strategy needs the page's line-art regions")
    if classifier and strategy == "contours":
        ab = flat_colors(torch.log_softmax(scores.float(), 0).numpy(), regions, cell, decode_probs)
    else:
        cells = (decode(scores[None], centers, method=method, T=temperature, abstention=abstention)[0] if classifier
                 else scores.permute(1, 2, 0).numpy().astype(np.float32))
        ab = cells_to_pixels(cells, page_shape, cell)
        if strategy == "contours":
            ab = region_means(ab, regions)
    if light is None:
        return np.ascontiguousarray(ab, np.float32)
    light = light.numpy().astype(np.float32)
    lightness = (flat_lightness(light, regions, cell) if strategy == "contours"
                 else cells_to_pixels(light[..., None], page_shape, cell).reshape(page_shape))
    return np.concatenate([lightness[..., None], ab], axis=-1).astype(np.float32)
