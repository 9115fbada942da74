"""Pad-and-tile: the C++ kernel equals its NumPy reference, and the tiles go back to the page."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mangacolor.kernels.tiling import Tiles, fit_to_canvas, pad_and_tile, pad_and_tile_ref

rng = np.random.default_rng(0)


@st.composite
def pages(draw, max_side=40):
    """uint8 pages (H, W) or (H, W, C), sometimes as non-contiguous views (steps, flips, channel-first transposes)."""
    h, w = draw(st.integers(0, max_side)), draw(st.integers(0, max_side))
    c = draw(st.sampled_from([None, 1, 3, 4]))
    view = draw(st.sampled_from(["plain", "step", "flip", "transpose"]))
    seed = draw(st.integers(0, 2 ** 16))
    r = np.random.default_rng(seed)
    shape = (h, w) if c is None else (h, w, c)
    if view == "step":
        base = r.integers(0, 256, (2 * h, 3 * w) + shape[2:], dtype=np.uint8)
        page = base[::2, ::3]
    elif view == "flip":
        page = r.integers(0, 256, shape, dtype=np.uint8)[::-1, ::-1]
    elif view == "transpose" and c is not None:
        page = np.moveaxis(r.integers(0, 256, (c, h, w), dtype=np.uint8), 0, -1)
    else:
        page = r.integers(0, 256, shape, dtype=np.uint8)
    if page.size and draw(st.booleans()):  # solid black ink somewhere: tiles inside it are blank too
        page = page.copy()
        page[: h // 2] = 0
    return page


def assert_same_tiles(a: Tiles, b: Tiles) -> None:
    np.testing.assert_array_equal(a.tiles, b.tiles)
    np.testing.assert_array_equal(a.blank, b.blank)
    np.testing.assert_array_equal(a.positions, b.positions)
    assert a.tiles.dtype == np.uint8 and a.positions.dtype == np.int32 and a.blank.dtype == bool
    assert (a.offset, a.page_shape, a.scale) == (b.offset, b.page_shape, b.scale)


@settings(max_examples=60, deadline=None)
@given(page=pages(), grid=st.sampled_from([(40, 8), (40, 10), (48, 16), (42, 42), (40, 1)]))
def test_pad_and_tile_matches_reference(page, grid):
    canvas, tile = grid
    assert_same_tiles(pad_and_tile(page, canvas, tile), pad_and_tile_ref(page, canvas, tile))


def reassemble(tiles: np.ndarray, positions: np.ndarray, canvas: int) -> np.ndarray:
    """The canvas the tiles were cut from (zero where no tile is given)."""
    tile = tiles.shape[1]
    out = np.zeros((canvas, canvas) + tiles.shape[3:], tiles.dtype)
    for t, (r, q) in zip(tiles, positions):
        out[r * tile:(r + 1) * tile, q * tile:(q + 1) * tile] = t
    return out


@settings(max_examples=40, deadline=None)
@given(page=pages(), grid=st.sampled_from([(40, 8), (48, 16), (40, 40)]))
def test_tiles_go_back_to_the_page(page, grid):
    canvas, tile = grid
    t = pad_and_tile(page, canvas, tile)
    canvas_img = reassemble(t.tiles, t.positions, canvas)
    (y0, x0), (h, w) = t.offset, t.page_shape
    np.testing.assert_array_equal(canvas_img[y0:y0 + h, x0:x0 + w], page)
    # blank tiles are all zero, so dropping them (as callers do) leaves the same canvas
    kept = t.nonblank()
    assert not kept.blank.any()
    np.testing.assert_array_equal(reassemble(kept.tiles, kept.positions, canvas), canvas_img)
    assert canvas_img.sum() == page.astype(np.int64).sum()  # the padding is black


def test_default_page_layout():
    page = rng.integers(1, 256, (1200, 780, 3), dtype=np.uint8)
    t = pad_and_tile(page)
    assert t.tiles.shape == (36, 224, 224, 3)
    assert t.offset == (72, 282) and t.page_shape == (1200, 780) and t.scale == 1.0
    assert t.positions[7].tolist() == [1, 1]
    # columns 0 and 5 lie wholly in the padding (the page spans x 282 .. 1062); the others hold page pixels
    assert t.blank.reshape(6, 6).tolist() == [[True, False, False, False, False, True]] * 6


def test_one_pixel_and_empty_pages():
    t = pad_and_tile(np.full((1, 1), 7, np.uint8), 16, 4)
    assert t.offset == (7, 7) and t.blank.sum() == 15 and t.tiles.sum() == 7
    t = pad_and_tile(np.zeros((0, 5, 3), np.uint8), 16, 4)
    assert t.blank.all() and t.tiles.shape == (16, 4, 4, 3) and t.page_shape == (0, 5)


def test_large_pages_are_scaled_down_with_a_warning_in_width_x_height(caplog):
    page = rng.integers(0, 256, (2000, 1000), dtype=np.uint8)  # 1000 wide, 2000 high
    with caplog.at_level("WARNING", logger="mangacolor.kernels.tiling"):
        small, scale = fit_to_canvas(page)
    assert small.shape == (1344, 672) and scale == pytest.approx(0.672)
    assert [r.getMessage() for r in caplog.records] == [
        "page of 1000x2000 (width x height) is larger than the 1344x1344 canvas: scaled by 0.6720 to 672x1344"]
    caplog.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a log record, never a raw UserWarning
        t = pad_and_tile(page[..., None].repeat(3, -1))
        same, scale = fit_to_canvas(page[:1344, :900])
    assert t.page_shape == (1344, 672) and t.offset == (0, 336) and t.scale == pytest.approx(0.672)
    assert scale == 1.0 and same.shape == (1344, 900)
    assert len(caplog.records) == 1  # the pad_and_tile call; the page that fits says nothing


@pytest.mark.parametrize("call, match", [
    (lambda: pad_and_tile(np.zeros((10, 10), np.float32), 16, 4), r"uint8, got float32"),
    (lambda: pad_and_tile(np.zeros((10, 10, 3, 1), np.uint8), 16, 4), r"\(H, W\) or \(H, W, C\), got \(10, 10, 3, 1\)"),
    (lambda: pad_and_tile(np.zeros((10, 10), np.uint8), 16, 5), r"tile 5 must be positive and divide canvas 16"),
    (lambda: pad_and_tile(np.zeros((10, 10), np.uint8), 16, 0), r"tile 0"),
])
def test_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
