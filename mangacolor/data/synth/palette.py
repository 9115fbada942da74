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


PAPER_ = 0.0
SOLID_ = 1.0

COLOURS: tuple[Colour, ...] = (
    Colour("paper", (255, 255, 255), cover=PAPER_),  # index 0: page background and gutters
    Colour("white", (250, 250, 246), cover=PAPER_),  # shirts, clouds, sails, bubbles, bone
    Colour("black", (24, 24, 28), cover=SOLID_),  # pupils, flag, boots
    Colour("skin", (255, 214, 178), cover=PAPER_),
    Colour("mouth", (160, 40, 50)),
    # backgrounds
    Colour("sky", (135, 198, 245), cover=0.1),  # artists keep skies light
    Colour("sea", (25, 85, 170)),
    Colour("grass", (85, 175, 60), pattern=LINES_VERT),
    Colour("sand", (240, 215, 150), cover=PAPER_),
    Colour("wood", (170, 110, 58), pattern=LINES_HORIZ),
    Colour("wood_dark", (115, 70, 35)),
    Colour("flash", (255, 232, 120), cover=PAPER_),
    Colour("leaf", (35, 130, 55)),
    Colour("fruit", (250, 145, 25)),
    Colour("meat", (180, 72, 45)),
    # the captain
    Colour("hat_straw", (245, 205, 60)),
    Colour("hat_band", (210, 30, 35)),
    Colour("hair_black", (30, 30, 36), cover=SOLID_),
    Colour("vest_red", (215, 45, 45)),
    Colour("shorts_blue", (45, 85, 200)),
    Colour("sandal", (150, 95, 50), pattern=LINES_DIAG),
    # the swordsman
    Colour("hair_green", (70, 180, 85)),
    Colour("sash_green", (25, 105, 60), pattern=LINES_DIAG),
    Colour("pants_dark", (55, 55, 72)),
    Colour("sheath", (150, 20, 40)),
    Colour("gold", (235, 180, 40)),
    # the navigator
    Colour("hair_orange", (250, 135, 40)),
    Colour("stripe_blue", (60, 120, 230)),
    Colour("skirt_pink", (235, 90, 150)),
    # the mascot
    Colour("fur", (150, 95, 55), pattern=LINES_DIAG),
    Colour("muzzle", (238, 205, 160), cover=PAPER_),
    Colour("nose_blue", (50, 90, 230)),
    Colour("hat_pink", (245, 130, 175)),
    Colour("antler", (205, 165, 105)),
    Colour("shorts_maroon", (140, 45, 70)),
    # sound effects: solid ink in print, bright in colour (a luminance change the method cannot predict)
    Colour("sfx_red", (230, 30, 40), cover=SOLID_),
    Colour("sfx_purple", (150, 45, 205), cover=SOLID_),
    # the new arc (a winter island; `arcs.ARCS["new"]`): drawn only on its pages, appended so that every
    # index above keeps its colour
    Colour("snow", (232, 240, 252), cover=PAPER_),
    Colour("dusk", (196, 160, 222), cover=0.1),  # the winter sky, kept light as skies are
    Colour("ice", (150, 222, 232)),
    Colour("pine", (28, 98, 88), pattern=LINES_DIAG),
    Colour("stone", (150, 146, 160)),
    Colour("flagstone", (108, 102, 124)),
    Colour("banner", (150, 25, 110)),
    Colour("brass", (175, 140, 70)),
    Colour("glow", (255, 238, 165), cover=PAPER_),
    Colour("chest_plum", (105, 45, 95)),
    Colour("plaster", (222, 212, 196), cover=PAPER_),
    Colour("roof_slate", (70, 95, 120)),
    # the wanderer, the new arc's newcomer
    Colour("hair_lavender", (185, 150, 235)),
    Colour("coat_teal", (15, 145, 145)),
    Colour("scarf_lime", (180, 220, 40)),
    Colour("boots_navy", (35, 45, 105)),
)

INDEX: dict[str, int] = {c.name: i for i, c in enumerate(COLOURS)}
RGB = np.array([c.rgb for c in COLOURS], np.uint8)  # (K, 3), indexed by label
COVER = np.array([tone_cover(c.rgb) if c.cover is None else c.cover for c in COLOURS], np.float32)
PATTERN = np.array([c.pattern for c in COLOURS], np.uint8)
assert len(COLOURS) < 256
