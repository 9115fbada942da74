"""Colourisation heads on VGG16 hypercolumns, and their losses.

Both heads map hypercolumns (B, C, G, G) to a prediction at every grid cell (optionally with a context branch
that sees a quarter-resolution view of the whole tile):
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

#: The context branch works on the grid pooled by this factor.
CONTEXT_POOL = 4

#: Regression heads predict ab / AB_SCALE internally, so that the L2 loss and its gradients are O(1)
#: with the default learning rates; ``forward`` returns ab in Lab units.
AB_SCALE = 100.0
#: The lightness output is L_CENTER + L_SCALE * (a 1x1 conv), so that it starts near mid-grey with O(1) weights.
L_CENTER, L_SCALE = 50.0, 50.0


class Head(nn.Module):
    """Input BatchNorm, hidden conv + BN + ReLU layers, then a 1x1 conv to ``out_channels``.

    With several hidden layers the first is a 1x1 conv that reduces the hypercolumn per cell and the others have
    ``kernel`` x ``kernel`` support (1 or 3, 'same' padding), so that each 3x3 layer widens what a cell sees by one
    neighbour; a single hidden layer has ``kernel`` itself.
    """

    def __init__(self, kind: str, in_channels: int, n_bins: int, widths: Sequence[int],
                 kernel: int, context: int, lightness: bool = False):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if kernel not in (1, 3):
            raise ValueError(f"kernel must be 1 or 3, got {kernel}")
        if context < 0:
            raise ValueError(f"context must be >= 0, got {context}")
        self.kind = kind
        if context and not widths:
            raise ValueError("a context branch needs at least one hidden width")
        # No affine on the input BN: the first conv absorbs a per-channel scale and shift, and the BN stays cheap.
        stem: list[nn.Module] = [nn.BatchNorm2d(in_channels, affine=False)]
        fine: list[nn.Module] = []
        c = in_channels
        for i, width in enumerate(widths):
            k = kernel if i > 0 or len(widths) == 1 else 1
            (fine if i else stem).extend(_conv_bn_relu(c, int(width), k))
            c = int(width)
        self.stem, self.fine = nn.Sequential(*stem), nn.Sequential(*fine)
        # Context branch: the stem's output pooled to a quarter of the grid, two 3x3 convs there (each cell then sees
        # 13x13 grid cells, ~100 px of a 224 tile at grid 28), projected to the fine path's width, upsampled and
        # added to it. Its parameters are cheap: a quarter-grid cell costs 1/16 of a full-grid one.
        self.context = nn.Sequential(*_conv_bn_relu(int(widths[0]), context, 3),
                                     *_conv_bn_relu(context, context, 3), nn.Conv2d(context, c, 1)) if context else None
        out = n_bins if kind == "classification" else 2
        self.out = nn.Conv2d(c, out, 1)
        # Lightness: each cell's fill L* (0..100), regressed beside the ab output from the same features.
        self.lightness = nn.Conv2d(c, 1, 1) if lightness else None

    def forward(self, x: torch.Tensor, with_lightness: bool = False):
        """(B, C, G, G) -> logits (B, Q, G, G) or ab (B, 2, G, G); with ``with_lightness`` also L (B, 1, G, G)."""
        h = self.stem(x)
        y = self.fine(h)
        if self.context is not None:
            g = self.context(F.avg_pool2d(h, CONTEXT_POOL, ceil_mode=True))
            y = y + F.interpolate(g, size=y.shape[-2:], mode="bilinear", align_corners=False)
        out = self.out(y)
        out = out * AB_SCALE if self.kind == "regression" else out
        if not with_lightness:
            return out
        if self.lightness is None:
            raise ValueError("this head has no lightness output (trained with training.lightness false)")
        return out, L_CENTER + L_SCALE * self.lightness(y)


def _conv_bn_relu(c_in: int, c_out: int, k: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


def build_model(kind: str, in_channels: int, n_bins: int, widths: Sequence[int],
                kernel: int, context: int, lightness: bool = False) -> nn.Module:
    """A head mapping hypercolumns (B, C, G, G) to logits (B, Q, G, G) or ab (B, 2, G, G); ``context`` > 0 adds a
    branch of that width at a quarter of the grid resolution; ``lightness`` adds the fill-lightness output."""
    return Head(kind, in_channels, n_bins, tuple(widths), kernel, int(context), bool(lightness))


class EnsembleHead(nn.Module):
    """Classification heads of one architecture trained apart (a run's classifiers, one per optimiser) read as one:
    the normalised geometric mean of their bin distributions (the mean of their log-probabilities, which serves as
    logits: softmax gives it back) and the mean of their lightness outputs."""

    def __init__(self, members: Sequence[nn.Module]):
        super().__init__()
        if len(members) < 2 or any(m.kind != "classification" for m in members):
            raise ValueError("an ensemble needs at least two classification heads")
        self.kind = "classification"
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor, with_lightness: bool = False):
        """(B, C, G, G) -> mean log-probabilities (B, Q, G, G); with ``with_lightness`` also the mean L (B, 1, G, G)."""
        outs = [m(x, with_lightness) for m in self.members]
        scores = [o[0] if with_lightness else o for o in outs]
        logp = torch.stack([F.log_softmax(s.float(), dim=1) for s in scores]).mean(0)
        return (logp, torch.stack([o[1] for o in outs]).mean(0)) if with_lightness else logp


def lightness_loss(l_pred: torch.Tensor, l_true: torch.Tensor,
                   cell_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Smooth L1 on L* / 100 (B, 1, G, G): robust to the few cells whose fill is ambiguous (thin parts);
    ``cell_weights`` (B, G, G): a weighted mean over the cells (``cell_mean``)."""
    if cell_weights is None:
        return F.smooth_l1_loss(l_pred.float() / 100.0, l_true.float() / 100.0, beta=0.05)
    loss = F.smooth_l1_loss(l_pred.float() / 100.0, l_true.float() / 100.0, beta=0.05, reduction="none")
    return cell_mean(loss[:, 0], cell_weights)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def cell_mean(loss: torch.Tensor, cell_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Mean of a per-cell loss (B, G, G); with ``cell_weights`` (B, G, G) (the cells each sampled cell stands for,
    ``data.cells``) the weighted mean, which estimates the mean over every cell of the tiles."""
    if cell_weights is None:
        return loss.mean()
    return (loss * cell_weights).sum() / cell_weights.sum()


def soft_cross_entropy(logits: torch.Tensor, idx: torch.Tensor, w: torch.Tensor,
                       class_weights: torch.Tensor | None = None,
                       cell_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Zhang et al. (2016) eq. 2: mean over pixels of -v(Z) * sum_q Z_q log softmax(logits)_q.

    The soft target Z is sparse: ``idx`` (B, k, G, G) bin indices with weights ``w`` (B, k, G, G) summing
    to 1, so the sum over q is a gather of k log-probabilities, never a dense (B, Q, G, G) target.
    v(Z) = class_weights[bin with the largest target weight] (the nearest bin); 1 when None.
    ``cell_weights`` (B, G, G): a weighted mean over the cells (``cell_mean``).
    """
    logp = F.log_softmax(logits.float(), dim=1)
    loss = -(w * logp.gather(1, idx)).sum(1)  # (B, G, G)
    if class_weights is not None:
        nearest = idx.gather(1, w.argmax(1, keepdim=True)).squeeze(1)
        loss = loss * class_weights[nearest]
    return cell_mean(loss, cell_weights)


def regression_loss(ab_pred: torch.Tensor, ab_true: torch.Tensor,
                    cell_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Mean squared ab error, in units of AB_SCALE (so a loss of 0.01 is an RMS error of 10 ab units per channel);
    ``cell_weights`` (B, G, G): a weighted mean over the cells (``cell_mean``)."""
    if cell_weights is None:
        return F.mse_loss(ab_pred / AB_SCALE, ab_true / AB_SCALE)
    return cell_mean(((ab_pred - ab_true) / AB_SCALE).square().mean(1), cell_weights)


def predict(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Model output without gradients, in eval mode: logits (B, Q, G, G) or ab (B, 2, G, G)."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(x)
    finally:
        model.train(was_training)
