"""An ensemble of a run's classifiers: the heads the run trains anyway (one per optimiser, the blog's comparison)
joined into one model file that colourises with the geometric mean of their bin distributions
(``heads.EnsembleHead``). Heads trained apart err apart, so their mean is surer where they agree and more
neutral where they do not; it costs no training, only one more head's pass at inference per member."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import torch

from ..io import atomic_path
from .load import HEAD_KEYS, model_path, read_model_file

#: What every member must share with the first: the head's shape and what its inputs and outputs mean.
SHARED_KEYS = (*HEAD_KEYS, "lightness", "grid", "features", "tiling")


def write_ensemble(models: Sequence[str | os.PathLike], out: str | os.PathLike) -> Path:
    """Join the classifiers ``models`` (model.pt files or their folders) into ``out`` (atomically): the members'
    weights under ``members.{i}.``, the first member's metadata with ``optimizer: ensemble`` and ``members`` (the
    runs' folder names). Its abstention calibration is left out (``calibrate.calibrate_abstention`` on the
    ensemble makes its own). ValueError naming the file when a member is not a classifier or differs from the
    first in ``SHARED_KEYS`` or in its bin centres."""
    paths = [model_path(m) for m in models]
    if len(paths) < 2:
        raise ValueError(f"an ensemble needs at least two classifiers, got {len(paths)}")
    saved = [read_model_file(p) for p in paths]
    first = saved[0]["meta"]
    for path, member in zip(paths, saved):
        meta = member["meta"]
        if meta["kind"] != "classification":
            raise ValueError(f"{path}: a {meta['kind']} head; an ensemble joins classifiers")
        differs = [k for k in SHARED_KEYS if meta.get(k) != first.get(k)]
        if "centers" not in meta or not torch.equal(torch.as_tensor(meta["centers"]),
                                                    torch.as_tensor(first["centers"])):
            differs.append("centers")
        if differs:
            raise ValueError(f"{path}: differs from {paths[0]} in {', '.join(differs)}; an ensemble joins heads "
                             "of one shape trained on the same features and bins")
    state = {f"members.{i}.{k}": v for i, member in enumerate(saved) for k, v in member["state_dict"].items()}
    meta = {k: v for k, v in first.items() if k != "abstain"}
    meta.update(optimizer="ensemble", members=[p.parent.name for p in paths],
                parameters=sum(int(m["meta"].get("parameters", 0)) for m in saved),
                centers=torch.as_tensor(first["centers"]))
    with atomic_path(out) as tmp:
        torch.save({"state_dict": state, "meta": meta}, tmp)
    return Path(out)
