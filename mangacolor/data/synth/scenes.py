"""Backgrounds and props of the series: sky, sea, the ship's deck and flag, an island's grass and tangerine
trees, focus-line action backdrops. Each scene fills a whole panel canvas and returns the ground line."""
from __future__ import annotations

import numpy as np

from .ink import Canvas, capsule, ellipse, rect

SCENES = ("sea", "deck", "island", "focus", "plain")


def _sky(c: Canvas, w, h, horizon, rng):
    c.fill("sky", rect(-5, -5, w + 5, horizon + 1), 0)
    for _ in range(rng.integers(0, 4)):
        cx, cy = rng.uniform(0, w), rng.uniform(0.1, 0.8) * horizon
        r = rng.uniform(0.04, 0.1) * max(w, h)
        blobs = [ellipse(cx + dx * r, cy + dy * r, r * s, r * s * 0.75, n=20)
                 for dx, dy, s in [(0, 0, 1.0), (-0.9, 0.25, 0.7), (0.9, 0.2, 0.75), (0.4, -0.35, 0.7)]]
        c.fill_union("white", blobs, 2.0 / c.scale)


def _sea(c: Canvas, w, y0, y1, rng):
    c.fill("sea", rect(-5, y0, w + 5, y1 + 5), 0)
    c.stroke([(-5, y0), (w + 5, y0)], 2)
    n = int(w * (y1 - y0) / 2500) + 3 if y1 - y0 > 8 else 0
    for _ in range(n):
        x, y = rng.uniform(-20, w), rng.uniform(y0 + 4, y1)
        size = 6 + 30 * (y - y0) / max(1.0, y1 - y0)
        c.stroke(ellipse(x, y + size * 0.3, size, size * 0.3, 200, 340, 8), 1.5)


def _ship_flag(c: Canvas, x, y, s):
    """The crew's jolly roger on a pole: black flag, white skull wearing the straw hat."""
    c.fill("wood_dark", rect(x - 0.06 * s, y, x + 0.06 * s, y + 2.6 * s), 2)
    flag = np.array([(0, 0.1), (1.6, 0), (1.5, 0.6), (1.65, 1.1), (0, 1.05)]) * s + (x, y)
    c.fill("black", flag, 2)
    cx, cy = x + 0.8 * s, y + 0.55 * s
    for a in (35, -35):
        t = np.deg2rad(a)
        d = 0.45 * s * np.array([np.cos(t), np.sin(t)])
        c.fill("white", capsule((cx, cy + 0.1 * s) - d, (cx, cy + 0.1 * s) + d, 0.05 * s, 0.05 * s, 4), 1)
    c.fill("white", ellipse(cx, cy, 0.25 * s, 0.22 * s, n=16), 1)
    for dx in (-0.09, 0.09):
        c.blot(ellipse(cx + dx * s, cy + 0.02 * s, 0.05 * s, 0.06 * s, n=10))
    c.fill("hat_straw", ellipse(cx, cy - 0.15 * s, 0.38 * s, 0.07 * s, n=16), 1)


def _deck(c: Canvas, w, h, rng):
    horizon = rng.uniform(0.25, 0.5) * h
    _sky(c, w, h, horizon, rng)
    rail = horizon + rng.uniform(0.02, 0.12) * h
    _sea(c, w, horizon, rail, rng)
    # perspective planks towards a vanishing point above the panel
    c.fill("wood", rect(-5, rail, w + 5, h + 5), 0)
    vx = rng.uniform(0.2, 0.8) * w
    for x in np.linspace(-w, 2 * w, 19):
        c.stroke([(vx + (x - vx) * 0.15, rail), (x, h + 5)], 1.5)
    for y in rail + (h - rail) * np.array([0.15, 0.35, 0.6, 0.9]):
        c.stroke([(-5, y), (w + 5, y)], 1)
    # railing with balusters
    top = rail - 0.12 * h
    for x in np.arange(rng.uniform(0, 30), w, max(18.0, 0.06 * w)):
        c.fill("wood_dark", rect(x, top, x + max(6.0, 0.02 * w), rail), 1.5)
    c.fill("wood_dark", rect(-5, top - 0.03 * h, w + 5, top + 0.005 * h), 2)
    if rng.random() < 0.6:  # mast with a furled sail and the flag
        mx = rng.choice([rng.uniform(0.05, 0.25), rng.uniform(0.75, 0.95)]) * w
        mw = max(10.0, 0.05 * w)
        c.fill("wood_dark", rect(mx - mw / 2, -5, mx + mw / 2, rail + 0.05 * h), 2)
        for y in np.arange(0.1, 1.0, 0.22) * rail:
            c.stroke([(mx - mw / 2, y), (mx + mw / 2, y)], 1)
        if rng.random() < 0.5:
            c.fill("white", capsule((mx - 0.25 * w, 0.12 * h), (mx + 0.25 * w, 0.12 * h), 0.03 * h, 0.03 * h), 2)
        else:
            _ship_flag(c, mx, 0.02 * h, 0.12 * h)


