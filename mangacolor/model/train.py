"""Train a colourisation head on cached hypercolumns: data, model, optimiser, epoch loop, checkpoint, history.

One run writes to ``out_dir``:
- ``checkpoint.pt`` after every epoch (model, optimiser, epoch, history, samples, RNG states); a rerun with the
  same settings resumes from it, and on CPU ends with exactly the weights of an uninterrupted run;
- ``model.pt``: ``{"state_dict", "meta"}`` with meta kind, widths, kernel, in_channels, n_bins, optimizer, epochs, ...;
- ``history.csv``: epoch, train_loss, val_loss, val_top1, val_top5, val_l_mae (lightness, L* units), seconds;
- ``samples.npz``: predicted ab (S, G, G, 2) of fixed validation tiles after epoch 1, 25 %, 50 % and the last
  (keys ``epoch_{e}``), with ``epochs``, ``tile_index`` (position in the concatenated chapters) and ``ab_true``.

Validation uses whole pages held out from training (``data.split_by_page``). Top-1/top-5 are bin accuracies
against the nearest (hard) bin; a regression head's ab is quantised to its nearest bin centres. The regression head
needs no bins to train (its labels may be the bin-independent targets files), so unless given ``centers`` it is
scored on the reference grid of Zhang et al. (step 10, 313 bins), and a change of the configured bins never
retrains it.
"""
from __future__ import annotations

import math
import os
import random
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Subset
from tqdm import tqdm

from ..data.dataset import TileDataset, collate, split_by_page
from ..io import atomic_path
from ..features.device import resolve_device, to_device
from .decode import annealed_mean, bin_hits, nearest_bins
from .heads import build_model, count_parameters, lightness_loss, regression_loss, soft_cross_entropy

#: The three optimisers of the blog.
OPTIMIZERS = ("sgd", "adadelta", "adam")


def make_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    """SGD (momentum 0.9, Nesterov), Adadelta or Adam at learning rate ``lr``."""
    name = name.lower()
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True)
    if name == "adadelta":
        return torch.optim.Adadelta(params, lr=lr)
    return torch.optim.Adam(params, lr=lr)


def sample_epochs(epochs: int) -> list[int]:
    """Epochs whose sample predictions are kept: 1, 25 %, 50 % and the last."""
    return sorted({1, math.ceil(epochs / 4), math.ceil(epochs / 2), epochs})


