"""Speech bubbles with scribbled vertical text (black ink in both printings), and sound effects: solid
ink letters in print, red or purple letters with an ink outline in colour, inside a white halo."""
from __future__ import annotations

import cv2
import numpy as np

from .ink import Canvas, ellipse
from .palette import INDEX

SFX_WORDS = ("DOON", "BAM", "GOGOGO", "ZAAA", "DOKAN", "BOOM", "WHAM", "GUUU", "ZUN", "BAKI", "DON", "KRAK")


def _scribble_column(c: Canvas, x, y0, y1, glyph, rng):
    """A column of glyph-like ink scribbles, as text reads in a manga bubble."""
    y = y0
    while y + glyph <= y1:
        for _ in range(rng.integers(1, 4)):
            kind = rng.integers(3)
            if kind == 0:  # horizontal bar
                a = y + rng.uniform(0.1, 0.9) * glyph
                c.stroke([(x - 0.4 * glyph, a), (x + 0.4 * glyph, a + rng.uniform(-2, 2))], 1.6)
            elif kind == 1:  # vertical stroke
                a = x + rng.uniform(-0.35, 0.35) * glyph
                c.stroke([(a, y + 0.05 * glyph), (a + rng.uniform(-3, 3), y + 0.9 * glyph)], 1.6)
            else:  # hook
                pts = [(x + rng.uniform(-0.4, 0.4) * glyph, y + rng.uniform(0, 0.9) * glyph) for _ in range(3)]
                c.stroke(pts, 1.6)
        y += glyph * 1.2


def speech_bubble(c: Canvas, cx, cy, rx, ry, tail_to, rng: np.random.Generator, shout=False):
    """A white bubble (ellipse, or spiky when shouting) with a tail towards `tail_to` and vertical text."""
    body = ellipse(cx, cy, rx, ry, n=48)
    if shout:
        k = np.arange(len(body))
        body = np.array([cx, cy]) + (body - (cx, cy)) * np.where(k % 2 == 0, 1.15, 0.92)[:, None]
    polys = [body]
    if tail_to is not None:
        d = np.asarray(tail_to, float) - (cx, cy)
        dist = np.hypot(*d)
        if dist > 1:
            u = d / dist
            n = np.array([-u[1], u[0]])
            base = np.array([cx, cy]) + u * 0.7 * min(rx, ry)
            tip = np.array([cx, cy]) + u * min(dist * 0.8, max(rx, ry) * 1.7)
            polys.append(np.array([base + n * 0.25 * rx, tip, base - n * 0.25 * rx]))
    c.fill_union("white", polys, 2.5)
    glyph = float(np.clip(0.28 * rx, 10, 18))
    ncol = max(1, int(1.3 * rx / (glyph * 1.4)))
    for j in range(ncol):
        x = cx + (j - (ncol - 1) / 2) * glyph * 1.4
        half = ry * np.sqrt(max(0.0, 1 - ((x - cx) / rx) ** 2)) * 0.72
        _scribble_column(c, x, cy - half, cy + half, glyph, rng)


def _glyph_layers(word, height, rng):
    """(halo, outline, fill) coverage masks uint8 for a hand-lettered word, letters jittered."""
    font = cv2.FONT_HERSHEY_TRIPLEX
    base = cv2.getTextSize("M", font, 1.0, 1)[0][1]
    scale = height / base
    fill_t = max(3, int(height * 0.16))
    out_t, halo_t = fill_t + max(4, int(height * 0.08)), fill_t + max(10, int(height * 0.2))
    pad = halo_t + int(height * 0.5)
    widths = [cv2.getTextSize(ch, font, scale, fill_t)[0][0] for ch in word]
    W, H = int(sum(widths) * 1.05) + 2 * pad, int(height * 1.6) + 2 * pad
    layers = np.zeros((3, H, W), np.uint8)
    x = pad
    for ch, cw in zip(word, widths):
        s = rng.uniform(0.85, 1.2)
        y = pad + int(height * (1.2 + rng.uniform(-0.2, 0.2)))
        rot = cv2.getRotationMatrix2D((x + cw / 2, y - height / 2), rng.uniform(-15, 15), 1.0)
        for k, t in enumerate((halo_t, out_t, fill_t)):
            tmp = np.zeros((H, W), np.uint8)
            cv2.putText(tmp, ch, (x, y), font, scale * s, 255, t, cv2.LINE_AA)
            layers[k] = np.maximum(layers[k], cv2.warpAffine(tmp, rot, (W, H)))
        x += int(cw * rng.uniform(0.85, 1.0))
    return layers


def sound_effect(c: Canvas, cx, cy, height, angle, colour: str, rng: np.random.Generator, word=None):
    """Stamp a sound effect centred at (cx, cy): white halo, ink outline, `colour` fill (sfx_red|sfx_purple)."""
    word = word or SFX_WORDS[rng.integers(len(SFX_WORDS))]
    layers = _glyph_layers(word, height, rng)
    _, H, W = layers.shape
    rot = cv2.getRotationMatrix2D((W / 2, H / 2), angle, 1.0)
    layers = np.stack([cv2.warpAffine(m, rot, (W, H)) for m in layers])
    x0, y0 = int(cx - W / 2), int(cy - H / 2)
    h, w = c.label.shape
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x0 + W), min(h, y0 + H)
    if sx1 <= sx0 or sy1 <= sy0:
        return
    halo, out, fill = (m[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0].astype(np.float32) / 255 for m in layers)
    lab = c.label[sy0:sy1, sx0:sx1]
    ink = c.ink[sy0:sy1, sx0:sx1].astype(np.float32)
    lab[halo > 0.5] = INDEX["white"]
    ink *= 1 - halo
    ink += (255 - ink) * out
    lab[fill > 0.5] = INDEX[colour]
    ink *= 1 - fill
    c.ink[sy0:sy1, sx0:sx1] = np.round(ink).astype(np.uint8)
