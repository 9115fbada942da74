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

Sparse features (``features.sample``) train a per-cell head on the stored cells, each weighted by the cells it
stands for (losses and accuracies are then estimates of the dense ones). ``processes`` > 1 runs the same loop in
each of the processes torchrun started (``model.distributed``): every global batch is split between them, the
BatchNorms use the global batch's statistics and each loss is scaled by its share of the batch's cells, so the
run follows the one-process run with the same global batch (up to float rounding).
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
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Subset
from torch.utils.data.distributed import DistributedSampler
from tqdm import tqdm

from ..data.cells import fill_grid
from ..data.dataset import TileDataset, collate, split_by_page
from ..io import atomic_path
from ..features.device import resolve_device, to_device
from . import distributed
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
    """The RNG states as tensors and plain values, so that a checkpoint loads with ``weights_only=True``."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss = random.getstate()
    states = {"torch": torch.get_rng_state(),
              "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                        "has_gauss": int(has_gauss), "cached": float(cached)},
              "python": {"version": version, "internal": list(internal), "gauss": gauss}}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def _set_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    n = states["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    p = states["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss"]))
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
    """(loss, output, predicted lightness or None) of one batch; sampled cells (sparse features) weighted by the
    cells each stands for."""
    light = None
    if lightness_weight:
        out, light = model(batch["x"], with_lightness=True)
    else:
        out = model(batch["x"])
    weight = batch.get("weight")
    if kind == "classification":
        loss = soft_cross_entropy(out, batch["idx"], batch["w"], class_weights, weight)
    else:
        loss = regression_loss(out, batch["ab"], weight)
    if light is not None:
        loss = loss + lightness_weight * lightness_loss(light, batch["L"], weight)
    return loss, out, light


def _cell_mass(batch: dict[str, torch.Tensor]) -> float:
    """The cells a batch's loss averages over: its grid cells, or what its sampled cells stand for."""
    return float(batch["weight"].sum()) if "weight" in batch else batch["ab"][:, 0].numel()


def reference_centers() -> np.ndarray:
    """Centres of the reference bins (step 10, rule gamut: the 313 of Zhang et al.)."""
    from ..kernels.bins import ABQuantizer

    return ABQuantizer(10, "gamut").centers


def evaluate(model, loader, kind, class_weights, centers, device, lightness_weight=0.0) -> dict[str, float]:
    """Mean loss per tile and top-1/top-5 bin accuracy per grid cell over ``loader`` (true bin: the labels'
    ``hard``, or the centre nearest to the true ab when the labels have no bins; sampled cells count for the cells
    they stand for)."""
    model.eval()
    loss_sum, tiles, top1, top5, cells, l_err = 0.0, 0, 0, 0, 0, 0.0
    with torch.no_grad():
        for batch in loader:
            batch = to_device(batch, device)
            loss, out, light = _loss(model, batch, kind, class_weights, lightness_weight)
            if light is not None:
                err = (light - batch["L"]).abs()[:, 0]
                l_err += float((err if "weight" not in batch else err * batch["weight"]).sum())
            hard = batch["hard"] if "hard" in batch else nearest_bins(batch["ab"], centers)[:, 0]
            hits = bin_hits(out, kind, centers, hard, batch.get("weight"))
            loss_sum += loss.item() * len(out)
            tiles += len(out)
            top1, top5, cells = top1 + hits[0], top5 + hits[1], cells + _cell_mass(batch)
    if tiles == 0:
        return {"val_loss": math.nan, "val_top1": math.nan, "val_top5": math.nan, "val_l_mae": math.nan}
    return {"val_loss": loss_sum / tiles, "val_top1": top1 / cells, "val_top5": top5 / cells,
            "val_l_mae": l_err / cells if lightness_weight else math.nan}


