"""The series' fixed colours, and the screentone each one prints as.

Every drawn region carries a palette index, so a part is always the same colour on every page. The B&W
page prints a region as the artist would: light colours stay paper, mid tones become dot or line
screens whose coverage follows the colour's darkness, very dark colours become solid ink. Several colours
thus print as the same paper or the same tone, and only their shape tells them apart.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# screen patterns, see ink.screen_maps
DOTS, LINES_DIAG, LINES_VERT, LINES_HORIZ = 0, 1, 2, 3


@dataclass(frozen=True)
class Colour:
    name: str
    rgb: tuple[int, int, int]
    pattern: int = DOTS
    cover: float | None = None  # screen coverage 0..1; None: follows the colour's luminance


def luminance(rgb) -> float:
    """Rec. 601 luma in 0..1."""
    r, g, b = rgb
    return (0.299 * r + 0.587 * g + 0.114 * b) / 255.0


def tone_cover(rgb) -> float:
    """Screen coverage for a colour: darkness quantised to 10 % steps, as tone sheets are sold;
    0.8 and darker print as solid ink."""
    c = round(max(0.0, 0.9 * (1.0 - luminance(rgb)) - 0.05) * 10) / 10
    return 1.0 if c >= 0.8 else c


# One row a colour, in label order (index 0 is the page's paper): name, sRGB, the screen pattern of the fixed print
# (dots, diag, vert, horiz: ink.screen_maps) and its coverage (paper, solid, a fraction, or auto: tone_cover).
TABLE = """
    paper          255 255 255  dots  paper   # index 0: page background and gutters
    white          250 250 246  dots  paper   # shirts, clouds, sails, bubbles, bone
    black           24  24  28  dots  solid   # pupils, flag, boots
    skin           255 214 178  dots  paper
    mouth          160  40  50  dots  auto
    # backgrounds
    sky            135 198 245  dots  0.1     # artists keep skies light
    sea             25  85 170  dots  auto
    grass           85 175  60  vert  auto
    sand           240 215 150  dots  paper
    wood           170 110  58  horiz auto
    wood_dark      115  70  35  dots  auto
    flash          255 232 120  dots  paper
    leaf            35 130  55  dots  auto
    fruit          250 145  25  dots  auto
    meat           180  72  45  dots  auto
    # the captain
    hat_straw      245 205  60  dots  auto
    hat_band       210  30  35  dots  auto
    hair_black      30  30  36  dots  solid
    vest_red       215  45  45  dots  auto
    shorts_blue     45  85 200  dots  auto
    sandal         150  95  50  diag  auto
    # the swordsman
    hair_green      70 180  85  dots  auto
    sash_green      25 105  60  diag  auto
    pants_dark      55  55  72  dots  auto
    sheath         150  20  40  dots  auto
    gold           235 180  40  dots  auto
    # the navigator
    hair_orange    250 135  40  dots  auto
    stripe_blue     60 120 230  dots  auto
    skirt_pink     235  90 150  dots  auto
    # the mascot
    fur            150  95  55  diag  auto
    muzzle         238 205 160  dots  paper
    nose_blue       50  90 230  dots  auto
    hat_pink       245 130 175  dots  auto
    antler         205 165 105  dots  auto
    shorts_maroon  140  45  70  dots  auto
    # sound effects: solid ink in print, bright in colour (a luminance change the method cannot predict)
    sfx_red        230  30  40  dots  solid
    sfx_purple     150  45 205  dots  solid
    # the new arc (a winter island; `arcs.ARCS["new"]`): drawn only on its pages, appended so that every
    # index above keeps its colour
    snow           232 240 252  dots  paper
    dusk           196 160 222  dots  0.1     # the winter sky, kept light as skies are
    ice            150 222 232  dots  auto
    pine            28  98  88  diag  auto
    stone          150 146 160  dots  auto
    flagstone      108 102 124  dots  auto
    banner         150  25 110  dots  auto
    brass          175 140  70  dots  auto
    glow           255 238 165  dots  paper
    chest_plum     105  45  95  dots  auto
    plaster        222 212 196  dots  paper
    roof_slate      70  95 120  dots  auto
    # the wanderer, the new arc's newcomer
    hair_lavender  185 150 235  dots  auto
    coat_teal       15 145 145  dots  auto
    scarf_lime     180 220  40  dots  auto
    boots_navy      35  45 105  dots  auto
"""
PATTERNS = {"dots": DOTS, "diag": LINES_DIAG, "vert": LINES_VERT, "horiz": LINES_HORIZ}
COVERS = {"paper": 0.0, "solid": 1.0, "auto": None}


def _parse(table: str) -> tuple[Colour, ...]:
    rows = [line.split("#")[0].split() for line in table.splitlines()]
    return tuple(Colour(name, (int(r), int(g), int(b)), PATTERNS[pattern],
                        COVERS[cover] if cover in COVERS else float(cover))
                 for name, r, g, b, pattern, cover in (row for row in rows if row))


COLOURS: tuple[Colour, ...] = _parse(TABLE)

INDEX: dict[str, int] = {c.name: i for i, c in enumerate(COLOURS)}
RGB = np.array([c.rgb for c in COLOURS], np.uint8)  # (K, 3), indexed by label
COVER = np.array([tone_cover(c.rgb) if c.cover is None else c.cover for c in COLOURS], np.float32)
PATTERN = np.array([c.pattern for c in COLOURS], np.uint8)
assert len(COLOURS) < 256
