"""Chapter-level colourisation: cache every strategy's crops with their hypercolumns, then colourise with a head.

``write_crops`` is bin-independent (it depends on the pages, the strategies' geometry and the backbone), so a
bin change reuses it; ``colorize_chapter`` applies a trained head, decodes and composes whole pages.
File layout (HDF5): ``page{i:03d}/{strategy}/`` holds the saved `CropPlan` and ``x`` (N, C, G, G) float16
hypercolumns of its crops; the colourised file holds ``page{i:03d}/{strategy}/ab`` (H, W, 2) float16 and ``rgb``.
"""
from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import torch
from tqdm import tqdm

from ..model.decode import decode
from .compose_color import compose_color
from .lineart import extract_lineart
from .regions import line_regions, region_means
from .strategies import CropPlan, compose, plan_crops, to_rgb
from ..io import atomic_path
from ..data.targets import load_bins
from ..data.pages import load_page_folder


def page_key(i: int) -> str:
    return f"page{i:03d}"


def write_crops(pages_dir, out, model, strategies, overlap_stride: int, canvas: int, tile: int, batch_size: int,
                device: str, precision: str) -> None:
    """Plan every crop strategy's crops of every B&W page and store the plans with the crops' hypercolumns; for the
    native strategies (``page``, ``contours``) store the page's hypercolumns on its cell grid once
    (``page{i}/native/x``), cell = tile / grid."""
    from ..features.hypercolumns import compute, production_attrs  # the backbone (torchvision) only where it is needed
    from .native import NATIVE_STRATEGIES, native_features

    rows, pages = load_page_folder(pages_dir)
    cell = tile // model.grid
    with atomic_path(out) as tmp, h5py.File(tmp, "w") as f:
        for i, (_, bw) in enumerate(tqdm(pages, total=len(rows), desc=f"crops {Path(out).stem}", unit="page")):
            plans = [plan_crops(bw, s, tile=tile, canvas=canvas, stride=overlap_stride)
                     for s in strategies if s not in NATIVE_STRATEGIES]
            # every canvas window once: the tiles' windows are among the overlapping tiles' (stride 224 vs 112)
            windows: dict[tuple[int, int], int] = {}  # canvas origin -> row of its crop in crops
            crops = []
            for plan in plans:
                for origin, crop in zip(map(tuple, plan.origins), plan.crops):
                    if origin not in windows:
                        windows[origin] = len(crops)
                        crops.append(crop)
            x_windows = compute(model, np.array(crops, np.uint8).reshape(-1, tile, tile), batch_size=batch_size,
                                device=device, precision=precision).astype(np.float16)
            for plan in plans:
                group = f.create_group(f"{page_key(i)}/{plan.strategy}")
                plan.save(group)
                x = x_windows[[windows[tuple(o)] for o in plan.origins]]
                group.create_dataset("x", data=x, chunks=(1,) + x_windows.shape[1:])
            if set(strategies) & set(NATIVE_STRATEGIES):
                group = f.create_group(f"{page_key(i)}/native")
                group.create_dataset("x", data=native_features(model, bw, device, cell))
                group.attrs.update(cell=cell, page_shape=bw.shape)
        f.attrs.update(production_attrs(model, precision))
        f.attrs.update(pages=len(rows), strategies=list(strategies))


def head_ab(model, meta: dict, x: np.ndarray, centers: np.ndarray, method: str, temperature: float,
            abstain: bool = False, batch_size: int = 32) -> np.ndarray:
    """ab (N, G, G, 2) of hypercolumns (N, C, G, G) through a trained head (classifier decoded, or regression),
    or Lab (N, G, G, 3) when the head predicts lightness too (``meta["lightness"]``); ``abstain`` applies the
    model's calibrated abstention (``meta["abstain"]``) to a classifier's ab."""
    abstention = meta.get("abstain") if abstain else None
    lightness = bool(meta.get("lightness"))
    out = []
    with torch.inference_mode():
        for start in range(0, len(x), batch_size):
            xb = torch.from_numpy(np.asarray(x[start:start + batch_size], np.float32))
            y, light = model(xb, with_lightness=True) if lightness else (model(xb), None)
            if meta["kind"] == "classification":
                ab = decode(y, centers, method=method, T=temperature, abstention=abstention)
            else:
                ab = y.permute(0, 2, 3, 1).numpy().astype(np.float32)
            if light is not None:
                ab = np.concatenate([light.permute(0, 2, 3, 1).numpy().astype(np.float32), ab], axis=-1)
            out.append(ab)
    return np.concatenate(out) if out else np.zeros((0,) + x.shape[2:] + (3 if lightness else 2,), np.float32)