def _island(c: Canvas, w, h, rng):
    horizon = rng.uniform(0.3, 0.5) * h
    _sky(c, w, h, horizon, rng)
    shore = horizon + rng.uniform(0.08, 0.2) * h
    _sea(c, w, horizon, shore, rng)
    c.fill("sand", rect(-5, shore, w + 5, h + 5), 0)
    c.stroke([(-5, shore), (w + 5, shore)], 2)
    # grass hill in the foreground with blades along its crest
    x = np.linspace(-5, w + 5, 24)
    crest = shore + rng.uniform(0.05, 0.25) * h + 0.05 * h * np.sin(x / w * rng.uniform(2, 6) + rng.uniform(0, 6))
    hill = np.concatenate([np.stack([x, crest], 1), [(w + 5, h + 5), (-5, h + 5)]])
    c.fill("grass", hill, 2.0)
    for xi, yi in zip(x[1:-1:2], crest[1:-1:2]):
        for dx in (-5, 0, 5):
            c.stroke([(xi + dx, yi + 8), (xi + dx * 1.6, yi - 6)], 1)
    if rng.random() < 0.7:  # tangerine tree
        tx = rng.uniform(0.1, 0.9) * w
        th = rng.uniform(0.35, 0.6) * h
        base = float(np.interp(tx, x, crest)) + 0.03 * h
        trunk = [(tx - 0.03 * h, base), (tx + 0.03 * h, base), (tx + 0.015 * h, base - th), (tx - 0.015 * h, base - th)]
        c.fill("wood_dark", trunk, 2)
        r = 0.12 * h
        blobs = [ellipse(tx + dx * r, base - th + dy * r, r, r * 0.85, n=20)
                 for dx, dy in [(0, 0), (-1.1, 0.3), (1.1, 0.3), (-0.5, -0.6), (0.5, -0.6), (0, 0.5)]]
        c.fill_union("leaf", blobs, 2.0 / c.scale)
        for _ in range(7):
            fx, fy = tx + rng.uniform(-1.6, 1.6) * r, base - th + rng.uniform(-0.7, 0.8) * r
            c.fill("fruit", ellipse(fx, fy, 0.18 * r, 0.17 * r, n=14), 1.5)
            c.stroke([(fx, fy - 0.17 * r), (fx + 0.05 * r, fy - 0.26 * r)], 1)


def _focus(c: Canvas, w, h, rng):
    """Radial focus lines on a bright flash: the action backdrop."""
    c.fill("flash", rect(-5, -5, w + 5, h + 5), 0)
    cx, cy = rng.uniform(0.35, 0.65) * w, rng.uniform(0.35, 0.65) * h
    r_out = np.hypot(w, h)
    r_in = 0.3 * min(w, h)
    for a in np.sort(rng.uniform(0, 2 * np.pi, 90)):
        r0 = r_in * rng.uniform(0.9, 1.6)
        da = rng.uniform(0.004, 0.012)
        pts = [(cx + r0 * np.cos(a), cy + r0 * np.sin(a)),
               (cx + r_out * np.cos(a - da), cy + r_out * np.sin(a - da)),
               (cx + r_out * np.cos(a + da), cy + r_out * np.sin(a + da))]
        c.blot(pts)


