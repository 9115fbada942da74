"""Colour hints that hold for a chapter: a scribble recolours the closed line-art region under it, and the same
part on every page of the chapter.

Hints (``mangacolor colorize --hints FILE``) are either

- a YAML file: a list of entries (or ``{hints: [...]}``), each ``{page: NAME, x: X, y: Y, color: COLOUR}``, with
  ``x``, ``y`` in pixels of the page (0, 0 = top left), or
- a folder of transparent PNG overlays, one per hinted page, named like the page (``003.png`` for ``003.jpg``),
  of the page's size: every connected blob of opaque pixels (alpha >= 128) is a scribble of its median colour.

``NAME`` is the page's output name (``003.png``, ``A/003.png``), its name in its folder or archive (``003.jpg``),
that name without its suffix (``003``) or, for pages named by a number, the number (``3``). ``COLOUR`` is
``#rrggbb``, ``#rgb``, ``rgb(r, g, b)``, a CSS colour name or ``[r, g, b]`` (0..255).

Regions (`line_regions`): the print is split along its line art (`colorize.lineart.extract_lineart`, the
pipeline's) into closed regions (`colorize.regions.line_regions`: connected components of the pixels that are not
line art, gaps in the lines closed), each region holding its screentone. Solid black areas and regions under
``MIN_REGION`` pixels are no region (label 0).

The rule that carries a correction over the chapter (`ChapterHints`): every region under a scribble becomes a
*reference*, described by what the model predicted for it before the correction, its bin distribution (the
per-cell probabilities pooled over its pixels and over every crop that covers it, `pool_regions`), and by its
area. A region of any page takes a reference's colour when

- the Jensen-Shannon distance (base 2, in 0..1) between its pooled distribution and the reference's, both blurred
  over the ab plane by ``MATCH_BLUR`` (so a slightly paler orange is near orange, a blue is not), is at most
  ``MATCH_DISTANCE``: the model saw the same thing there, and made the same mistake;
- its area is within a factor ``MATCH_AREA`` of the reference's (parts are drawn at very different scales, but a
  hair strand is not a sky).

The region's print does not enter the rule: an artist tones one colour differently from page to page (paper
here, dots there), so the tone says little about which part a region is.

Of several matching references the nearest in distribution wins; regions under a scribble of the page take that
scribble's colour whatever else matches. A region that takes a colour gets its CIE Lab colour: its a*b* on the
page's own lightness (chroma output), or all of it (colour pages: the line art drawn over it).
``benchmarks/hints.py`` measures the rule on the synthetic series.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import cv2
import numpy as np
import yaml
from PIL import Image, ImageColor

from ..data.pages import PageError
from ..kernels.lab import rgb_to_lab
from .lineart import extract_lineart
from .regions import MIN_AREA as REGION_MIN_AREA, line_regions as closed_regions

MIN_REGION = REGION_MIN_AREA  # pixels; smaller regions are no region (as for the flat colours of the pipeline)
MATCH_DISTANCE = 0.25  # Jensen-Shannon distance (base 2) of pooled, blurred distributions
MATCH_BLUR = 10.0  # ab units: the Gaussian the distributions are blurred with over the ab plane
MATCH_AREA = 64.0  # ratio of areas, either way
POINT_REACH = 4  # px: a point hint on line art takes the nearest region this close
LINE_REACH = 4  # px: line art and screen left at a region's edge take the colour of the nearest region this close
SCRIBBLE_SHARE = 0.1  # a scribble recolours every region holding at least this share of its pixels


# ---------------------------------------------------------------- hints files
@dataclass(frozen=True)
class Scribble:
    """One hint on one page: ``points`` int (N, 2) pixel (y, x), ``rgb`` its colour, ``origin`` where it was given
    (for messages: ``hints.yaml entry 2``, ``overlays/003.png blob 1``), ``page`` the page's output name,
    ``shape`` (H, W) of the overlay it was drawn on (None for a point)."""
    page: str
    rgb: tuple[int, int, int]
    points: np.ndarray
    origin: str
    shape: tuple[int, int] | None = None


def parse_colour(value, where: str) -> tuple[int, int, int]:
    """``#rrggbb``, ``#rgb``, ``rgb(r, g, b)``, a CSS name or ``[r, g, b]`` -> (r, g, b); PageError naming
    ``where`` for anything else."""
    if isinstance(value, (list, tuple)):
        if len(value) == 3 and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value):
            return tuple(int(v) for v in value)
    elif isinstance(value, str):
        try:
            rgb = ImageColor.getrgb(value.strip())
            return tuple(int(v) for v in rgb[:3])
        except ValueError:
            pass
    raise PageError(f"{where}: colour {value!r} is not a colour (use #rrggbb, rgb(r, g, b), a CSS colour name or "
                    "[r, g, b] with 0..255)")


def _number(name: str) -> int | None:
    """The number a page's file name is (``A/003.png`` -> 3), or None."""
    stem = Path(name).stem
    return int(stem) if stem.isdigit() else None