def _rng_states() -> dict:
    states = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def _set_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    np.random.set_state(states["numpy"])
    random.setstate(states["python"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def sample_cells(batch: dict[str, torch.Tensor], fraction: float) -> dict[str, torch.Tensor]:
    """The same random ``fraction`` of grid cells of every tile in ``batch``, as (B, *, n, 1) maps.

    Sparse training as in Larsson et al. (2016), who sample pixels of each hypercolumn: neighbouring cells are
    strongly correlated, so a per-cell (kernel 1) head learns nearly as much from a sample, in a fraction of the
    time. Draws from torch's global RNG (seeded, and restored on resume)."""
    g2 = batch["x"].shape[-2] * batch["x"].shape[-1]
    keep = torch.randperm(g2)[:max(1, math.ceil(fraction * g2))].to(batch["x"].device)
    out = {}
    for key, v in batch.items():
        if v.ndim >= 3:  # (B, [channels,] G, G) maps
            v = v.flatten(-2).index_select(-1, keep).unsqueeze(-1)
        out[key] = v
    return out


def _loss(model, batch, kind, class_weights, lightness_weight=0.0):
    """(loss, output, predicted lightness or None) of one batch."""
    light = None
    if lightness_weight:
        out, light = model(batch["x"], with_lightness=True)
    else:
        out = model(batch["x"])
    if kind == "classification":
        loss = soft_cross_entropy(out, batch["idx"], batch["w"], class_weights)
    else:
        loss = regression_loss(out, batch["ab"])
    if light is not None:
        loss = loss + lightness_weight * lightness_loss(light, batch["L"])
    return loss, out, light


def reference_centers() -> np.ndarray:
    """Centres of the reference bins (step 10, rule gamut: the 313 of Zhang et al.)."""
    from ..kernels.bins import ABQuantizer

    return ABQuantizer(10, "gamut").centers


def evaluate(model, loader, kind, class_weights, centers, device, lightness_weight=0.0) -> dict[str, float]:
    """Mean loss per tile and top-1/top-5 bin accuracy per grid cell over ``loader`` (true bin: the labels'
    ``hard``, or the centre nearest to the true ab when the labels have no bins)."""
    model.eval()
    loss_sum, tiles, top1, top5, cells, l_err = 0.0, 0, 0, 0, 0, 0.0
    with torch.no_grad():
        for batch in loader:
            batch = to_device(batch, device)
            loss, out, light = _loss(model, batch, kind, class_weights, lightness_weight)
            if light is not None:
                l_err += float((light - batch["L"]).abs().sum())
            hard = batch["hard"] if "hard" in batch else nearest_bins(batch["ab"], centers)[:, 0]
            hits = bin_hits(out, kind, centers, hard)
            loss_sum += loss.item() * len(out)
            tiles += len(out)
            top1, top5, cells = top1 + hits[0], top5 + hits[1], cells + hard.numel()
    if tiles == 0:
        return {"val_loss": math.nan, "val_top1": math.nan, "val_top5": math.nan, "val_l_mae": math.nan}
    return {"val_loss": loss_sum / tiles, "val_top1": top1 / cells, "val_top5": top5 / cells,
            "val_l_mae": l_err / cells if lightness_weight else math.nan}


def train(features: Sequence[str | os.PathLike], labels: Sequence[str | os.PathLike], out_dir: str | os.PathLike,
          kind: str, optimizer: str, *, centers: np.ndarray | None, epochs: int, lr: float, batch_size: int,
          seed: int, device: str, class_weights: np.ndarray | None, widths: Sequence[int], kernel: int, context: int,
          val_fraction: float, cell_fraction: float, temperature: float, lightness_weight: float = 0.0,
          threads: int | None = None,
          sample_tiles: int = 8, workers: int = 0, log: Callable[[str], None] = print) -> pd.DataFrame:
    """Train one head and write checkpoint.pt, model.pt, history.csv and samples.npz to ``out_dir``.

    ``centers`` (Q, 2) are the ab bin centres (they fix Q, decode the samples and quantise regression output;
    required for the classifier, the reference grid by default for regression);
    ``class_weights`` (Q,) are the rebalancing weights of the classification loss (None: unweighted).
    ``temperature`` decodes the stored sample predictions (annealed mean); ``lightness_weight`` > 0 adds the
    fill-lightness output, its loss weighted by it (the labels need ``L``).
    ``cell_fraction`` < 1 trains each step on that share of every tile's grid cells (``sample_cells``; kernel 1
    only); validation always scores every cell.
    Returns the history, one row per epoch.
    """
    if not 0 < cell_fraction <= 1:
        raise ValueError(f"cell_fraction must be in (0, 1], got {cell_fraction}")
    if cell_fraction < 1 and (kernel != 1 or context):
        raise ValueError(f"cell_fraction < 1 needs a per-cell head (kernel 1, no context), got kernel {kernel}, "
                         f"context {context}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = resolve_device(device)
    if threads:
        torch.set_num_threads(threads)
    deterministic = torch.are_deterministic_algorithms_enabled()
    fill = torch.utils.deterministic.fill_uninitialized_memory
    torch.use_deterministic_algorithms(True, warn_only=True)
    # Deterministic kernels, without also NaN-filling every fresh tensor (no value reads them; it costs time).
    torch.utils.deterministic.fill_uninitialized_memory = False
    try:
        # --- data: whole pages held out for validation, fixed sample tiles among them
        data = TileDataset(features, labels)
        if kind == "classification" and not data.soft:
            raise ValueError(f"the classifier needs soft-encoded labels (idx, w, hard); {labels[0]} has none")
        if centers is None:
            if kind == "classification":
                raise ValueError("the classifier needs the bin centres")
            centers = reference_centers()
        train_idx, val_idx = split_by_page(data.pages, val_fraction, seed)
        if len(train_idx) == 0:
            raise ValueError("no training tiles")
        n_samples = min(sample_tiles, len(val_idx))
        sample_idx = val_idx[np.unique(np.linspace(0, len(val_idx) - 1, n_samples).round().astype(int))] \
            if n_samples else val_idx[:0]
        pin = device.type == "cuda"
        val_loader = DataLoader(Subset(data, val_idx), batch_size=batch_size, collate_fn=collate, num_workers=workers,
                                pin_memory=pin)
        sample_batch = [data[int(i)] for i in sample_idx]
        sample_x = torch.stack([b["x"] for b in sample_batch]).to(device).float() if sample_batch else None
        centers_t = torch.as_tensor(np.asarray(centers), dtype=torch.float32, device=device)
        n_bins = len(centers_t)
        weights_t = None
        if kind == "classification" and class_weights is not None:
            weights_t = torch.as_tensor(np.asarray(class_weights), dtype=torch.float32, device=device)
            if weights_t.shape != (n_bins,):
                raise ValueError(f"class_weights must have shape ({n_bins},), got {tuple(weights_t.shape)}")

        # --- model and optimiser
        torch.manual_seed(seed)
        if lightness_weight and not data.lightness:
            raise ValueError(f"the lightness output needs fill-lightness targets (L); {labels[0]} has none")
        model = build_model(kind, data.in_channels, n_bins, widths, kernel, context, lightness_weight > 0).to(device)
        opt = make_optimizer(optimizer, model.parameters(), lr)
        n_parameters = count_parameters(model)
        log(f"{kind}/{optimizer}: head of {n_parameters:,} parameters, {len(train_idx)} training and "
            f"{len(val_idx)} validation tiles")
        config = {"kind": kind, "optimizer": optimizer.lower(), "lr": opt.param_groups[0]["lr"],
                  "batch_size": batch_size, "seed": seed, "widths": [int(w) for w in widths], "kernel": kernel,
                  "context": int(context), "lightness": lightness_weight > 0, "lightness_weight": lightness_weight,
                  "in_channels": data.in_channels, "grid": data.grid, "n_bins": n_bins,
                  "val_fraction": val_fraction, "cell_fraction": cell_fraction, "tiles": len(data),
                  "class_weights": None if weights_t is None else weights_t.cpu().tolist()}

        # --- resume from the last checkpoint written with the same settings and unchanged input files
        inputs = [(str(Path(p).resolve()), os.stat(p).st_size, os.stat(p).st_mtime_ns) for p in [*features, *labels]]
        ckpt_path = out_dir / "checkpoint.pt"
        start, history, samples = 0, [], {}
        if ckpt_path.exists():
            ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=False)
            if ckpt["config"] == config and ckpt.get("inputs") == inputs and ckpt["epoch"] <= epochs:
                model.load_state_dict(ckpt["model"])
                opt.load_state_dict(ckpt["optimizer"])
                start, history, samples = ckpt["epoch"], ckpt["history"], ckpt["samples"]
                _set_rng_states(ckpt["rng"])
                log(f"{out_dir}: resuming after epoch {start}")
            else:
                log(f"{out_dir}: checkpoint.pt is from other settings, inputs or more epochs; starting over")

        # --- epoch loop
        for epoch in range(start + 1, epochs + 1):
            t0 = time.perf_counter()
            model.train()
            # The shuffle depends on (seed, epoch) only, so a resumed run sees the same batches.
            order = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
            loader = DataLoader(Subset(data, train_idx), batch_size=batch_size, shuffle=True, generator=order,
                                collate_fn=collate, num_workers=workers, pin_memory=pin)
            loss_sum, tiles = 0.0, 0
            for batch in tqdm(loader, desc=f"{kind}/{optimizer} epoch {epoch}/{epochs}", leave=False,
                              disable=None):
                batch = to_device(batch, device)
                if cell_fraction < 1:
                    batch = sample_cells(batch, cell_fraction)
                loss, _, _ = _loss(model, batch, kind, weights_t, lightness_weight)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                loss_sum += loss.item() * len(batch["x"])
                tiles += len(batch["x"])
            row = {"epoch": epoch, "train_loss": loss_sum / tiles,
                   **evaluate(model, val_loader, kind, weights_t, centers_t, device, lightness_weight)}
            if sample_x is not None:
                model.eval()
                with torch.no_grad():
                    out = model(sample_x)
                    ab = (annealed_mean(out, centers_t, temperature) if kind == "classification"
                          else out.permute(0, 2, 3, 1))
                samples[epoch] = ab.cpu().numpy().astype(np.float16)
            row["seconds"] = time.perf_counter() - t0
            history.append(row)
            with atomic_path(ckpt_path) as tmp:
                torch.save({"config": config, "inputs": inputs, "epoch": epoch, "model": model.state_dict(),
                            "optimizer": opt.state_dict(), "history": history, "samples": samples,
                            "rng": _rng_states()}, tmp)
            log(f"{kind}/{optimizer} epoch {epoch}/{epochs}: train {row['train_loss']:.4f} "
                f"val {row['val_loss']:.4f} top1 {row['val_top1']:.3f} top5 {row['val_top5']:.3f} "
                f"({row['seconds']:.1f} s)")

        # --- outputs
        meta = {**config, "epochs": epochs, "parameters": n_parameters}
        with atomic_path(out_dir / "model.pt") as tmp:
            torch.save({"state_dict": model.state_dict(), "meta": meta}, tmp)
        frame = pd.DataFrame(history, columns=["epoch", "train_loss", "val_loss", "val_top1", "val_top5", "val_l_mae",
                                               "seconds"])
        with atomic_path(out_dir / "history.csv") as tmp:
            frame.to_csv(tmp, index=False)
        stages = [e for e in sample_epochs(epochs) if e in samples]
        grid = data.grid
        with atomic_path(out_dir / "samples.npz") as tmp, open(tmp, "wb") as fh:
            np.savez(fh, epochs=np.array(stages, dtype=np.int32), tile_index=sample_idx.astype(np.int64),
                     ab_true=np.stack([b["ab"].permute(1, 2, 0).numpy() for b in sample_batch])
                     if sample_batch else np.zeros((0, grid, grid, 2), np.float32),
                     **{f"epoch_{e}": samples[e].astype(np.float32) for e in stages})
        data.close()
        return frame
    finally:
        torch.use_deterministic_algorithms(deterministic)
        torch.utils.deterministic.fill_uninitialized_memory = fill
