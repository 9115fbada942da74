"""A chapter in, a chapter out: collect pages from files, folders and CBZ/ZIP archives, colourise them one by one
into a folder or a CBZ, and resume an interrupted run.

Inputs are only ever read. Folders are read recursively; folders and archives give their page images in natural
name order ("2" before "10", per path component, case-insensitive); ``__MACOSX`` and dot files are ignored, other
files that are not page images are skipped and listed.

Output names (``PageSource.name``: a relative POSIX path ending in ``.png``):

- one input: the page's path inside it, suffix replaced (a folder's or archive's ``A/001.jpg`` -> ``A/001.png``;
  a file given alone -> its own name);
- several inputs: each folder's or archive's pages under its name (``ch1/001.png``, ``ch2/001.png``); files given
  alone at the top;
- pages whose names differ only in their suffix (``001.png``, ``001.jpg``) each keep their whole name and get
  ``.png`` added (``001.png.png``, ``001.jpg.png``);
- names that are still equal, ignoring case (they would overwrite each other on macOS and Windows), are refused.

Resume: every output is written atomically, so a page whose output exists is complete and a rerun skips it
(delete an output to redo that page). A CBZ output (``-o`` ending in ``.cbz``) collects its pages in the sidecar
folder ``OUT.cbz.parts/``; at the end of a run the CBZ is written atomically (the pages of the CBZ a previous run
left at that path, plus the new ones, in natural order) and the sidecar removed. A CBZ written here carries the
ZIP comment ``CBZ_COMMENT``: that is how a rerun tells its own output from a user's archive it must not replace.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import sys
import warnings
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Sequence

import cv2
import numpy as np
from PIL import Image, ImageOps
from tqdm import tqdm

from ..data.pages import MAX_PAGE_PIXELS, MIN_PAGE_SIDE, PageError
from ..io import atomic_path
from ..kernels.lab import rgb_to_lab

PAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
ARCHIVE_SUFFIXES = (".cbz", ".zip")
UNSUPPORTED_ARCHIVES = (".cbr", ".rar", ".cb7", ".7z", ".cbt", ".tar", ".pdf")
# The largest archive entry or page file read: 8 bytes per pixel (16-bit RGBA, uncompressed) at the pixel limit.
MAX_PAGE_BYTES = 8 * MAX_PAGE_PIXELS
CBZ_COMMENT = b"written by mangacolor colorize"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

COLOR_CHROMA = 15.0  # Lab ab distance from a page's tint line beyond which a block counts as coloured
COLOR_SHARE = 0.02  # share of coloured blocks above which a page is in colour
COLOR_BLOCK = 4  # side in pixels of the blocks the colour test averages over
TRANSPARENT_NOTE = "transparent areas composited onto white"

_NUMBER = re.compile(r"([0-9]+)")


def natural_key(name: str) -> tuple:
    """Sort key for POSIX relative paths with numbers: "2" before "10", per component, case-insensitive."""
    parts = []
    for part in name.split("/"):
        tokens = _NUMBER.split(part)  # text, number, text, number, ... (odd positions are numbers)
        parts.append(tuple((0, int(tok), "") if i % 2 else (1, 0, tok.casefold())
                           for i, tok in enumerate(tokens) if tok))
    return tuple(parts), name


# ---------------------------------------------------------------- reading pages
@dataclass(frozen=True)
class PageImage:
    """A decoded page.

    gray: uint8 (H, W), what B&W colourising reads (RGB pages via PIL's ITU-R 601 luma, as ``data.pages.read_page``).
    rgb: uint8 (H, W, 3), or None for a grey-only image. is_color: `is_color_page` of ``rgb`` (False if None).
    notes: what was done to read it that a user should know (e.g. ``TRANSPARENT_NOTE``).
    """
    gray: np.ndarray
    rgb: np.ndarray | None
    is_color: bool
    notes: tuple[str, ...] = ()


def is_color_page(rgb: np.ndarray) -> bool:
    """Whether an RGB page (uint8 (H, W, 3)) is in colour rather than B&W.

    The page is averaged over ``COLOR_BLOCK`` x ``COLOR_BLOCK`` pixel blocks (this removes JPEG chroma noise and
    the colour fringes chroma subsampling leaves at ink edges) and converted to CIE Lab. A B&W page's blocks lie on
    one tint line, from black (a = b = 0) to the paper's tint, scaled with lightness; the paper's tint is the
    median ab of the brightest tenth of the blocks. A block is coloured when its ab is more than ``COLOR_CHROMA``
    Lab units from the tint line at its lightness, and the page is in colour when more than ``COLOR_SHARE`` of its
    blocks are. On white paper this is the plain test "chroma > 15 on more than 2 % of the page"; yellowed or
    coloured newsprint and sepia toning stay B&W, and so does a page printed in a single hue (duotone).
    """
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"is_color_page needs uint8 RGB (H, W, 3), got {rgb.dtype} {rgb.shape}")
    h, w = rgb.shape[:2]
    if min(h, w) >= COLOR_BLOCK:
        rgb = cv2.resize(rgb, (w // COLOR_BLOCK, h // COLOR_BLOCK), interpolation=cv2.INTER_AREA)
    lab = rgb_to_lab(np.ascontiguousarray(rgb)).reshape(-1, 3)
    lightness, ab = lab[:, 0], lab[:, 1:]
    bright = lightness >= np.percentile(lightness, 90)
    tint = np.median(ab[bright], axis=0)
    paper_lightness = max(float(np.median(lightness[bright])), 1.0)
    expected = tint[None, :] * np.clip(lightness / paper_lightness, 0.0, 1.0)[:, None]
    off_line = np.hypot(ab[:, 0] - expected[:, 0], ab[:, 1] - expected[:, 1])
    return float(np.mean(off_line > COLOR_CHROMA)) > COLOR_SHARE


def _on_white(pixels: np.ndarray) -> np.ndarray:
    """uint8 (H, W, C + 1) with alpha last -> uint8 (H, W, C) composited onto white (C = 1 gives (H, W))."""
    alpha = pixels[..., -1:].astype(np.uint32)
    out = (pixels[..., :-1].astype(np.uint32) * alpha + 255 * (255 - alpha) + 127) // 255
    return out.astype(np.uint8).squeeze(-1) if out.shape[-1] == 1 else out.astype(np.uint8)


def _pixels(im: Image.Image, origin: str) -> tuple[np.ndarray, bool]:
    """A loaded image as uint8 grey (H, W) or RGB (H, W, 3), and whether transparent areas were put on white."""
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):  # 16-bit grey (PNG, TIFF); "I" holds it on some builds
        values = np.asarray(im)
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise PageError(f"{origin}: 32-bit integer image; save the page as 8- or 16-bit")
        return ((values.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8), False
    if mode == "F":
        raise PageError(f"{origin}: 32-bit floating-point image; save the page as 8- or 16-bit")
    grey = mode in ("1", "L", "LA", "La")
    if mode in ("LA", "La", "PA", "RGBA", "RGBa") or "transparency" in im.info:
        with_alpha = np.asarray(im.convert("LA" if grey else "RGBA"))
        return _on_white(with_alpha), bool((with_alpha[..., -1] < 255).any())
    try:
        return np.asarray(im.convert("L" if grey else "RGB")), False
    except ValueError:
        raise PageError(f"{origin}: {mode} images are not supported; save the page as RGB or grey") from None


def decode_page(data: bytes, origin: str) -> PageImage:
    """Decode one page image's bytes; every problem is a `PageError` naming ``origin`` (a file or archive:entry).

    The size in the header is checked before decoding (decompression bombs, thumbnails); EXIF orientation is
    applied; transparency is composited onto white; 16-bit grey is scaled to 8 bits; palette, CMYK and other
    modes are converted; of a multi-frame image (TIFF, WebP) the first frame is read.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise PageError(f"{origin}: image header declares more pixels than Pillow allows (a decompression "
                        "bomb)") from None
    except Exception as exc:  # PIL raises many types for data it cannot identify
        raise PageError(f"{origin}: not a readable page image ({type(exc).__name__}: {exc})") from None
    with im:
        width, height = im.size
        if width * height > MAX_PAGE_PIXELS:
            raise PageError(f"{origin}: {width}x{height} pixels is larger than the {MAX_PAGE_PIXELS:,}-pixel limit "
                            "(a decompression bomb or a scan at far too high a resolution)")
        if min(width, height) < MIN_PAGE_SIDE:
            raise PageError(f"{origin}: {width}x{height} is too small for a page (each side must be >= "
                            f"{MIN_PAGE_SIDE} px)")
        try:
            im.load()
            try:
                upright = ImageOps.exif_transpose(im)
            except Exception:  # unreadable EXIF: the pixels themselves are fine, keep them as stored
                upright = im
            pixels, transparent = _pixels(upright, origin)
        except PageError:
            raise
        except Exception as exc:  # truncated data, bad CRC, unsupported compression...
            raise PageError(f"{origin}: unreadable or truncated image ({type(exc).__name__}: {exc})") from None
    notes = (TRANSPARENT_NOTE,) if transparent else ()
    if pixels.ndim == 2:
        return PageImage(np.ascontiguousarray(pixels), None, False, notes)
    rgb = np.ascontiguousarray(pixels)
    gray = np.asarray(Image.fromarray(rgb).convert("L"))
    return PageImage(gray, rgb, is_color_page(rgb), notes)


@dataclass(frozen=True)
class PageSource:
    """One page of a batch: an image file, or an entry of a ZIP/CBZ archive.

    name: the output name (relative POSIX path ending in ``.png``, unique in its batch); path: the image file or
    the archive; entry: the archive member as stored (None for a file); input: the input path it was found under.
    """
    name: str
    path: Path
    entry: str | None
    input: Path

    @property
    def origin(self) -> str:
        """What messages call this page: the file, or ``archive.cbz:entry``."""
        return f"{self.path}:{self.entry}" if self.entry is not None else str(self.path)

    def read_bytes(self) -> bytes:
        """The page's encoded bytes (refusing more than ``MAX_PAGE_BYTES`` before reading them)."""
        if self.entry is None:
            try:
                size = self.path.stat().st_size
                if size > MAX_PAGE_BYTES:
                    raise PageError(f"{self.origin}: {size:,} bytes is larger than any page "
                                    f"({MAX_PAGE_BYTES:,}-byte limit)")
                return self.path.read_bytes()
            except OSError as exc:
                raise PageError(f"{self.origin}: cannot read ({exc.strerror or exc})") from None
        try:
            with zipfile.ZipFile(self.path) as archive:
                info = archive.getinfo(self.entry)
                if info.file_size > MAX_PAGE_BYTES:
                    raise PageError(f"{self.origin}: entry unpacks to {info.file_size:,} bytes, more than any page "
                                    f"({MAX_PAGE_BYTES:,}-byte limit; a decompression bomb?)")
                if info.flag_bits & 0x1:
                    raise PageError(f"{self.origin}: entry is encrypted; mangacolor reads unencrypted archives")
                return archive.read(info)
        except PageError:
            raise
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, KeyError, RuntimeError,
                NotImplementedError) as exc:  # what zipfile raises for broken, changed or exotic archives
            raise PageError(f"{self.origin}: unreadable archive entry ({type(exc).__name__}: {exc})") from None

    def read(self) -> PageImage:
        """The decoded page (see `decode_page`)."""
        return decode_page(self.read_bytes(), self.origin)


