"""Full-colour composition: the print's line art over flat predicted colours, as a colour edition prints.

Today's strategies keep the print's lightness and predict only chroma, so screentone dots and black lettering
survive into the colour page. ``compose_color`` instead paints every pixel in its region's predicted colour
(``region_lab``, e.g. from ``regions.flat_colors`` and ``regions.flat_lightness``) and prints the line art on
top, the way ink prints over colour: the colour is multiplied by the print's own grey relative to its paper,
so lines stay as dark as printed and their anti-aliased edges stay soft. Edges: a line's anti-aliasing lies
in the pixel ring just outside its mask; a ring pixel is printed with its grey only where that grey is
between paper and ink (a full-ink ring pixel beside a line is a screen dot and gets its colour).

Solid areas (``LineArt.solid``) are ink that the colour edition may recolour (a red sound effect) or keep
(black hair, lettering). Each connected solid area is decided once, on its mean predicted colour: it takes that
colour when it is light (L at least ``SOLID_COLOUR_L``) *and* coloured (chroma at least ``SOLID_COLOUR_C``);
otherwise it stays ink, as printed. A model unsure of a solid predicts a pale or muted colour for it, and a
wrong colour where the print has black is worse than the black: only a strongly coloured prediction recolours.
A recoloured area keeps a band ``SOLID_OUTLINE`` px wide along its edge as ink: the colour edition keeps a sound
effect's outline dark, and the line art ends where the solid begins. Screens are neither: their dots disappear
under the flat colour.
"""
from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from ..kernels.lab import lab_to_rgb
from .lineart import LineArt, page_levels

SOLID_COLOUR_L = 35.0  # Lab L from which a solid area's predicted colour may replace its ink ...
SOLID_COLOUR_C = 40.0  # ... if its chroma (a*b* distance from grey) is at least this: a confident colour
SOLID_OUTLINE = 2  # px: the band along a recoloured solid area's edge that stays ink (its outline)
RING_INK = 0.9  # a ring pixel at least this dark (0 paper .. 1 ink) is a screen dot, not a line's edge


def compose_color(print_gray: np.ndarray, lineart: LineArt, region_lab: np.ndarray) -> np.ndarray:
    """The colour page, RGB uint8 (H, W, 3).

    ``print_gray``: the B&W print, uint8 (H, W); ``lineart``: its ``extract_lineart``; ``region_lab``: float32
    (H, W, 3) Lab colour of every pixel (L 0..100), flat per region."""
    g = np.asarray(print_gray)
    if g.ndim != 2 or g.dtype != np.uint8:
        raise ValueError(f"print_gray must be a uint8 (H, W) grey page, got {g.dtype} {g.shape}")
    lab = np.asarray(region_lab, np.float32)
    if lab.shape != g.shape + (3,):
        raise ValueError(f"region_lab must be (H, W, 3) = {g.shape + (3,)} float Lab, got {lab.shape}")
    if lineart.lines.shape != g.shape:
        raise ValueError(f"lineart is {lineart.lines.shape}, the print {g.shape}")
    colour = lab_to_rgb(lab, dtype=np.float32)  # (H, W, 3) in [0, 1]

    paper, ink = page_levels(g)
    keep = np.clip(g.astype(np.float32) / max(paper, 1.0), 0.0, 1.0)  # ink prints as a multiply over colour
    dark = np.clip((paper - g.astype(np.float32)) / max(paper - ink, 1.0), 0.0, 1.0)
    ring = cv2.dilate(lineart.lines.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~lineart.lines
    inked = lineart.lines | (ring & (dark < RING_INK))
    recoloured = recoloured_solids(lineart.solid, lab)
    inked |= lineart.solid & ~recoloured
    if recoloured.any():  # the outline band: distance to the nearest pixel outside the solid
        inked |= recoloured & (ndimage.distance_transform_edt(lineart.solid) <= SOLID_OUTLINE)

    factor = np.where(inked, keep, 1.0)[..., None]
    return np.round(255.0 * colour * factor).astype(np.uint8)


def recoloured_solids(solid: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """bool (H, W): the pixels of the solid areas (``solid`` bool (H, W), 8-connected areas) whose mean predicted
    colour (``lab`` float32 (H, W, 3)) is light and coloured enough to replace their ink (module docstring)."""
    n, areas = cv2.connectedComponents(solid.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros(solid.shape, bool)
    flat = areas.ravel()
    count = np.maximum(np.bincount(flat, minlength=n), 1)
    mean = [np.bincount(flat, weights=lab[..., c].ravel(), minlength=n) / count for c in range(3)]
    takes = (mean[0] >= SOLID_COLOUR_L) & (np.hypot(mean[1], mean[2]) >= SOLID_COLOUR_C)
    takes[0] = False
    return takes[areas]
