"""Closed regions of drawn line art get one label each; pooled per-region distributions give one flat colour
per region that stops at the ink line; per-cell values fill in on lines."""
import cv2
import numpy as np
import pytest

from mangacolor.colorize.regions import flat_colors, flat_lightness, line_regions, pool_regions

H, W, CELL = 160, 240, 8


def drawn_page(gap=0):
    """Line art: a frame around the page, a rectangle (with a ``gap`` px break in its top edge), a circle
    nested inside the rectangle, and a tiny closed square under min_area."""
    lines = np.zeros((H, W), np.uint8)
    cv2.rectangle(lines, (0, 0), (W - 1, H - 1), 1, 2)
    cv2.rectangle(lines, (20, 20), (150, 140), 1, 2)
    if gap:
        lines[18:23, 80:80 + gap] = 0
    cv2.circle(lines, (85, 80), 30, 1, 2)
    cv2.rectangle(lines, (200, 20), (205, 25), 1, 1)
    return lines.astype(bool)


def test_each_closed_area_is_one_region_and_lines_are_zero():
    lines = drawn_page()
    regions = line_regions(lines, min_area=64)
    assert regions.dtype == np.int32
    assert (regions[lines] == 0).all()
    outside, ring, disc = regions[10, 200], regions[30, 30], regions[80, 85]
    assert len({outside, ring, disc}) == 3 and 0 not in {outside, ring, disc}
    assert set(np.unique(regions)) == {0, outside, ring, disc}  # the tiny square is below min_area: 0
    assert regions[22, 202] == 0
    # every region is one connected piece, numbered in row-major order of first pixel
    assert [outside, ring, disc] == [1, 2, 3]


def test_small_gaps_are_closed_and_wider_ones_leak():
    closed = line_regions(drawn_page(gap=3), gap=2)
    assert closed[30, 30] != closed[10, 200]  # the 3 px break is bridged: inside stays apart from outside
    assert closed[20, 81] in (closed[30, 30], closed[10, 200])  # bridged pixels belong to a region, not 0
    leaking = line_regions(drawn_page(gap=3), gap=0)
    assert leaking[30, 30] == leaking[10, 200]


def cell_log_probs(q=6):
    """Per-cell log-probabilities: cells left of x = 120 favour bin 1, right of it bin 4; all cells noisy."""
    rng = np.random.default_rng(0)
    gh, gw = H // CELL, W // CELL
    logits = rng.normal(0, 0.3, (q, gh, gw))
    logits[1, :, : 120 // CELL] += 3
    logits[4, :, 120 // CELL:] += 3
    return (logits - np.logaddexp.reduce(logits, axis=0)).astype(np.float32)


def test_pool_is_the_area_weighted_mean_of_log_probs_renormalised():
    regions = np.zeros((H, W), np.int32)
    regions[5:27, 3:30] = 1  # overlaps cells partly: weights are pixel counts
    lp = cell_log_probs()
    pooled = pool_regions(lp, regions, CELL)
    assert pooled.shape == (2, 6) and np.isnan(pooled[0]).all()
    w = np.zeros(lp.shape[1:])
    for y in range(5, 27):
        for x in range(3, 30):
            w[y // CELL, x // CELL] += 1
    expected = (lp * w).sum((1, 2)) / w.sum()
    expected -= np.logaddexp.reduce(expected)
    np.testing.assert_allclose(pooled[1], expected, atol=1e-5)
    np.testing.assert_allclose(np.exp(pooled[1]).sum(), 1.0, atol=1e-5)


def test_geometric_pooling_keeps_the_bin_all_cells_allow():
    """Two cells: one allows bins {0, 1}, the other {1, 2}. A mixture would keep three modes; the pool's
    mode is the shared bin 1."""
    p = np.full((3, 1, 2), 1e-6)
    p[[0, 1], 0, 0] = 0.5
    p[[1, 2], 0, 1] = 0.5
    regions = np.ones((CELL, 2 * CELL), np.int32)
    pooled = np.exp(pool_regions(np.log(p), regions, CELL)[1])
    assert pooled.argmax() == 1 and pooled[1] > 0.99


def mean_decode(centers):
    def decode(probs):
        probs = np.asarray(probs)
        return np.moveaxis(np.tensordot(centers.T, probs, axes=(1, 0)), 0, -1)
    return decode


def test_flat_colours_are_constant_per_region_and_stop_at_the_line():
    lines = np.zeros((H, W), bool)
    lines[:, 118:122] = True  # one vertical line at the cells' colour change
    lines[[0, -1], :] = lines[:, [0, -1]] = True
    regions = line_regions(lines, min_area=64)
    centers = np.array([[0, 0], [60, 20], [0, 0], [0, 0], [-40, -50], [0, 0]], np.float32)
    ab = flat_colors(cell_log_probs(), regions, CELL, mean_decode(centers))
    assert ab.shape == (H, W, 2) and ab.dtype == np.float32
    left, right = ab[10:-10, 10:110].reshape(-1, 2), ab[10:-10, 130:230].reshape(-1, 2)
    assert len(np.unique(left, axis=0)) == 1 and len(np.unique(right, axis=0)) == 1
    assert left[0, 0] > 40 and right[0, 0] < -20  # each side has its own cells' colour, none bled across
    # label 0 (the line) keeps the per-cell decode, which varies
    assert len(np.unique(ab[lines].round(3), axis=0)) > 2


def test_flat_lightness_is_the_region_mean():
    regions = np.zeros((H, W), np.int32)
    regions[:, : W // 2] = 1
    regions[:, W // 2:] = 2
    cells = np.tile(np.linspace(20, 80, W // CELL, dtype=np.float32), (H // CELL, 1))
    L = flat_lightness(cells, regions, CELL)
    np.testing.assert_allclose(L[:, : W // 2], cells[:, : W // CELL // 2].mean(), rtol=1e-5)
    np.testing.assert_allclose(L[:, W // 2:], cells[:, W // CELL // 2:].mean(), rtol=1e-5)


def test_grid_that_does_not_cover_the_page_is_refused():
    with pytest.raises(ValueError, match="cell grid"):
        pool_regions(cell_log_probs(), np.ones((H, W), np.int32), 4)
    with pytest.raises(ValueError, match="bool"):
        line_regions(np.zeros((4, 4), np.uint8))