class PageList(list):
    """`collect_pages`' result: a list of `PageSource`, plus ``not_pages``, the files and archive entries that are
    not page images (one ``"origin (reason)"`` line each), which were skipped."""

    def __init__(self, pages: Sequence[PageSource], not_pages: Sequence[str] = ()):
        super().__init__(pages)
        self.not_pages = list(not_pages)


def _folder_pages(folder: Path, not_pages: list[str]) -> list[tuple[str, Path, None]]:
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):  # symlinked folders are not followed (no cycles)
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d != "__MACOSX"]
        for filename in filenames:
            file = Path(dirpath) / filename
            if filename.startswith("."):
                continue
            if file.suffix.lower() in PAGE_SUFFIXES:
                found.append((file.relative_to(folder).as_posix(), file, None))
            else:
                not_pages.append(f"{file} (not a page image)")
    return found


def _archive_pages(archive: Path, not_pages: list[str]) -> list[tuple[str, Path, str]]:
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise PageError(f"{archive}: not a readable ZIP/CBZ archive ({type(exc).__name__}: {exc})") from None
    found = []
    for info in infos:
        if info.is_dir():
            continue
        raw = info.filename
        parts = [p for p in raw.replace("\\", "/").split("/") if p not in ("", ".")]
        if not parts:
            continue
        if ".." in parts or raw.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", raw):
            not_pages.append(f"{archive}:{raw} (unsafe path outside the archive)")
            continue
        if parts[0] == "__MACOSX" or any(p.startswith(".") for p in parts):
            continue
        if PurePosixPath(parts[-1]).suffix.lower() in PAGE_SUFFIXES:
            found.append(("/".join(parts), archive, raw))
        else:
            not_pages.append(f"{archive}:{raw} (not a page image)")
    return found


