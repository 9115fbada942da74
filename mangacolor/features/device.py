"""Which torch device a step runs on. Kept apart from the backbone so that the heads' steps (train, colorize,
scores) never import torchvision."""
from __future__ import annotations

import torch


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """`"auto"` -> CUDA when available, else CPU; anything else as torch.device."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def to_device(batch: dict[str, torch.Tensor], device) -> dict[str, torch.Tensor]:
    """A collated batch on ``device``, hypercolumns converted to float32 there (they are loaded as float16)."""
    out = {key: v.to(device, non_blocking=True) for key, v in batch.items()}
    out["x"] = out["x"].float()
    return out
