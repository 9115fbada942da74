"""The print model: a colour page printed as a B&W manga page, the way an artist would tone it.

A page is cut into regions (for the series: its label image's connected parts; for a user's colour page:
flat-colour areas bounded by the line art, ``segment_regions``). The artist's habits on a page are drawn
from the page's seed (``draw_style``): how often they tone, a few screentone sheets (dots, lines, hatching,
cross-hatching, gradients, each at its own angle, ruling and coverage) and how strictly darker colours get
darker tones. Each region then prints as paper, one of the page's sheets, or solid ink, drawn from a
distribution that depends on its colour's lightness L*: most colours stay paper, dark colours tend to solid
ink or dark sheets, and several colours share one sheet. Choices are made per colour and page, and a
fraction of regions choose on their own, so one colour prints differently across pages and even within one.
Shading that ignores region borders is laid on top: cast shadows beside parts and under figures, gradients
over large coloured backgrounds. The ink lines are printed last, crisp. ``degrade_scan`` optionally adds what
a scan does to a print: paper and ink levels, a slight rotation, blur, noise and JPEG.

Every random choice comes from ``np.random.default_rng(seed)``: one seed, one byte-identical print.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import cv2
import numpy as np

from ..kernels.lab import rgb_to_lab

PAPER, SCREEN, SOLID = 0, 1, 2  # how a region prints
SCREEN_KINDS = ("dots", "lines", "hatching", "crosshatch", "gradient")
KIND_WEIGHTS = (0.4, 0.2, 0.1, 0.1, 0.2)  # how often an artist picks each kind of sheet
SHEET_COVERS = np.round(np.arange(0.1, 0.75, 0.05), 2)  # coverages sheets are sold in

INK_CUT = 128  # ink coverage (0..255) from which a pixel is line art: it cuts regions and prints black
LINE_DARK, LINE_LIGHT = 50, 170  # colour pages: max(R, G, B) at most LINE_DARK is ink, from LINE_LIGHT none
LINE_REACH = 3  # colour pages: pixels from a line's centre to the fill beside it (half the widest line)
EDGE_DELTA_E = 4.0  # colour pages: Lab gradient (Delta E per pixel, after a 1 px blur) that bounds a region
MIN_REGION = 24  # colour pages: smaller flat areas (noise, antialiasing) join their neighbours, in pixels
LINE_MARGIN = 2  # pixels: a region's colour is read this far from its line art
WHITE_L = 97.0  # regions at least this light (paper, bubbles, white cloth) never take shading
BACKDROP = 0.01  # regions over this fraction of the page are backgrounds: gradients cross between them


@dataclass(frozen=True)
class Sheet:
    """One screentone sheet. A pixel inks where cover > 1 - potential; potentials are uniform in [0, 1], so
    cover is the sheet's coverage (hatching's strokes taper at their ends: a little less)."""
    kind: str  # one of SCREEN_KINDS
    angle: float  # orientation of the lattice or lines, degrees
    period: float  # ruling: pixels from one dot or line to the next
    cover: float  # ink coverage 0..1; a gradient's coverage at its dark end
    cross: float = 90.0  # crosshatch: angle between the two line sets, degrees
    wobble: float = 0.0  # hatching: sideways wobble of a stroke, in periods
    stroke: float = 60.0  # hatching: stroke length, pixels
    ramp: float = 90.0  # gradient: direction from dark to light, degrees (90: top to bottom)
    reach: float = 1.0  # gradient: fraction of the region's extent over which coverage falls to zero


@dataclass(frozen=True)
class PrintStyle:
    """An artist's habits on one page."""
    tone_rate: float  # chance that a mid-tone colour gets a screen
    solid_rate: float  # chance that a very dark colour is solid ink
    spread: float  # how loosely a sheet's coverage follows the colour's darkness (Gaussian width, coverage)
    own_choice: float  # chance that a region ignores its colour's choice on this page and draws its own
    sheets: tuple[Sheet, ...]
    shadow: Sheet  # the sheet of cast shadows
    gradient: Sheet  # the dot screen of background gradients
    n_shadows: int  # cast shadows on the page
    n_gradients: int  # background gradients on the page
    light: float  # direction cast shadows fall in, degrees


