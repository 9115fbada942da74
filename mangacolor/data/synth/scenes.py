"""Backgrounds and props of the series: sky, sea, the ship's deck and flag, an island's grass and tangerine
trees, focus-line action backdrops; for the new arc (`arcs.ARCS`) a winter island's snowfields and firs, a
snowed-in village and a castle hall of stone with banners and lanterns. Each backdrop fills a whole panel canvas
(`draw_scene` returns the ground line); a prop close-up fills a panel without characters (`prop_closeup`)."""
from __future__ import annotations

import numpy as np

from .ink import Canvas, capsule, ellipse, rect


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


def _sky_and_sea(c: Canvas, w, h, rng, horizon_range, shore_range) -> float:
    """Sky down to a horizon, sea from it down to a shore line (fractions of h drawn from the ranges); the shore y."""
    horizon = rng.uniform(*horizon_range) * h
    _sky(c, w, h, horizon, rng)
    shore = horizon + rng.uniform(*shore_range) * h
    _sea(c, w, horizon, shore, rng)
    return shore


def _deck(c: Canvas, w, h, rng):
    rail = _sky_and_sea(c, w, h, rng, (0.25, 0.5), (0.02, 0.12))
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
    shore = _sky_and_sea(c, w, h, rng, (0.3, 0.5), (0.08, 0.2))
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


def _sea_view(c: Canvas, w, h, rng):
    horizon = rng.uniform(0.3, 0.6) * h
    _sky(c, w, h, horizon, rng)
    _sea(c, w, horizon, h, rng)
    if rng.random() < 0.5:  # a rock in the sea
        x = rng.uniform(0.1, 0.9) * w
        c.fill("wood_dark", ellipse(x, horizon + 0.5 * (h - horizon), 0.1 * w, 0.05 * h, 180, 360, 16), 2)


# ---------------------------------------------------------------- the new arc: a winter island

def lantern(c: Canvas, top, size: float = 1.0):
    """A brass storm lantern hanging from `top` (its handle's top); 2.15 * `size` tall, in the canvas's units."""
    x, y = top
    with c.transform(x, y, size):
        c.stroke(ellipse(0, 0.35, 0.35, 0.35, 180, 360, 10), 0.1)  # the handle
        c.fill("brass", [(-0.35, 0.5), (0.35, 0.5), (0.6, 0.85), (-0.6, 0.85)], 0.08)
        c.fill("glow", rect(-0.5, 0.85, 0.5, 1.85), 0.08)
        c.blot(ellipse(0, 1.45, 0.1, 0.2, n=10))  # the flame, in ink as the artist draws it
        for bx in (-0.2, 0.2):
            c.stroke([(bx, 0.85), (bx, 1.85)], 0.05)
        c.fill("brass", [(-0.6, 1.85), (0.6, 1.85), (0.45, 2.15), (-0.45, 2.15)], 0.08)


def _snowflakes(c: Canvas, w, y0, y1, rng, per_px=1 / 4000):
    n = int(w * max(0.0, y1 - y0) * per_px)
    for x, y, r in zip(rng.uniform(0, w, n), rng.uniform(y0, y1, n), rng.uniform(1.5, 4.0, n)):
        c.fill("snow", ellipse(x, y, r, r, n=8), 1)


def _pine(c: Canvas, x, base, height):
    """A snow-laden fir standing on `base`: a trunk and three tiers of needles, each capped with snow."""
    c.fill("wood_dark", rect(x - 0.05 * height, base - 0.2 * height, x + 0.05 * height, base), 1.5)
    for k in range(3):  # the bottom tier first, each higher one narrower and in front
        yb = base - 0.15 * height - 0.25 * k * height
        ya = yb - 0.42 * height
        half = 0.34 * height * (1 - 0.25 * k)
        c.fill("pine", [(x, ya), (x + half, yb), (x + 0.5 * half, yb - 0.06 * height), (x, yb),
                        (x - 0.5 * half, yb - 0.06 * height), (x - half, yb)], 1.5)
        f = np.array([0.45, 0.3, 0.5, 0.28, 0.45])  # the cap's wavy lower edge, as fractions of the tier
        cap_x = x + half * np.array([0.45, 0.22, 0.0, -0.22, -0.45]) * np.array([1, 0.9, 1, 0.9, 1])
        cap = np.concatenate([[(x, ya)], np.stack([cap_x, ya + f * (yb - ya)], 1)])
        c.fill("snow", cap, 1.5)


