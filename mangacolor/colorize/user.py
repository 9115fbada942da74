"""`mangacolor colorize`: colourise a user's chapter (files, folders, CBZ/ZIP archives) with a trained model.

Everything a user can get wrong is checked before the model is loaded: the inputs (`batch.collect_pages`), the
output (`batch.open_sink`) and the hints file. The colourising defaults (strategy, decode, temperature,
abstention, output form, canvas, tile, overlap stride) come from the model's own record (``meta["colorize"]`` and
``meta["tiling"]``, see `model.load`); arguments given here override them. The batch itself (`batch.run_batch`)
copies pages already in colour, skips pages done by an earlier run, and never stops on a bad page.

``viewer`` (`report.viewer.write_viewer`, passed in: colorize never imports report) writes ``viewer.html`` for
every page that has an output: beside the pages of a folder output (``OUT/viewer.html``, its B&W copies in
``OUT/.viewer/``, a dot folder a later run reading ``OUT`` skips), or for a CBZ output ``OUT.cbz`` in the folder
``OUT-viewer/`` (``viewer.html``, ``bw/``, ``color/``).
"""
from __future__ import annotations

import hashlib
import logging
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np
import torch

from ..data.pages import PageError
from ..features.scale import SCALE_RANGE, SCALE_TOLERANCE, estimate_scale, resize_by_scale
from ..model.decode import METHODS
from ..model.load import ModelError, load_model, model_path
from .batch import BatchResult, CbzSink, PageSource, collect_pages, natural_key, open_sink, run_batch
from .chapter import head_ab
from .compose_color import compose_color
from .hints import ChapterHints, PageRegions, Scribble, line_regions, load_hints, page_regions
from .lineart import LineArt, extract_lineart
from .native import NATIVE_STRATEGIES, native_features, native_lab, native_scores
from .regions import region_means
from .strategies import CROP_STRATEGIES, CropPlan, compose, plan_crops, to_rgb

STRATEGIES = CROP_STRATEGIES + NATIVE_STRATEGIES

SETTING_FLAGS = {"strategy": "--strategy", "decode": "--decode", "temperature": "--temperature",
                 "overlap_stride": "--overlap-stride", "abstain": "--abstain", "output": "--output",
                 "canvas": "--canvas", "tile": "--tile"}
OUTPUTS = ("color", "chroma")


@dataclass(frozen=True)
class Settings:
    """How pages are colourised: ``strategy`` (colorize.strategies), ``decode`` (annealed_mean | argmax) at
    ``temperature``, pages fitted to a ``canvas`` x ``canvas`` square cut into ``tile`` crops (pixels), overlapping
    tiles ``overlap_stride`` pixels apart; ``abstain``: shrink unsure cells' chroma by the model's calibration
    (``meta["abstain"]``; no effect on a model without one); ``output``: "color" (colour pages, for a head that
    predicts lightness) or "chroma" (the print's lightness with the predicted a*b*)."""
    strategy: str
    decode: str
    temperature: float
    canvas: int
    tile: int
    overlap_stride: int
    abstain: bool
    output: str


def model_settings(meta: dict, path: str | Path, **overrides) -> Settings:
    """The model's recorded colourising settings with ``overrides`` (None = keep the record) applied; ModelError
    naming the flag when a setting is neither recorded nor given."""
    record = {**meta.get("tiling", {}), **meta.get("colorize", {})}
    values, missing = {}, []
    for key in SETTING_FLAGS:
        value = overrides.get(key)
        values[key] = record.get(key) if value is None else value
        if values[key] is None:
            missing.append(SETTING_FLAGS[key])
    if missing:
        raise ModelError(f"{path}: the model records no {', '.join(m.lstrip('-') for m in missing)}; use the model a "
                         f"main run exports (results/<chapter>/model.pt) or give {' '.join(missing)}")
    settings = Settings(str(values["strategy"]), str(values["decode"]), float(values["temperature"]),
                        int(values["canvas"]), int(values["tile"]), int(values["overlap_stride"]),
                        bool(values["abstain"]), str(values["output"]))
    if settings.strategy not in STRATEGIES or settings.decode not in METHODS or not settings.temperature > 0 \
            or settings.output not in OUTPUTS:
        raise ModelError(f"{path}: unusable colourising settings {settings}")
    if settings.canvas % settings.tile:
        raise ModelError(f"{path}: tile {settings.tile} does not divide canvas {settings.canvas}")
    return settings


def _page_key(gray: np.ndarray) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(gray).tobytes() + str(gray.shape).encode(), digest_size=16).digest()


