"""Chapter pages: read and validate users' images, generate synthetic chapters, write the page folder.

A chapter's page folder (written by the ``pages`` rule) holds ``color/NNN.png`` (RGB), ``bw/NNN.png`` (grey: the
page's print), for training chapters ``prints/K/NNN.png`` (further prints of the same colour page, K = 1, 2, ...:
training sees every colour page under several prints) and ``pages.csv`` (index, name, height, width, source,
alignment: the registration score of a user's B&W scan, empty where the print was made here). Users' input
folders are only ever read.

How a colour page without a B&W partner becomes B&W (config ``print``): ``screentone`` (the print model,
``data.printing``: tones chosen per page and region, so the print does not give the colour away), ``lightness``
(the colour page's own CIE lightness: continuous grey, each flat colour its own grey level) or, for the
synthetic series only, ``fixed`` (the palette's one screen per colour: the seed experiment's print).
"""
from __future__ import annotations

import csv
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
from PIL import Image

from ..io import atomic_path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MAX_PAGE_PIXELS = 40_000_000  # a 780x1200 page is 0.94 MP; anything this big is a mistake or a decompression bomb
MIN_PAGE_SIDE = 64


class PageError(ValueError):
    """A page image that cannot be used; the message names the file and what is wrong."""


def _png_header(path: Path) -> tuple[int, int, int, int] | None:
    """(width, height, bit depth, colour type) from a PNG's IHDR, read without decoding; None if not a PNG."""
    with open(path, "rb") as f:
        head = f.read(29)
    if len(head) < 29 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return width, height, head[24], head[25]


def check_page_header(path: Path, kind: str) -> None:
    """Reject, before decoding, what the header already shows is unusable (16-bit colour, size)."""
    header = _png_header(path)
    if header is not None:
        width, height, depth, ctype = header
        if depth == 16 and ctype in (0, 4) and kind == "color":
            raise PageError(f"{path}: grey-only image given as a colour page; colour pages must be RGB")
        if depth == 16 and ctype not in (0, 4):  # 16-bit grey B&W pages are scaled to 8 bits when read
            raise PageError(f"{path}: 16-bit colour PNG; mangacolor reads 8-bit colour pages, convert it first "
                            "(e.g. `convert in.png -depth 8 out.png`)")
    else:
        try:
            with Image.open(path) as im:
                width, height = im.size
        except Exception as exc:  # PIL raises many types for a broken file
            raise PageError(f"{path}: not a readable PNG/JPEG image ({exc})") from None
    if width * height > MAX_PAGE_PIXELS:
        raise PageError(f"{path}: {width}x{height} pixels is larger than the {MAX_PAGE_PIXELS:,}-pixel limit "
                        "(a decompression bomb or a scan at far too high a resolution)")
    if min(width, height) < MIN_PAGE_SIDE:
        raise PageError(f"{path}: {width}x{height} is too small for a page (each side must be >= {MIN_PAGE_SIDE} px)")


def _on_white(im: Image.Image, mode: str) -> Image.Image:
    """A transparent image composited onto white paper in ``mode`` (L or RGB): transparent areas often store black."""
    rgba = im.convert("LA" if mode == "L" else "RGBA")
    paper = Image.new(rgba.mode, rgba.size, (255, 255) if mode == "L" else (255, 255, 255, 255))
    return Image.alpha_composite(paper.convert("RGBA"), rgba.convert("RGBA")).convert(mode)


