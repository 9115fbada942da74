"""What a training run records beside its head, so a model file is usable on its own (`mangacolor colorize`)
and its figures are self-contained: the backbone settings, the bin centres, the tiling, the training pages' screen
profile (``scale_reference``: pages scanned at another resolution are brought to the training scale) and the sample
tiles' images; and the model the main run exports beside its report, which adds the colourising defaults."""
from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import torch

from ..io import atomic_path
from ..data.tiles import read_prints, read_tiles
from ..features.scale import reference_profile
from .decode import METHODS
from .load import model_path, read_model_file

FEATURE_KEYS = ("weights", "layers", "grid", "precision", "weights_sha256", "weights_seed")
COLORIZE_KEYS = ("strategy", "decode", "temperature", "overlap_stride", "abstain", "output")
#: Training prints per chapter the scale reference is measured on.
SCALE_PRINTS = 4


def _plain(value):
    """An HDF5 attribute as a plain Python value (lists, numbers, strings): what weights-only loading accepts."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, bytes):
        return value.decode()
    return value.item() if hasattr(value, "item") else value


def annotate_run(out_dir: str | Path, features_path: str | Path, tiles_paths: list, centers: np.ndarray) -> None:
    """Add backbone settings, bin centres (float32 tensor), tiling (canvas, tile) and the scale reference (the
    mean screen profile of SCALE_PRINTS prints per training chapter, float32 tensor; left out, with a note, when
    the prints show no screentone) to ``model.pt``'s metadata, and sample images to ``samples.npz``."""
    out_dir = Path(out_dir)
    with h5py.File(features_path, "r") as f:
        features = {k: _plain(f.attrs[k]) for k in FEATURE_KEYS if k in f.attrs}
    with h5py.File(tiles_paths[0], "r") as f:
        tiling = {"canvas": int(f.attrs["canvas"]), "tile": int(f.attrs["tile"])}
    saved = read_model_file(out_dir / "model.pt")
    saved["meta"].update(features=features, centers=torch.as_tensor(np.asarray(centers, np.float32)), tiling=tiling)
    try:
        prints = [page for path in tiles_paths for page in read_prints(path, SCALE_PRINTS)]
        saved["meta"]["scale_reference"] = torch.from_numpy(reference_profile(prints))
    except ValueError as exc:
        print(f"{out_dir / 'model.pt'}: no scale reference recorded ({exc})")
    with atomic_path(out_dir / "model.pt") as tmp:
        torch.save(saved, tmp)
    with np.load(out_dir / "samples.npz") as z:
        samples = {k: z[k] for k in z.files}
    samples["gray"], samples["color"] = read_tiles(tiles_paths, samples["tile_index"])
    with atomic_path(out_dir / "samples.npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **samples)


def export_model(src: str | Path, out: str | Path, strategy: str, decode: str, temperature: float,
                 overlap_stride: int, abstain: bool, output: str) -> Path:
    """Copy a trained ``model.pt`` to ``out`` (atomically) with the colourising defaults of `mangacolor colorize`
    recorded in ``meta["colorize"]``: ``strategy``, ``decode`` (annealed_mean | argmax), ``temperature`` (> 0)
    ``overlap_stride`` (pixels), ``abstain`` (apply the model's calibrated abstention) and ``output`` (color |
    chroma: colour pages or the print's lightness with the predicted a*b*; ``strategy`` is checked by the caller:
    models never import colorize). The copy must carry what inference needs (features, centres, tiling)."""
    src = model_path(src)
    if decode not in METHODS:
        raise ValueError(f"export {src}: decode {decode!r} is not one of {', '.join(METHODS)}")
    if output not in ("color", "chroma"):
        raise ValueError(f"export {src}: output {output!r} is not color or chroma")
    saved = read_model_file(src)
    meta = saved["meta"]
    missing = [k for k in ("features", "centers", "tiling") if k not in meta]
    if missing:
        raise ValueError(f"export {src}: model metadata lacks {', '.join(missing)} (annotate_run adds them)")
    meta["centers"] = torch.as_tensor(meta["centers"])
    meta["colorize"] = {"strategy": strategy, "decode": decode, "temperature": float(temperature),
                        "overlap_stride": int(overlap_stride), "abstain": bool(abstain), "output": str(output)}
    with atomic_path(out) as tmp:
        torch.save(saved, tmp)
    return Path(out)


# ---------------------------------------------------------------- the trained models of a results folder
def _held_out(model_file: Path, name: str) -> dict:
    """Held-out scores found beside a model: ``scores.csv`` (per-cell top-1/top-5 of every head on a test chapter's
    tiles) beside it or in its run's ``scores/`` folder, and ``metrics.json`` (chapter means per strategy) beside
    it (an exported model's report folder)."""
    import json

    import pandas as pd

    found = {}
    candidates = [model_file.parent / "scores.csv", *sorted(model_file.parent.parent.parent.glob("scores/*.csv"))]
    for csv in candidates:
        try:
            table = pd.read_csv(csv)
        except (OSError, ValueError):
            continue
        rows = table[table["model"] == name] if "model" in table else table.iloc[:0]
        if len(rows):
            found.update(chapter=csv.parent.name if csv.name == "scores.csv" else csv.stem,
                         top1=float(rows.iloc[0]["top1"]), top5=float(rows.iloc[0]["top5"]))
            break
    metrics = model_file.parent / "metrics.json"
    if metrics.is_file():
        try:
            strategies = json.loads(metrics.read_text()).get("strategies", {})
        except (OSError, ValueError):
            strategies = {}
        found["strategies"] = {k: v.get("auc_colored") for k, v in strategies.items()}
    return found


def find_models(root: str | Path) -> list[dict]:
    """Every readable ``model.pt`` under ``root`` (natural order of paths): path, name (kind-optimiser), epochs,
    features (weights, grid), the recorded colourising strategy (exported models) and held-out scores where a
    ``scores.csv`` / ``metrics.json`` is found beside it. Files that are not models are listed with ``error``."""
    from .load import ModelError

    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    models = []
    for file in sorted(root.rglob("model.pt"), key=lambda p: str(p)):
        if any(part.startswith(".") for part in file.relative_to(root).parts):
            continue  # temporary folders of atomic writes
        try:
            meta = read_model_file(file)["meta"]
        except ModelError as exc:
            models.append({"path": str(file), "error": str(exc).split(": ", 1)[-1]})
            continue
        run_name = file.parent.name
        name = f"{meta['kind']}-{meta.get('optimizer', '?')}"
        features = meta.get("features", {})
        entry = {"path": str(file), "name": name, "epochs": meta.get("epochs"),
                 "features": f"{features.get('weights', '?')}, grid {features.get('grid', meta.get('grid', '?'))}",
                 "strategy": meta.get("colorize", {}).get("strategy")}
        entry.update(_held_out(file, run_name if run_name == name else name))
        models.append(entry)
    return models


def models_table(models: list[dict]) -> str:
    """`find_models`' list as an aligned text table, exported models (with a recorded strategy) first."""
    def number(v):
        return "-" if v is None else f"{v:.3f}"

    header = ["model.pt", "model", "epochs", "backbone", "held out on", "top-1", "top-5", "strategy",
              "AuC coloured"]
    rows = []
    for m in sorted(models, key=lambda m: (m.get("strategy") is None, "error" in m, m["path"])):
        if "error" in m:
            rows.append([m["path"], f"not a model: {m['error']}", "", "", "", "", "", "", ""])
            continue
        strategy = m.get("strategy")
        auc = m.get("strategies", {}).get(strategy) if strategy else None
        rows.append([m["path"], m["name"], str(m.get("epochs") or "-"), m["features"], m.get("chapter", "-"),
                     number(m.get("top1")), number(m.get("top5")), strategy or "-", number(auc)])
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in [header] + rows]
    return "\n".join(lines + ["top-1/top-5: bin accuracy per hypercolumn cell of the held-out chapter's tiles "
                              "(scores.csv); AuC coloured: chapter mean of the recorded strategy (metrics.json)"])
