"""Hypercolumn layers shrink onto the grid by area means, so fine patterns average instead of aliasing."""
import pytest
import torch
import torch.nn.functional as F

from mangacolor.features.backbone import resize_to_grid


def checkerboard(side: int, square: int, phase: int) -> torch.Tensor:
    """(1, 1, side, side) float32 board of 0/1 squares of `square` px, shifted by `phase` px."""
    y, x = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
    return ((((y + phase) // square) + ((x + phase) // square)) % 2).float()[None, None]


@pytest.mark.parametrize("square, phase", [(1, 0), (1, 1), (2, 0), (2, 1), (2, 2), (2, 3)])
def test_checkerboard_layer_shrinks_to_its_mean(square, phase):
    board = checkerboard(112, square, phase)  # relu2_2 of a 224 tile, onto grid 28
    out = resize_to_grid(board, (28, 28))
    assert out.shape == (1, 1, 28, 28)
    torch.testing.assert_close(out, torch.full_like(out, 0.5))


def test_plain_bilinear_would_alias_the_same_board():
    # what resize_to_grid replaces: bilinear reads the 2 x 2 positions at each cell centre, here all black
    board = checkerboard(112, 2, 1)
    assert F.interpolate(board, size=(28, 28), mode="bilinear", align_corners=False).max() == 0


def test_non_integer_shrink_is_antialiased():
    out = resize_to_grid(checkerboard(112, 2, 1), (24, 24))  # 112 / 24 is no integer
    assert out.shape == (1, 1, 24, 24)
    assert (out - 0.5).abs().max() < 0.02


def test_rectangular_grid_and_channels_pool_independently():
    x = torch.arange(2 * 3 * 8 * 12, dtype=torch.float32).reshape(2, 3, 8, 12)
    out = resize_to_grid(x, (2, 3))  # 4 x 4 positions per cell
    assert out.shape == (2, 3, 2, 3)
    torch.testing.assert_close(out[1, 2, 1, 2], x[1, 2, 4:8, 8:12].mean())


def test_same_size_is_untouched_and_enlargement_is_bilinear():
    x = torch.rand(1, 4, 14, 14)
    assert resize_to_grid(x, (14, 14)) is x
    torch.testing.assert_close(resize_to_grid(x, (28, 28)),
                               F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False))


def test_bfloat16_activations_shrink_by_a_non_integer_factor():
    out = resize_to_grid(checkerboard(112, 1, 0).bfloat16(), (24, 24))  # antialias has no bfloat16 CPU kernel
    assert out.dtype == torch.bfloat16 and out.shape == (1, 1, 24, 24)