def _snowfield(c: Canvas, w, h, rng):
    """A dusk sky over icy mountains, snow to the panel's foot, firs, sometimes a frozen lake, falling snow."""
    horizon = rng.uniform(0.3, 0.55) * h
    c.fill("dusk", rect(-5, -5, w + 5, horizon + 1), 0)
    xs = np.linspace(-5, w + 5, 2 * int(rng.integers(2, 5)) + 1)
    ys = horizon - np.where(np.arange(len(xs)) % 2 == 1, rng.uniform(0.12, 0.3, len(xs)),
                            rng.uniform(0.0, 0.06, len(xs))) * h
    c.fill("ice", np.concatenate([np.stack([xs, ys], 1), [(w + 5, horizon + 1), (-5, horizon + 1)]]), 2)
    for x, y in zip(xs[1::2], ys[1::2]):  # snow on the peaks
        d = 0.04 * h
        c.fill("snow", [(x, y), (x + 1.3 * d, y + d), (x + 0.4 * d, y + 0.7 * d), (x, y + 1.1 * d),
                        (x - 0.5 * d, y + 0.7 * d), (x - 1.3 * d, y + d)], 1.5)
    c.fill("snow", rect(-5, horizon, w + 5, h + 5), 0)
    c.stroke([(-5, horizon), (w + 5, horizon)], 2)
    if rng.random() < 0.5:  # a frozen lake with cracks
        lx, ly = rng.uniform(0.3, 0.7) * w, horizon + rng.uniform(0.1, 0.25) * (h - horizon)
        rx, ry = rng.uniform(0.25, 0.4) * w, 0.08 * (h - horizon) + 4
        c.fill("ice", ellipse(lx, ly, rx, ry, n=32), 2)
        for _ in range(3):
            a = rng.uniform(0, 2 * np.pi)
            c.stroke([(lx, ly), (lx + 0.5 * rx * np.cos(a), ly + 0.5 * ry * np.sin(a)),
                      (lx + 0.8 * rx * np.cos(a + 0.3), ly + 0.8 * ry * np.sin(a + 0.3))], 1)
    for _ in range(int(w * (h - horizon) / 6000) + 2):  # drifts
        x, y = rng.uniform(-20, w), rng.uniform(horizon + 6, h)
        size = 8 + 30 * (y - horizon) / max(1.0, h - horizon)
        c.stroke(ellipse(x, y, size, size * 0.25, 200, 340, 8), 1.5)
    bases = np.sort(rng.uniform(horizon + 0.02 * h, 1.05 * h, int(rng.integers(1, 4))))
    for base in bases:  # far firs first; nearer ones stand lower and taller
        _pine(c, rng.uniform(0.05, 0.95) * w, base, (0.25 + 0.6 * (base - horizon) / (h - horizon)) * h)
    _snowflakes(c, w, 0, h, rng)