def _output_names(rels: list[str], origins: list[str]) -> list[str]:
    """Output names for pages at relative paths ``rels`` (see the module docstring); PageError on a collision."""
    plain = [str(PurePosixPath(rel).with_suffix(".png")) for rel in rels]
    counts = Counter(name.casefold() for name in plain)
    same_rel = Counter(rel.casefold() for rel in rels)
    names = [rel + ".png" if counts[name.casefold()] > 1 and same_rel[rel.casefold()] == 1 else name
             for rel, name in zip(rels, plain)]
    by_name: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        by_name.setdefault(name.casefold(), []).append(i)
    clashes = [ids for ids in by_name.values() if len(ids) > 1]
    if clashes:
        lines = [f"{names[ids[0]]} <- " + ", ".join(origins[i] for i in ids) for ids in clashes[:5]]
        raise PageError("pages would overwrite each other in the output (same name, ignoring case):\n  "
                        + "\n  ".join(lines) + "\ngive the inputs distinct names or colourise them in separate runs")
    return names


def collect_pages(paths: Sequence[str | Path]) -> PageList:
    """The pages of files, folders and CBZ/ZIP archives, in the order given, each input's in natural order.

    Returns a `PageList` (a list of `PageSource`, with the skipped non-page files in ``not_pages``). A missing
    input, an unreadable archive, an input without pages or colliding output names raise `PageError`.
    """
    if not paths:
        raise PageError("no input pages given")
    several = len(paths) > 1
    rows: list[tuple[str, Path, str | None, Path]] = []
    not_pages: list[str] = []
    for path in map(Path, paths):
        suffix = path.suffix.lower()
        if path.is_dir():
            found = _folder_pages(path, not_pages)
            if not found:
                archives = [p for p in path.iterdir() if p.suffix.lower() in ARCHIVE_SUFFIXES]
                hint = f" (it holds {len(archives)} archive(s): give them as inputs)" if archives else ""
                raise PageError(f"{path}: folder has no page images{hint}")
        elif path.is_file() and suffix in ARCHIVE_SUFFIXES:
            found = _archive_pages(path, not_pages)
            if not found:
                raise PageError(f"{path}: archive has no page images")
        elif path.is_file() and suffix in UNSUPPORTED_ARCHIVES:
            raise PageError(f"{path}: {suffix} files are not supported; repack the pages as a CBZ (ZIP)")
        elif path.is_file() and suffix in PAGE_SUFFIXES:
            found = [(path.name, path, None)]
        elif path.is_file():
            raise PageError(f"{path}: not a page image or CBZ/ZIP archive (expected "
                            f"{', '.join(PAGE_SUFFIXES + ARCHIVE_SUFFIXES)})")
        else:
            raise PageError(f"{path}: no such file or folder")
        prefix = ""
        if several and (path.is_dir() or suffix in ARCHIVE_SUFFIXES):
            prefix = (path.resolve().name if path.is_dir() else path.stem) + "/"
        found.sort(key=lambda row: natural_key(row[0]))
        rows += [(prefix + rel, file, entry, path) for rel, file, entry in found]
    origins = [f"{file}:{entry}" if entry is not None else str(file) for _, file, entry, _ in rows]
    names = _output_names([rel for rel, *_ in rows], origins)
    pages = [PageSource(name, file, entry, inp) for name, (_, file, entry, inp) in zip(names, rows)]
    return PageList(pages, not_pages)


