"""Held-out scores of every trained head at its own resolution: one value per hypercolumn cell of a test chapter.

The chapter metrics (``evaluate``) judge whole pages at full resolution, where the upsampled grid chroma caps bin
accuracy (see their ``grid_truth`` reference). These scores judge what the heads were trained for, on tiles of a
chapter they never saw: the predicted bins of every grid cell against the labels' nearest (hard) bin, top-1 and
top-5, and the mean chroma |ab| of the decoded prediction over that of the truth (1 = as saturated; a head that
averages colours towards grey scores below 1). The grey baseline (a = b = 0 everywhere, scored as the bins nearest to
grey) sits beside them.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from ..model.decode import bin_hits, decode
from ..data.dataset import TileDataset, collate
from ..features.device import resolve_device, to_device
from ..io import atomic_path
from ..data.targets import load_bins
from ..model.heads import count_parameters
from ..model.load import load_model

COLUMNS = ["model", "kind", "optimizer", "parameters", "cells", "top1", "top5", "chroma_ratio"]


def _chroma(ab: torch.Tensor, cell_weights: torch.Tensor | None = None) -> float:
    """Sum of |ab| over the cells of (B, 2, G, G), each weighted by ``cell_weights`` (B, G, G) when given."""
    norm = torch.linalg.vector_norm(ab.double(), dim=1)
    return float((norm if cell_weights is None else norm * cell_weights).sum())


def score_head(model: torch.nn.Module | None, meta: Mapping, data: TileDataset, centers: np.ndarray,
               decode_method: str = "annealed_mean", temperature: float = 0.38, batch_size: int = 32,
               device: torch.device | str = "cpu") -> dict:
    """Top-1/top-5 bin accuracy and chroma ratio of one head (``model`` None: the grey baseline) over ``data``;
    ``model`` must already be on ``device``. On sparse features (``features.sample``) every sampled cell counts for
    the cells it stands for, so the scores estimate those of every cell; ``cells`` counts the cells scored."""
    centers_t = torch.as_tensor(np.asarray(centers, np.float32), device=device)
    top1 = top5 = mass = 0.0
    cells = 0
    chroma_pred = chroma_true = 0.0
    with torch.inference_mode():
        for batch in DataLoader(data, batch_size=batch_size, collate_fn=collate):
            batch = to_device(batch, device)
            hard, ab_true = batch["hard"], batch["ab"]
            # the grey baseline is scored as a regression head that predicts a = b = 0
            if model is None:
                kind, out = "regression", torch.zeros_like(ab_true)
            else:
                kind, out = meta["kind"], model(batch["x"])
            ab = out if kind == "regression" else \
                torch.from_numpy(decode(out, centers, decode_method, temperature)).permute(0, 3, 1, 2).to(device)
            weight = batch.get("weight")
            hits = bin_hits(out, kind, centers_t, hard, weight)
            top1, top5, cells = top1 + hits[0], top5 + hits[1], cells + hard.numel()
            mass += hard.numel() if weight is None else float(weight.sum())
            chroma_pred += _chroma(ab, weight)
            chroma_true += _chroma(ab_true, weight)
    return {"cells": cells, "top1": top1 / mass if cells else float("nan"),
            "top5": top5 / mass if cells else float("nan"),
            "chroma_ratio": chroma_pred / chroma_true if chroma_true > 0 else float("nan")}


def write_scores(features: str | os.PathLike, labels: str | os.PathLike, bins_path: str | os.PathLike,
                 models: list[str | os.PathLike], out_csv: str | os.PathLike, decode_method: str = "annealed_mean",
                 temperature: float = 0.38, device: str = "auto") -> pd.DataFrame:
    """Score the grey baseline and every ``model.pt`` on one chapter's tiles; write and return the table."""
    device = resolve_device(device)
    centers = load_bins(bins_path)["centers"]
    data = TileDataset([features], [labels])
    if not data.soft:
        raise ValueError(f"{labels}: scoring needs bin labels (hard), found a targets file without bins")
    rows = [{"model": "gray", "kind": "baseline", "optimizer": "", "parameters": 0,
             **score_head(None, {}, data, centers, decode_method, temperature, device=device)}]
    for path in models:
        model, meta = load_model(path, device)
        if meta["kind"] == "classification" and meta["n_bins"] != len(centers):
            raise ValueError(f"{path}: trained on {meta['n_bins']} bins, {bins_path} has {len(centers)}")
        rows.append({"model": Path(path).parent.name, "kind": meta["kind"], "optimizer": meta["optimizer"],
                     "parameters": count_parameters(model),
                     **score_head(model, meta, data, centers, decode_method, temperature, device=device)})
    data.close()
    table = pd.DataFrame.from_records(rows, columns=COLUMNS)
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return table