def _plain(c: Canvas, w, h, rng):
    """Paper with horizontal speed lines, or nothing at all."""
    if rng.random() < 0.5:
        for y in rng.uniform(0, h, int(h / 8)):
            x0 = rng.uniform(-w, w)
            c.stroke([(x0, y), (x0 + rng.uniform(0.3, 1.0) * w, y)], 1)


def draw_scene(c: Canvas, kind: str, w: int, h: int, rng: np.random.Generator) -> float:
    """Fill the panel with a backdrop; returns the y where feet stand."""
    if kind == "sea":
        horizon = rng.uniform(0.3, 0.6) * h
        _sky(c, w, h, horizon, rng)
        _sea(c, w, horizon, h, rng)
        if rng.random() < 0.5:  # a rock in the sea
            x = rng.uniform(0.1, 0.9) * w
            c.fill("wood_dark", ellipse(x, horizon + 0.5 * (h - horizon), 0.1 * w, 0.05 * h, 180, 360, 16), 2)
        return h * rng.uniform(0.9, 1.05)
    if kind == "deck":
        _deck(c, w, h, rng)
    elif kind == "island":
        _island(c, w, h, rng)
    elif kind == "focus":
        _focus(c, w, h, rng)
    else:
        _plain(c, w, h, rng)
    return h * rng.uniform(0.88, 1.0)


def prop_closeup(c: Canvas, w: int, h: int, rng: np.random.Generator):
    """A panel without characters: a feast of meat, the ship's flag, or a tangerine branch."""
    kind = rng.integers(3)
    if kind == 0:
        c.fill("wood", rect(-5, -5, w + 5, h + 5), 0)
        for y in np.arange(rng.uniform(0, 30), h, 40):
            c.stroke([(-5, y), (w + 5, y + rng.uniform(-5, 5))], 1.5)
        c.fill("white", ellipse(w / 2, h * 0.6, 0.45 * w, 0.2 * h, n=40), 2)
        s = 0.18 * min(w, h)
        for k in range(int(rng.integers(2, 5))):
            x, y = w / 2 + rng.uniform(-0.25, 0.25) * w, h * 0.55 + rng.uniform(-0.1, 0.1) * h
            a = rng.uniform(-60, 60)
            with c.transform(x, y, s, a):
                c.fill("white", capsule((0, -1.1), (0, 1.1), 0.12, 0.12), 0.06)
                for e in (-1.15, 1.15):
                    c.fill("white", ellipse(-0.1, e, 0.14, 0.14, n=10), 0.05)
                    c.fill("white", ellipse(0.1, e, 0.14, 0.14, n=10), 0.05)
                c.fill("meat", ellipse(0, 0, 0.6, 0.85, n=28), 0.07)
                c.stroke(ellipse(0.15, -0.1, 0.3, 0.45, 200, 300, 8), 0.05)
    elif kind == 1:
        _sky(c, w, h, h + 5, rng)
        _ship_flag(c, 0.15 * w, 0.1 * h, 0.5 * min(w, h))
    else:
        _sky(c, w, h, h + 5, rng)
        r = 0.16 * min(w, h)
        c.fill("wood_dark", capsule((-5, 0.2 * h), (w + 5, 0.35 * h), 0.03 * h, 0.03 * h), 2)
        for _ in range(5):
            x = rng.uniform(0.1, 0.9) * w
            y = 0.2 * h + 0.15 * h * x / w
            a = rng.uniform(-40, 40)
            with c.transform(x, y, r, a):
                c.fill("leaf", [(0, 0), (0.5, 0.6), (0, 1.6), (-0.5, 0.6)], 0.05)
                c.stroke([(0, 0.1), (0, 1.4)], 0.03)
        for _ in range(int(rng.integers(2, 5))):
            x = rng.uniform(0.15, 0.85) * w
            y = 0.3 * h + 0.15 * h * x / w + rng.uniform(0.5, 2.0) * r
            c.fill("fruit", ellipse(x, y, r, r * 0.92, n=28), 2)
            c.stroke(ellipse(x - 0.3 * r, y - 0.3 * r, 0.35 * r, 0.3 * r, 190, 260, 6), 1.5)
