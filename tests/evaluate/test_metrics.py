"""Metrics on hand-made pages with known answers."""
import numpy as np
import pytest

from mangacolor.evaluate.metrics import (auc_ab, auc_colored, bin_accuracy, colorfulness, colorfulness_ratio, page_metrics,
                                psnr, seam_score)

rng = np.random.default_rng(0)


def colour_page(h=96, w=64):
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    rgb[: h // 2] = rgb[: h // 2].mean(-1, keepdims=True).astype(np.uint8)  # top half grey
    return rgb


def grid_hard(ab):
    """Bins of a 10-unit ab grid, as an ABQuantizer.hard would give them."""
    q = np.floor((np.asarray(ab) + 110) / 10).astype(int)
    return q[..., 0] * 23 + q[..., 1]


def test_psnr():
    x = rng.integers(0, 246, (16, 16, 3), dtype=np.uint8)
    assert psnr(x, x) == float("inf")
    assert psnr(x + 10, x) == pytest.approx(10 * np.log10(255 ** 2 / 100))


def test_auc_perfect_is_one_and_grey_is_lower():
    true = rng.normal(0, 30, (50, 40, 2)).astype(np.float32)
    assert auc_ab(true, true) == 1.0
    grey = np.zeros_like(true)
    assert auc_ab(grey, true) < 0.9
    assert auc_colored(grey, true) < auc_ab(grey, true) < 1  # grey pixels are easy; coloured ones are not
    # a constant error e: the CDF steps from 0 to 1 at e, so the normalised area is (150 - e) / 150
    assert auc_ab(true + np.float32([30, 40]), true) == pytest.approx((150 - 50) / 150, abs=1 / 150)
    assert auc_ab(true + 500, true) == 0.0
    mask = np.zeros(true.shape[:2], bool)
    assert np.isnan(auc_ab(grey, true, mask=mask))


def test_auc_equals_the_sorted_cdf_definition():
    """The histogram CDF counts exactly the pixels with error <= t, ties at integer errors included."""
    true = np.zeros((40, 50, 2))
    pred = np.stack([rng.integers(0, 160, (40, 50)), np.zeros((40, 50))], -1).astype(np.float64)  # integer errors
    pred[::3] += rng.uniform(0, 1, (len(pred[::3]), 50, 2)) * [1, 0]
    err = np.sort(np.hypot(*np.moveaxis(pred - true, -1, 0)).ravel())
    for step in (1.0, 2.5):
        t = np.arange(0.0, 150 + step / 2, step)
        cdf = np.searchsorted(err, t, side="right") / err.size
        expected = np.sum((cdf[1:] + cdf[:-1]) / 2 * np.diff(t)) / 150
        assert auc_ab(pred, true, step=step) == pytest.approx(expected, abs=1e-12)


def test_auc_colored_uses_only_coloured_truth():
    true = np.zeros((10, 10, 2), np.float32)
    true[:5] = [30, 0]                      # chroma 30: coloured; the rest chroma 0
    pred = np.zeros_like(true)
    assert auc_colored(pred, true) == pytest.approx(120 / 150, abs=1 / 150)
    assert auc_ab(pred, true) == pytest.approx(0.5 + 0.5 * 120 / 150, abs=1 / 150)


def test_bin_accuracy():
    true = rng.uniform(-100, 100, (30, 30, 2)).astype(np.float32)
    assert bin_accuracy(true, true, grid_hard) == 1.0
    assert bin_accuracy(true + 10, true, grid_hard) == 0.0
    centred = (np.floor(true / 10) * 10 + 5).astype(np.float32)
    assert bin_accuracy(centred, true, grid_hard) == 1.0


def test_colorfulness():
    grey = np.repeat(rng.integers(0, 256, (20, 20, 1), dtype=np.uint8), 3, axis=2)
    assert colorfulness(grey) == 0.0
    page = colour_page()
    assert colorfulness(page) > 20
    assert colorfulness_ratio(page, page) == pytest.approx(1.0)
    assert colorfulness_ratio(grey, page) == 0.0
    assert np.isnan(colorfulness_ratio(page, grey))
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 0] = 255  # constant pure red: rg = 255, yb = 127.5, no spread
    assert colorfulness(red) == pytest.approx(0.3 * np.hypot(255, 127.5))