class PageNames:
    """Resolves what a hint calls a page (output name, name in its folder or archive, or that without suffix) to
    the page's output name; PageError for an unknown or ambiguous name."""

    def __init__(self, names: Sequence[str], inner_names: Sequence[str] = ()):
        self.names = list(names)
        self._lookup: dict[str, set[str]] = {}
        for i, name in enumerate(self.names):
            keys = {name, str(Path(name).with_suffix("")), name.removesuffix(".png")}
            if i < len(inner_names):
                keys |= {inner_names[i], str(Path(inner_names[i]).with_suffix(""))}
            for key in keys:
                self._lookup.setdefault(key.casefold(), set()).add(name)

    def resolve(self, what, where: str) -> str:
        found = self._lookup.get(str(what).casefold(), set())
        if not found and isinstance(what, int) and not isinstance(what, bool):  # YAML reads `page: 003` as 3
            found = {name for name in self.names if _number(name) == what}
        if len(found) == 1:
            return next(iter(found))
        if found:
            raise PageError(f"{where}: page {what!r} is ambiguous ({', '.join(sorted(found))}); give the output name")
        shown = ", ".join(self.names[:5]) + (" ..." if len(self.names) > 5 else "")
        raise PageError(f"{where}: page {what!r} is not a page of this chapter (pages: {shown})")


def _yaml_hints(path: Path, pages: PageNames) -> list[Scribble]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise PageError(f"{path}: not a readable YAML hints file ({str(exc).splitlines()[0]})") from None
    entries = data.get("hints") if isinstance(data, dict) else data
    if not isinstance(entries, list) or not entries:
        raise PageError(f"{path}: expected a list of hints, each {{page, x, y, color}}")
    scribbles = []
    for i, entry in enumerate(entries, start=1):
        where = f"{path} entry {i}"
        if not isinstance(entry, dict):
            raise PageError(f"{where}: expected {{page, x, y, color}}, got {entry!r}")
        colour = entry.get("color", entry.get("colour"))
        unknown = sorted(set(map(str, entry)) - {"page", "x", "y", "color", "colour"})
        missing = [k for k in ("page", "x", "y") if k not in entry] + ([] if colour is not None else ["color"])
        if unknown or missing:
            raise PageError(f"{where}: " + "; ".join(([f"unknown key(s) {', '.join(unknown)}"] if unknown else [])
                                                     + ([f"missing {', '.join(missing)}"] if missing else []))
                            + " (keys: page, x, y, color)")
        for key in ("x", "y"):
            if not isinstance(entry[key], int) or isinstance(entry[key], bool) or entry[key] < 0:
                raise PageError(f"{where}: {key} must be a pixel position (an integer >= 0), got {entry[key]!r}")
        page = pages.resolve(entry["page"], where)
        scribbles.append(Scribble(page, parse_colour(colour, where), np.array([[entry["y"], entry["x"]]]), where))
    return scribbles


def _overlay_hints(folder: Path, pages: PageNames) -> list[Scribble]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".png"
                   and not p.name.startswith("."))
    if not files:
        raise PageError(f"{folder}: hints folder has no PNG overlays")
    scribbles = []
    for file in files:
        page = pages.resolve(file.name, str(file))
        try:
            with Image.open(file) as im:
                rgba = np.asarray(im.convert("RGBA"))
        except Exception as exc:  # PIL raises many types for a broken file
            raise PageError(f"{file}: not a readable PNG overlay ({type(exc).__name__}: {exc})") from None
        opaque = (rgba[..., 3] >= 128).astype(np.uint8)
        n, blobs = cv2.connectedComponents(opaque, connectivity=8)
        if n <= 1:
            raise PageError(f"{file}: overlay has no opaque pixels (scribbles must be drawn with alpha >= 128 on a "
                            "transparent page)")
        for blob in range(1, n):
            ys, xs = np.nonzero(blobs == blob)
            rgb = tuple(int(v) for v in np.median(rgba[ys, xs, :3], axis=0).round())
            scribbles.append(Scribble(page, rgb, np.stack([ys, xs], 1), f"{file} blob {blob}", rgba.shape[:2]))
    return scribbles