def _house(c: Canvas, x0, x1, ground, height, rng):
    """A half-timbered house: plaster and beams, a slate roof under snow with icicles, lit windows, a door."""
    wall_top = ground - height
    c.fill("plaster", rect(x0, wall_top, x1, ground), 2)
    beam = max(3.0, 0.04 * (x1 - x0))
    for x in (x0, 0.5 * (x0 + x1) - beam / 2, x1 - beam):
        c.fill("wood_dark", rect(x, wall_top, x + beam, ground), 1)
    c.fill("wood_dark", rect(x0, wall_top + 0.45 * height, x1, wall_top + 0.45 * height + beam), 1)
    for wx in (0.25, 0.75):  # a lit window in each bay, upstairs
        cx, cy, r = x0 + wx * (x1 - x0), wall_top + 0.22 * height, 0.1 * (x1 - x0)
        c.fill("glow", rect(cx - r, cy - r, cx + r, cy + r), 1.5)
        c.stroke([(cx, cy - r), (cx, cy + r)], 1)
        c.stroke([(cx - r, cy), (cx + r, cy)], 1)
    dx = (0.25 if rng.random() < 0.5 else 0.75) * (x1 - x0)
    c.fill("wood_dark", rect(x0 + dx - 0.09 * (x1 - x0), ground - 0.38 * height, x0 + dx + 0.09 * (x1 - x0), ground),
           1.5)
    over = 0.08 * (x1 - x0)
    peak = wall_top - rng.uniform(0.4, 0.7) * (x1 - x0)
    c.fill("stone", rect(x0 + 0.65 * (x1 - x0), peak, x0 + 0.78 * (x1 - x0), wall_top - 0.1 * (x1 - x0)), 1.5)
    c.fill("roof_slate", [(x0 - over, wall_top), (0.5 * (x0 + x1), peak), (x1 + over, wall_top)], 2)
    snow = [(x0 - over, wall_top - 0.02 * height), (0.5 * (x0 + x1), peak),
            (x1 + over, wall_top - 0.02 * height)]
    c.fill("snow", np.concatenate([snow, [(x1 + 0.5 * over, wall_top - 0.12 * (x1 - x0)),
                                          (0.5 * (x0 + x1), peak + 0.14 * (x1 - x0)),
                                          (x0 - 0.5 * over, wall_top - 0.12 * (x1 - x0))]]), 1.5)
    for x in np.arange(x0, x1, 0.12 * (x1 - x0)):  # icicles along the eave
        c.fill("ice", [(x, wall_top), (x + 0.05 * (x1 - x0), wall_top),
                       (x + 0.025 * (x1 - x0), wall_top + rng.uniform(0.04, 0.1) * height)], 1)


def _village(c: Canvas, w, h, rng):
    """A snowed-in village street at dusk: a row of half-timbered houses, lit windows, snow falling."""
    street = rng.uniform(0.55, 0.8) * h
    c.fill("dusk", rect(-5, -5, w + 5, street + 1), 0)
    c.fill("snow", rect(-5, street, w + 5, h + 5), 0)
    c.stroke([(-5, street), (w + 5, street)], 2)
    x = rng.uniform(-0.3, 0.0) * w
    while x < w:
        width = rng.uniform(0.3, 0.5) * w + 20
        _house(c, x, x + width, street, rng.uniform(0.35, 0.5) * street, rng)
        x += width + rng.uniform(0.02, 0.1) * w
    for _ in range(int(w * (h - street) / 5000) + 1):  # footprints and drifts in the street
        fx, fy = rng.uniform(-20, w), rng.uniform(street + 4, h)
        c.stroke(ellipse(fx, fy, 12, 3, 200, 340, 8), 1.5)
    _snowflakes(c, w, 0, h, rng)


def _stone_courses(c: Canvas, w, y0, y1, rng, block):
    """Ashlar masonry between y0 and y1: courses `block` pixels high, joints staggered."""
    length = 2.2 * block  # of a block
    start = rng.uniform(0, length)
    for k, y in enumerate(np.arange(y0, y1, block)):
        c.stroke([(-5, y), (w + 5, y)], 1.5)
        for x in np.arange((start + 0.5 * length * k) % length - length, w + 5, length):  # joints half a block on
            c.stroke([(x, y), (x, min(y + block, y1))], 1.5)


def _banner(c: Canvas, x, y1, width):
    """A hanging banner from the top of the panel to y1, swallow-tailed, with a brass rod and a gold crest."""
    c.fill("banner", [(x - width / 2, -5), (x + width / 2, -5), (x + width / 2, y1), (x, y1 - 0.3 * width),
                      (x - width / 2, y1)], 2)
    c.fill("gold", [(x, 0.35 * y1 - 0.3 * width), (x + 0.25 * width, 0.35 * y1), (x, 0.35 * y1 + 0.3 * width),
                    (x - 0.25 * width, 0.35 * y1)], 1.5)
    c.fill("brass", capsule((x - 0.65 * width, 0.03 * y1), (x + 0.65 * width, 0.03 * y1), 3, 3, 4), 1.5)


