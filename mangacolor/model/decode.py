"""Reading out a head's prediction: bin scores -> ab (annealed mean or argmax), and the bins it ranks first.

``argmax`` takes the centre of the most likely bin (the blog). ``annealed_mean`` (Zhang et al. 2016) is the
expectation of the centres under f_T(p) = softmax(log p / T), i.e. softmax(logits / T): T = 1 gives the mean,
T -> 0 the mode; T = 0.38 is the paper's compromise between vivid and spatially consistent.

Abstention: a head that is unsure should not guess a saturated colour. A cell's ``confidence`` is one minus the
normalised entropy of its bin distribution (1: one bin, 0: flat). ``abstain`` scales the decoded ab by a factor
that rises with the confidence, interpolated between calibrated (level, factor) points: chroma shrinks toward
neutral where the head is unsure. The points are fitted on validation pages of the training chapters
(``model.calibrate``), never on a test chapter, and stored with the model.
"""
from __future__ import annotations

import numpy as np
import torch

METHODS = ("annealed_mean", "argmax")


def annealed_mean(logits: torch.Tensor, centers: torch.Tensor, T: float) -> torch.Tensor:
    """ab = sum_q softmax(logits / T)_q * center_q: (B, Q, G, G) logits, (Q, 2) centres -> (B, G, G, 2)."""
    p = torch.softmax(logits.float() / T, dim=1)
    return torch.einsum("bqhw,qc->bhwc", p, centers.to(p))


def confidence(logits: torch.Tensor) -> torch.Tensor:
    """1 - H(p) / log Q of p = softmax(logits) over the bins: (B, Q, G, G) -> (B, G, G) in [0, 1]."""
    logp = torch.log_softmax(logits.float(), dim=1)
    entropy = -(logp.exp() * logp).sum(dim=1)
    return (1.0 - entropy / np.log(logits.shape[1])).clamp(0.0, 1.0)


def abstain(ab: np.ndarray, conf: np.ndarray, abstention: dict) -> np.ndarray:
    """ab (..., 2) scaled by the calibrated factor at each cell's confidence (...): ``abstention`` holds
    increasing ``levels`` and their ``factors`` in [0, 1] (linear in between, constant beyond)."""
    factor = np.interp(conf, np.asarray(abstention["levels"], np.float64), np.asarray(abstention["factors"]))
    return (ab * factor[..., None]).astype(np.float32)


def decode(scores, centers, method: str, T: float, probs: bool = False, chunk: int = 16,
           abstention: dict | None = None) -> np.ndarray:
    """Bin scores (B, Q, G, G) (torch or NumPy; logits, or probabilities with ``probs=True``) -> ab (B, G, G, 2)
    float32 NumPy, by ``method`` (see the module docstring) at temperature ``T``; ``abstention`` (calibrated
    levels and factors) shrinks unsure cells toward neutral."""
    if method not in METHODS:
        raise ValueError(f"decode method must be one of {METHODS}, got {method!r}")
    if method == "annealed_mean" and not T > 0:
        raise ValueError(f"annealing temperature must be > 0, got {T}")
    s = torch.as_tensor(scores)
    if s.ndim != 4:
        raise ValueError(f"scores must be (B, Q, G, G), got shape {tuple(s.shape)}")
    c = torch.as_tensor(np.asarray(centers, np.float32), device=s.device)
    if c.shape != (s.shape[1], 2):
        raise ValueError(f"centers must be (Q, 2) with Q = {s.shape[1]}, got {tuple(c.shape)}")
    out = []
    with torch.no_grad():
        for part in s.split(chunk):
            x = part.float()
            if probs:
                x = torch.log(x.clamp_min(1e-12))
            ab = (c[x.argmax(dim=1)] if method == "argmax" else annealed_mean(x, c, T)).cpu().numpy()
            if abstention is not None:
                ab = abstain(ab, confidence(x).cpu().numpy(), abstention)
            out.append(ab.astype(np.float32))
    return np.concatenate(out) if out else np.zeros((0, s.shape[2], s.shape[3], 2), np.float32)


def nearest_bins(ab: torch.Tensor, centers: torch.Tensor, k: int = 1) -> torch.Tensor:
    """Indices of the k bin centres nearest to each ab, (B, 2, G, G) -> (B, k, G, G), nearest first."""
    b, _, h, w = ab.shape
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2).float()
    d = torch.cdist(flat, centers.to(flat))
    near = d.topk(k, dim=1, largest=False).indices
    return near.reshape(b, h, w, k).permute(0, 3, 1, 2)


def top_bins(out: torch.Tensor, kind: str, centers: torch.Tensor, k: int = 5) -> torch.Tensor:
    """(B, k, G, G) predicted bins, best first: logits' top k, or the bins nearest to a predicted ab."""
    if kind == "classification":
        return out.topk(k, dim=1).indices
    return nearest_bins(out, centers, k)


def bin_hits(out: torch.Tensor, kind: str, centers: torch.Tensor, hard: torch.Tensor,
             cell_weights: torch.Tensor | None = None) -> tuple[float, float]:
    """How many grid cells of ``hard`` (B, G, G) the prediction ``out`` gets as its top bin, and within its top 5;
    with ``cell_weights`` (B, G, G) (sampled cells, ``data.cells``), how many cells those hits stand for."""
    hit = top_bins(out, kind, centers) == hard.unsqueeze(1)
    if cell_weights is None:
        return int(hit[:, 0].sum()), int(hit.any(1).sum())
    return float((hit[:, 0] * cell_weights).sum()), float((hit.any(1) * cell_weights).sum())