def load_hints(path: str | Path, names: Sequence[str], inner_names: Sequence[str] = ()) -> list[Scribble]:
    """The scribbles of a YAML hints file or a folder of PNG overlays (module docstring) for a chapter whose pages
    have the output ``names`` (and ``inner_names``: their names in their folder or archive). PageError naming the
    file and entry for a missing file, an unknown page, a colour that is not a colour or a bad position."""
    path = Path(path)
    pages = PageNames(names, inner_names)
    if path.is_dir():
        return _overlay_hints(path, pages)
    if not path.is_file():
        raise PageError(f"{path}: no such hints file or folder")
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise PageError(f"{path}: hints are a .yaml file or a folder of PNG overlays")
    return _yaml_hints(path, pages)


# ---------------------------------------------------------------- regions
def line_regions(gray: np.ndarray, lines: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """(labels int32 (H, W), n): the closed regions of a print, uint8 (H, W) grey, between its line art (``lines``,
    bool (H, W), default `lineart.extract_lineart`'s), 1..n (`regions.line_regions`); 0 = line art, solid black and
    small regions."""
    if lines is None:
        lines = extract_lineart(gray).lines
    labels = closed_regions(lines, min_area=MIN_REGION)
    return labels, int(labels.max())


# ---------------------------------------------------------------- what the model predicted for each region
@dataclass
class PageRegions:
    """The regions of one page and the model's prediction for each (row 0: line art, unused).

    labels: int32 (H, W) as `line_regions`; dist: float64 (n + 1, Q) pooled bin distribution; area: int64 (n + 1,)
    pixels; reach: int32 (H, W), ``labels`` with every label-0
    pixel within ``LINE_REACH`` px of a region given that region's label: what is recoloured with a region (the
    print keeps its lightness, so line art stays dark; screen dots stuck to the outline get the region's colour).
    """
    labels: np.ndarray
    dist: np.ndarray
    area: np.ndarray
    reach: np.ndarray

    @property
    def n(self) -> int:
        return len(self.area) - 1


def pool_regions(labels: np.ndarray, n: int, boxes: np.ndarray, inner: np.ndarray, tile: int | tuple[int, int],
                 probs: np.ndarray) -> np.ndarray:
    """Mean of the per-cell bin probabilities over each region's pixels: float64 (n + 1, Q).

    ``probs`` (N, Q, Gh, Gw): the crops' probabilities; crop k covers page pixels ``boxes[k]`` (y0, x0, y1, x1)
    with its part ``inner[k]`` (in crop pixels of a ``tile`` x ``tile`` crop, or (height, width)), as a `CropPlan`
    records them; a native page grid is one crop of its cells' extent. Every (crop, cell) that covers the region
    counts with weight c^2 / m: c of its m page pixels are the region's, so cells mostly inside the region dominate
    cells that straddle its outline (whose prediction mixes the line art and the neighbours in); a region no crop
    covers gets the uniform distribution.
    """
    from scipy import sparse

    h, w = labels.shape
    n_crops, q, gh, gw = probs.shape
    tile_h, tile_w = (tile, tile) if np.isscalar(tile) else tile
    total = np.zeros((n + 1, q))
    weight = np.zeros(n + 1)
    for k in range(n_crops):
        y0, x0, y1, x1 = (int(v) for v in boxes[k])
        iy0, ix0, iy1, ix1 = (int(v) for v in inner[k])
        rows, cols = np.arange(max(y0, 0), min(y1, h)), np.arange(max(x0, 0), min(x1, w))
        if not len(rows) or not len(cols):
            continue
        cell_y = ((iy0 + (rows - y0 + 0.5) * (iy1 - iy0) / (y1 - y0)) * gh / tile_h).astype(np.int64).clip(0, gh - 1)
        cell_x = ((ix0 + (cols - x0 + 0.5) * (ix1 - ix0) / (x1 - x0)) * gw / tile_w).astype(np.int64).clip(0, gw - 1)
        region = labels[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].ravel()
        cell = (cell_y[:, None] * gw + cell_x[None, :]).ravel()
        pairs = np.bincount(region.astype(np.int64) * (gh * gw) + cell, minlength=(n + 1) * gh * gw)
        pair = np.flatnonzero(pairs)
        count = pairs[pair].astype(np.float64)
        in_region, in_cell = np.divmod(pair, gh * gw)
        cell_pixels = np.bincount(in_cell, weights=count, minlength=gh * gw)
        share = count * count / cell_pixels[in_cell]  # a cell counts by how much of it is the region, squared
        weights = sparse.csr_matrix((share, (in_region, in_cell)), shape=(n + 1, gh * gw))
        total += weights @ np.asarray(probs[k], np.float64).reshape(q, gh * gw).T
        weight += np.bincount(in_region, weights=share, minlength=n + 1)
    uniform = weight == 0
    total[uniform] = 1.0 / q
    weight[uniform] = 1.0
    return total / weight[:, None]


def page_regions(gray: np.ndarray, boxes: np.ndarray, inner: np.ndarray, tile: int | tuple[int, int],
                 probs: np.ndarray,
                 regions: tuple[np.ndarray, int] | None = None) -> PageRegions:
    """A page's regions (`line_regions` unless given) with their pooled distributions and areas."""
    labels, n = regions if regions is not None else line_regions(gray)
    area = np.bincount(labels.ravel(), minlength=n + 1).astype(np.int64)
    return PageRegions(labels, pool_regions(labels, n, boxes, inner, tile, probs), area, reach_of(labels))


def reach_of(labels: np.ndarray) -> np.ndarray:
    """``labels`` with each 0 pixel within ``LINE_REACH`` px of a region labelled as its nearest region."""
    from scipy import ndimage

    if not (labels > 0).any():
        return labels.copy()
    distance, (iy, ix) = ndimage.distance_transform_edt(labels == 0, return_indices=True)
    return np.where(distance <= LINE_REACH, labels[iy, ix], 0).astype(np.int32)


def smooth_bins(dist: np.ndarray, centers: np.ndarray, sigma: float) -> np.ndarray:
    """Distributions over bins (..., Q) blurred over the ab plane by a Gaussian of ``sigma`` (ab units) between
    bin centres (Q, 2): neighbouring bins (a slightly paler orange) then overlap, distant hues do not."""
    d2 = np.sum((centers[:, None, :] - centers[None, :, :]) ** 2, -1)
    kernel = np.exp(-d2 / (2 * sigma ** 2))
    kernel /= kernel.sum(1, keepdims=True)
    return dist @ kernel


def js_distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon distance (base 2, 0..1) between distributions ``p`` (..., Q) and ``q`` (Q,)."""
    p, q = np.clip(p, 1e-12, None), np.clip(q, 1e-12, None)
    p, q = p / p.sum(-1, keepdims=True), q / q.sum()
    m = 0.5 * (p + q)
    divergence = 0.5 * (np.sum(p * np.log2(p / m), -1) + np.sum(q * np.log2(q / m), -1))
    return np.sqrt(np.clip(divergence, 0.0, 1.0))


# ---------------------------------------------------------------- the rule
@dataclass(frozen=True)
class Reference:
    """A hinted region: its colour (``rgb``, and ``lab`` (3,) CIE Lab) and what the model predicted for it before
    the correction (``dist`` (Q,), ``area``); ``origin`` names the scribble."""
    rgb: tuple[int, int, int]
    lab: np.ndarray
    dist: np.ndarray
    area: int
    origin: str


def hint_lab(rgb: tuple[int, int, int]) -> np.ndarray:
    """float32 (3,): the CIE Lab of an sRGB colour."""
    return rgb_to_lab(np.array([[rgb]], np.uint8))[0, 0].astype(np.float32)


def scribble_regions(scribble: Scribble, regions: PageRegions) -> list[int]:
    """The regions a scribble recolours: those holding at least ``SCRIBBLE_SHARE`` of its pixels that are not line
    art (a point on line art: the nearest region within ``POINT_REACH`` px). PageError naming the scribble when its
    pixels lie outside the page or on no region."""
    labels = regions.labels
    h, w = labels.shape
    if scribble.shape is not None and tuple(scribble.shape) != (h, w):
        raise PageError(f"{scribble.origin}: overlay is {scribble.shape[1]}x{scribble.shape[0]} but page "
                        f"{scribble.page} is {w}x{h}; draw the overlay on the page itself")
    ys, xs = scribble.points[:, 0], scribble.points[:, 1]
    if ys.max() >= h or xs.max() >= w:
        raise PageError(f"{scribble.origin}: position x={int(xs.max())}, y={int(ys.max())} is outside page "
                        f"{scribble.page} ({w}x{h})")
    hit = labels[ys, xs]
    hit = hit[hit > 0]
    if not len(hit) and len(ys) == 1:
        y, x = int(ys[0]), int(xs[0])
        window = labels[max(y - POINT_REACH, 0):y + POINT_REACH + 1, max(x - POINT_REACH, 0):x + POINT_REACH + 1]
        wy, wx = np.nonzero(window)
        if len(wy):
            nearest = np.argmin((wy + max(y - POINT_REACH, 0) - y) ** 2 + (wx + max(x - POINT_REACH, 0) - x) ** 2)
            hit = window[wy[nearest], wx[nearest]][None]
    if not len(hit):
        raise PageError(f"{scribble.origin}: on page {scribble.page} the hint lies on line art or solid black, not "
                        "inside a region to colour; move it into the area to colour")
    ids, counts = np.unique(hit, return_counts=True)
    return [int(i) for i in ids[counts >= SCRIBBLE_SHARE * len(hit)]]


class ChapterHints:
    """The references of a chapter's scribbles, and the rule that carries them to every page (module docstring)."""

    def __init__(self, references: Sequence[Reference], scribbles: Sequence[Scribble] = (),
                 centers: np.ndarray | None = None):
        self.references = list(references)
        self.centers = centers
        self.scribbles: dict[str, list[Scribble]] = {}
        for scribble in scribbles:
            self.scribbles.setdefault(scribble.page, []).append(scribble)

    @classmethod
    def learn(cls, scribbles: Sequence[Scribble], regions_of: Callable[[str], PageRegions],
              centers: np.ndarray | None = None) -> "ChapterHints":
        """The references of ``scribbles``; ``regions_of(page name)`` gives a hinted page's `PageRegions`;
        ``centers`` (Q, 2): the bins' ab centres, for blurring the distributions (None: no blur)."""
        references = []
        for page in dict.fromkeys(s.page for s in scribbles):
            regions = regions_of(page)
            for scribble in (s for s in scribbles if s.page == page):
                lab = hint_lab(scribble.rgb)
                for r in scribble_regions(scribble, regions):
                    references.append(Reference(scribble.rgb, lab, regions.dist[r], int(regions.area[r]),
                                                scribble.origin))
        return cls(references, scribbles, centers)

    def assign(self, regions: PageRegions, page: str | None = None) -> np.ndarray:
        """int64 (n + 1,): for every region of a page the index of the reference whose colour it takes, -1 for
        none; regions under the page's own scribbles (``page``: its name) take theirs first."""
        choice = np.full(regions.n + 1, -1, np.int64)
        if not self.references:
            return choice
        best = np.full(regions.n + 1, np.inf)
        dist = self._blurred(regions.dist)
        for i, ref in enumerate(self.references):
            distance = js_distance(dist, self._blurred(ref.dist))
            ratio = np.maximum(regions.area, 1) / max(ref.area, 1)
            match = (distance <= MATCH_DISTANCE) & (ratio <= MATCH_AREA) & (ratio >= 1 / MATCH_AREA) & (distance < best)
            choice[match], best[match] = i, distance[match]
        for scribble in self.scribbles.get(page, []) if page is not None else []:
            i = next(j for j, ref in enumerate(self.references) if ref.origin == scribble.origin)
            choice[scribble_regions(scribble, regions)] = i
        choice[0] = -1
        return choice

    def _blurred(self, dist: np.ndarray) -> np.ndarray:
        return dist if self.centers is None else smooth_bins(dist, self.centers, MATCH_BLUR)

    def recolor(self, lab: np.ndarray, regions: PageRegions, choice: np.ndarray) -> np.ndarray:
        """float32 (H, W, C) with every assigned region's pixels (its ``reach``) set to its reference's colour:
        ``lab`` (H, W, 2) a*b* takes the colour's a*b*, (H, W, 3) Lab all of it."""
        out = np.array(lab, np.float32, copy=True)
        if not (choice >= 0).any():
            return out
        table = np.stack([ref.lab for ref in self.references])[:, -out.shape[-1]:]
        per_pixel = choice[regions.reach]
        out[per_pixel >= 0] = table[per_pixel[per_pixel >= 0]]
        return out

    def summary(self) -> Mapping[str, int]:
        return {"scribbles": sum(map(len, self.scribbles.values())), "regions": len(self.references)}