def draw_sheet(rng: np.random.Generator, kind: str | None = None) -> Sheet:
    """A random sheet (of ``kind``, or a kind drawn by KIND_WEIGHTS)."""
    if kind is None:
        kind = SCREEN_KINDS[int(rng.choice(len(SCREEN_KINDS), p=KIND_WEIGHTS))]
    angle = float(rng.choice([45.0, rng.uniform(0, 180)])) if kind in ("dots", "gradient") else rng.uniform(0, 180)
    lo, hi = {"dots": (4.0, 8.0), "gradient": (4.0, 8.0), "lines": (3.5, 8.0),
              "hatching": (4.0, 9.0), "crosshatch": (4.5, 9.0)}[kind]
    cover = float(rng.choice(SHEET_COVERS))
    if kind == "gradient":
        cover = float(rng.uniform(0.35, 0.8))
    return Sheet(kind, float(angle), float(rng.uniform(lo, hi)), cover,
                 cross=float(rng.uniform(55, 90)), wobble=float(rng.uniform(0.05, 0.25)),
                 stroke=float(rng.uniform(30, 120)), ramp=float(rng.normal(90, 35)),
                 reach=float(rng.uniform(0.6, 1.3)))


def draw_style(rng: np.random.Generator) -> PrintStyle:
    """One page's habits: 2-5 sheets, tone and solid rates, shading counts."""
    sheets = tuple(draw_sheet(rng) for _ in range(int(rng.integers(2, 6))))
    shadow = draw_sheet(rng, str(rng.choice(["dots", "lines", "crosshatch"])))
    shadow = replace(shadow, cover=float(rng.uniform(0.3, 0.6)))
    gradient = draw_sheet(rng, "dots")
    return PrintStyle(tone_rate=float(rng.beta(2.0, 4.0)), solid_rate=float(rng.uniform(0.6, 1.0)),
                      spread=float(rng.uniform(0.12, 0.3)), own_choice=float(rng.uniform(0.1, 0.4)),
                      sheets=sheets, shadow=shadow, gradient=gradient, n_shadows=int(rng.choice([0, 0, 1, 2, 3, 4])),
                      n_gradients=int(rng.choice([0, 0, 1, 1, 2])), light=float(rng.uniform(0, 360)))


# ---------------------------------------------------------------- screens

@lru_cache(maxsize=1)
def _dot_levels() -> np.ndarray:
    """Sorted values of cos(2 pi u) + cos(2 pi v) over one lattice cell, (65536,) float32: its CDF."""
    u = (np.arange(256, dtype=np.float64) + 0.5) / 256
    s = np.cos(2 * np.pi * u)[:, None] + np.cos(2 * np.pi * u)[None, :]
    return np.sort(s.ravel()).astype(np.float32)


def _tri(x: np.ndarray) -> np.ndarray:
    """Triangle wave, 1 on the half-integers, 0 on the integers: uniform in [0, 1] for uniform x."""
    return 1.0 - np.abs(2.0 * (x - np.floor(x)) - 1.0)


