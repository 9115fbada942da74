"""Page layout (rows of panels, some tall, some with slanted dividers) and what one panel shows."""
from __future__ import annotations

import numpy as np

from .arcs import Arc
from .cast import CAST, HUMAN_HEIGHT, place, random_pose
from .ink import Canvas
from .scenes import draw_scene, prop_closeup

MARGINS = (60, 45, 75, 45)  # top, right, bottom, left, in pixels at 1200 x 780


def _fractions(rng, n, lo):
    """n positive fractions summing to 1, each at least lo."""
    f = rng.dirichlet(np.full(n, 3.0))
    return lo + f * (1 - n * lo)


def _row(rng, xl, xr, y0, y1, gutter, max_cols=3):
    """Panels of one row as quadrilaterals (TL, TR, BR, BL); inner dividers may slant."""
    n = int(rng.choice([1, 2, 2, 3] if max_cols >= 3 else [1, 2, 2]))
    n = min(n, max(1, int((xr - xl) / 170)))
    cuts = xl + np.cumsum(_fractions(rng, n, 0.22))[:-1] * (xr - xl)
    tops, bots = [xl], [xl]
    for x in cuts:
        d = rng.uniform(-0.12, 0.12) * (y1 - y0) if rng.random() < 0.3 else 0.0
        tops.append(x + d)
        bots.append(x - d)
    tops.append(xr)
    bots.append(xr)
    g = gutter / 2
    out = []
    for k in range(n):
        gl = g if k > 0 else 0.0
        gr = g if k < n - 1 else 0.0
        out.append(np.array([(tops[k] + gl, y0), (tops[k + 1] - gr, y0), (bots[k + 1] - gr, y1), (bots[k] + gl, y1)]))
    return out


def layout(rng: np.random.Generator, h: int, w: int) -> list[np.ndarray]:
    """A varied panel grid: 3-5 rows, 1-3 panels each, sometimes a tall panel spanning two rows."""
    sy = h / 1200
    top, right, bottom, left = (m * (sy if i % 2 == 0 else w / 780) for i, m in enumerate(MARGINS))
    gutter = float(rng.uniform(10, 20))
    nrows = int(rng.choice([3, 4, 4, 5]))
    ys = top + np.concatenate([[0], np.cumsum(_fractions(rng, nrows, 0.12))]) * (h - top - bottom)
    xl, xr = left, w - right
    panels: list[np.ndarray] = []
    tall = int(rng.integers(0, nrows - 1)) if rng.random() < 0.35 else -1
    r = 0
    while r < nrows:
        y0 = ys[r] + (gutter / 2 if r > 0 else 0)
        if r == tall:
            y1 = ys[r + 2] - (gutter / 2 if r + 2 < nrows else 0)
            tw = rng.uniform(0.3, 0.45) * (xr - xl)
            on_left = rng.random() < 0.5
            tx0, tx1 = (xl, xl + tw) if on_left else (xr - tw, xr)
            panels.append(np.array([(tx0, y0), (tx1, y0), (tx1, y1), (tx0, y1)]))
            rx0, rx1 = (tx1 + gutter, xr) if on_left else (xl, tx0 - gutter)
            ym = ys[r + 1]
            panels += _row(rng, rx0, rx1, y0, ym - gutter / 2, gutter, 2)
            panels += _row(rng, rx0, rx1, ym + gutter / 2, y1, gutter, 2)
            r += 2
        else:
            y1 = ys[r + 1] - (gutter / 2 if r + 1 < nrows else 0)
            panels += _row(rng, xl, xr, y0, y1, gutter)
            r += 1
    return panels


def draw_panel(c: Canvas, rng: np.random.Generator, arc: Arc, scene_p, cast_p) -> list[tuple[np.ndarray, float]]:
    """Draw a panel's backdrop and characters from `arc` (`scene_p`, `cast_p`: frequencies of its scenes and
    cast); returns (head centre, head radius) per character, in pixels."""
    h, w = c.label.shape
    if rng.random() < 0.1:
        prop_closeup(c, w, h, rng, arc.closeups)
        return []
    scene = arc.scenes[rng.choice(len(arc.scenes), p=scene_p)]
    ground = draw_scene(c, scene, w, h, rng)
    shot = rng.choice(["close", "medium", "wide"], p=[0.3, 0.35, 0.35])
    names = list(arc.cast)
    room = max(1, int(w / max(60.0, 0.35 * h)))  # how many full figures fit side by side
    n = {"close": int(rng.choice([1, 1, 2])), "medium": int(rng.choice([1, 2])),
         "wide": int(rng.integers(2, 5))}[str(shot)]
    n = max(1, min(n, room + (shot != "wide")))
    who = list(rng.choice(names, size=n, replace=False, p=cast_p))
    if shot == "wide":
        s = min(rng.uniform(0.55, 0.85) * h / HUMAN_HEIGHT, w / (n * 3.6))
    elif shot == "medium":
        s = min(rng.uniform(0.1, 0.16) * h, w / (n * 3.2))
    else:
        s = min(rng.uniform(0.22, 0.32) * h, w / (n * 2.6))
    heads = []
    xs = (np.arange(n) + 0.5) / n * w + rng.uniform(-0.08, 0.08, n) * w
    for k in rng.permutation(n):
        ch = CAST[who[k]]
        if shot == "wide":
            head_y = ground - ch.feet * s
        else:
            head_y = rng.uniform(0.32, 0.5) * h if shot == "medium" else rng.uniform(0.38, 0.6) * h
            if who[k] == "mascot" and shot == "medium":
                head_y += 0.1 * h
        holds = None
        if ch.props and rng.random() < 0.35:
            holds = ch.props[0]
        pose = random_pose(rng, holds)
        heads.append(place(c, who[k], float(xs[k]), float(head_y), float(s), pose, bool(rng.random() < 0.5)))
    return heads
