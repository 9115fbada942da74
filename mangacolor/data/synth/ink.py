"""Drawing surface of the series: a palette-label layer and an ink layer, printed two ways.

A page is drawn once, as `label` (palette index per pixel, flat fills) and `ink` (antialiased line-art
coverage). `compose` prints it in colour (palette fills under the ink) and in B&W (paper, screentones and
solid ink under the same ink), so the colour page's line art is exactly the B&W page's.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache

import cv2
import numpy as np

from .palette import COVER, INDEX, PATTERN, RGB

SHIFT = 4  # cv2 sub-pixel bits for polygon coordinates
ONE = 1 << SHIFT


class Canvas:
    """Label + ink layers with a stack of similarity transforms (local units -> pixels)."""

    def __init__(self, h: int, w: int, max_line: int = 6):
        self.label = np.zeros((h, w), np.uint8)
        self.ink = np.zeros((h, w), np.uint8)
        self.xf = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        self.max_line = max_line

    @property
    def scale(self) -> float:
        return float(np.sqrt(abs(np.linalg.det(self.xf[:, :2]))))

    @contextmanager
    def transform(self, tx=0.0, ty=0.0, scale=1.0, angle=0.0, flip=False):
        """Nest a transform: local p -> (tx, ty) + scale * R(angle) * (±x, y); angle in degrees."""
        t = np.deg2rad(angle)
        c, s = np.cos(t) * scale, np.sin(t) * scale
        fx = -1.0 if flip else 1.0
        m = np.array([[c * fx, -s, tx], [s * fx, c, ty], [0, 0, 1]])
        saved = self.xf
        self.xf = saved @ m
        try:
            yield self
        finally:
            self.xf = saved

    def px(self, pts) -> np.ndarray:
        """Local points (N, 2) -> pixel coordinates (N, 2) float."""
        p = np.asarray(pts, np.float64).reshape(-1, 2)
        return p @ self.xf[:, :2].T + self.xf[:, 2]

    def _fixed(self, pts) -> np.ndarray:
        return np.round(self.px(pts) * ONE).astype(np.int32)

    def width(self, w: float) -> int:
        """Line width in local units -> whole pixels, at least 1 and at most max_line."""
        return int(np.clip(round(w * self.scale), 1, self.max_line))

    def fill(self, part: str, pts, line: float = 0.07):
        """Fill a polygon with a palette colour, covering what lies below, and outline it in ink."""
        p = self._fixed(pts)
        cv2.fillPoly(self.label, [p], INDEX[part], cv2.LINE_8, SHIFT)
        cv2.fillPoly(self.ink, [p], 0, cv2.LINE_8, SHIFT)
        if line:
            cv2.polylines(self.ink, [p], True, 255, self.width(line), cv2.LINE_AA, SHIFT)

    def fill_union(self, part: str, polys, line: float = 0.07):
        """Fill several overlapping polygons as one shape, outlining only the union (limbs, clouds)."""
        fixed = [self._fixed(p) for p in polys]
        allp = np.concatenate(fixed) >> SHIFT
        h, w = self.label.shape
        x0, y0 = np.clip(allp.min(0) - 2, 0, (w, h))
        x1, y1 = np.clip(allp.max(0) + 3, 0, (w, h))
        if x1 <= x0 or y1 <= y0:
            return
        m = np.zeros((y1 - y0, x1 - x0), np.uint8)
        for p in fixed:  # one call per polygon: a single fillPoly would cancel overlaps (even-odd rule)
            cv2.fillPoly(m, [p], 1, cv2.LINE_8, SHIFT, offset=(-int(x0) * ONE, -int(y0) * ONE))
        self.fill_pixels(part, m.astype(bool), self.width(line) if line else 0, (int(x0), int(y0)))

    def fill_pixels(self, part: str, mask: np.ndarray, line: int = 2, at=(0, 0)):
        """Fill a pixel mask (placed with its top-left at `at`) and outline its outer contours."""
        x0, y0 = at
        win = np.s_[y0:y0 + mask.shape[0], x0:x0 + mask.shape[1]]
        self.label[win][mask] = INDEX[part]
        self.ink[win][mask] = 0
        if line:
            cs, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE,
                                     offset=(x0, y0))
            cv2.polylines(self.ink, cs, True, 255, line, cv2.LINE_AA)

    def stroke(self, pts, w: float = 0.05, closed: bool = False):
        """An ink line through local points."""
        cv2.polylines(self.ink, [self._fixed(pts)], closed, 255, self.width(w), cv2.LINE_AA, SHIFT)

    def blot(self, pts):
        """A solid ink shape (pupils, shadows): ink only, the label below is kept."""
        cv2.fillPoly(self.ink, [self._fixed(pts)], 255, cv2.LINE_AA, SHIFT)

    def mask_of(self, pts) -> np.ndarray:
        m = np.zeros(self.label.shape, np.uint8)
        cv2.fillPoly(m, [self._fixed(pts)], 1, cv2.LINE_8, SHIFT)
        return m.astype(bool)


# ---------------------------------------------------------------- shapes (local units, y down)

def ellipse(cx, cy, rx, ry, a0=0.0, a1=360.0, n=40) -> np.ndarray:
    t = np.deg2rad(np.linspace(a0, a1, n, endpoint=(a1 - a0) % 360 != 0))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


def rect(x0, y0, x1, y1) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


def capsule(p0, p1, r0, r1, n=10) -> np.ndarray:
    """Rounded segment from p0 (radius r0) to p1 (radius r1): limbs, swords, bones."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    d = p1 - p0
    th = np.degrees(np.arctan2(d[1], d[0]))
    a = ellipse(p1[0], p1[1], r1, r1, th - 90, th + 90, n)
    b = ellipse(p0[0], p0[1], r0, r0, th + 90, th + 270, n)
    return np.concatenate([a, b])