def _along(ys: np.ndarray, xs: np.ndarray, angle: float, period: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates in periods, rotated by ``angle`` degrees: (across the lines, along the lines)."""
    t = np.deg2rad(angle)
    c, s = np.float32(np.cos(t) / period), np.float32(np.sin(t) / period)
    return xs * c + ys * s, ys * c - xs * s


def potential(sheet: Sheet, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """A sheet's ink potential at pixels (N,) float32 rows/cols -> (N,) float32 in [0, 1]."""
    u, v = _along(ys, xs, sheet.angle, sheet.period)
    if sheet.kind in ("dots", "gradient"):  # clustered dots, ranked so that coverage is exact
        levels = _dot_levels()
        s = np.cos(2 * np.pi * u) + np.cos(2 * np.pi * v)
        return np.searchsorted(levels, s).astype(np.float32) / np.float32(len(levels))
    if sheet.kind == "lines":
        return _tri(u)
    if sheet.kind == "hatching":  # wobbly strokes of finite length that taper at both ends
        along = v * sheet.period
        line = np.floor(u)
        u = u + sheet.wobble * np.sin(along / (0.7 * sheet.stroke) + 2.3 * line)
        phase = along / sheet.stroke + 0.37 * line
        taper = np.sqrt(np.sin(np.pi * (phase - np.floor(phase))))
        return _tri(u) * taper
    if sheet.kind == "crosshatch":  # two line sets; the max of two uniforms squared is uniform again
        u2, _ = _along(ys, xs, sheet.angle + sheet.cross, sheet.period)
        return np.maximum(_tri(u), _tri(u2)) ** 2
    raise ValueError(f"unknown screen kind {sheet.kind!r}; expected one of {SCREEN_KINDS}")


# ---------------------------------------------------------------- regions

def _nearest_fill(comp: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """Give every cut pixel the component of its nearest uncut pixel: int32 (H, W) -> int32 (H, W)."""
    if not cut.any() or cut.all():
        return np.where(cut, 0, comp).astype(np.int32)
    _, nearest = cv2.distanceTransformWithLabels(cut.astype(np.uint8), cv2.DIST_L2, 3,
                                                 labelType=cv2.DIST_LABEL_PIXEL)
    lut = np.zeros(int(nearest.max()) + 1, np.int32)
    lut[nearest[~cut]] = comp[~cut]
    return lut[nearest]


def _relabel(regions: np.ndarray) -> np.ndarray:
    """Region ids renumbered 0..n-1 in order of first appearance (row-major), int32 (H, W)."""
    ids, first, inverse = np.unique(regions.ravel(), return_index=True, return_inverse=True)
    rank = np.empty(len(ids), np.int32)
    rank[np.argsort(first, kind="stable")] = np.arange(len(ids), dtype=np.int32)
    return rank[inverse].reshape(regions.shape)


def label_regions(label: np.ndarray, ink: np.ndarray | None = None) -> np.ndarray:
    """Connected parts of a label image (uint8 (H, W)), cut by ink lines (ink >= INK_CUT): int32 (H, W)
    ids 0..n-1. Line pixels join the region nearest to them."""
    label = _check_plane(label, "label")
    cut = np.zeros(label.shape, bool) if ink is None else _check_plane(ink, "ink", label.shape) >= INK_CUT
    comp = np.zeros(label.shape, np.int32)
    n = 0
    for value in np.unique(label[~cut]):
        k, parts = cv2.connectedComponents(((label == value) & ~cut).astype(np.uint8), connectivity=4)
        inside = parts > 0
        comp[inside] = parts[inside] + n
        n += k - 1
    return _relabel(_nearest_fill(comp, cut))


def line_art(color: np.ndarray) -> np.ndarray:
    """The dark line art of a colour page (H, W, 3) uint8 -> ink coverage (H, W) uint8 (255: full ink).

    Value V = max(R, G, B). A pixel at most LINE_DARK is ink (lines and black fills); a darker pixel
    beside a lighter one is part ink, by how much darker it is than the lightest pixel within
    LINE_REACH (the fill its line runs along), scaled down linearly to none at V = LINE_LIGHT. A dark
    fill away from its outline is no ink, whatever its value.
    """
    value = _check_color(color).max(axis=2).astype(np.float32)
    window = np.ones((2 * LINE_REACH + 1,) * 2, np.uint8)
    lightest = np.maximum(cv2.dilate(value, window), 1.0)
    darker = (1.0 - value / lightest) * np.clip((LINE_LIGHT - value) / (LINE_LIGHT - LINE_DARK), 0.0, 1.0)
    ink = np.where(value <= LINE_DARK, 1.0, np.clip(darker, 0.0, 1.0))
    return np.round(255.0 * ink).astype(np.uint8)


def segment_regions(color: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat-colour regions of a colour page bounded by its line art: (regions int32 (H, W) ids 0..n-1,
    ink uint8 (H, W) line-art coverage).

    A region is a 4-connected area without line art whose colour changes by less than EDGE_DELTA_E per
    pixel; antialiased borders, noise specks and areas under MIN_REGION pixels join their nearest region.
    """
    ink = line_art(color)
    lab = rgb_to_lab(cv2.GaussianBlur(color, (0, 0), 1.0))
    grad = np.zeros(ink.shape, np.float32)
    for ch in range(3):
        gx = cv2.Sobel(lab[..., ch], cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(lab[..., ch], cv2.CV_32F, 0, 1, ksize=3)
        grad += gx * gx + gy * gy
    cut = (ink >= INK_CUT) | (np.sqrt(grad) / 8.0 > EDGE_DELTA_E)  # Sobel 3x3 sums 8x the derivative
    n, comp, stats, _ = cv2.connectedComponentsWithStats((~cut).astype(np.uint8), connectivity=4)
    small = stats[:, cv2.CC_STAT_AREA] < MIN_REGION
    small[0] = False
    cut |= small[comp]
    return _relabel(_nearest_fill(comp, cut)), ink


# ---------------------------------------------------------------- print

def region_lab(color: np.ndarray, regions: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """Mean colour of each region as Lab, (n, 3) float32 with n = regions.max() + 1: over its pixels at least
    LINE_MARGIN pixels from any line art (antialiased line edges darken a colour), else over its pixels off
    the lines (ink < INK_CUT), else over all of it."""
    n = int(regions.max()) + 1
    ids = regions.ravel()
    rgb = color.reshape(-1, 3)
    near = cv2.dilate((ink > 0).astype(np.uint8), np.ones((2 * LINE_MARGIN + 1,) * 2, np.uint8))
    mean = np.zeros((n, 3))
    todo = np.ones(n, bool)
    for sel in (near.ravel() == 0, ink.ravel() < INK_CUT, np.ones(len(ids), bool)):
        count = np.bincount(ids[sel], minlength=n)
        total = np.stack([np.bincount(ids[sel], rgb[sel, c], n) for c in range(3)], 1)
        found = todo & (count > 0)
        mean[found] = total[found] / count[found, None]
        todo &= ~found
    return rgb_to_lab(np.round(mean).astype(np.uint8)[None])[0]


def mean_cover(sheet: Sheet) -> float:
    """A sheet's ink coverage averaged over a region (a gradient's falls from ``cover`` to 0 over its reach)."""
    if sheet.kind != "gradient":
        return sheet.cover
    return sheet.cover * (sheet.reach / 2 if sheet.reach <= 1 else 1 - 1 / (2 * sheet.reach))


def sheet_fit(lightness: np.ndarray, style: PrintStyle) -> np.ndarray:
    """How well each of the page's sheets suits colours of L* ``lightness`` (n,) -> (n, sheets) in (0, 1]:
    a Gaussian (width style.spread) of the gap between its mean coverage and the colour's darkness."""
    target = np.clip(0.85 * (1.0 - np.asarray(lightness, np.float64) / 100.0), 0.1, 0.8)
    covers = np.array([mean_cover(s) for s in style.sheets])
    return np.exp(-0.5 * ((covers[None] - target[:, None]) / style.spread) ** 2)


def class_probabilities(lightness: np.ndarray, style: PrintStyle) -> np.ndarray:
    """P(paper, screen, solid) for colours of L* ``lightness`` (n,) -> (n, 3) float64.

    Near-white never tones; solid ink needs a dark colour (L* under 45) and grows with darkness; screens
    take a share of the rest that grows with darkness, with the page's tone rate and with how well the
    page's best sheet suits the colour (an artist without a light sheet leaves light colours paper).
    """
    dark = np.clip(1.0 - np.asarray(lightness, np.float64) / 100.0, 0.0, 1.0)
    solid = style.solid_rate * np.clip((dark - 0.55) / 0.35, 0.0, 1.0) ** 1.5
    coloured = np.clip((dark - 0.04) / 0.25, 0.0, 1.0)
    fit = sheet_fit(lightness, style).max(1)
    screen = (1.0 - solid) * style.tone_rate * coloured * (0.6 + 0.6 * dark) * fit
    return np.stack([1.0 - solid - screen, screen, solid], 1)


def _draw_prints(lightness: np.ndarray, style: PrintStyle, rng: np.random.Generator):
    """Print class (n,) int8 and sheet index (n,) int16 of each colour of L* ``lightness`` (n,): a screened
    colour takes a sheet with probability proportional to its fit."""
    p = class_probabilities(lightness, style)
    cls = (rng.random(len(p))[:, None] > np.cumsum(p, 1)[:, :2]).sum(1).astype(np.int8)
    cw = np.cumsum(sheet_fit(lightness, style) + 1e-9, 1)
    sheet = (rng.random(len(p))[:, None] * cw[:, -1:] > cw[:, :-1]).sum(1).astype(np.int16)
    return cls, sheet


def _colour_keys(lab: np.ndarray) -> np.ndarray:
    """Which regions an artist would see as one colour: Lab (n, 3) -> (n,) int64 key of a Lab cell."""
    q = np.floor(lab / (6.0, 10.0, 10.0)).astype(np.int64) + (0, 16, 16)
    return (q[:, 0] * 64 + q[:, 1]) * 64 + q[:, 2]


def _per_region_min_max(ids: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of ``values`` (N,) per id in ``ids`` (N,) -> two (n,) float32 (0 for absent ids)."""
    lo, hi = np.zeros(n, np.float32), np.zeros(n, np.float32)
    if len(ids):
        order = np.argsort(ids, kind="stable")
        sid, sv = ids[order], values[order]
        starts = np.flatnonzero(np.r_[True, sid[1:] != sid[:-1]])
        lo[sid[starts]] = np.minimum.reduceat(sv, starts)
        hi[sid[starts]] = np.maximum.reduceat(sv, starts)
    return lo, hi


def _ramp(sheet: Sheet, ys: np.ndarray, xs: np.ndarray, ids: np.ndarray, n: int) -> np.ndarray:
    """Gradient coverage at pixels (N,): sheet.cover at each region's dark end, falling to 0 over its reach."""
    t = np.deg2rad(sheet.ramp)
    proj = xs * np.float32(np.cos(t)) + ys * np.float32(np.sin(t))
    lo, hi = _per_region_min_max(ids, proj, n)
    frac = (proj - lo[ids]) / np.maximum(hi[ids] - lo[ids], 1.0) / sheet.reach
    return sheet.cover * np.clip(1.0 - frac, 0.0, 1.0)


def _shading(regions: np.ndarray, lightness: np.ndarray, style: PrintStyle,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Coverage of the page's shading tones, two float32 (H, W): cast shadows (style.shadow) and background
    gradients (style.gradient)."""
    h, w = regions.shape
    cover = np.zeros((h, w), np.float32)
    fade = np.zeros((h, w), np.float32)
    area = np.bincount(regions.ravel(), minlength=len(lightness))
    tones = lightness < WHITE_L
    toned = tones[regions]
    # cast shadows: a part shifted along the light, minus the part itself, or an ellipse under it
    parts = np.flatnonzero(tones & (area > 0.001 * h * w) & (area < 0.05 * h * w))
    for r in rng.permutation(parts)[:style.n_shadows]:
        ys, xs = np.nonzero(regions == r)
        y1, x0, x1 = ys.max() + 1, xs.min(), xs.max() + 1
        size = float(np.sqrt(area[r]))
        if rng.random() < 0.6:
            dist = rng.uniform(0.1, 0.35) * size
            dx, dy = dist * np.cos(np.deg2rad(style.light)), dist * np.sin(np.deg2rad(style.light))
            m = np.zeros((h, w), np.uint8)
            m[ys, xs] = 1
            shifted = cv2.warpAffine(m, np.float32([[1, 0, dx], [0, 1, dy]]), (w, h), flags=cv2.INTER_NEAREST)
            shadow = (shifted > 0) & (m == 0)
        else:
            shadow = np.zeros((h, w), np.uint8)
            axes = (max(2, int(rng.uniform(0.5, 0.8) * (x1 - x0))), max(2, int(rng.uniform(0.08, 0.16) * (x1 - x0))))
            cv2.ellipse(shadow, ((x0 + x1) // 2, int(y1)), axes, 0, 0, 360, 1, -1)
            shadow = shadow.astype(bool) & (regions != r)
        cover[shadow & toned] = style.shadow.cover  # not on paper-white: gutters, bubbles
    # gradients over large coloured backgrounds, across every background inside their bounding box (sky,
    # sea and shore as one), but not over the figures in front of them
    backdrop = tones & (area > BACKDROP * h * w)
    for r in rng.permutation(np.flatnonzero(backdrop & (area > 2 * BACKDROP * h * w)))[:style.n_gradients]:
        ys, xs = np.nonzero(regions == r)
        box = np.s_[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        inside = backdrop[regions[box]]
        by, bx = np.nonzero(inside)
        ramp = replace(style.gradient, cover=float(rng.uniform(0.3, 0.7)), ramp=float(rng.normal(90, 30)),
                       reach=float(rng.uniform(0.5, 1.0)))
        c = _ramp(ramp, by.astype(np.float32), bx.astype(np.float32), np.zeros(len(by), np.int64), 1)
        sub = fade[box]
        sub[by, bx] = np.maximum(sub[by, bx], c)
    return cover, fade


def print_page(color: np.ndarray, seed: int, regions: np.ndarray | None = None, ink: np.ndarray | None = None,
               degrade: bool = False) -> np.ndarray:
    """Print a colour page (H, W, 3) uint8 in B&W: (H, W) uint8, 0 ink .. 255 paper. Deterministic in ``seed``.

    ``regions`` (int32 (H, W), ids 0..n-1) and ``ink`` (uint8 (H, W) line-art coverage) are the page's parts
    and line art when known (the series); missing ones come from the colour page (``segment_regions``,
    ``line_art``). ``degrade`` adds scan degradations (``degrade_scan``) drawn from the same seed.
    """
    color = _check_color(color)
    seed = _check_seed(seed)
    if regions is None:
        regions, found_ink = segment_regions(color)
        ink = found_ink if ink is None else ink
    ink = line_art(color) if ink is None else _check_plane(ink, "ink", color.shape[:2])
    regions = _check_regions(regions, color.shape[:2])
    h, w = regions.shape
    n = int(regions.max()) + 1
    rng = np.random.default_rng(seed)
    style = draw_style(rng)
    lab = region_lab(color, regions, ink)
    lightness = lab[:, 0].astype(np.float64)

    # the page's choice for each colour, and regions that choose on their own
    keys, by_key = np.unique(_colour_keys(lab), return_inverse=True)
    key_light = np.bincount(by_key, lightness, len(keys)) / np.bincount(by_key, minlength=len(keys))
    key_cls, key_sheet = _draw_prints(key_light, style, rng)
    own_cls, own_sheet = _draw_prints(lightness, style, rng)
    own = rng.random(n) < style.own_choice
    cls = np.where(own, own_cls, key_cls[by_key])
    sheet = np.where(own, own_sheet, key_sheet[by_key])

    black = (cls == SOLID)[regions]
    black_px = black.reshape(-1)  # a view: writing a pixel of it writes black
    flat_regions = regions.ravel()
    screened = np.flatnonzero(cls[flat_regions] == SCREEN)
    sheet_px = sheet[flat_regions[screened]]
    for j, s in enumerate(style.sheets):
        idx = screened[sheet_px == j]
        ys, xs = (a.astype(np.float32) for a in np.divmod(idx, w))
        cov = _ramp(s, ys, xs, flat_regions[idx], n) if s.kind == "gradient" else np.float32(s.cover)
        black_px[idx] = potential(s, ys, xs) > 1.0 - cov

    on_paper = (cls == PAPER)[regions]  # shading goes on paper, not over another sheet
    for shade, s in zip(_shading(regions, lightness, style, rng), (style.shadow, style.gradient)):
        idx = np.flatnonzero(on_paper & (shade > 0))
        ys, xs = (a.astype(np.float32) for a in np.divmod(idx, w))
        black_px[idx] |= potential(s, ys, xs) > 1.0 - shade.ravel()[idx]

    # printed ink has crisp edges: steepen the antialiasing ramp to about half a pixel (as synth.ink.compose)
    keep = 1.0 - np.clip(2.0 * ink.astype(np.float32) - 127.5, 0, 255) / 255.0
    bw = np.round(np.where(black, 0.0, 255.0) * keep).astype(np.uint8)
    if degrade:
        bw = degrade_scan(bw, int(rng.integers(2 ** 63)))
    return bw


def degrade_scan(bw: np.ndarray, seed: int) -> np.ndarray:
    """What scanning does to a print, (H, W) uint8 -> (H, W) uint8: grey paper and ink, a rotation under a
    degree, blur, noise and JPEG artefacts, each drawn from ``seed``."""
    bw = _check_plane(bw, "bw")
    rng = np.random.default_rng(_check_seed(seed))
    h, w = bw.shape
    paper, ink = rng.uniform(228, 252), rng.uniform(10, 45)
    img = ink + (paper - ink) * (bw.astype(np.float32) / 255.0)
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-0.8, 0.8)), 1.0)
    img = cv2.warpAffine(img, turn, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=float(paper))
    img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.4, 1.1)))
    img += rng.normal(0.0, rng.uniform(1.0, 6.0), img.shape).astype(np.float32)
    img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(55, 95))])
    if not ok:
        raise RuntimeError("degrade_scan: OpenCV could not encode the page as JPEG")
    return cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)


# ---------------------------------------------------------------- checks

def _check_color(color) -> np.ndarray:
    color = np.asarray(color)
    if color.dtype != np.uint8 or color.ndim != 3 or color.shape[2] != 3:
        raise ValueError(f"color must be uint8 (H, W, 3) RGB, got {color.dtype} {color.shape}")
    return np.ascontiguousarray(color)


def _check_plane(a, name: str, shape=None) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype != np.uint8 or a.ndim != 2 or (shape is not None and a.shape != tuple(shape)):
        want = f"(H, W) = {tuple(shape)}" if shape is not None else "(H, W)"
        raise ValueError(f"{name} must be uint8 {want}, got {a.dtype} {a.shape}")
    return a


def _check_regions(regions, shape) -> np.ndarray:
    regions = np.asarray(regions)
    if regions.dtype.kind not in "iu" or regions.shape != tuple(shape):
        raise ValueError(f"regions must be integer (H, W) = {tuple(shape)}, got {regions.dtype} {regions.shape}")
    if regions.size and regions.min() < 0:
        raise ValueError(f"regions must be ids >= 0, got a minimum of {regions.min()}")
    if regions.size and regions.max() >= regions.size:  # sparse ids: renumber rather than allocate per id
        return _relabel(regions)
    return regions.astype(np.int32, copy=False)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2 ** 64:
        raise ValueError(f"seed must be an integer in [0, 2**64), got {seed!r}")
    return int(seed)