def train(features: Sequence[str | os.PathLike], labels: Sequence[str | os.PathLike], out_dir: str | os.PathLike,
          kind: str, optimizer: str, *, centers: np.ndarray | None, epochs: int, lr: float, batch_size: int,
          seed: int, device: str, class_weights: np.ndarray | None, widths: Sequence[int], kernel: int, context: int,
          val_fraction: float, cell_fraction: float, temperature: float, lightness_weight: float = 0.0,
          threads: int | None = None, processes: int = 1, sample_tiles: int = 8, workers: int = 0,
          log: Callable[[str], None] = print) -> pd.DataFrame:
    """Train one head and write checkpoint.pt, model.pt, history.csv and samples.npz to ``out_dir``.

    ``centers`` (Q, 2) are the ab bin centres (they fix Q, decode the samples and quantise regression output;
    required for the classifier, the reference grid by default for regression);
    ``class_weights`` (Q,) are the rebalancing weights of the classification loss (None: unweighted).
    ``temperature`` decodes the stored sample predictions (annealed mean); ``lightness_weight`` > 0 adds the
    fill-lightness output, its loss weighted by it (the labels need ``L``).
    ``cell_fraction`` < 1 trains each step on that share of every tile's grid cells (``sample_cells``; kernel 1
    only); validation always scores every cell.
    ``processes`` > 1: this is one of that many processes started by torchrun (``model.distributed``);
    ``batch_size`` is the global batch, split evenly between them; process 0 logs and writes the files.
    Sparse features (a features file with ``cells``) need a per-cell head as well; their sample images show each
    unsampled cell with the prediction of its nearest sampled cell.
    Returns the history, one row per epoch (in processes other than 0, train_loss only).
    """
    if not 0 < cell_fraction <= 1:
        raise ValueError(f"cell_fraction must be in (0, 1], got {cell_fraction}")
    if cell_fraction < 1 and (kernel != 1 or context):
        raise ValueError(f"cell_fraction < 1 needs a per-cell head (kernel 1, no context), got kernel {kernel}, "
                         f"context {context}")
    if batch_size % processes:
        raise ValueError(f"batch_size {batch_size} must be a multiple of processes {processes}: each process "
                         "takes an equal share of every batch")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = resolve_device(device)
    group = distributed.start(processes, device)
    if device.type == "cuda" and group.world > 1:
        device = torch.device("cuda", group.local_rank)
    if not group.main:
        log = lambda message: None  # noqa: E731 (process 0 speaks for all)
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
        if data.sparse and (kernel != 1 or context):
            raise ValueError(f"{features[0]} keeps {data.sample} sampled cells per tile: that needs a per-cell head "
                             f"(kernel 1, no context), got kernel {kernel}, context {context}")
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

        # --- model and optimiser (the same initial weights in every process: same seed)
        torch.manual_seed(seed)
        if lightness_weight and not data.lightness:
            raise ValueError(f"the lightness output needs fill-lightness targets (L); {labels[0]} has none")
        model = build_model(kind, data.in_channels, n_bins, widths, kernel, context, lightness_weight > 0)
        if group.world > 1:
            model = distributed.global_batchnorm(model)
        model = model.to(device)
        opt = make_optimizer(optimizer, model.parameters(), lr)
        n_parameters = count_parameters(model)
        log(f"{kind}/{optimizer}: head of {n_parameters:,} parameters, {len(train_idx)} training and "
            f"{len(val_idx)} validation tiles" + (f", {data.sample} sampled cells each" if data.sparse else "")
            + (f", {group.world} processes" if group.world > 1 else ""))
        config = {"kind": kind, "optimizer": optimizer.lower(), "lr": opt.param_groups[0]["lr"],
                  "batch_size": batch_size, "seed": seed, "widths": [int(w) for w in widths], "kernel": kernel,
                  "context": int(context), "lightness": lightness_weight > 0, "lightness_weight": lightness_weight,
                  "in_channels": data.in_channels, "grid": data.grid, "sample": data.sample, "n_bins": n_bins,
                  "val_fraction": val_fraction, "cell_fraction": cell_fraction, "tiles": len(data),
                  "class_weights": None if weights_t is None else weights_t.cpu().tolist()}

        # --- resume from the last checkpoint written with the same settings and unchanged input files
        inputs = [(str(Path(p).resolve()), os.stat(p).st_size, os.stat(p).st_mtime_ns) for p in [*features, *labels]]
        ckpt_path = out_dir / "checkpoint.pt"
        start, history, samples = 0, [], {}
        if ckpt_path.exists():
            ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True)
            if ckpt["config"] == config and ckpt.get("inputs") == inputs and ckpt["epoch"] <= epochs:
                model.load_state_dict(ckpt["model"])
                opt.load_state_dict(ckpt["optimizer"])
                start, history = ckpt["epoch"], ckpt["history"]
                samples = {int(e): v.numpy() for e, v in ckpt["samples"].items()}
                _set_rng_states(ckpt["rng"])
                log(f"{out_dir}: resuming after epoch {start}")
            else:
                log(f"{out_dir}: checkpoint.pt is from other settings, inputs or more epochs; starting over")

        # --- epoch loop. Each process takes every world-th tile of the epoch's order (DistributedSampler), so its
        # k-th batch is its share of the k-th global batch of the one-process run.
        head = model  # what is evaluated and saved: the model itself, never the DDP wrapper
        if group.world > 1:
            model = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
        # The shuffle depends on (seed, epoch) only, so a resumed run sees the same batches.
        train_set = Subset(data, train_idx)
        sampler = DistributedSampler(train_set, num_replicas=group.world, rank=group.rank, shuffle=True,
                                     seed=seed * 1_000_003)
        for epoch in range(start + 1, epochs + 1):
            t0 = time.perf_counter()
            model.train()
            sampler.set_epoch(epoch)
            loader = DataLoader(train_set, batch_size=batch_size // group.world, sampler=sampler,
                                collate_fn=collate, num_workers=workers, pin_memory=pin)
            loss_sum, tiles = 0.0, 0
            for batch in tqdm(loader, desc=f"{kind}/{optimizer} epoch {epoch}/{epochs}", leave=False,
                              disable=None if group.main else True):
                batch = to_device(batch, device)
                if cell_fraction < 1:
                    batch = sample_cells(batch, cell_fraction)
                loss, _, _ = _loss(model, batch, kind, weights_t, lightness_weight)
                # This process's share of the global batch's cells: sum over processes of share * loss is the
                # global batch's loss, and DDP averages (not sums) gradients, hence * world.
                mass = _cell_mass(batch)
                global_mass, global_tiles = distributed.all_sum([mass, len(batch["x"])], group, device)
                share = mass / global_mass
                opt.zero_grad(set_to_none=True)
                (loss * (share * group.world)).backward()
                opt.step()
                loss_sum += loss.item() * share * global_tiles
                tiles += global_tiles
            loss_sum = distributed.all_sum([loss_sum], group, device)[0]
            row = {"epoch": epoch, "train_loss": loss_sum / tiles}
            if group.main:
                row.update(evaluate(head, val_loader, kind, weights_t, centers_t, device, lightness_weight))
                if sample_x is not None:
                    samples[epoch] = _sample_predictions(head, sample_x, kind, centers_t, temperature, data,
                                                         sample_idx)
                row["seconds"] = time.perf_counter() - t0
                history.append(row)
                with atomic_path(ckpt_path) as tmp:
                    torch.save({"config": config, "inputs": inputs, "epoch": epoch, "model": head.state_dict(),
                                "optimizer": opt.state_dict(), "history": history,
                                "samples": {e: torch.from_numpy(v) for e, v in samples.items()},
                                "rng": _rng_states()}, tmp)
                log(f"{kind}/{optimizer} epoch {epoch}/{epochs}: train {row['train_loss']:.4f} "
                    f"val {row['val_loss']:.4f} top1 {row['val_top1']:.3f} top5 {row['val_top5']:.3f} "
                    f"({row['seconds']:.1f} s)")
            else:
                history.append(row)
        if group.world > 1:
            print(f"{kind}/{optimizer} process {group.rank} of {group.world}: {len(sampler)} tiles per epoch in "
                  f"batches of {batch_size // group.world}", flush=True)

        # --- outputs (process 0)
        frame = pd.DataFrame(history, columns=["epoch", "train_loss", "val_loss", "val_top1", "val_top5", "val_l_mae",
                                               "seconds"])
        if group.main:
            _write_outputs(out_dir, head, {**config, "epochs": epochs, "parameters": n_parameters,
                                           "processes": group.world}, frame, samples, epochs, sample_idx, data)
        data.close()
        return frame
    finally:
        torch.use_deterministic_algorithms(deterministic)
        torch.utils.deterministic.fill_uninitialized_memory = fill
        distributed.stop(group)