def rotate(pts, deg, about=(0.0, 0.0)) -> np.ndarray:
    t = np.deg2rad(deg)
    r = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    a = np.asarray(about, float)
    return (np.asarray(pts, float) - a) @ r.T + a


def mirror(pts) -> np.ndarray:
    p = np.array(pts, float)
    p[:, 0] *= -1
    return p[::-1]


def polar(origin, angle_deg, length, side=1) -> np.ndarray:
    """End of a limb: angle 0 points down, 90 points sideways away from the body (side = ±1)."""
    t = np.deg2rad(angle_deg)
    return np.asarray(origin, float) + length * np.array([side * np.sin(t), np.cos(t)])


# ---------------------------------------------------------------- printing

def _rotated(h, w, deg):
    t = np.deg2rad(deg)
    y, x = np.arange(h, dtype=np.float32)[:, None], np.arange(w, dtype=np.float32)[None, :]
    return x * np.cos(t) + y * np.sin(t), -x * np.sin(t) + y * np.cos(t)


@lru_cache(maxsize=4)
def screen_maps(h: int, w: int) -> np.ndarray:
    """(4, h, w) float32 'darkness potential' per screen pattern, uniformly distributed in (0, 1):
    a pixel prints black where the region's coverage exceeds 1 - potential, so coverage is exact."""
    out = np.empty((4, h, w), np.float32)
    # clustered dots on a 45-degree lattice, 5.7 px apart: one 8 x 8 cell, pixels ranked by closeness to
    # the dot centre, tiled over the page
    a = 4
    y, x = np.mgrid[0:2 * a, 0:2 * a] + 0.5
    s = np.cos(np.pi * (x + y) / a) + np.cos(np.pi * (x - y) / a)
    rank = np.empty(s.size)
    rank[np.argsort(s.ravel(), kind="stable")] = np.arange(s.size)
    cell = ((rank + 0.5) / s.size).reshape(s.shape)
    out[0] = np.tile(cell, (h // (2 * a) + 1, w // (2 * a) + 1))[:h, :w]
    # diagonal lines, 5 px apart at -30 degrees: potential falls off linearly from each line's centre
    u, _ = _rotated(h, w, -30.0)
    out[1] = 1.0 - np.abs(2.0 * ((u / 5.0) % 1.0) - 1.0)
    # horizontal and vertical lines every 6 px, growing from the centre row/column of each period
    period = np.array([1, 5, 9, 11, 7, 3], np.float32) / 12
    out[2] = np.tile(period, w // 6 + 1)[None, :w]
    out[3] = np.tile(period, h // 6 + 1)[:h, None]
    return out


def screentone(label: np.ndarray) -> np.ndarray:
    """Paper (255) or ink (0) per pixel for a label image, by the palette's screens."""
    maps = screen_maps(*label.shape)
    pot = np.take_along_axis(maps, PATTERN[label][None].astype(np.intp), 0)[0]
    black = COVER[label] > 1.0 - pot
    return np.where(black, 0, 255).astype(np.uint8)


def compose(label: np.ndarray, ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Print the layers: (colour RGB uint8 (H, W, 3), B&W uint8 (H, W)) with identical line art."""
    # printed ink has crisp edges: steepen cv2's antialiasing ramp to about half a pixel
    keep = 1.0 - np.clip(2.0 * ink.astype(np.float32) - 127.5, 0, 255) / 255.0
    color = np.round(RGB[label] * keep[..., None]).astype(np.uint8)
    bw = np.round(screentone(label) * keep).astype(np.uint8)
    return color, bw