@dataclass
class Prediction:
    """What the model made of one page: ``lab`` float32 (H, W, 2) ab, or (H, W, 3) Lab for a head that predicts
    lightness; ``lineart`` and ``regions`` ((labels, n), `hints.line_regions`); for hints, the bin probabilities
    ``probs`` (N, Q, Gh, Gw) of crops covering page pixels ``boxes`` (N, 4) with parts ``inner`` of ``tile`` px
    (`hints.pool_regions`), or None."""
    lab: np.ndarray
    lineart: LineArt
    regions: tuple[np.ndarray, int]
    boxes: np.ndarray | None = None
    inner: np.ndarray | None = None
    tile: int | tuple[int, int] | None = None
    probs: np.ndarray | None = None


class PageColorizer:
    """A grey page, uint8 (H, W) -> its colouring, uint8 RGB (H, W, 3), by one trained model, as the chapter run
    colours a test page (`colorize.chapter.colorize_chapter`): a crop strategy (tiles, overlap) or a native one
    (page, contours: the head over the page's cell grid), then the chroma form (the print's lightness with the
    predicted a*b*) or, for a head that predicts lightness and ``output`` "color", the colour page (the line art
    over the predicted colours made flat per closed region).

    ``hints``: a `ChapterHints` applied to every page; ``hinted``: the grey pages' keys (`_page_key`) -> their
    names, so that a page's own scribbles are found when the batch hands it over by its pixels alone.

    A model that records the training prints' screen profile (``meta["scale_reference"]``) has every page measured
    first (`features.scale.estimate_scale`): a page drawn at another scale is coloured resized to the training
    scale, and its colours are laid back onto the page as given (its own line art and regions). ``scales`` holds
    each page's measured scale, None where no screentone could measure it (the page is then coloured as given).
    """

    def __init__(self, head: torch.nn.Module, meta: dict, settings: Settings, device: str = "auto",
                 batch_size: int = 16, scale: float | None = None):
        from ..features.backbone import Hypercolumns  # torchvision only once a model is loaded
        from ..features.device import resolve_device

        feats = meta["features"]
        self.device = resolve_device(device)  # the backbone's; the small head runs on the CPU
        self.head = head.cpu().eval()
        self.meta, self.settings, self.batch_size = meta, settings, batch_size
        self.precision = feats.get("precision", "float32")
        self.extractor = Hypercolumns.from_weights(feats["weights"], feats["layers"], feats["grid"],
                                                   seed=max(int(feats.get("weights_seed", 0)), 0))
        self.centers = np.asarray(meta["centers"], np.float32)
        classifier = meta["kind"] == "classification"
        self.abstention = meta.get("abstain") if settings.abstain and classifier else None
        self.hints: ChapterHints | None = None
        self.hinted: dict[bytes, str] = {}
        reference = meta.get("scale_reference")
        self.scale_reference = None if reference is None else np.asarray(reference, np.float32)
        self.scale, self.scales = scale, []

    def at_training_scale(self, gray: np.ndarray) -> tuple[np.ndarray, float | None]:
        """(the page resized to the training scale, its scale: the given one, else measured; None: not
        measurable, the page kept as given)."""
        if self.scale is not None:
            return resize_by_scale(gray, self.scale), self.scale
        if self.scale_reference is None:
            return gray, 1.0
        scale = estimate_scale(gray, self.scale_reference)
        return (gray, None) if scale is None else (resize_by_scale(gray, scale), scale)

    def plan(self, gray: np.ndarray) -> CropPlan:
        s = self.settings
        return plan_crops(gray, s.strategy, tile=s.tile, canvas=s.canvas, stride=s.overlap_stride)

    def predict(self, gray: np.ndarray, with_probs: bool) -> Prediction:
        """The model's colours of a page (and, ``with_probs``, its bin probabilities for hints)."""
        lineart = extract_lineart(gray)
        regions = line_regions(gray, lineart.lines)
        with_probs = with_probs and self.meta["kind"] == "classification"
        if self.settings.strategy in NATIVE_STRATEGIES:
            return self._predict_native(gray, lineart, regions, with_probs)
        from ..features.hypercolumns import compute

        plan = self.plan(gray)
        x = compute(self.extractor, plan.crops, batch_size=self.batch_size, device=str(self.device),
                    precision=self.precision)
        s = self.settings
        lab = compose(gray, plan, head_ab(self.head, self.meta, x, self.centers, s.decode, s.temperature,
                                          s.abstain, batch_size=self.batch_size))
        probs = None
        if with_probs:
            with torch.inference_mode():
                probs = np.concatenate([torch.softmax(self.head(torch.from_numpy(x[i:i + self.batch_size])).float(),
                                                      1).numpy() for i in range(0, len(x), self.batch_size)]) \
                    if len(x) else None
        return Prediction(lab, lineart, regions, plan.boxes, plan.inner, plan.tile, probs)

    def _predict_native(self, gray, lineart, regions, with_probs) -> Prediction:
        from ..features.native import grid_shape

        s = self.settings
        cell = s.tile // int(self.meta["features"]["grid"])
        x = native_features(self.extractor, gray, self.device, cell)
        lab = native_lab(self.head, self.meta, x, gray.shape, cell, s.strategy, self.centers, s.decode,
                         s.temperature, self.abstention, regions[0])
        if not with_probs:
            return Prediction(lab, lineart, regions)
        scores, _ = native_scores(self.head, self.meta, x, gray.shape, cell)
        rows, cols = grid_shape(gray.shape, cell)
        extent = (rows * cell, cols * cell)
        return Prediction(lab, lineart, regions, np.array([[0, 0, *extent]]), np.array([[0, 0, *extent]]), extent,
                          torch.softmax(scores.float(), 0).numpy()[None])

    def page_regions(self, gray: np.ndarray) -> PageRegions:
        """The page's regions with what the model predicts for each (for hints)."""
        page, _ = self.at_training_scale(gray)
        p = self.predict(page, with_probs=True)
        return page_regions(page, p.boxes, p.inner, p.tile, p.probs, p.regions)

    def __call__(self, gray: np.ndarray) -> np.ndarray:
        page, scale = self.at_training_scale(gray)
        self.scales.append(scale)
        p = self.predict(page, with_probs=self.hints is not None)
        colour = p.lab.shape[-1] == 3 and self.settings.output == "color"
        lab = region_means(p.lab, p.regions[0]) if colour else np.ascontiguousarray(p.lab[..., -2:])
        if self.hints is not None:
            regions = page_regions(page, p.boxes, p.inner, p.tile, p.probs, p.regions)
            lab = self.hints.recolor(lab, regions, self.hints.assign(regions, self.hinted.get(_page_key(gray))))
        lineart = p.lineart
        if page.shape != gray.shape:  # back onto the page as given, with its own line art and regions
            lab = cv2.resize(lab, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
            lineart = extract_lineart(gray)
            if colour:
                lab = region_means(lab, line_regions(gray, lineart.lines)[0])
        return compose_color(gray, lineart, lab) if colour else to_rgb(gray, lab)


# ---------------------------------------------------------------- the command
class _ScaleNotes(logging.Filter):
    """Lets the first "larger than the canvas" note of a run through and counts the rest."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        self.count += 1
        if self.count == 1:
            record.msg = "warning: " + record.msg + " (every larger page is scaled alike; counted at the end)"
        return self.count == 1


def _training_scale_notes(scales: Sequence[float | None], result: BatchResult) -> None:
    """Report the pages brought to the training scale and those whose scale could not be measured."""
    rescaled = [s for s in scales if s is not None and abs(s - 1.0) >= SCALE_TOLERANCE]
    if rescaled:
        result.notes[f"drawn {min(rescaled):.2f}-{max(rescaled):.2f} times the training pages' scale, coloured "
                     "resized to it"] = [f"{len(rescaled)} page(s)"]
    unmeasured = sum(s is None for s in scales)
    if unmeasured:
        result.notes["no screentone to measure the scale by: coloured at the size given"] = [f"{unmeasured} page(s)"]


def _learn_hints(colorizer: PageColorizer, scribbles: Sequence[Scribble], sources: Sequence[PageSource],
                 log: Callable[[str], None]) -> None:
    by_name = {s.name: s for s in sources}
    pages = list(dict.fromkeys(s.page for s in scribbles))
    log(f"hints: {len(scribbles)} scribble(s) on {len(pages)} page(s); reading what the model predicts there")

    def regions_of(name: str) -> PageRegions:
        page = by_name[name].read()
        colorizer.hinted[_page_key(page.gray)] = name
        return colorizer.page_regions(page.gray)

    colorizer.hints = ChapterHints.learn(scribbles, regions_of, colorizer.centers)


def _viewer_pages(sources: Sequence[PageSource], result: BatchResult, sink) -> tuple[Path, list[dict]]:
    """Write the B&W (and for a CBZ the colour) images of every page with an output; the viewer's page entries."""
    done = set(result.written) | set(result.skipped) | set(result.copied)
    if isinstance(sink, CbzSink):
        folder = sink.out.with_name(sink.out.stem + "-viewer")
        bw_root, color_root = folder / "bw", folder / "color"
        with zipfile.ZipFile(sink.out) as zf:
            for name in zf.namelist():
                if name in done:
                    target = color_root / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(zf.read(name))
    else:
        folder = Path(sink.root)
        bw_root, color_root = folder / ".viewer" / "bw", folder
    entries = []
    for source in sources:
        if source.name not in done:
            continue
        bw = bw_root / source.name
        bw.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(bw), source.read().gray):
            raise OSError(f"{bw}: could not write the viewer's B&W page")
        colour = color_root / source.name
        entries.append({"name": source.name, "bw": str(bw.resolve()), "color": str(colour.resolve())})
    return folder, sorted(entries, key=lambda e: natural_key(e["name"]))