def read_page(path: str | Path, kind: str = "color") -> np.ndarray:
    """Read one page as uint8: ``kind='color'`` gives (H, W, 3) RGB, ``kind='bw'`` gives (H, W) grey.

    Colour pages must be RGB (a grey-only image has no colour to learn from); B&W pages may be grey or RGB, and
    16-bit grey B&W pages are scaled to 8 bits. Palette images are converted, transparent areas composited onto
    white. Every problem is a `PageError` naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise PageError(f"{path}: no such file")
    check_page_header(path, kind)
    target = "RGB" if kind == "color" else "L"
    try:
        with Image.open(path) as im:
            im.load()
            mode = im.mode
            if mode in ("I;16", "I;16B", "I;16L", "I"):
                if kind == "color":
                    raise PageError(f"{path}: grey-only image given as a colour page; colour pages must be RGB")
                values = np.asarray(im).astype(np.int64)
                if values.size and (values.min() < 0 or values.max() > 65535):
                    raise PageError(f"{path}: 32-bit integer image; save the page as 8- or 16-bit")
                return np.ascontiguousarray(((values * 255 + 32767) // 65535).astype(np.uint8))
            if mode == "F":
                raise PageError(f"{path}: 32-bit floating-point image; convert it to 8-bit")
            if kind == "color" and (mode in ("L", "LA", "1") or (mode == "P" and _is_grey(im.convert("RGB")))):
                raise PageError(f"{path}: grey-only image given as a colour page; colour pages must be RGB")
            if mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
                converted = _on_white(im, target)
            else:
                converted = im.convert(target) if mode != target else im
            arr = np.asarray(converted, dtype=np.uint8)
    except PageError:
        raise
    except Exception as exc:  # truncated data, bad CRC, unknown format...
        raise PageError(f"{path}: unreadable or truncated image ({type(exc).__name__}: {exc})") from None
    return np.ascontiguousarray(arr)


def _is_grey(rgb: Image.Image) -> bool:
    r, g, b = (np.asarray(band) for band in rgb.split())
    return bool(np.array_equal(r, g) and np.array_equal(g, b))


def gray_from_color(rgb: np.ndarray) -> np.ndarray:
    """The grey page with the same CIE lightness as ``rgb`` (sRGB-encode the linear luminance Y)."""
    lin = rgb.astype(np.float32) / 255.0
    lin = np.where(lin <= 0.04045, lin / 12.92, ((lin + 0.055) / 1.055) ** 2.4)
    y = lin @ np.array([0.2126729, 0.7151522, 0.0721750], dtype=np.float32)
    g = np.where(y <= 0.0031308, 12.92 * y, 1.055 * np.power(y, 1 / 2.4) - 0.055)
    return np.clip(np.rint(g * 255.0), 0, 255).astype(np.uint8)


def list_images(folder: str | Path, key: str) -> list[Path]:
    """The page images of a folder, sorted by name; a clear error (naming the config key) if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PageError(f"config {key}: folder {folder} does not exist")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise PageError(f"config {key}: folder {folder} has no PNG/JPEG pages")
    return files


PRINTS = ("screentone", "lightness", "fixed")
GREY_CHROMA, GREY_SHARE = 10.0, 0.005  # a "colour" page with under 0.5 % of pixels of Lab chroma > 10 is grey


@dataclass
class Page:
    name: str
    color: np.ndarray
    bw: np.ndarray
    source: str
    prints: list[np.ndarray] = field(default_factory=list)  # further prints of the page (training)
    alignment: float | None = None  # registration score of a user's B&W scan


def _print_seed(chapter: str, name: str, variant: int) -> int:
    from .synth import stable_seed

    return stable_seed("user-print", chapter, name, variant)


def synthetic_pages(series_seed: int, chapter: str, n_pages: int, print_style: str, n_prints: int, arc: str
                    ) -> Iterator[Page]:
    """The pages of a chapter of the procedural series from story arc ``arc`` (``series``: the training chapters'
    world; ``new``: backdrops, props and a newcomer never drawn in it), printed ``n_prints`` times each (print
    variants 0, 1, ...; deterministic in the arguments)."""
    from .synth import ARCS, render_print

    if print_style not in PRINTS:
        raise PageError(f"config print: {print_style!r} is not one of {', '.join(PRINTS)}")
    if arc not in ARCS:
        raise PageError(f"config chapters.{chapter}.arc: {arc!r} is not one of {', '.join(ARCS)}")
    for i in range(n_pages):
        color, bw = render_print(series_seed, chapter, i, print_style, arc=arc)
        extra = [render_print(series_seed, chapter, i, print_style, variant=k, arc=arc)[1]
                 for k in range(1, n_prints)]
        yield Page(f"{i:03d}", color, bw, "synthetic", extra)


def print_color_page(color: np.ndarray, print_style: str, seed: int) -> np.ndarray:
    """A B&W print of a user's colour page: the print model (``screentone``) or its lightness (``lightness``)."""
    if print_style == "lightness":
        return gray_from_color(color)
    if print_style == "screentone":
        from .printing import print_page

        return print_page(color, seed)
    raise PageError(f"config print: {print_style!r} needs the series' palette; a user's colour pages print as "
                    "screentone or lightness")


def is_grey(color: np.ndarray) -> bool:
    """True when an RGB page carries (almost) no colour: nothing to learn from."""
    from ..kernels.lab import rgb_to_lab

    ab = rgb_to_lab(color[::4, ::4])[..., 1:]
    return float((np.hypot(ab[..., 0], ab[..., 1]) > GREY_CHROMA).mean()) < GREY_SHARE


