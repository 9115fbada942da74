"""Loading a trained head: inference (colorize, scores) imports this, never the training loop."""
from __future__ import annotations

import os

import torch

from .heads import build_model


def load_model(path: str | os.PathLike, device: str = "cpu") -> tuple[torch.nn.Module, dict]:
    """The trained head of a ``model.pt`` in eval mode, and its metadata."""
    saved = torch.load(path, map_location=device, weights_only=False)
    meta = saved["meta"]
    model = build_model(meta["kind"], meta["in_channels"], meta["n_bins"], meta["widths"], meta["kernel"],
                        meta["context"], meta.get("lightness", False))
    model.load_state_dict(saved["state_dict"])
    return model.to(device).eval(), meta