# ---------------------------------------------------------------- output sinks
def _write_png(path: Path, rgb: np.ndarray) -> None:
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise OSError(f"{path}: could not write the PNG")


class FolderSink:
    """Pages written as ``root/<name>``, each atomically; folders are created as needed and removed again at
    `close` if they were created here and are left empty."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._made: list[Path] = []

    @property
    def where(self) -> str:
        return str(self.root)

    def done(self, name: str) -> bool:
        """Whether the page's output exists (complete: outputs are written atomically)."""
        return (self.root / name).is_file()

    def write(self, name: str, write: Callable[[Path], None]) -> None:
        """Call ``write(tmp)`` to create the page's file at a temporary path, then rename it onto its name."""
        target = self.root / name
        missing = []
        for folder in [target.parent, *target.parent.parents]:
            if folder.exists():
                break
            missing.append(folder)
        for folder in reversed(missing):
            folder.mkdir()
            self._made.append(folder)
        with atomic_path(target) as tmp:
            write(tmp)

    def close(self, complete: bool) -> None:
        """End the run (``complete`` False after an interrupt): remove the folders made here that are empty."""
        for folder in sorted(self._made, key=lambda p: len(p.parts), reverse=True):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        self._made = [folder for folder in self._made if folder.exists()]


def _is_own_cbz(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.comment == CBZ_COMMENT
    except (zipfile.BadZipFile, OSError, EOFError):
        return False


class CbzSink(FolderSink):
    """Pages collected in ``OUT.cbz.parts/`` and written as the CBZ ``OUT.cbz`` at the end of a complete run.

    Pages already in a CBZ a previous run wrote at ``OUT.cbz`` count as done, and are kept when it is rewritten.
    """

    def __init__(self, out: Path):
        out = Path(out)
        super().__init__(out.with_name(out.name + ".parts"))
        self.out = out
        self.previous: list[str] = []
        if out.exists():
            with zipfile.ZipFile(out) as zf:
                self.previous = [info.filename for info in zf.infolist() if not info.is_dir()]
        self._previous = set(self.previous)

    @property
    def where(self) -> str:
        return str(self.out)

    def done(self, name: str) -> bool:
        return name in self._previous or super().done(name)

    def close(self, complete: bool) -> None:
        """After a complete run, write the CBZ (if there is anything new) and remove the parts folder; after an
        interrupt, keep the finished pages in the parts folder for the next run."""
        if complete and self.root.is_dir():
            parts = {p.relative_to(self.root).as_posix(): p for p in self.root.rglob("*")
                     if p.is_file() and not p.name.startswith(".")}  # dot files: temp files of a killed run
            if parts:
                self._write_cbz(parts)
            shutil.rmtree(self.root)
            self._made = []
        super().close(complete)

    def _write_cbz(self, parts: dict[str, Path]) -> None:
        names = sorted(set(parts) | self._previous, key=natural_key)
        old = zipfile.ZipFile(self.out) if self.previous else None
        try:
            with atomic_path(self.out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
                for name in names:  # stored, not deflated: the pages are PNGs, already compressed
                    data = parts[name].read_bytes() if name in parts else old.read(name)
                    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # same pages, same bytes
                    info.external_attr = 0o644 << 16  # rw-r--r-- when unpacked
                    zf.writestr(info, data)
                zf.comment = CBZ_COMMENT
        finally:
            if old is not None:
                old.close()


def open_sink(out: str | Path, sources: Sequence[PageSource]) -> FolderSink:
    """The output for ``sources``: a folder, or a CBZ when ``out`` ends in ``.cbz``. Creates nothing yet.

    Refuses (PageError, one line): an output inside an input folder or equal to an input, an output folder in the
    folder of an image given alone (outputs would mix with the pages), any page's output that would land inside
    an input folder, and an existing file at ``out`` unless it is a CBZ this module wrote.
    """
    out = Path(out)
    resolved = out.resolve()
    is_cbz = out.suffix.lower() == ".cbz"
    inputs = list(dict.fromkeys(s.input.resolve() for s in sources))
    input_folders = [inp for inp in inputs if inp.is_dir()]
    for inp in inputs:
        if inp in input_folders and (resolved == inp or inp in resolved.parents):
            raise PageError(f"output {out} is inside the input folder {inp}; choose an -o outside it")
        if inp not in input_folders and resolved == inp:
            raise PageError(f"output {out} is an input ({inp}); choose another -o")
    if not is_cbz:
        for image in (s.input.resolve() for s in sources if s.entry is None and s.input.is_file()):
            if resolved == image.parent or image.parent in resolved.parents:
                raise PageError(f"output folder {out} is inside {image.parent}, the folder of the input {image}; "
                                "choose an -o outside it")
    if out.exists() and not out.is_dir() and not (is_cbz and _is_own_cbz(out)):
        raise PageError(f"output {out} exists and is a file (not a CBZ written by mangacolor colorize); give a "
                        "folder or a new .cbz path")
    if is_cbz and out.is_dir():
        raise PageError(f"output {out} is a folder; give a folder name without .cbz, or a new .cbz path")
    sink = CbzSink(out) if is_cbz else FolderSink(out)
    if sink.root.exists() and not sink.root.is_dir():
        raise PageError(f"{sink.root} exists and is not a folder; remove it or choose another -o")
    root = sink.root.resolve()
    sources_files = {s.path.resolve() for s in sources}
    for source in sources:
        target = root / source.name
        if target in sources_files or any(folder in target.parents for folder in input_folders):
            raise PageError(f"writing {target} would write inside an input ({source.origin}); choose another -o")
    return sink


# ---------------------------------------------------------------- the batch
def _listing(items: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" ... and {len(items) - limit} more" if len(items) > limit else "")


@dataclass
class BatchResult:
    """What `run_batch` did, by output name (``failed``: one message per page, naming it)."""
    where: str
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    copied: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    not_pages: list[str] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)

    def summary(self) -> str:
        """Counts, then the failures (one a line) and the pages copied, converted or skipped as not pages."""
        head = (f"{self.where}: {len(self.written)} written, {len(self.skipped)} skipped (already done), "
                f"{len(self.copied)} already in colour (copied), {len(self.failed)} failed")
        lines = [head + (":" if self.failed else "")] + [f"  {msg}" for msg in self.failed]
        if self.copied:
            lines.append(f"already in colour, copied as they are: {_listing(self.copied)}")
        for note, origins in self.notes.items():
            lines.append(f"{note}: {_listing(origins)}")
        if self.not_pages:
            lines.append(f"not page images, skipped: {_listing(self.not_pages)}")
        return "\n".join(lines)


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C during `run_batch`: ``result`` holds what was finished, ``message`` says where it is kept."""

    def __init__(self, result: BatchResult, message: str):
        super().__init__(message)
        self.result = result
        self.message = message


def _do_page(source: PageSource, sink: FolderSink, colorize_fn, force: bool, result: BatchResult,
             warn: Callable[[str], None]) -> None:
    """Read, colourise (or copy) and write one page, recording the outcome in ``result``; raises nothing but
    KeyboardInterrupt."""
    try:
        data = source.read_bytes()
        page = decode_page(data, source.origin)
    except PageError as exc:
        result.failed.append(str(exc))
        return
    for note in page.notes:
        if note not in result.notes:
            warn(f"warning: {source.origin}: {note} (all such pages are listed at the end)")
        result.notes.setdefault(note, []).append(source.origin)
    try:
        if page.is_color and not force:
            if data[:8] == PNG_SIGNATURE:
                sink.write(source.name, lambda tmp: tmp.write_bytes(data))
            else:
                sink.write(source.name, lambda tmp: _write_png(tmp, page.rgb))
            result.copied.append(source.name)
            return
        rgb = np.asarray(colorize_fn(page.gray))
        if rgb.dtype != np.uint8 or rgb.shape != (*page.gray.shape, 3):
            raise ValueError(f"colourising gave {rgb.dtype} {rgb.shape}, expected uint8 {(*page.gray.shape, 3)}")
        sink.write(source.name, lambda tmp: _write_png(tmp, rgb))
        result.written.append(source.name)
    except Exception as exc:  # one page's failure (model, memory, disk) must not stop the batch
        result.failed.append(f"{source.origin}: {type(exc).__name__}: {exc}")


def run_batch(sources: Sequence[PageSource], sink: FolderSink, colorize_fn: Callable[[np.ndarray], np.ndarray],
              force: bool = False, progress: bool = True) -> BatchResult:
    """Colourise every page not done yet into ``sink``; one bad page never stops the batch.

    ``colorize_fn`` maps a grey page, uint8 (H, W), to its colouring, uint8 RGB (H, W, 3). Pages already in colour
    (`is_color_page`) are copied as they are (a PNG byte for byte, other formats as PNG of their pixels) unless
    ``force``. Pages whose output exists are skipped. ``progress``: a progress bar with ETA and warnings on stderr.
    On Ctrl-C no partial page is left and `BatchInterrupted` (a KeyboardInterrupt) is raised; finished pages stay
    and a rerun resumes.
    """
    result = BatchResult(sink.where, not_pages=list(getattr(sources, "not_pages", [])))
    todo = []
    for source in sources:
        if sink.done(source.name):
            result.skipped.append(source.name)
        else:
            todo.append(source)
    if result.skipped and progress:
        print(f"{len(result.skipped)} page(s) already done in {sink.where}, skipped", file=sys.stderr)
    complete = False
    try:
        with tqdm(todo, desc="colorize", unit="page", disable=not progress, file=sys.stderr) as bar:
            warn = (lambda line: bar.write(line, file=sys.stderr)) if progress else (lambda line: None)
            for source in bar:
                _do_page(source, sink, colorize_fn, force, result, warn)
        complete = True
    except KeyboardInterrupt:
        done = len(result.written) + len(result.copied)
        kept = sink.root if isinstance(sink, CbzSink) else sink.where
        message = (f"interrupted: {done} page(s) finished this run are kept in {kept}; rerun the same command to "
                   "resume" if done else "interrupted before any page was finished this run")
        raise BatchInterrupted(result, message) from None
    finally:
        sink.close(complete)
    return result
