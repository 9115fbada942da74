"""Calibrating abstention on validation pages of the training chapters (never on a test chapter).

The validation cells (the training run's own page-wise split) are cut into ``levels`` groups of equal size by the
head's confidence (``decode.confidence``). In each group the factor that best scales the decoded ab onto the
truth in the least-squares sense, sum(ab_pred . ab_true) / sum(|ab_pred|^2), clipped to [0, 1], is the group's
factor; factors are then made non-decreasing in confidence (a more confident cell never shrinks more). Where the
head guesses colours it cannot know, its predictions are uncorrelated with the truth and the factor falls toward
0: the cell stays neutral instead of taking a wrong saturated colour.
"""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Subset

from ..data.dataset import TileDataset, collate, split_by_page
from ..features.device import to_device
from .decode import annealed_mean, confidence


def calibrate_abstention(model: torch.nn.Module, features, labels, val_fraction: float, seed: int,
                         centers: np.ndarray, temperature: float, levels: int, batch_size: int = 32) -> dict:
    """``{"levels": [...], "factors": [...], "cells": n}`` for ``decode.abstain``, from a classifier's validation
    pages (the split of ``split_by_page(pages, val_fraction, seed)``, as in training)."""
    data = TileDataset(features, labels)
    _, val_idx = split_by_page(data.pages, val_fraction, seed)
    if len(val_idx) == 0:
        raise ValueError("abstention needs validation pages: training.val_fraction leaves none")
    c = torch.as_tensor(np.asarray(centers, np.float32))
    conf, dot, norm = [], [], []
    model.eval()
    with torch.inference_mode():
        for batch in DataLoader(Subset(data, val_idx), batch_size=batch_size, collate_fn=collate):
            batch = to_device(batch, "cpu")
            logits = model(batch["x"])
            ab = annealed_mean(logits, c, temperature)                 # (B, G, G, 2)
            true = batch["ab"].float().permute(0, 2, 3, 1)
            # sparse features: each sampled cell counts for the cells it stands for (data.cells)
            weight = batch["weight"] if "weight" in batch else torch.ones_like(true[..., 0])
            conf.append(confidence(logits).reshape(-1).numpy())
            dot.append(((ab * true).sum(-1) * weight).reshape(-1).numpy())
            norm.append(((ab * ab).sum(-1) * weight).reshape(-1).numpy())
    data.close()
    conf, dot, norm = (np.concatenate(a).astype(np.float64) for a in (conf, dot, norm))
    order = np.argsort(conf, kind="stable")
    groups = np.array_split(order, levels)
    level = np.array([conf[g].mean() for g in groups])
    factor = np.array([np.clip(dot[g].sum() / max(norm[g].sum(), 1e-9), 0.0, 1.0) for g in groups])
    factor = np.maximum.accumulate(factor)
    return {"levels": [round(float(v), 6) for v in level], "factors": [round(float(v), 6) for v in factor],
            "cells": int(len(conf))}


def record_abstention(model_path, abstention: dict) -> None:
    """Store the calibration in ``model.pt``'s metadata (``meta["abstain"]``), atomically."""
    from ..io import atomic_path

    saved = torch.load(model_path, map_location="cpu", weights_only=True)
    saved["meta"]["abstain"] = abstention
    with atomic_path(model_path) as tmp:
        torch.save(saved, tmp)