def _sample_predictions(head, sample_x, kind, centers_t, temperature, data, sample_idx) -> np.ndarray:
    """Predicted ab (S, G, G, 2) float16 of the sample tiles (sparse features: filled from the sampled cells)."""
    head.eval()
    with torch.no_grad():
        out = head(sample_x)
        ab = (annealed_mean(out, centers_t, temperature) if kind == "classification" else out.permute(0, 2, 3, 1))
    ab = ab.cpu().numpy()
    if data.sparse:  # (S, n, 1, 2) at the stored cells -> (S, G, G, 2)
        ab = np.stack([fill_grid(a[:, 0], data.cells(int(i)), data.grid) for a, i in zip(ab, sample_idx)])
    return ab.astype(np.float16)


def _write_outputs(out_dir: Path, head, meta: dict, frame: pd.DataFrame, samples: dict, epochs: int,
                   sample_idx: np.ndarray, data: TileDataset) -> None:
    """model.pt, history.csv and samples.npz (see the module docstring)."""
    with atomic_path(out_dir / "model.pt") as tmp:
        torch.save({"state_dict": head.state_dict(), "meta": meta}, tmp)
    with atomic_path(out_dir / "history.csv") as tmp:
        frame.to_csv(tmp, index=False)
    stages = [e for e in sample_epochs(epochs) if e in samples]
    grid = data.grid
    with atomic_path(out_dir / "samples.npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, epochs=np.array(stages, dtype=np.int32), tile_index=sample_idx.astype(np.int64),
                 ab_true=np.stack([data.grid_ab(int(i)) for i in sample_idx]) if len(sample_idx)
                 else np.zeros((0, grid, grid, 2), np.float32),
                 **{f"epoch_{e}": samples[e].astype(np.float32) for e in stages})
