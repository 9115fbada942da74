"""The native page strategy: the head over the page's whole cell grid, banded exactly, decoded to ab per pixel."""
import cv2
import numpy as np
import pytest
import torch

import mangacolor.colorize.native as native
from mangacolor.colorize.native import cells_to_pixels, colorize_native, head_halo, native_ab
from mangacolor.data.synth import render_page
from mangacolor.features.backbone import Hypercolumns
from mangacolor.features.native import iter_page_hypercolumns
from mangacolor.features.scale import reference_profile
from mangacolor.model.decode import decode
from mangacolor.model.heads import build_model

CENTERS = np.stack(np.meshgrid(np.arange(-50, 60, 10.0), np.arange(-50, 60, 10.0)), -1).reshape(-1, 2)


@pytest.fixture(scope="module")
def extractor():
    return Hypercolumns.from_weights("random", (8, 15), 28)


@pytest.fixture(scope="module")
def head():
    torch.manual_seed(0)
    return build_model("classification", 384, len(CENTERS), [32, 32], 3, 32).eval()  # 3x3 + context branch


@pytest.fixture(scope="module")
def page():
    return np.random.default_rng(0).integers(0, 256, (300, 200)).astype(np.uint8)


@pytest.fixture(scope="module")
def whole(extractor, head, page):
    return colorize_native(extractor, head, page, band_rows=4096)


def test_scores_are_the_head_on_the_pages_hypercolumns(extractor, head, page, whole):
    assert whole.shape == (len(CENTERS), 38, 25) and whole.dtype == np.float32
    (_, feats), = iter_page_hypercolumns(extractor, page, band_rows=4096, grid_multiple=4)  # grid 40 x 28
    with torch.no_grad():
        direct = head(feats[None])[0, :, :38, :25].numpy()
    np.testing.assert_allclose(whole, direct, atol=1e-5)


@pytest.mark.parametrize("band_rows", [32, 88])
def test_banded_head_equals_the_whole_grid(extractor, head, page, whole, band_rows):
    assert np.abs(colorize_native(extractor, head, page, band_rows=band_rows) - whole).max() <= 1e-4


def test_the_context_needs_its_halo(extractor, head, page, whole, monkeypatch):
    assert head_halo(head) == (4, 16)
    monkeypatch.setattr(native, "head_halo", lambda h: (4, 4))
    assert np.abs(colorize_native(extractor, head, page, band_rows=48) - whole).max() > 1e-3


def test_any_convolutional_module_runs_on_the_whole_grid(extractor, page):
    conv = torch.nn.Conv2d(384, 5, 3, padding=1)
    assert head_halo(conv) == (1, None)
    out = colorize_native(extractor, conv, page, band_rows=88)
    assert out.shape == (5, 38, 25) and np.isfinite(out).all()


def test_native_ab_decodes_the_scores_and_enlarges_them_onto_the_page(extractor, head, page, whole):
    ab, scale = native_ab(extractor, head, page, "classification", CENTERS, "annealed_mean", 0.38, band_rows=48)
    assert ab.shape == (300, 200, 2) and ab.dtype == np.float32 and scale == 1.0
    cells = decode(whole[None], CENTERS, method="annealed_mean", T=0.38)[0]
    np.testing.assert_allclose(ab, cells_to_pixels(cells, (300, 200)), atol=1e-3)
    assert np.abs(ab).max() <= 50 + 1e-3  # a mean of bin centres stays in their hull


def test_regression_heads_give_ab_directly(extractor, page):
    torch.manual_seed(1)
    reg = build_model("regression", 384, len(CENTERS), [16], 1, 0).eval()
    ab, _ = native_ab(extractor, reg, page[:64, :64], "regression", CENTERS, "annealed_mean", 0.38)
    assert ab.shape == (64, 64, 2)
    scores = colorize_native(extractor, reg, page[:64, :64])  # (2, 8, 8) ab on the cells
    np.testing.assert_allclose(ab, cells_to_pixels(scores.transpose(1, 2, 0), (64, 64)), atol=1e-4)
    with pytest.raises(ValueError, match="kind"):
        native_ab(extractor, reg, page, "ab", CENTERS, "annealed_mean", 0.38)


def test_cells_to_pixels_puts_cell_centres_on_their_pixels():
    ramp = np.repeat(np.arange(5, dtype=np.float32)[:, None, None], 2, axis=2).repeat(3, axis=1)  # (5, 3, 2)
    ab = cells_to_pixels(ramp, (37, 20))
    assert ab.shape == (37, 20, 2)
    y = np.arange(4, 32)  # inside the first and last cells' centres the ramp is linear
    np.testing.assert_allclose(ab[y, 5, 0], (y + 0.5) / 8 - 0.5, atol=1e-5)


@pytest.fixture(scope="module")
def reference():
    return reference_profile(render_page(2016, "ch3", i)[1] for i in range(2))


def test_a_page_drawn_larger_is_colourised_at_the_training_scale(extractor, head, reference):
    bw = render_page(2016, "ch2", 0)[1][300:700, :300]
    big = cv2.resize(bw, (450, 600), interpolation=cv2.INTER_LINEAR)  # scanned 1.5 times finer
    ab, scale = native_ab(extractor, head, big, "classification", CENTERS, "annealed_mean", 0.38,
                          reference=reference)
    assert scale == pytest.approx(1.5, rel=0.03) and ab.shape == (600, 450, 2)


def test_small_thin_blank_and_bad_pages(extractor, head, reference):
    args = ("classification", CENTERS, "annealed_mean", 0.38)
    assert native_ab(extractor, head, np.full((64, 64), 255, np.uint8), *args)[0].shape == (64, 64, 2)
    strip = np.random.default_rng(3).integers(0, 256, (16, 1000)).astype(np.uint8)
    assert native_ab(extractor, head, strip, *args)[0].shape == (16, 1000, 2)
    with pytest.warns(UserWarning, match="no screentone"):  # nothing to measure the scale by: kept at 1
        ab, scale = native_ab(extractor, head, np.full((200, 160), 255, np.uint8), *args, reference=reference)
    assert scale == 1.0 and ab.shape == (200, 160, 2)
    with pytest.raises(ValueError, match="grey"):
        native_ab(extractor, head, np.zeros((32, 32, 3), np.uint8), *args)
