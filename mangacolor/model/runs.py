"""What a training run records beside its head, so a model file is usable on its own (`mangacolor colorize`)
and its figures are self-contained: the backbone settings, the bin centres and the sample tiles' images."""
from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import torch

from ..io import atomic_path
from ..data.tiles import read_tiles

FEATURE_KEYS = ("weights", "layers", "grid", "precision", "weights_sha256", "weights_seed")


def annotate_run(out_dir: str | Path, features_path: str | Path, tiles_paths: list, centers: np.ndarray) -> None:
    """Add backbone settings and bin centres to ``model.pt``'s metadata, and sample images to ``samples.npz``."""
    out_dir = Path(out_dir)
    with h5py.File(features_path, "r") as f:
        features = {k: f.attrs[k] for k in FEATURE_KEYS if k in f.attrs}
    features = {k: v.tolist() if isinstance(v, np.ndarray) else (v.item() if hasattr(v, "item") else v)
                for k, v in features.items()}
    saved = torch.load(out_dir / "model.pt", map_location="cpu", weights_only=False)
    saved["meta"].update(features=features, centers=torch.as_tensor(np.asarray(centers, np.float32)))
    with atomic_path(out_dir / "model.pt") as tmp:
        torch.save(saved, tmp)
    with np.load(out_dir / "samples.npz") as z:
        samples = {k: z[k] for k in z.files}
    samples["gray"], samples["color"] = read_tiles(tiles_paths, samples["tile_index"])
    with atomic_path(out_dir / "samples.npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **samples)
