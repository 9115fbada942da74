"""Heads and losses: shapes, the soft-encoded cross-entropy by hand, one step of training lowers the loss."""
import math

import pytest
import torch

from mangacolor.model.heads import (AB_SCALE, build_model, count_parameters, predict, regression_loss,
                                    soft_cross_entropy)

C, G, Q, K = 8, 8, 20, 3


def batch(seed=0, b=4):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(b, C, G, G, generator=g) * torch.logspace(-1, 2, C).view(1, C, 1, 1)  # raw-activation scales
    idx = torch.stack([torch.randperm(Q, generator=g)[:K] for _ in range(b * G * G)]).view(b, G, G, K)
    w = torch.rand(b, G, G, K, generator=g)
    w = w / w.sum(-1, keepdim=True)
    ab = torch.randn(b, 2, G, G, generator=g) * 30
    return x, idx.permute(0, 3, 1, 2), w.permute(0, 3, 1, 2), ab


@pytest.mark.parametrize("kind, out", [("classification", Q), ("regression", 2)])
@pytest.mark.parametrize("widths, kernel", [((16,), 1), ((16, 12), 3), ((), 1)])
def test_head_maps_hypercolumns_to_a_prediction_per_grid_cell(kind, out, widths, kernel):
    model = build_model(kind, C, Q, widths, kernel, 0)
    x = batch()[0]
    assert model(x).shape == (4, out, G, G)
    assert predict(model, x).shape == (4, out, G, G)
    assert model.training  # predict leaves the mode as it was


def test_context_branch_sees_far_cells_that_the_fine_path_does_not():
    torch.manual_seed(0)
    x = torch.randn(2, C, 16, 16)
    far = x.clone()
    far[:, :, 15, 15] += 5.0  # 10 cells from (5, 5) on both axes
    for context, changes in ((0, False), (8, True)):
        model = build_model("regression", C, Q, (16, 12), 3, context).eval()
        with torch.no_grad():
            moved = (model(far) - model(x))[:, :, 5, 5].abs().max().item()
        assert (moved > 1e-6) == changes, (context, moved)
    model = build_model("classification", C, Q, (16, 12), 3, 8)
    assert model(x).shape == (2, Q, 16, 16) and model(x[..., :14, :14]).shape == (2, Q, 14, 14)


def test_parameter_count_of_a_one_hidden_layer_head():
    # input BN has no parameters; conv C->16 (no bias), BN(16) (2 x 16), conv 16->Q with bias
    assert count_parameters(build_model("classification", C, Q, (16,), 1, 0)) == C * 16 + 2 * 16 + 16 * Q + Q
    assert count_parameters(build_model("regression", C, Q, (16,), 1, 0)) == C * 16 + 2 * 16 + 16 * 2 + 2


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="kind"):
        build_model("gan", C, Q, (16,), 1, 0)


def test_soft_cross_entropy_equals_the_hand_computed_value():
    # one image, two grid cells, Q = 3 bins, k = 2 soft-target entries per cell
    # cell 0: logits (1, 0, -1), target 0.75 on bin 0 and 0.25 on bin 1
    # cell 1: logits (2, 0, 3), target 0.6 on bin 2 and 0.4 on bin 0
    logits = torch.tensor([[1.0, 2.0], [0.0, 0.0], [-1.0, 3.0]]).view(1, 3, 1, 2)  # (B, Q, 1, cells)
    idx = torch.tensor([[0, 2], [1, 0]]).view(1, 2, 1, 2)  # (B, k, 1, cells)
    w = torch.tensor([[0.75, 0.6], [0.25, 0.4]]).view(1, 2, 1, 2)
    lse0 = math.log(math.e ** 1 + 1 + math.e ** -1)
    lse1 = math.log(math.e ** 2 + 1 + math.e ** 3)
    ce0 = -(0.75 * (1 - lse0) + 0.25 * (0 - lse0))
    ce1 = -(0.6 * (3 - lse1) + 0.4 * (2 - lse1))
    assert soft_cross_entropy(logits, idx, w).item() == pytest.approx((ce0 + ce1) / 2, rel=1e-6)
    # rebalancing weighs each cell by the weight of its nearest bin: bin 0 for cell 0, bin 2 for cell 1
    v = torch.tensor([2.0, 5.0, 0.5])
    assert soft_cross_entropy(logits, idx, w, v).item() == pytest.approx((2.0 * ce0 + 0.5 * ce1) / 2, rel=1e-6)


def test_regression_loss_is_mean_squared_ab_error_in_units_of_ab_scale():
    pred = torch.zeros(1, 2, 1, 2)
    true = torch.tensor([10.0, 20.0, -10.0, 0.0]).view(1, 2, 1, 2)
    assert regression_loss(pred, true).item() == pytest.approx((100 + 400 + 100) / 4 / AB_SCALE ** 2)


@pytest.mark.parametrize("kind", ["classification", "regression"])
def test_one_optimisation_step_lowers_the_loss_on_a_fixed_batch(kind):
    torch.manual_seed(0)
    model = build_model(kind, C, Q, (16,), 1, 0)
    x, idx, w, ab = batch()
    v = torch.rand(Q) + 0.5

    def loss():
        out = model(x)
        return soft_cross_entropy(out, idx, w, v) if kind == "classification" else regression_loss(out, ab)

    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    before = loss()
    opt.zero_grad()
    before.backward()
    opt.step()
    assert loss().item() < before.item()
