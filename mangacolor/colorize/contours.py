"""Panel-like regions of a B&W page found with OpenCV contours, for the `contours` colourisation strategy.

Panels are white regions enclosed by black borders. Art inside a panel often touches its border, so the white
interior of a panel is rarely one connected region; the border together with the art touching it is, though,
one connected *ink* component, and its outer boundary is the panel's outline. So the page is binarised with
ink (grey < ``thresh``) as foreground and every outer boundary from ``cv2.findContours(RETR_LIST)`` is a
candidate: all of them, nested and overlapping ones included. Hole boundaries (the inside edge of a border, the
inside of a closed stroke) are dropped because they duplicate the outline they sit in; ``findContours`` traces
outer boundaries clockwise and holes counter-clockwise, so the sign of the oriented area tells them apart.

A candidate is kept when (the *shape test*)
- its area (``cv2.contourArea``) is at least ``min_area`` (default 224*224: a region smaller than one crop would be
  upsampled to feed the network) and at most ``max_area_frac`` of the page (drops the page itself when ink joins
  everything, e.g. black gutters);
- its bounding box aspect ratio w/h lies in [1/max_aspect, max_aspect] (default 4: squeezing a strip into a
  224x224 square distorts it beyond what the network saw in training);
- its solidity (area / convex-hull area) is at least ``min_solidity`` (default 0.8: panels are convex polygons,
  blobs of art that happen to be large are not).
"""
from __future__ import annotations

import colorsys
from dataclasses import dataclass

import cv2
import numpy as np

MIN_AREA = 224 * 224


@dataclass
class Region:
    """One contour: ``points`` (K, 2) int32 as OpenCV gives them, (x, y) in page pixels;
    ``bbox`` (y0, x0, y1, x1) with exclusive ends; ``area`` in pixels; ``aspect`` = bbox width / height;
    ``solidity`` = area / convex hull area."""

    points: np.ndarray
    bbox: tuple[int, int, int, int]
    area: float
    aspect: float
    solidity: float

    def mask(self, shape: tuple[int, int]) -> np.ndarray:
        """Filled contour (its outline included) as a bool (H, W) mask."""
        m = np.zeros(shape, np.uint8)
        cv2.fillPoly(m, [self.points.reshape(-1, 1, 2)], 1)
        cv2.polylines(m, [self.points.reshape(-1, 1, 2)], True, 1)
        return m.astype(bool)


def _candidates(gray_page: np.ndarray, thresh: int) -> list[Region]:
    """Outer boundaries of ink components, biggest first."""
    if gray_page.ndim != 2 or gray_page.dtype != np.uint8:
        raise ValueError(f"gray_page must be (H, W) uint8, got {gray_page.shape} {gray_page.dtype}")
    ink = (gray_page < thresh).astype(np.uint8)
    # one pixel of background around the page so that ink touching the page edge still has a closed outline
    ink = cv2.copyMakeBorder(ink, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    contours, _ = cv2.findContours(ink, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    regions = []
    for c in contours:
        if cv2.contourArea(c, oriented=True) > 0:  # counter-clockwise: a hole, not an outer boundary
            continue
        pts = c.reshape(-1, 2).astype(np.int32) - 1
        area = float(cv2.contourArea(pts))
        x, y, w, h = cv2.boundingRect(pts)
        hull = float(cv2.contourArea(cv2.convexHull(pts)))
        regions.append(Region(pts, (y, x, y + h, x + w), area, w / h, area / hull if hull > 0 else 0.0))
    regions.sort(key=lambda r: -r.area)
    return regions


def find_contours(gray_page: np.ndarray, min_area: float = MIN_AREA, max_aspect: float = 4.0,
                  min_solidity: float = 0.8, max_area_frac: float = 0.95, thresh: int = 128) -> list[Region]:
    """Regions of the page that pass the area and shape tests (module docstring), biggest first."""
    page_area = gray_page.shape[0] * gray_page.shape[1]
    return [r for r in _candidates(gray_page, thresh)
            if min_area <= r.area <= max_area_frac * page_area
            and 1 / max_aspect <= r.aspect <= max_aspect
            and r.solidity >= min_solidity]


def aspect_ratios(gray_pages, min_area: float = MIN_AREA, max_area_frac: float = 0.95,
                  thresh: int = 128) -> np.ndarray:
    """Bounding-box aspect ratios (w/h) of every contour passing the area test, before the shape test, over one
    page or an iterable of pages: what the histogram figure uses to justify ``max_aspect``."""
    if isinstance(gray_pages, np.ndarray) and gray_pages.ndim == 2:
        gray_pages = [gray_pages]
    out = []
    for page in gray_pages:
        out += [r.aspect for r in find_contours(page, min_area, np.inf, 0.0, max_area_frac, thresh)]
    return np.asarray(out, np.float64)


def region_colors(n: int) -> np.ndarray:
    """``n`` distinct saturated RGB colours (uint8 (n, 3)), hues spread by the golden ratio."""
    return np.array([[round(255 * v) for v in colorsys.hsv_to_rgb((i * 0.618034) % 1.0, 0.9, 0.95)]
                     for i in range(n)], np.uint8).reshape(n, 3)


def draw_contours(gray_page: np.ndarray, regions: list[Region], thickness: int = 4,
                  labels: bool = True) -> np.ndarray:
    """RGB overlay of the regions on the grey page, one colour per region (overlaps stay visible)."""
    rgb = np.ascontiguousarray(np.repeat(gray_page[..., None], 3, axis=2))
    for i, (r, col) in enumerate(zip(regions, region_colors(len(regions)))):
        col = tuple(int(v) for v in col)
        cv2.polylines(rgb, [r.points.reshape(-1, 1, 2)], True, col, thickness, cv2.LINE_AA)
        if labels:
            y0, x0 = r.bbox[:2]
            cv2.putText(rgb, str(i), (x0 + 2 * thickness, y0 + 12 * thickness), cv2.FONT_HERSHEY_SIMPLEX,
                        thickness / 3, col, max(1, thickness // 2), cv2.LINE_AA)
    return rgb
