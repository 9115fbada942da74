"""One page of the series: panels, their contents, bubbles and sound effects, printed in colour and B&W."""
from __future__ import annotations

import hashlib

import cv2
import numpy as np

from ..printing import degrade_scan, label_regions, print_page
from .arcs import get_arc
from .ink import Canvas, compose
from .lettering import sound_effect, speech_bubble
from .palette import INDEX
from .panels import draw_panel, layout


def stable_seed(*parts) -> int:
    """A 64-bit seed from its parts, the same in every process (Python's hash() is salted)."""
    key = "/".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little")


def chapter_style(series_seed: int, chapter: str, arc: str = "series") -> tuple[np.ndarray, np.ndarray]:
    """Frequencies of the arc's scenes and of its cast in a chapter, float64 (len(scenes),), (len(cast),) each
    summing to 1: chapters differ (one at sea, one on an island...), while every design and colour stays the
    series'. An arc's lead gets its fixed share of the cast frequencies."""
    a = get_arc(arc)
    rng = np.random.default_rng(stable_seed(series_seed, chapter, "style"))
    scene_p = 0.5 / len(a.scenes) + 0.5 * rng.dirichlet(np.ones(len(a.scenes)))
    cast_p = 0.6 / len(a.cast) + 0.4 * rng.dirichlet(np.ones(len(a.cast)))
    cast_p = cast_p / cast_p.sum()
    if a.lead is not None:
        lead = a.cast.index(a.lead)
        cast_p[lead] = 0.0
        cast_p *= (1.0 - a.lead_share) / cast_p.sum()
        cast_p[lead] = a.lead_share
    return scene_p / scene_p.sum(), cast_p


def render_layers(series_seed: int, chapter: str, index: int, size=(1200, 780), arc: str = "series"
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The page as (label (H, W) uint8 palette indices, ink (H, W) uint8 line-art coverage), drawn from the
    backdrops, cast and props of story arc `arc` (a key of ``arcs.ARCS``)."""
    h, w = size
    scene_p, cast_p = chapter_style(series_seed, chapter, arc)
    rng = np.random.default_rng(stable_seed(series_seed, chapter, index))
    page = Canvas(h, w)
    panels = layout(rng, h, w)
    speakers = []
    for quad in panels:
        x0, y0 = np.floor(quad.min(0)).astype(int)
        x1, y1 = np.ceil(quad.max(0)).astype(int)
        pc = Canvas(y1 - y0, x1 - x0, max_line=max(2, min(6, int(min(y1 - y0, x1 - x0) / 60))))
        heads = draw_panel(pc, rng, get_arc(arc), scene_p, cast_p)
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


def render_page(series_seed: int, chapter: str, index: int, size=(1200, 780), arc: str = "series"
                ) -> tuple[np.ndarray, np.ndarray]:
    """A page of the series, twice: (colour RGB uint8 (H, W, 3), printed B&W uint8 (H, W)), from story arc `arc`.
    Deterministic in its arguments."""
    return compose(*render_layers(series_seed, chapter, index, size, arc))


PRINT_STYLES = ("screentone", "fixed")
SFX_LABELS = [INDEX["sfx_red"], INDEX["sfx_purple"]]


def render_print(series_seed: int, chapter: str, index: int, style: str = "screentone", size=(1200, 780),
                 variant: int = 0, degrade: bool = False, arc: str = "series") -> tuple[np.ndarray, np.ndarray]:
    """A page of the series and one print of it: (colour RGB uint8 (H, W, 3), B&W uint8 (H, W)).

    The colour page is ``render_page``'s (story arc `arc`). ``style`` "screentone": the print model
    (``data.printing``) on the page's parts (its label image cut by the ink lines) and ink layer, seeded by the
    page and ``variant``, so each variant is another artist's toning of the same page (sound effects stay solid
    ink). "fixed": the palette's one screen per colour (``render_page``'s B&W page, the same for every
    variant). ``degrade`` adds scan degradations seeded by the page and ``variant``.
    """
    if style not in PRINT_STYLES:
        raise ValueError(f"print style must be one of {PRINT_STYLES}, got {style!r}")
    label, ink = render_layers(series_seed, chapter, index, size, arc)
    color, bw = compose(label, ink)
    if style == "screentone":
        seed = stable_seed(series_seed, chapter, index, "print", variant)
        bw = print_page(color, seed, label_regions(label, ink), ink)
        # sound effects stay solid ink, as in the fixed print: their outline is too faint to carry them
        bw[np.isin(label, SFX_LABELS)] = 0
    if degrade:
        bw = degrade_scan(bw, stable_seed(series_seed, chapter, index, "scan", variant))
    return color, bw
