"""How far a colour hint carries, on pages whose parts are known (the synthetic series' label layer).

One simulated user hint: a point in the largest region of one part on one page (`hint_for_part`). After the
chapter's hints are applied (`colorize.hints.ChapterHints`), `hint_shares` counts on the chapter's *other* pages
the share of that part's pixels that took the hinted colour (recall), and the share of the other parts' pixels
that wrongly took it. Pixels under line art (ink coverage >= half) are left out of both: line art is never
recoloured, whatever region it borders.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..colorize.hints import PageRegions, Scribble

INK_COVER = 128  # ink layer value (0..255) from which a pixel counts as line art


def hint_for_part(page: str, regions: PageRegions, label: np.ndarray, part: int, rgb) -> Scribble | None:
    """A point hint of colour ``rgb`` at the centre-most pixel of the largest region whose pixels are mostly
    ``part`` (palette index of ``label``, uint8 (H, W)); None if the page has no such region."""
    n = regions.n
    counts = np.bincount(regions.labels.ravel() * 256 + label.ravel(), minlength=(n + 1) * 256).reshape(n + 1, 256)
    counts[0] = 0
    mostly = counts.argmax(1) == part
    if not mostly.any():
        return None
    r = int(np.argmax(np.where(mostly, counts[:, part], -1)))
    ys, xs = np.nonzero(regions.labels == r)
    centre = np.argmin((ys - ys.mean()) ** 2 + (xs - xs.mean()) ** 2)
    return Scribble(page, tuple(int(v) for v in rgb), np.array([[ys[centre], xs[centre]]]), f"hint on part {part}")


def hint_shares(pages: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], part: int) -> dict:
    """``pages``: (label uint8 (H, W), ink uint8 (H, W), recoloured bool (H, W)) of the pages the hint was *not* on.

    Returns ``part_pixels``, ``recall`` (share of the part's pixels recoloured), ``other_pixels`` and ``false``
    (share of the other parts' pixels recoloured); NaN where a count is 0."""
    part_n = part_hit = other_n = other_hit = 0
    for label, ink, recoloured in pages:
        free = ink < INK_COVER
        is_part = free & (label == part)
        is_other = free & (label != part)
        part_n, part_hit = part_n + int(is_part.sum()), part_hit + int((is_part & recoloured).sum())
        other_n, other_hit = other_n + int(is_other.sum()), other_hit + int((is_other & recoloured).sum())
    return {"part_pixels": part_n, "recall": part_hit / part_n if part_n else float("nan"),
            "other_pixels": other_n, "false": other_hit / other_n if other_n else float("nan")}