def folder_pages(color_dir: str | Path, bw_dir: str | Path | None, chapter: str, print_style: str,
                 n_prints: int = 1, report=print) -> Iterator[Page]:
    """A user's chapter: colour pages, each with its B&W scan (matched by file stem and registered onto the colour
    page) or printed from it (``print_style``); ``n_prints`` - 1 further prints from the print model.

    A page that cannot be used (unreadable, already grey, no partner, a scan that cannot be registered) is left
    out and named through ``report``; a chapter with no usable page is a PageError naming it."""
    from .register import RegistrationError, register_pair

    key = f"chapters.{chapter}"
    color_files = list_images(color_dir, f"{key}.color")
    bw_by_stem = {}
    left_out = []
    if bw_dir is not None:
        bw_files = list_images(bw_dir, f"{key}.bw")
        bw_by_stem = {p.stem: p for p in bw_files}
        color_stems = {p.stem for p in color_files}
        left_out += [f"{p}: no B&W page with this name in {bw_dir}" for p in color_files if p.stem not in bw_by_stem]
        left_out += [f"{p}: no colour page with this name in {color_dir}" for p in bw_files
                     if p.stem not in color_stems]
    used = 0
    for path in color_files:
        if bw_dir is not None and path.stem not in bw_by_stem:
            continue
        try:
            color = read_page(path, "color")
            if is_grey(color):
                raise PageError(f"{path}: the colour page is grey (no chroma): nothing to learn colours from")
            alignment = None
            if bw_dir is None:
                bw = print_color_page(color, print_style, _print_seed(chapter, path.stem, 0))
            else:
                scan = read_page(bw_by_stem[path.stem], "bw")
                reg = register_pair(scan, color, name=str(bw_by_stem[path.stem]))
                bw, alignment = reg.bw, round(float(reg.score), 4)
            extra = [print_color_page(color, "screentone" if print_style == "fixed" else print_style,
                                      _print_seed(chapter, path.stem, k)) for k in range(1, n_prints)]
        except (PageError, RegistrationError) as exc:
            left_out.append(str(exc))
            continue
        used += 1
        yield Page(path.stem, color, bw, str(path), extra, alignment)
    for message in left_out:
        report(f"left out: {message}")
    if not used:
        raise PageError(f"config {key}: no usable page pair in {color_dir}" + (f" and {bw_dir}" if bw_dir else "")
                        + (": " + "; ".join(left_out[:5]) if left_out else ""))


def write_page_folder(pages: Iterator[Page], out_dir: str | Path, progress: bool = True) -> int:
    """Write pages as ``color/NNN.png``, ``bw/NNN.png``, ``prints/K/NNN.png`` and ``pages.csv`` into ``out_dir``,
    atomically."""
    from tqdm import tqdm

    with atomic_path(out_dir, suffix=".tmpdir") as tmp:
        (tmp / "color").mkdir(parents=True)
        (tmp / "bw").mkdir()
        rows = []
        for i, page in enumerate(tqdm(pages, desc=f"pages {Path(out_dir).name}", unit="page", disable=not progress)):
            name = f"{i:03d}.png"
            cv2.imwrite(str(tmp / "color" / name), cv2.cvtColor(page.color, cv2.COLOR_RGB2BGR))
            cv2.imwrite(str(tmp / "bw" / name), page.bw)
            for k, extra in enumerate(page.prints, start=1):
                (tmp / "prints" / str(k)).mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(tmp / "prints" / str(k) / name), extra)
            rows.append({"index": i, "name": page.name, "height": page.color.shape[0],
                         "width": page.color.shape[1], "source": page.source, "prints": 1 + len(page.prints),
                         "alignment": "" if page.alignment is None else page.alignment})
        with open(tmp / "pages.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=["index", "name", "height", "width", "source", "prints",
                                                   "alignment"])
            writer.writeheader()
            writer.writerows(rows)
    return len(rows)


def load_page_folder(folder: str | Path, all_prints: bool = False
                     ) -> tuple[list[dict], Iterator[tuple[np.ndarray, np.ndarray]]]:
    """The ``pages.csv`` rows of a page folder and an iterator over its (colour RGB, B&W grey) pages; with
    ``all_prints`` every print of each page in turn (print 0, then the further prints), the colour page repeated."""
    folder = Path(folder)
    with open(folder / "pages.csv", newline="") as f:
        rows = list(csv.DictReader(f))

    def pages():
        for row in rows:
            name = f"{int(row['index']):03d}.png"
            color = cv2.cvtColor(cv2.imread(str(folder / "color" / name), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
            n = int(row.get("prints") or 1) if all_prints else 1
            for k in range(n):
                print_path = folder / "bw" / name if k == 0 else folder / "prints" / str(k) / name
                yield color, cv2.imread(str(print_path), cv2.IMREAD_GRAYSCALE)

    return rows, pages()