def _flagstones(c: Canvas, w, h, floor, rng):
    c.fill("flagstone", rect(-5, floor, w + 5, h + 5), 0)
    c.stroke([(-5, floor), (w + 5, floor)], 2)
    vx = rng.uniform(0.2, 0.8) * w
    for x in np.linspace(-w, 2 * w, 13):
        c.stroke([(vx + (x - vx) * 0.2, floor), (x, h + 5)], 1.5)
    for y in floor + (h - floor) * np.array([0.2, 0.5, 0.9]):
        c.stroke([(-5, y), (w + 5, y)], 1)


def _castle(c: Canvas, w, h, rng):
    """A castle hall: a stone wall with an arched window on the dusk, banners and lanterns, a flagstone floor."""
    floor = rng.uniform(0.6, 0.8) * h
    c.fill("stone", rect(-5, -5, w + 5, floor), 0)
    _stone_courses(c, w, rng.uniform(0, 0.04) * h, floor, rng, rng.uniform(0.06, 0.1) * h)
    slots = rng.permutation(np.linspace(0.15, 0.85, 4)) * w  # window, banners and lanterns never overlap
    if rng.random() < 0.6:
        x, half = slots[0], 0.09 * w + 8
        top, bottom = 0.12 * h + half, 0.55 * floor
        arch = np.concatenate([ellipse(x, top, half, half, 180, 360, 16), [(x + half, bottom), (x - half, bottom)]])
        c.fill("dusk", arch, 3)
        c.fill("glow", ellipse(x + 0.3 * half, top, 0.25 * half, 0.25 * half, n=16), 1.5)  # the moon
        c.stroke([(x, top - half), (x, bottom)], 2)
        c.stroke([(x - half, 0.5 * (top + bottom)), (x + half, 0.5 * (top + bottom))], 2)
    for x in slots[1:1 + int(rng.integers(1, 3))]:
        _banner(c, x, rng.uniform(0.35, 0.55) * floor, rng.uniform(0.08, 0.14) * w + 6)
    for x in slots[3:]:
        if rng.random() < 0.7:
            size = 0.05 * h + 3
            c.fill("brass", [(x - 0.8 * size, 0.3 * floor), (x, 0.3 * floor), (x, 0.3 * floor + 0.3 * size)], 1.5)
            lantern(c, (x - 0.8 * size, 0.3 * floor), size)
    _flagstones(c, w, h, floor, rng)


# ---------------------------------------------------------------- panels

BACKDROPS = {"sea": _sea_view, "deck": _deck, "island": _island, "focus": _focus, "plain": _plain,
             "snowfield": _snowfield, "village": _village, "castle": _castle}


def draw_scene(c: Canvas, kind: str, w: int, h: int, rng: np.random.Generator) -> float:
    """Fill the panel with a backdrop (a key of BACKDROPS); returns the y where feet stand."""
    if kind not in BACKDROPS:
        raise ValueError(f"unknown backdrop {kind!r}: expected one of {', '.join(BACKDROPS)}")
    BACKDROPS[kind](c, w, h, rng)
    if kind == "sea":
        return h * rng.uniform(0.9, 1.05)  # figures at sea may stand in the water, below the panel
    return h * rng.uniform(0.88, 1.0)


def _feast(c: Canvas, w, h, rng):
    """Meat on the bone, piled on a plate on a wooden table."""
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


def _flag_closeup(c: Canvas, w, h, rng):
    _sky(c, w, h, h + 5, rng)
    _ship_flag(c, 0.15 * w, 0.1 * h, 0.5 * min(w, h))


def _tangerine_branch(c: Canvas, w, h, rng):
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


def _lantern_closeup(c: Canvas, w, h, rng):
    """A lantern on its bracket against a stone wall."""
    c.fill("stone", rect(-5, -5, w + 5, h + 5), 0)
    _stone_courses(c, w, rng.uniform(0, 0.1) * h, h + 5, rng, rng.uniform(0.12, 0.2) * h)
    size = 0.35 * min(w / 1.2, h / 2.6)
    x, y = rng.uniform(0.4, 0.6) * w, 0.12 * h
    c.fill("brass", rect(x - 1.4 * size, y - 0.12 * size, x + 0.1 * size, y + 0.12 * size), 2)
    c.fill("brass", [(x - 1.4 * size, y), (x - 1.2 * size, y), (x - 1.2 * size, y + 0.9 * size)], 2)
    lantern(c, (x, y), size)