def smooth_field(h=600, w=500):
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    # gentle ramps: the ab gradient is about the same everywhere, so no line is special
    return np.stack([0.1 * x + 3 * np.sin(y / 40), 0.08 * y + 3 * np.cos(x / 50)], -1)


def test_seam_score_is_one_without_seams_and_large_with_them():
    ab = smooth_field()
    offset = (50, 100)  # page at (50, 100) on the canvas: grid lines at page rows 174, 398 and columns 124, 348
    assert seam_score(ab, offset) == pytest.approx(1.0, abs=0.15)
    tiled = ab.copy()
    rows, cols = [0, 174, 398, 600], [0, 124, 348, 500]
    for r0, r1 in zip(rows, rows[1:]):
        for c0, c1 in zip(cols, cols[1:]):
            tiled[r0:r1, c0:c1] += rng.uniform(-20, 20, 2)
    assert seam_score(tiled, offset) > 10
    assert seam_score(tiled, (0, 0)) == pytest.approx(1.0, abs=0.5)  # the wrong grid sees no seam
    # a page scaled by 1/2 to fit the canvas: canvas lines every 448 page pixels
    big = smooth_field(1200, 900)
    big[448:] += 25
    assert seam_score(big, (0, 0), scale=0.5) > 10
    flat = np.zeros((300, 300, 2), np.float32)
    assert np.isnan(seam_score(flat, (0, 0)))


def test_page_metrics_dict():
    true = colour_page()
    pred = true.copy()
    pred[..., 0] = pred[..., 1]
    m = page_metrics(true, true, hard_fn=grid_hard, offset=(0, 0), tile=32)
    assert m["psnr"] == float("inf") and m["auc"] == 1.0 and m["bin_accuracy"] == 1.0
    assert m["colorfulness_ratio"] == pytest.approx(1.0)
    m2 = page_metrics(pred, true, hard_fn=grid_hard, offset=(0, 0), tile=32)
    assert set(m2) == set(m) and m2["auc"] < 1 and m2["auc_colored"] < m2["auc"] and m2["psnr"] < 40
    assert set(page_metrics(pred, true)) == {"psnr", "auc", "auc_colored", "colorfulness", "colorfulness_true",
                                            "colorfulness_ratio", "delta_cf", "ssim"}
    assert m["ssim"] == pytest.approx(1.0) and m2["ssim"] < 0.99 and m["delta_cf"] == 0 and m2["delta_cf"] > 0


def test_ink_metrics_see_kept_line_art_and_recoloured_ink():
    """A page with a black line (line art in both) and a red sound effect printed black: keeping the line dark
    and colouring the effect red is perfect; a grey page loses the line and misses the red."""
    from mangacolor.evaluate.metrics import ink_metrics, ink_masks

    true = np.full((40, 60, 3), 255, np.uint8)
    true[10:12, :] = 0              # a line
    true[20:30, 10:30] = (220, 30, 30)  # the sound effect
    print_gray = np.full((40, 60), 255, np.uint8)
    print_gray[10:12, :] = 0
    print_gray[20:30, 10:30] = 0
    lines, recolored = ink_masks(print_gray, true)
    assert lines.sum() == 2 * 60 and recolored.sum() == 200
    good = ink_metrics(true, true, print_gray)
    assert good == {"lineart_kept": 1.0, "ink_recolored": pytest.approx(0.0, abs=1e-3)}
    grey = ink_metrics(np.full_like(true, 128), true, print_gray)
    assert grey["lineart_kept"] == 0.0 and grey["ink_recolored"] > 50
