"""`mangacolor colorize`: colourise a user's chapter (files, folders, CBZ/ZIP archives) with a trained model.

Everything a user can get wrong is checked before the model is loaded: the inputs (`batch.collect_pages`), the
output (`batch.open_sink`) and the hints file. The colourising defaults (strategy, decode, temperature, canvas,
tile, overlap stride) come from the model's own record (``meta["colorize"]`` and ``meta["tiling"]``, see
`model.load`); arguments given here override them. The batch itself (`batch.run_batch`) copies pages already in
colour, skips pages done by an earlier run, and never stops on a bad page.

``viewer=True`` writes ``viewer.html`` (`report.viewer`) for every page that has an output: beside the pages of a
folder output (``OUT/viewer.html``, its B&W copies in ``OUT/.viewer/``, a dot folder a later run reading ``OUT``
skips), or for a CBZ output ``OUT.cbz`` in the folder ``OUT-viewer/`` (``viewer.html``, ``bw/``, ``color/``).
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
from ..model.decode import METHODS, decode
from ..model.load import ModelError, load_model, model_path
from .batch import BatchResult, CbzSink, PageSource, collect_pages, natural_key, open_sink, run_batch
from .hints import ChapterHints, PageRegions, Scribble, load_hints, page_regions
from .compose_color import compose_color
from .lineart import extract_lineart
from .native import NATIVE_STRATEGIES, native_features, native_lab
from .regions import line_regions, region_means
from .strategies import CROP_STRATEGIES, CropPlan, compose, plan_crops, to_rgb

STRATEGIES = CROP_STRATEGIES + NATIVE_STRATEGIES
OUTPUTS = ("color", "chroma")
SETTING_FLAGS = {"strategy": "--strategy", "decode": "--decode", "temperature": "--temperature",
                 "overlap_stride": "--overlap-stride", "abstain": "--abstain", "canvas": "--canvas", "tile": "--tile",
                 "output": "--output"}


@dataclass(frozen=True)
class Settings:
    """How pages are colourised: ``strategy`` (colorize.strategies), ``decode`` (annealed_mean | argmax) at
    ``temperature``, pages fitted to a ``canvas`` x ``canvas`` square cut into ``tile`` crops (pixels), overlapping
    tiles ``overlap_stride`` pixels apart; ``abstain``: shrink unsure cells' chroma by the model's calibration
    (``meta["abstain"]``; no effect on a model without one)."""
    strategy: str
    decode: str
    temperature: float
    canvas: int
    tile: int
    overlap_stride: int
    abstain: bool
    output: str = "chroma"  # color: the colour page (needs a head with lightness); chroma: the print's L, predicted ab


def model_settings(meta: dict, path: str | Path, **overrides) -> Settings:
    """The model's recorded colourising settings with ``overrides`` (None = keep the record) applied; ModelError
    naming the flag when a setting is neither recorded nor given."""
    record = {"output": "chroma", **meta.get("tiling", {}), **meta.get("colorize", {})}
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
    if settings.output == "color" and not meta.get("lightness"):
        raise ModelError(f"{path}: this model predicts no lightness, so it cannot make colour pages; use --output "
                         "chroma")
    if settings.canvas % settings.tile:
        raise ModelError(f"{path}: tile {settings.tile} does not divide canvas {settings.canvas}")
    return settings


def _page_key(gray: np.ndarray) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(gray).tobytes() + str(gray.shape).encode(), digest_size=16).digest()


class PageColorizer:
    """A grey page, uint8 (H, W) -> its colouring, uint8 RGB (H, W, 3), by one trained model.

    ``hints``: a `ChapterHints` applied to every page; ``hinted``: the grey pages' keys (`_page_key`) -> their
    names, so that a page's own scribbles are found when the batch hands it over by its pixels alone.
    """

    def __init__(self, head: torch.nn.Module, meta: dict, settings: Settings, device: str = "auto",
                 batch_size: int = 16):
        from ..features.backbone import Hypercolumns  # torchvision only once a model is loaded
        from ..features.device import resolve_device

        feats = meta["features"]
        self.device = resolve_device(device)
        self.head = head.to(self.device).eval()
        self.meta, self.settings, self.batch_size = meta, settings, batch_size
        self.precision = feats.get("precision", "float32")
        self.extractor = Hypercolumns.from_weights(feats["weights"], feats["layers"], feats["grid"],
                                                   seed=max(int(feats.get("weights_seed", 0)), 0))
        self.centers = np.asarray(meta["centers"], np.float32)
        self.abstention = meta.get("abstain") if settings.abstain else None
        self.hints: ChapterHints | None = None
        self.hinted: dict[bytes, str] = {}

    def plan(self, gray: np.ndarray) -> CropPlan:
        s = self.settings
        return plan_crops(gray, s.strategy, tile=s.tile, canvas=s.canvas, stride=s.overlap_stride)

    def predict(self, gray: np.ndarray, with_probs: bool) -> tuple[CropPlan, np.ndarray, np.ndarray | None]:
        """(plan, ab (N, G, G, 2) float32 of its crops, or Lab (N, G, G, 3) for a head with lightness, bin
        probabilities (N, Q, G, G) float32 or None)."""
        from ..features.hypercolumns import compute

        plan = self.plan(gray)
        x = compute(self.extractor, plan.crops, batch_size=self.batch_size, device=str(self.device),
                    precision=self.precision)
        g = x.shape[-1]
        lightness = bool(self.meta.get("lightness"))
        ab = np.zeros((len(x), g, g, 3 if lightness else 2), np.float32)
        classifier = self.meta["kind"] == "classification"
        probs = np.zeros((len(x), len(self.centers), g, g), np.float32) if with_probs and classifier else None
        with torch.inference_mode():
            for start in range(0, len(x), self.batch_size):
                xb = torch.from_numpy(x[start:start + self.batch_size]).to(self.device)
                y, light = self.head(xb, with_lightness=True) if lightness else (self.head(xb), None)
                stop = start + len(y)
                if classifier:
                    ab[start:stop, ..., -2:] = decode(y, self.centers, self.settings.decode, self.settings.temperature,
                                                      abstention=self.abstention)
                    if probs is not None:
                        probs[start:stop] = torch.softmax(y.float(), dim=1).cpu().numpy()
                else:
                    ab[start:stop, ..., -2:] = y.permute(0, 2, 3, 1).cpu().numpy()
                if light is not None:
                    ab[start:stop, ..., 0] = light[:, 0].cpu().numpy()
        return plan, ab, probs

    def regions(self, gray: np.ndarray) -> PageRegions:
        """The page's regions with what the model predicts for each (for hints)."""
        plan, _, probs = self.predict(gray, with_probs=True)
        return page_regions(gray, plan.boxes, plan.inner, plan.tile, probs)

    def __call__(self, gray: np.ndarray) -> np.ndarray:
        s = self.settings
        lineart = extract_lineart(gray)
        regions = line_regions(lineart.lines)
        if s.strategy in NATIVE_STRATEGIES:
            cell = s.tile // int(self.meta["features"]["grid"])
            x = native_features(self.extractor, gray, self.device, cell)
            lab = native_lab(self.head, self.meta, x, gray.shape, cell, s.strategy, self.centers, s.decode,
                             s.temperature, self.abstention if self.meta["kind"] == "classification" else None,
                             regions)
        else:
            plan, lab_crops, probs = self.predict(gray, with_probs=self.hints is not None)
            lab = compose(gray, plan, lab_crops)
            if self.hints is not None:
                hint_regions = page_regions(gray, plan.boxes, plan.inner, plan.tile, probs)
                lab[..., -2:] = self.hints.recolor(lab[..., -2:], hint_regions,
                                                   self.hints.assign(hint_regions, self.hinted.get(_page_key(gray))))
        if s.output == "color" and lab.shape[-1] == 3:
            return compose_color(gray, lineart, region_means(lab, regions))
        return to_rgb(gray, np.ascontiguousarray(lab[..., -2:]))


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


