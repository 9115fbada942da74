"""Whole-page strategies checked with a fake model that returns each crop's true ab."""
import cv2
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mangacolor.colorize.strategies import CropPlan, colorize_page, compose, gray_lightness, plan_crops, to_rgb
from mangacolor.kernels.lab import rgb_to_lab
from mangacolor.evaluate.metrics import seam_score

H, W = 1200, 780


# ------------------------------------------------------------------ a page with a known smooth ab field
def smooth_page():
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    ab = np.stack([40 * np.sin(2 * np.pi * x / 700), 30 * np.cos(2 * np.pi * y / 500)], -1).astype(np.float32)
    gray = (60 + 120 * (0.5 + 0.5 * np.sin(x / 37) * np.cos(y / 53))).astype(np.uint8)
    return gray, ab


def fake_model(plan: CropPlan, ab_page: np.ndarray, G: int) -> np.ndarray:
    """The true ab of each crop (what a perfect model would answer), area-averaged to G x G."""
    T = plan.tile
    out = []
    if plan.strategy in ("tiles", "overlap"):
        canvas = np.zeros((plan.canvas, plan.canvas, 2), np.float32)
        oy, ox = plan.offset
        canvas[oy:oy + ab_page.shape[0], ox:ox + ab_page.shape[1]] = ab_page
        crops = [canvas[y:y + T, x:x + T] for y, x in plan.origins]
    else:
        crops = []
        for (y0, x0, y1, x1), (iy0, ix0, iy1, ix1) in zip(plan.boxes, plan.inner):
            crop = np.zeros((T, T, 2), np.float32)
            crop[iy0:iy1, ix0:ix1] = cv2.resize(ab_page[y0:y1, x0:x1], (ix1 - ix0, iy1 - iy0),
                                                interpolation=cv2.INTER_AREA)
            crops.append(crop)
    for c in crops:
        out.append(c if G == T else cv2.resize(c, (G, G), interpolation=cv2.INTER_AREA))
    return np.array(out, np.float32)


def test_tiles_with_full_resolution_identity_is_exact():
    gray, ab = smooth_page()
    plan = plan_crops(gray, "tiles")
    assert len(plan) == 24 and plan.offset == (72, 282)  # 1200 x 780 centred: 6 x 4 of the 6 x 6 tiles
    assert (plan.boxes[:, 2:] - plan.boxes[:, :2] == 224).all()
    np.testing.assert_array_equal(compose(gray, plan, fake_model(plan, ab, 224)), ab)


@pytest.mark.parametrize("strategy", ["tiles", "overlap"])
def test_canvas_strategies_reproduce_a_smooth_field(strategy):
    gray, ab = smooth_page()
    plan = plan_crops(gray, strategy)
    out = compose(gray, plan, fake_model(plan, ab, 56))
    assert out.shape == (H, W, 2) and out.dtype == np.float32
    m = 8  # the page edge mixes page and black canvas inside one grid cell
    assert np.abs(out - ab)[m:-m, m:-m].max() < 1.0
    if strategy == "overlap":
        assert len(plan) == 11 * 9  # stride 112 on 1344: 11 x 11 positions, the outer columns all black


def test_overlap_blend_hides_the_seams_that_tiles_show():
    gray, ab = smooth_page()
    rng = np.random.default_rng(1)
    scores = {}
    for strategy in ("tiles", "overlap"):
        plan = plan_crops(gray, strategy)
        crops = fake_model(plan, ab, 56) + rng.uniform(-15, 15, (len(plan), 1, 1, 2)).astype(np.float32)
        scores[strategy] = seam_score(compose(gray, plan, crops), plan.offset)
        exact = seam_score(compose(gray, plan, fake_model(plan, ab, 56)), plan.offset)
        assert 0.8 < exact < 1.3  # the true field itself scores 1.10
    assert scores["tiles"] > 10 and scores["overlap"] < 1.5


@pytest.mark.parametrize("strategy,suffix", [("tiles", ".npz"), ("overlap", ".h5"), ("tiles", "group")])
def test_plan_round_trip(tmp_path, strategy, suffix):
    import h5py

    page = smooth_page()[0]
    plan = plan_crops(page, strategy)
    if suffix == "group":
        with h5py.File(tmp_path / "plans.h5", "w") as f:
            plan.save(f.create_group("page/000"))
        with h5py.File(tmp_path / "plans.h5", "r") as f:
            back = CropPlan.load(f["page/000"])
    else:
        plan.save(tmp_path / f"plan{suffix}")
        back = CropPlan.load(tmp_path / f"plan{suffix}")
    assert back.strategy == strategy and back.page_shape == plan.page_shape and back.offset == plan.offset
    np.testing.assert_array_equal(back.crops, plan.crops)
    ab = np.random.default_rng(0).normal(0, 20, (len(plan), 56, 56, 2)).astype(np.float32)
    np.testing.assert_array_equal(compose(page, back, ab), compose(page, plan, ab))


def test_large_pages_are_fitted_to_the_canvas_and_composed_at_full_size(caplog):
    gray = np.full((2000, 1000), 200, np.uint8)
    with caplog.at_level("WARNING"):
        plan = plan_crops(gray, "tiles")
    assert "page of 1000x2000" in caplog.text
    assert plan.scale == pytest.approx(1344 / 2000, abs=1e-3) and plan.boxes.max() <= 2000 + 224 / plan.scale
    ab = np.full((len(plan), 56, 56, 2), 7.0, np.float32)
    np.testing.assert_allclose(compose(gray, plan, ab), 7.0, atol=1e-4)


# ------------------------------------------------------------------ back to RGB
def test_to_rgb_keeps_the_grey_page_when_chroma_is_zero():
    gray = np.tile(np.arange(256, dtype=np.uint8), (4, 1))
    rgb = to_rgb(gray, np.zeros((2, 64, 2), np.float32))
    assert np.abs(rgb.astype(int) - gray[..., None]).max() <= 1
    # Lab L of grey, not 100 g / 255 (which is off by ~20 at mid-grey)
    assert gray_lightness(np.uint8([[128]]))[0, 0] == pytest.approx(53.6, abs=0.3)


def test_to_rgb_restores_colour_from_its_own_lightness_and_ab():
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0] = 200
    rgb[..., 1] = 120
    rgb[..., 2] = 90
    lab = rgb_to_lab(rgb)
    g = np.full((8, 8), 140, np.uint8)  # a grey whose L is close to the colour's
    assert gray_lightness(g)[0, 0] == pytest.approx(lab[0, 0, 0], abs=1.5)
    assert np.abs(to_rgb(g, lab[..., 1:]).astype(int) - rgb).max() <= 6


def test_colorize_page_end_to_end():
    gray, ab = smooth_page()
    model = lambda crops: np.full((len(crops), 56, 56, 2), [20.0, -10.0], np.float32)  # noqa: E731
    rgb, ab_page, plan = colorize_page(gray, "overlap", model)
    assert rgb.shape == (H, W, 3) and plan.strategy == "overlap"
    np.testing.assert_allclose(ab_page, np.broadcast_to([20.0, -10.0], ab_page.shape), atol=1e-3)
