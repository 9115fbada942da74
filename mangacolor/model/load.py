"""Loading a trained head: inference (colorize, scores) imports this, never the training loop.

A ``model.pt`` is ``{"state_dict": ..., "meta": ...}``, read with ``torch.load(weights_only=True)``: a model file
from someone else can hold tensors, numbers, strings, lists and dicts, never code. Everything in ``meta`` is of
those types (the bin centres are a float32 tensor; `load_model` hands them out as a NumPy array). What inference
reads from ``meta``:

- the head: ``kind``, ``in_channels``, ``n_bins``, ``widths``, ``kernel``, ``context``, ``grid``; ``members``
  (an ensemble of classifiers, ``model.ensemble``): the names of the runs it joins, one head of that shape each;
- ``centers``: (Q, 2) ab bin centres; ``features``: the backbone (weights, layers, grid, precision, ...);
- ``tiling``: ``{"canvas", "tile"}`` the pages were tiled with for training;
- ``scale_reference`` (where the training prints show screentones): their mean screen profile
  (`features.scale.reference_profile`), by which ``mangacolor colorize`` brings pages to the training scale;
- ``colorize`` (in the model the main run exports beside its report, ``results/<chapter>/model.pt``): the
  defaults of ``mangacolor colorize``: ``strategy``, ``decode``, ``temperature``, ``overlap_stride``, ``abstain``.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import torch

from .heads import EnsembleHead, build_model

MODEL_FILE = "model.pt"
HEAD_KEYS = ("kind", "in_channels", "n_bins", "widths", "kernel", "context")


class ModelError(ValueError):
    """A file that is not a usable mangacolor model; the message names the file and says what to use instead."""


def model_path(path: str | os.PathLike) -> Path:
    """``path`` itself for a file; for a folder (a report folder such as ``results/chapter1``, or a training run's
    folder) the ``model.pt`` inside it. ModelError when there is none."""
    path = Path(path)
    if path.is_dir():
        inside = path / MODEL_FILE
        if not inside.is_file():
            raise ModelError(f"{path}: folder has no {MODEL_FILE}; give a model file or a results folder that "
                             f"holds one (`mangacolor models` lists them)")
        return inside
    if not path.exists():
        raise ModelError(f"{path}: no such model file or folder (`mangacolor models` lists the trained models)")
    return path


def read_model_file(path: str | os.PathLike, device: str = "cpu") -> dict:
    """The ``{"state_dict", "meta"}`` of a model file, loaded without unpickling code; ModelError for anything
    else (a training checkpoint, a text file, a truncated or foreign file)."""
    path = Path(path)
    try:
        with warnings.catch_warnings():  # torch's notes on foreign pickles: the error below says it in one line
            warnings.simplefilter("ignore", UserWarning)
            saved = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # torch.load raises many types (UnpicklingError, RuntimeError, KeyError...) for junk
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = ""
        if path.name.startswith("checkpoint"):
            hint = f"; this is a training checkpoint: use the {MODEL_FILE} beside it"
        elif "numpy" in str(exc):
            hint = "; it stores NumPy objects, as model files written before weights-only loading did: retrain it"
        raise ModelError(f"{path}: not a mangacolor model file ({first[:160]}){hint}") from None
    if not isinstance(saved, dict) or not {"state_dict", "meta"} <= set(saved):
        keys = ", ".join(sorted(map(str, saved))[:6]) if isinstance(saved, dict) else type(saved).__name__
        hint = f" (a training checkpoint? use the {MODEL_FILE} beside it)" if isinstance(saved, dict) and \
            "optimizer" in saved else ""
        raise ModelError(f"{path}: not a mangacolor model file: expected the keys 'state_dict' and 'meta', found "
                         f"{keys}{hint}")
    missing = [k for k in HEAD_KEYS if k not in saved["meta"]]
    if missing:
        raise ModelError(f"{path}: model metadata lacks {', '.join(missing)}; use a model.pt written by "
                         "`mangacolor train`")
    meta = saved["meta"]
    if "centers" in meta:
        meta["centers"] = np.asarray(meta["centers"].cpu() if torch.is_tensor(meta["centers"]) else meta["centers"],
                                     np.float32)
    return saved


def build_head(meta: dict) -> torch.nn.Module:
    """The untrained head a model file's metadata describes: one head, or with ``meta["members"]`` (the names of
    the runs an ensemble joins, ``model.ensemble``) an ``EnsembleHead`` of that many heads of the same shape."""
    def head():
        return build_model(meta["kind"], meta["in_channels"], meta["n_bins"], meta["widths"], meta["kernel"],
                           meta["context"], meta.get("lightness", False))

    members = meta.get("members")
    return EnsembleHead([head() for _ in members]) if members else head()


def load_model(path: str | os.PathLike, device: str = "cpu") -> tuple[torch.nn.Module, dict]:
    """The trained head of a ``model.pt`` (or of the folder holding one) in eval mode, and its metadata
    (``meta["centers"]`` as float32 (Q, 2) NumPy). ModelError for anything that is not such a model."""
    path = model_path(path)
    saved = read_model_file(path, device)
    meta = saved["meta"]
    model = build_head(meta)
    try:
        model.load_state_dict(saved["state_dict"])
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise ModelError(f"{path}: weights do not fit the head its metadata describes "
                         f"({str(exc).splitlines()[0][:160]})") from None
    return model.to(device).eval(), meta
