"""Crop strategies: colourise whole pages with a model that maps grey 224x224 crops to ab on a G x G grid.

The VGG pass over crops is expensive and does not depend on the ab bins, so each strategy has two phases:
``plan_crops(gray_page, strategy, **params) -> CropPlan`` cuts the crops and records where they came from (the
plan can be saved and its crops' hypercolumns cached), and ``compose(gray_page, plan, ab_crops)`` puts the
crops' ab (N, G, G, 2) back on the page. ``to_rgb`` then joins that chroma with the page's own full-resolution
lightness. ab is upsampled bilinearly (``cv2.resize``, pixel centres aligned).

Strategies
- ``tiles``: the page is centred on the black ``canvas`` square (scaled down first if larger, as for training)
  and cut into ``tile`` squares; all-black tiles are skipped and get ab = 0; tiles are stitched back edge to edge,
  seams included (the original method). Stitching happens on the G grid and the canvas is upsampled once, so
  seams are the model's disagreements between tiles, not an artefact of upsampling each tile alone.
- ``overlap``: the same canvas cut with ``stride`` < ``tile`` (default 112); every tile's ab is weighted by a
  separable raised-cosine window w(t) = sin^2(pi (t + 0.5) / tile), and the page is the weighted sum divided by
  the summed weights. For stride = tile/2 the windows of neighbours sum to 1, so the blend is a partition of
  unity; at the canvas edge a single tile covers the pixels and the normalisation returns its own ab. Skipped
  all-black tiles take part with ab = 0, as in ``tiles``.
- ``page`` and ``contours`` need no crops: they run on the whole page's cell grid at its own scale
  (``colorize.native``), ``contours`` with one flat colour per closed region of the line art.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from ..kernels.lab import lab_to_rgb, rgb_to_lab
from ..kernels.tiling import fit_to_canvas, page_offset

CROP_STRATEGIES = ("tiles", "overlap")  # the native ones (page, contours) live in colorize.native


# ---------------------------------------------------------------- colour
def gray_lightness(gray: np.ndarray) -> np.ndarray:
    """Lab L of each grey value g, i.e. of the RGB colour (g, g, g) (not 100 g / 255: L is not linear in g)."""
    lut = rgb_to_lab(np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1))[:, 0]
    return lut[gray].astype(np.float32)


def to_rgb(gray_page: np.ndarray, ab_page: np.ndarray) -> np.ndarray:
    """Page colour = its own full-resolution L with ``ab_page`` (resized bilinearly if smaller) as chroma."""
    h, w = gray_page.shape
    ab = np.asarray(ab_page, np.float32)
    if ab.shape[:2] != (h, w):
        ab = cv2.resize(ab, (w, h), interpolation=cv2.INTER_LINEAR)
    lab = np.concatenate([gray_lightness(gray_page)[..., None], ab], axis=-1)
    return lab_to_rgb(lab)


# ---------------------------------------------------------------- decoding the classifier's output
# ---------------------------------------------------------------- the plan
@dataclass
class CropPlan:
    """Crops of one page and the geometry to put their colourisation back.

    ``boxes`` (N, 4) int32 (y0, x0, y1, x1), exclusive ends, is each crop's footprint in page pixels (canvas
    tiles may reach past the page: figures clip). Canvas strategies also keep ``canvas``, ``offset`` (y0, x0)
    of the scaled page on the canvas, ``scale`` and ``work_shape`` (from fitting the page to the canvas; 1.0 and
    the page shape unless it was larger), ``stride`` and ``origins``
    (N, 2) top-left of each tile on the canvas. ``inner`` (N, 4) is the part of each crop (crop pixels) that
    shows the box (not all of it when letterboxed); ``polygons`` holds each crop's contour ((K, 2) x, y page
    pixels; empty for the whole-page crop).
    """

    strategy: str
    page_shape: tuple[int, int]
    crops: np.ndarray
    boxes: np.ndarray
    tile: int = 224
    canvas: int = 0
    offset: tuple[int, int] = (0, 0)
    scale: float = 1.0
    work_shape: tuple[int, int] = (0, 0)
    stride: int = 0
    origins: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int32))
    inner: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.int32))
    polygons: list = field(default_factory=list)

    _ATTRS = ("strategy", "page_shape", "tile", "canvas", "offset", "scale", "work_shape", "stride")

    def __len__(self) -> int:
        return len(self.crops)

    def _arrays(self) -> dict:
        pts = [np.asarray(p, np.int32).reshape(-1, 2) for p in self.polygons]
        return {"crops": self.crops, "boxes": self.boxes, "origins": self.origins, "inner": self.inner,
                "poly_points": np.concatenate(pts) if pts else np.zeros((0, 2), np.int32),
                "poly_offsets": np.cumsum([0] + [len(p) for p in pts]).astype(np.int64)}

    def save(self, target) -> None:
        """Write to an h5py group (datasets + attrs), or to a path ending in .npz or .h5 (atomically)."""
        from ..io import atomic_path

        if isinstance(target, (str, os.PathLike)):
            target = Path(target)
            with atomic_path(target) as tmp:
                if target.suffix == ".npz":
                    with open(tmp, "wb") as f:
                        np.savez_compressed(f, **self._arrays(),
                                            **{k: np.asarray(getattr(self, k)) for k in self._ATTRS})
                else:
                    import h5py
                    with h5py.File(tmp, "w") as f:
                        self.save(f)
            return
        for k, v in self._arrays().items():
            if k in target:
                del target[k]
            kw = {"chunks": (1,) + v.shape[1:], "compression": "gzip"} if k == "crops" and len(v) else {}
            target.create_dataset(k, data=v, **kw)
        for k in self._ATTRS:
            target.attrs[k] = getattr(self, k)

    @classmethod
    def load(cls, source) -> "CropPlan":
        """Read what ``save`` wrote (h5py group, .npz or .h5 path)."""
        if isinstance(source, (str, os.PathLike)):
            if Path(source).suffix == ".npz":
                with np.load(source) as z:
                    return cls._from({k: z[k] for k in z.files}, {k: z[k][()] for k in cls._ATTRS})
            import h5py
            with h5py.File(source, "r") as f:
                return cls.load(f)
        return cls._from({k: source[k][()] for k in source.keys()}, dict(source.attrs))

    @classmethod
    def _from(cls, arrays: dict, attrs: dict) -> "CropPlan":
        off, pts = arrays["poly_offsets"], arrays["poly_points"]
        strategy = attrs["strategy"]
        return cls(strategy=strategy.decode() if isinstance(strategy, bytes) else str(strategy),
                   page_shape=tuple(int(v) for v in attrs["page_shape"]), crops=arrays["crops"],
                   boxes=arrays["boxes"], tile=int(attrs["tile"]), canvas=int(attrs["canvas"]),
                   offset=tuple(int(v) for v in attrs["offset"]), scale=float(attrs["scale"]),
                   work_shape=tuple(int(v) for v in attrs["work_shape"]),
                   stride=int(attrs["stride"]), origins=arrays["origins"], inner=arrays["inner"],
                   polygons=[pts[off[i]:off[i + 1]] for i in range(len(off) - 1)])


# ---------------------------------------------------------------- planning
def _on_canvas(gray: np.ndarray, canvas: int, tile: int):
    """(canvas image, offset, scale) with the page placed as ``kernels.tiling`` places training pages."""
    gray, scale = fit_to_canvas(gray, canvas)
    offset = page_offset(gray.shape, canvas)
    img = np.zeros((canvas, canvas), np.uint8)
    img[offset[0]:offset[0] + gray.shape[0], offset[1]:offset[1] + gray.shape[1]] = gray
    return img, offset, float(scale), gray.shape


def _plan_canvas(gray, strategy, canvas, tile, stride):
    if stride <= 0 or stride > tile:
        raise ValueError(f"stride must be in 1..tile={tile}, got {stride}")
    img, offset, scale, work_shape = _on_canvas(gray, canvas, tile)
    starts = list(range(0, canvas - tile + 1, stride))
    if starts[-1] != canvas - tile:
        starts.append(canvas - tile)
    origins, crops = [], []
    for y in starts:
        for x in starts:
            crop = img[y:y + tile, x:x + tile]
            if crop.any():  # all-black tiles are skipped; their ab is 0
                origins.append((y, x))
                crops.append(crop)
    origins = np.array(origins, np.int32).reshape(-1, 2)
    corners = np.concatenate([origins - offset, origins - offset + tile], axis=1)
    boxes = np.rint(corners / scale).astype(np.int32)
    return CropPlan(strategy, gray.shape, np.array(crops, np.uint8).reshape(-1, tile, tile), boxes, tile, canvas,
                    offset, scale, work_shape, stride, origins,
                    np.tile(np.int32([0, 0, tile, tile]), (len(origins), 1)))


def plan_crops(gray_page: np.ndarray, strategy: str, tile: int = 224, canvas: int = 1344, stride: int = 112
               ) -> CropPlan:
    """Cut ``gray_page`` (H, W) uint8 into the crops of a crop strategy (module docstring): ``canvas`` and ``tile``
    place and cut the page, ``stride`` spaces the overlapping tiles."""
    gray = np.asarray(gray_page)
    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise ValueError(f"gray_page must be (H, W) uint8, got {gray.shape} {gray.dtype}")
    if strategy == "tiles":
        return _plan_canvas(gray, strategy, canvas, tile, tile)
    if strategy == "overlap":
        return _plan_canvas(gray, strategy, canvas, tile, stride)
    raise ValueError(f"unknown crop strategy {strategy!r}; expected one of {CROP_STRATEGIES}")


# ---------------------------------------------------------------- composing
def _window(tile: int) -> np.ndarray:
    t = np.arange(tile, dtype=np.float64)
    return np.sin(np.pi * (t + 0.5) / tile) ** 2


def _ab_to_box(ab: np.ndarray, inner, tile: int, out_hw: tuple[int, int]) -> np.ndarray:
    """The ``inner`` part of a crop's (G, G, 2) ab, resized to ``out_hw``."""
    h, w = out_hw
    if tuple(inner) != (0, 0, tile, tile):
        ab = cv2.resize(ab, (tile, tile), interpolation=cv2.INTER_LINEAR)
        ab = ab[inner[0]:inner[2], inner[1]:inner[3]]
    if ab.shape[:2] == (h, w):
        return ab
    return cv2.resize(ab, (w, h), interpolation=cv2.INTER_LINEAR)


