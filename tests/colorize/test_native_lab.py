"""The native strategies on cached page hypercolumns: ``page`` decodes every cell, ``contours`` one flat colour per
closed region of the line art, lightness beside."""
import numpy as np
import pytest
import torch

from mangacolor.colorize.native import cells_to_pixels, native_lab
from mangacolor.model.decode import decode
from mangacolor.model.heads import build_model

CENTERS = np.array([[a, b] for a in range(-60, 61, 20) for b in range(-60, 61, 20)], np.float32)
C, CELL = 6, 8


@pytest.fixture
def head_and_features():
    torch.manual_seed(0)
    head = build_model("classification", C, len(CENTERS), (8,), 1, 0, lightness=True).eval()
    x = np.random.default_rng(0).normal(0, 1, (C, 8, 12)).astype(np.float16)  # rows, cols: multiples of 4
    return head, {"kind": "classification", "lightness": True}, x


def test_page_decodes_every_cell_and_enlarges_it(head_and_features):
    head, meta, x = head_and_features
    shape = (60, 90)  # 8 x 12 cells, the last row and column partly off the page
    lab = native_lab(head, meta, x, shape, CELL, "page", CENTERS, "annealed_mean", 0.38, None)
    assert lab.shape == shape + (3,)
    with torch.no_grad():
        logits, light = head(torch.from_numpy(x.astype(np.float32))[None], with_lightness=True)
    ab = cells_to_pixels(decode(logits, CENTERS, "annealed_mean", 0.38)[0], shape, CELL)
    np.testing.assert_allclose(lab[..., 1:], ab, atol=1e-4)
    lightness = cells_to_pixels(light[0, 0].numpy()[..., None], shape, CELL).reshape(shape)
    np.testing.assert_allclose(lab[..., 0], lightness, atol=1e-4)
    assert 0 < lab[..., 0].min() and lab[..., 0].max() < 100


def test_contours_give_one_colour_per_closed_region(head_and_features):
    head, meta, x = head_and_features
    shape = (64, 96)
    regions = np.zeros(shape, np.int32)
    regions[:, :40], regions[:, 44:] = 1, 2  # two regions, a 4 px line between them (label 0)
    lab = native_lab(head, meta, x, shape, CELL, "contours", CENTERS, "annealed_mean", 0.38, None, regions)
    for r in (1, 2):
        inside = lab[regions == r]
        assert np.ptp(inside, axis=0).max() < 1e-4  # flat: one L, a, b
    assert np.abs(lab[0, 10] - lab[0, 60]).max() > 0.1  # the two regions differ
    page = native_lab(head, meta, x, shape, CELL, "page", CENTERS, "annealed_mean", 0.38, None)
    assert np.ptp(page[regions == 1], axis=0).max() > 1.0  # per cell the colour varies
    np.testing.assert_allclose(lab[regions == 0], page[regions == 0], atol=1e-4)  # off regions: per cell


def test_contours_need_regions_and_strategies_are_checked(head_and_features):
    head, meta, x = head_and_features
    with pytest.raises(ValueError, match="line-art regions"):
        native_lab(head, meta, x, (64, 96), CELL, "contours", CENTERS, "annealed_mean", 0.38, None)
    with pytest.raises(ValueError, match="native strategy"):
        native_lab(head, meta, x, (64, 96), CELL, "tiles", CENTERS, "annealed_mean", 0.38, None)