def colorize_chapter(crops_path, pages_dir, model_path, bins_path, out, decode: str, temperature: float,
                     abstain: bool, output: str) -> None:
    """Colourise every page of a chapter with every cached strategy; store full-page ab and RGB in both forms:
    ``rgb_chroma`` (the print's lightness with the predicted chroma) and, for a head that predicts lightness,
    ``rgb_color`` (the colour page: the print's line art over the predicted colours made flat per closed
    region of the line art); ``rgb`` is the form ``output`` ("color" or "chroma") asks for.
    ``bins_path`` None takes the bin centres stored in the model (all a regression head needs); ``abstain``
    applies the model's calibrated abstention."""
    from ..model.load import load_model

    from .native import NATIVE_STRATEGIES, native_lab

    model, meta = load_model(model_path)
    centers = load_bins(bins_path)["centers"] if bins_path else np.asarray(meta["centers"], np.float32)
    abstention = meta.get("abstain") if abstain and meta["kind"] == "classification" else None
    method = decode
    rows, pages = load_page_folder(pages_dir)
    with h5py.File(crops_path, "r") as src, atomic_path(out) as tmp, h5py.File(tmp, "w") as dst:
        strategies = [str(s) for s in src.attrs["strategies"]]
        for i, (_, bw) in enumerate(tqdm(pages, total=len(rows), desc=f"colorize {Path(out).stem}", unit="page")):
            lineart = extract_lineart(bw)
            regions = line_regions(lineart.lines)
            for strategy in strategies:
                if strategy in NATIVE_STRATEGIES:
                    native = src[f"{page_key(i)}/native"]
                    lab = native_lab(model, meta, native["x"][()], bw.shape, int(native.attrs["cell"]), strategy,
                                     centers, method, temperature, abstention, regions)
                    boxes, attrs = np.zeros((0, 4), np.int32), {}
                else:
                    group = src[f"{page_key(i)}/{strategy}"]
                    plan = CropPlan.load(group)
                    lab = compose(bw, plan, head_ab(model, meta, group["x"], centers, method, temperature, abstain))
                    boxes, attrs = plan.boxes, dict(offset=plan.offset, scale=plan.scale, tile=plan.tile,
                                                    canvas=plan.canvas)
                g = dst.create_group(f"{page_key(i)}/{strategy}")
                ab = np.ascontiguousarray(lab[..., -2:])
                rgb_chroma = to_rgb(bw, ab)
                g.create_dataset("ab", data=ab.astype(np.float16), compression="gzip")
                g.create_dataset("rgb_chroma", data=rgb_chroma, compression="gzip")
                rgb = rgb_chroma
                if lab.shape[-1] == 3:  # the head's lightness beside its ab: the colour page too
                    rgb_color = compose_color(bw, lineart, region_means(lab, regions))
                    g.create_dataset("lightness", data=lab[..., 0].astype(np.float16), compression="gzip")
                    g.create_dataset("rgb_color", data=rgb_color, compression="gzip")
                    rgb = rgb_color if output == "color" else rgb_chroma
                g.create_dataset("rgb", data=rgb, compression="gzip")
                g.create_dataset("boxes", data=boxes)
                g.attrs.update(attrs)
        dst.attrs.update(model=str(model_path), kind=meta["kind"], optimizer=meta.get("optimizer", ""),
                         decode=method, temperature=temperature, abstain=bool(abstain and "abstain" in meta),
                         output=output if meta.get("lightness") else "chroma",
                         pages=len(rows), strategies=strategies)