def _crop_canvas(ab_canvas: np.ndarray, plan: CropPlan, page_shape: tuple[int, int]) -> np.ndarray:
    """The page's part of a canvas ab, resized back to the page's full size if it was scaled to fit."""
    (sh, sw), (oy, ox) = plan.work_shape, plan.offset
    ab = ab_canvas[oy:oy + sh, ox:ox + sw]
    if (sh, sw) != tuple(page_shape):
        ab = cv2.resize(ab, page_shape[::-1], interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(ab)


def compose(gray_page: np.ndarray, plan: CropPlan, ab_crops: np.ndarray) -> np.ndarray:
    """Put the crops' ab (N, G, G, 2) back on the page: ab (H, W, 2) float32 at the page's full resolution. Crops
    of Lab (N, G, G, 3) (a head's lightness beside its ab) compose the same way into (H, W, 3)."""
    ab_crops = np.asarray(ab_crops, np.float32)
    h, w = gray_page.shape
    if ab_crops.ndim != 4 or ab_crops.shape[0] != len(plan) or ab_crops.shape[-1] not in (2, 3):
        raise ValueError(f"ab_crops must be ({len(plan)}, G, G, 2 or 3), got {ab_crops.shape}")
    k = ab_crops.shape[-1]
    if (h, w) != tuple(plan.page_shape):
        raise ValueError(f"page is {h}x{w} but the plan was made for {plan.page_shape}")
    T = plan.tile
    if plan.strategy in ("tiles", "overlap"):
        C = plan.canvas
        G = ab_crops.shape[1]
        if plan.strategy == "tiles" and (C * G) % T == 0:
            # stitch at grid resolution, then upsample the whole canvas once: a perfect model leaves no seam
            # (upsampling tile by tile would hold each tile's border cells flat and jump between them)
            grid = np.zeros((C * G // T, C * G // T, k), np.float32)
            for (y, x), ab in zip(plan.origins, ab_crops):
                grid[y * G // T:y * G // T + G, x * G // T:x * G // T + G] = ab
            ab_canvas = grid if G == T else cv2.resize(grid, (C, C), interpolation=cv2.INTER_LINEAR)
            return _crop_canvas(ab_canvas, plan, (h, w))
        acc = np.zeros((C, C, k), np.float64)
        wsum = np.zeros((C, C), np.float64)
        win = np.outer(_window(T), _window(T)) if plan.strategy == "overlap" else np.ones((T, T))
        for (y, x), ab in zip(plan.origins, ab_crops):
            acc[y:y + T, x:x + T] += _ab_to_box(ab, (0, 0, T, T), T, (T, T)) * win[..., None]
        # skipped all-black tiles count with ab = 0: their weight still enters the normalisation
        starts = sorted(set(range(0, C - T + 1, plan.stride)) | {C - T})
        for y in starts:
            for x in starts:
                wsum[y:y + T, x:x + T] += win
        return _crop_canvas((acc / np.maximum(wsum, 1e-12)[..., None]).astype(np.float32), plan, (h, w))
    raise ValueError(f"unknown crop strategy {plan.strategy!r}")


def colorize_page(gray_page: np.ndarray, strategy: str, model: Callable[[np.ndarray], np.ndarray],
                  **params) -> tuple[np.ndarray, np.ndarray, CropPlan]:
    """Plan, run ``model`` (crops (N, T, T) uint8 -> ab (N, G, G, 2)), compose, convert: (rgb, ab_page, plan)."""
    plan = plan_crops(gray_page, strategy, **params)
    ab = compose(gray_page, plan, model(plan.crops) if len(plan) else np.zeros((0, 1, 1, 2), np.float32))
    return to_rgb(gray_page, ab), ab, plan