def _chest_closeup(c: Canvas, w, h, rng):
    """A treasure chest, plum-painted and bound in brass, gold coins spilled on the flagstones."""
    c.fill("stone", rect(-5, -5, w + 5, 0.45 * h), 0)
    _stone_courses(c, w, 0, 0.45 * h, rng, 0.12 * h)
    _flagstones(c, w, h, 0.45 * h, rng)
    s = 0.4 * min(w, 1.6 * h)
    x, y = rng.uniform(0.4, 0.6) * w, 0.8 * h  # the chest's front bottom centre
    with c.transform(x, y, s):
        c.fill("chest_plum", rect(-0.8, -0.7, 0.8, 0), 0.02)
        c.fill("chest_plum", np.concatenate([ellipse(0, -0.7, 0.8, 0.4, 180, 360, 24), [(0.8, -0.7)]]), 0.02)
        for bx in (-0.55, 0.55):  # brass bands over the body and the rounded lid
            top = -0.7 - 0.4 * np.sqrt(1 - (abs(bx) + 0.07) ** 2 / 0.64)
            c.fill("brass", rect(bx - 0.07, top, bx + 0.07, 0), 0.015)
        c.stroke([(-0.8, -0.7), (0.8, -0.7)], 0.02)  # the lid's seam
        c.fill("brass", rect(-0.12, -0.82, 0.12, -0.5), 0.015)  # the lock
        c.blot(ellipse(0, -0.64, 0.03, 0.06, n=8))
    for _ in range(int(rng.integers(4, 9))):
        cx, cy = x + rng.uniform(-0.9, 0.9) * s, y + rng.uniform(0.02, 0.15) * s
        c.fill("gold", ellipse(cx, cy, 0.08 * s, 0.035 * s, n=14), 1.5)


def _pine_closeup(c: Canvas, w, h, rng):
    """A snow-laden fir branch across the dusk, with cones, in falling snow."""
    c.fill("dusk", rect(-5, -5, w + 5, h + 5), 0)
    y0, y1 = rng.uniform(0.25, 0.45) * h, rng.uniform(0.25, 0.45) * h
    c.fill("wood_dark", capsule((-5, y0), (w + 5, y1), 0.025 * h, 0.02 * h), 2)
    r = 0.2 * min(w, h)
    for x in np.arange(rng.uniform(0, 0.5 * r), w, 0.6 * r):
        y = y0 + (y1 - y0) * x / w
        for a in (-50, -20, 20, 50, 160, 200):  # needles fan out above and below the branch
            with c.transform(x, y, r, a + 180):
                c.fill("pine", [(0, 0), (0.1, 0.5), (0, 1.0), (-0.1, 0.5)], 0.04)
        c.fill("snow", ellipse(x, y - 0.55 * r, 0.45 * r, 0.18 * r, n=16), 1.5)
    for _ in range(int(rng.integers(1, 4))):
        x = rng.uniform(0.15, 0.85) * w
        y = y0 + (y1 - y0) * x / w + 0.9 * r
        c.fill("wood", ellipse(x, y, 0.22 * r, 0.4 * r, n=20), 1.5)
        for k in (-1, 0, 1):
            c.stroke([(x - 0.2 * r, y + k * 0.2 * r - 0.05 * r), (x + 0.2 * r, y + k * 0.2 * r + 0.05 * r)], 1)
    _snowflakes(c, w, 0, h, rng)


CLOSEUPS = {"feast": _feast, "flag": _flag_closeup, "branch": _tangerine_branch,
            "lantern": _lantern_closeup, "chest": _chest_closeup, "pine": _pine_closeup}


def prop_closeup(c: Canvas, w: int, h: int, rng: np.random.Generator, kinds: tuple[str, ...]):
    """A panel without characters: one of `kinds` (keys of CLOSEUPS), drawn by chance."""
    CLOSEUPS[kinds[rng.integers(len(kinds))]](c, w, h, rng)