def _learn_hints(colorizer: PageColorizer, scribbles: Sequence[Scribble], sources: Sequence[PageSource],
                 log: Callable[[str], None]) -> None:
    by_name = {s.name: s for s in sources}
    pages = list(dict.fromkeys(s.page for s in scribbles))
    log(f"hints: {len(scribbles)} scribble(s) on {len(pages)} page(s); reading what the model predicts there")

    def regions_of(name: str) -> PageRegions:
        page = by_name[name].read()
        colorizer.hinted[_page_key(page.gray)] = name
        return colorizer.regions(page.gray)

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
        entries.append({"name": source.name, "bw": str(bw), "color": str(color_root / source.name)})
    return folder, sorted(entries, key=lambda e: natural_key(e["name"]))


def colorize_pages(inputs: Sequence[str | Path], model: str | Path, out: str | Path, *, strategy: str | None = None,
                   decode: str | None = None, temperature: float | None = None, canvas: int | None = None,
                   tile: int | None = None, overlap_stride: int | None = None, abstain: bool | None = None,
                   output: str | None = None, device: str = "auto",
                   force: bool = False, hints: str | Path | None = None,
                   viewer: Callable[[Path, list, str], Path] | None = None, progress: bool = True) -> BatchResult:
    """Colourise the pages of ``inputs`` (image files, folders, CBZ/ZIP archives) into ``out`` (a folder, or a CBZ
    when it ends in .cbz) with ``model`` (a model.pt or a results folder holding one); returns what was done.

    Settings left None come from the model's record (`model_settings`). ``force`` colourises pages already in
    colour too; ``hints`` is a hints file or overlay folder (`colorize.hints`); ``viewer``, a function like
    `report.viewer.write_viewer` (html path, page entries, title), writes viewer.html (module docstring).
    Raises PageError / ModelError (one line each, nothing written) for bad inputs, output, hints or model, and
    `batch.BatchInterrupted` on Ctrl-C (finished pages are kept: rerun to resume).
    """
    log = (lambda line: print(line, file=sys.stderr)) if progress else (lambda line: None)
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
    if scribbles and (strategy or meta.get("colorize", {}).get("strategy")) in NATIVE_STRATEGIES:
        raise ModelError(f"hints work with the crop strategies ({', '.join(CROP_STRATEGIES)}): add --strategy "
                         "overlap")
    if scribbles and meta["kind"] != "classification":
        raise ModelError(f"{path}: hints need a classification model (they compare its bin distributions); this is "
                         f"a {meta['kind']} model")
    settings = model_settings(meta, path, strategy=strategy, decode=decode, temperature=temperature, canvas=canvas,
                              tile=tile, overlap_stride=overlap_stride, abstain=abstain, output=output)
    log(f"{path}: {meta['kind']}-{meta.get('optimizer', '?')}, strategy {settings.strategy}, {settings.decode} "
        f"(T = {settings.temperature:g}), canvas {settings.canvas}, tile {settings.tile}, {settings.output} output")
    colorizer = PageColorizer(head, meta, settings, device)
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
    if viewer is not None and (result.written or result.skipped or result.copied):
        folder, entries = _viewer_pages(sources, result, sink)
        title = f"mangacolor: {', '.join(Path(p).name for p in inputs)}"
        result.notes["viewer"] = [str(viewer(folder / "viewer.html", entries, title))]
    return result

