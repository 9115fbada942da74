"""One page of the series: panels, their contents, bubbles and sound effects, printed in colour and B&W."""
from __future__ import annotations

import hashlib

import cv2
import numpy as np

from .cast import CAST
from .ink import Canvas, compose
from .lettering import sound_effect, speech_bubble
from .panels import draw_panel, layout
from .scenes import SCENES


def stable_seed(*parts) -> int:
    """A 64-bit seed from its parts, the same in every process (Python's hash() is salted)."""
    key = "/".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little")


def chapter_style(series_seed: int, chapter: str) -> tuple[np.ndarray, np.ndarray]:
    """Scene and cast frequencies of a chapter: chapters differ (one at sea, one on an island...), while
    every design and colour stays the series'."""
    rng = np.random.default_rng(stable_seed(series_seed, chapter, "style"))
    scene_p = 0.5 / len(SCENES) + 0.5 * rng.dirichlet(np.ones(len(SCENES)))
    cast_p = 0.6 / len(CAST) + 0.4 * rng.dirichlet(np.ones(len(CAST)))
    return scene_p / scene_p.sum(), cast_p / cast_p.sum()


def render_layers(series_seed: int, chapter: str, index: int, size=(1200, 780)) -> tuple[np.ndarray, np.ndarray]:
    """The page as (label (H, W) uint8 palette indices, ink (H, W) uint8 line-art coverage)."""
    h, w = size
    rng = np.random.default_rng(stable_seed(series_seed, chapter, index))
    scene_p, cast_p = chapter_style(series_seed, chapter)
    page = Canvas(h, w)
    panels = layout(rng, h, w)
    speakers = []
    for quad in panels:
        x0, y0 = np.floor(quad.min(0)).astype(int)
        x1, y1 = np.ceil(quad.max(0)).astype(int)
        pc = Canvas(y1 - y0, x1 - x0, max_line=max(2, min(6, int(min(y1 - y0, x1 - x0) / 60))))
        heads = draw_panel(pc, rng, scene_p, cast_p)
        inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(inside, [np.round(quad - (x0, y0)).astype(np.int32)], 1)
        inside = inside.astype(bool)
        page.label[y0:y1, x0:x1][inside] = pc.label[inside]
        page.ink[y0:y1, x0:x1][inside] = pc.ink[inside]
        speakers.append([(head + (x0, y0), r) for head, r in heads])
    for quad in panels:
        page.stroke(quad, 3, closed=True)
    for quad, heads in zip(panels, speakers):
        _letter_panel(page, quad, heads, rng)
    return page.label, page.ink


def _letter_panel(page: Canvas, quad, heads, rng):
    """Bubbles along the top of a panel, pointing at their speakers; a sound effect lower down."""
    (x0, y0), (x1, y1) = quad.min(0), quad.max(0)
    pw, ph = x1 - x0, y1 - y0
    placed = []
    for _ in range(int(rng.choice([0, 1, 1, 2])) if heads else 0):
        head, r = heads[int(rng.integers(len(heads)))]
        rx = float(np.clip(rng.uniform(0.13, 0.2) * pw, 35, 85))
        aspect = rng.uniform(1.1, 1.6)
        for _try in range(8):  # beside the speakers' faces or above them, never on another bubble
            ry = float(np.clip(rx * aspect, 40, 0.42 * ph))
            cx = float(np.clip(head[0] + rng.uniform(-3.5, 3.5) * r, x0 + rx + 8, x1 - rx - 8))
            cy = float(y0 + ry + rng.uniform(6, 12))
            clear = all(abs(cx - hx) > rx + 0.6 * hr or cy + ry < hy - 1.2 * hr for (hx, hy), hr in heads)
            if 2 * rx + 16 < pw and clear and all(abs(cx - bx) > rx + brx for bx, brx in placed):
                break
            rx = max(30.0, rx * 0.85)
        else:
            continue
        placed.append((cx, rx))
        tail = head - (0, 1.3 * r) if head[1] - 1.3 * r > cy + ry else None
        speech_bubble(page, cx, cy, rx, ry, tail, rng, shout=bool(rng.random() < 0.2))
    if heads and rng.random() < 0.45:
        height = float(np.clip(rng.uniform(0.12, 0.22) * ph, 36, 120))
        cx = rng.uniform(x0 + 0.25 * pw, x1 - 0.25 * pw)
        cy = rng.uniform(y0 + 0.55 * ph, y1 - 0.15 * ph)
        colour = "sfx_red" if rng.random() < 0.6 else "sfx_purple"
        sound_effect(page, cx, cy, height, float(rng.uniform(-25, 25)), colour, rng)


def render_page(series_seed: int, chapter: str, index: int, size=(1200, 780)) -> tuple[np.ndarray, np.ndarray]:
    """A page of the series, twice: (colour RGB uint8 (H, W, 3), printed B&W uint8 (H, W)).
    Deterministic in its arguments."""
    return compose(*render_layers(series_seed, chapter, index, size))