def colorize_pages(inputs: Sequence[str | Path], model: str | Path, out: str | Path, *, strategy: str | None = None,
                   decode: str | None = None, temperature: float | None = None, canvas: int | None = None,
                   tile: int | None = None, overlap_stride: int | None = None, abstain: bool | None = None,
                   output: str | None = None, device: str = "auto", scale: float | None = None,
                   force: bool = False, hints: str | Path | None = None,
                   viewer: Callable[[Path, list, str], Path] | None = None, progress: bool = True) -> BatchResult:
    """Colourise the pages of ``inputs`` (image files, folders, CBZ/ZIP archives) into ``out`` (a folder, or a CBZ
    when it ends in .cbz) with ``model`` (a model.pt or a results folder holding one); returns what was done.

    Settings left None come from the model's record (`model_settings`). ``scale``: the pages are drawn that many
    times larger than the training pages (default: measured per page, `PageColorizer`). ``force`` colourises pages
    already in colour too; ``hints`` is a hints file or overlay folder (`colorize.hints`); ``viewer``, a function like
    `report.viewer.write_viewer` (html path, page entries, title), writes viewer.html (module docstring).
    Raises PageError / ModelError (one line each, nothing written) for bad inputs, output, hints or model, and
    `batch.BatchInterrupted` on Ctrl-C (finished pages are kept: rerun to resume).
    """
    log = (lambda line: print(line, file=sys.stderr)) if progress else (lambda line: None)
    if scale is not None and not SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]:
        raise PageError(f"--scale {scale:g}: must lie in [{SCALE_RANGE[0]:g}, {SCALE_RANGE[1]:g}] (the pages' size "
                        "over the training pages')")
    sources = collect_pages(inputs)
    sink = open_sink(out, sources)
    scribbles = []
    if hints is not None:
        scribbles = load_hints(hints, [s.name for s in sources],
                               [s.entry if s.entry is not None else s.path.name for s in sources])
    path = model_path(model)
    head, meta = load_model(path)
    if "features" not in meta or "centers" not in meta:
        raise ModelError(f"{path}: no backbone settings or bin centres in the model file; use a model.pt written by "
                         "the train rule (results/<chapter>/model.pt)")
    if scribbles and meta["kind"] != "classification":
        raise ModelError(f"{path}: hints need a classification model (they compare its bin distributions); this is "
                         f"a {meta['kind']} model")
    settings = model_settings(meta, path, strategy=strategy, decode=decode, temperature=temperature, canvas=canvas,
                              tile=tile, overlap_stride=overlap_stride, abstain=abstain, output=output)
    log(f"{path}: {meta['kind']}-{meta.get('optimizer', '?')}, strategy {settings.strategy}, {settings.decode} "
        f"(T = {settings.temperature:g}), canvas {settings.canvas}, tile {settings.tile}, output {settings.output}")
    colorizer = PageColorizer(head, meta, settings, device, scale=scale)
    if scale is None and colorizer.scale_reference is None:
        log(f"{path}: the model records no training scale (its training prints show no regular screen ruling): "
            "pages are coloured at the size given; --scale S resizes pages drawn S times larger")
    from tqdm.contrib.logging import logging_redirect_tqdm

    tiling_log = logging.getLogger("mangacolor.kernels.tiling")
    notes = _ScaleNotes()
    tiling_log.addFilter(notes)
    try:
        with logging_redirect_tqdm([tiling_log]):
            if scribbles:
                _learn_hints(colorizer, scribbles, sources, log)
            result = run_batch(sources, sink, colorizer, force=force, progress=progress)
    finally:
        tiling_log.removeFilter(notes)
    if notes.count:
        result.notes[f"larger than the {settings.canvas}x{settings.canvas} canvas, scaled down to fit"] = \
            [f"{notes.count} page(s)"]
    _training_scale_notes(colorizer.scales, result)
    if viewer is not None and (result.written or result.skipped or result.copied):
        folder, entries = _viewer_pages(sources, result, sink)
        title = f"mangacolor: {', '.join(Path(p).name for p in inputs)}"
        result.notes["viewer"] = [str(viewer(folder / "viewer.html", entries, title))]
    return result

