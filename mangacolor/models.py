"""Colourisation heads on VGG16 hypercolumns, and their losses.

Both heads map hypercolumns (B, C, G, G) to a prediction at every grid cell:
- ``classification`` (Zhang et al. 2016): logits over the Q ab bins, (B, Q, G, G), trained with a
  class-rebalanced cross-entropy against soft-encoded targets;
- ``regression`` (the colornet-style baseline): ab directly, (B, 2, G, G), trained with an L2 loss, which
  averages plausible colours and so drifts toward greyish brown.

The hypercolumns are raw VGG activations whose channels differ in scale by orders of magnitude, so every
head starts with a BatchNorm2d over the input channels (per-channel standardisation with running statistics).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
import torch.nn.functional as F

KINDS = ("classification", "regression")

#: Library defaults: a per-cell head BN(C) -> 1x1 conv C->128 -> BN -> ReLU -> 1x1 conv -> Q (or 2). The pipeline's
#: config.yaml asks for widths (128, 128, 128) with kernel 3: a 1x1 reduction, then two 3x3 convs, so each cell
#: sees 5x5 cells (40 px of tile) around it. Measured on chapter1 of the default series (2 CPU cores, grid 28,
#: 10 epochs): coloured-pixel AuC 0.903 vs 0.873 for a 1x1 width-256 head (~45 s vs ~37 s per model), 0.908 with
#: widths (128, 128, 256) (~60 s); paper regions that print identically (skin, sand, gutters) need the context.
DEFAULT_WIDTHS: tuple[int, ...] = (128,)
DEFAULT_KERNEL = 1

#: Regression heads predict ab / AB_SCALE internally, so that the L2 loss and its gradients are O(1)
#: with the default learning rates; ``forward`` returns ab in Lab units.
AB_SCALE = 100.0


class Head(nn.Module):
    """Input BatchNorm, hidden conv + BN + ReLU layers, then a 1x1 conv to ``out_channels``.

    With several hidden layers the first is a 1x1 conv that reduces the hypercolumn per cell and the others have
    ``kernel`` x ``kernel`` support (1 or 3, 'same' padding), so that each 3x3 layer widens what a cell sees by one
    neighbour; a single hidden layer has ``kernel`` itself.
    """

    def __init__(self, kind: str, in_channels: int, n_bins: int, widths: Sequence[int] = DEFAULT_WIDTHS,
                 kernel: int = DEFAULT_KERNEL):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if kernel not in (1, 3):
            raise ValueError(f"kernel must be 1 or 3, got {kernel}")
        self.kind = kind
        # No affine on the input BN: the first conv absorbs a per-channel scale and shift, and the BN stays cheap.
        layers: list[nn.Module] = [nn.BatchNorm2d(in_channels, affine=False)]
        c = in_channels
        for i, width in enumerate(widths):
            k = kernel if i > 0 or len(widths) == 1 else 1
            layers += [nn.Conv2d(c, int(width), k, padding=k // 2, bias=False), nn.BatchNorm2d(int(width)),
                       nn.ReLU(inplace=True)]
            c = int(width)
        out = n_bins if kind == "classification" else 2
        layers.append(nn.Conv2d(c, out, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.net(x)
        return y * AB_SCALE if self.kind == "regression" else y


def build_model(kind: str, in_channels: int, n_bins: int, widths: Sequence[int] = DEFAULT_WIDTHS,
                kernel: int = DEFAULT_KERNEL) -> nn.Module:
    """A head mapping hypercolumns (B, C, G, G) to logits (B, Q, G, G) or ab (B, 2, G, G)."""
    return Head(kind, in_channels, n_bins, tuple(widths), kernel)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def soft_cross_entropy(logits: torch.Tensor, idx: torch.Tensor, w: torch.Tensor,
                       class_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Zhang et al. (2016) eq. 2: mean over pixels of -v(Z) * sum_q Z_q log softmax(logits)_q.

    The soft target Z is sparse: ``idx`` (B, k, G, G) bin indices with weights ``w`` (B, k, G, G) summing
    to 1, so the sum over q is a gather of k log-probabilities, never a dense (B, Q, G, G) target.
    v(Z) = class_weights[bin with the largest target weight] (the nearest bin); 1 when None.
    """
    logp = F.log_softmax(logits.float(), dim=1)
    loss = -(w * logp.gather(1, idx)).sum(1)  # (B, G, G)
    if class_weights is not None:
        nearest = idx.gather(1, w.argmax(1, keepdim=True)).squeeze(1)
        loss = loss * class_weights[nearest]
    return loss.mean()


def regression_loss(ab_pred: torch.Tensor, ab_true: torch.Tensor) -> torch.Tensor:
    """Mean squared ab error, in units of AB_SCALE (so a loss of 0.01 is an RMS error of 10 ab units per channel)."""
    return F.mse_loss(ab_pred / AB_SCALE, ab_true / AB_SCALE)


def predict(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Model output without gradients, in eval mode: logits (B, Q, G, G) or ab (B, 2, G, G)."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(x)
    finally:
        model.train(was_training)


def annealed_mean(logits: torch.Tensor, centers: torch.Tensor, T: float = 0.38) -> torch.Tensor:
    """Zhang et al.'s annealed mean: ab = sum_q softmax(logits / T)_q * center_q, (B, Q, G, G) -> (B, 2, G, G).

    Used here only to store sample predictions during training; colorize.decode is the full decoder.
    """
    p = F.softmax(logits.float() / T, dim=1)
    return torch.einsum("bqhw,qc->bchw", p, centers.to(p))


def nearest_bins(ab: torch.Tensor, centers: torch.Tensor, k: int = 1) -> torch.Tensor:
    """Indices of the k bin centres nearest to each ab, (B, 2, G, G) -> (B, k, G, G), nearest first."""
    b, _, h, w = ab.shape
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2).float()
    d = torch.cdist(flat, centers.to(flat))
    near = d.topk(k, dim=1, largest=False).indices
    return near.reshape(b, h, w, k).permute(0, 3, 1, 2)
