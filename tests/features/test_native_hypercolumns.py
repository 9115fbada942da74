"""One fully convolutional pass over a whole page, in bands: exact, bounded, and the training tiles' features."""
import dataclasses

import numpy as np
import pytest
import torch

import mangacolor.features.native as native
from mangacolor.features.backbone import Hypercolumns
from mangacolor.features.hypercolumns import compute
from mangacolor.features.native import band_geometry, frame_page, iter_page_hypercolumns, page_hypercolumns


@pytest.fixture(scope="module")
def extractor():
    return Hypercolumns.from_weights("random", (8, 15), 28)


@pytest.fixture(scope="module")
def page():
    return np.random.default_rng(0).integers(0, 256, (300, 200)).astype(np.uint8)


@pytest.fixture(scope="module")
def whole(extractor, page):
    return page_hypercolumns(extractor, page, band_rows=4096)  # one band: the whole framed page at once


def test_geometry_of_the_default_layers(extractor):
    geo = band_geometry(extractor, cell=8)
    assert (geo.cell, geo.align) == (8, 8)  # relu3_3 has stride 4: every multiple of 8 px lines up
    assert geo.halo == geo.margin >= geo.reach > 0 and geo.halo % 8 == 0


def test_output_has_one_hypercolumn_per_cell_of_any_page(extractor, whole):
    assert whole.shape == (384, 38, 25) and whole.dtype == np.float32  # ceil(300 / 8), ceil(200 / 8)
    odd = page_hypercolumns(extractor, np.full((37, 91), 200, np.uint8), dtype=np.float16)
    assert odd.shape == (384, 5, 12) and odd.dtype == np.float16


@pytest.mark.parametrize("band_rows", [32, 88])
def test_banded_pass_equals_the_whole_page_pass(extractor, page, whole, band_rows):
    banded = page_hypercolumns(extractor, page, band_rows=band_rows)
    assert np.abs(banded - whole).max() <= 1e-4


def test_a_halo_one_step_short_breaks_the_equality(extractor, page, whole, monkeypatch):
    full = native.band_geometry
    monkeypatch.setattr(native, "band_geometry",
                        lambda ex, cell=8: dataclasses.replace(full(ex, cell), halo=full(ex, cell).halo - 8))
    assert np.abs(page_hypercolumns(extractor, page, band_rows=64) - whole).max() > 1e-3


def test_deeper_layers_band_exactly_too(page):
    ex = Hypercolumns.from_weights("random", (3, 8, 15, 22), 28)
    for m in ex.features:  # HED's weights pool in ceil mode
        if isinstance(m, torch.nn.MaxPool2d):
            m.ceil_mode = True
    geo = band_geometry(ex)
    small = page[:120, :90]
    diff = page_hypercolumns(ex, small, band_rows=2 * geo.align) - page_hypercolumns(ex, small, band_rows=4096)
    assert np.abs(diff).max() <= 1e-4


def test_bands_tile_the_page_and_see_a_bounded_number_of_rows(extractor, page):
    seen = []
    hook = extractor.features[0].register_forward_hook(lambda m, a, o: seen.append(a[0].shape[-2]))
    try:
        bands = list(iter_page_hypercolumns(extractor, page[:124], band_rows=16))
    finally:
        hook.remove()
    assert [r for r, _ in bands] == list(range(0, 16, 2))  # ceil(124 / 8) = 16 cell rows, 2 per band
    assert sum(f.shape[1] for _, f in bands) == 16 and all(f.shape[2] == 25 for _, f in bands)
    assert max(seen) <= 16 + 2 * band_geometry(extractor).halo  # memory is one band's, whatever the height


def test_away_from_a_tiles_border_the_page_pass_equals_the_training_tile(extractor):
    page = np.random.default_rng(1).integers(0, 256, (300, 280)).astype(np.uint8)
    tile = compute(extractor, page[None, 64:288, 32:256], device="cpu")[0]  # a 224 tile cut at cell (8, 4)
    cells = page_hypercolumns(extractor, page)[:, 8:36, 4:32]
    halo_cells = band_geometry(extractor).halo // 8  # inside this, the tile saw its own zero padding
    inner = np.s_[:, halo_cells:-halo_cells, halo_cells:-halo_cells]
    np.testing.assert_allclose(tile[inner], cells[inner], atol=1e-5)
    assert np.abs(tile - cells).max() > 1e-2  # at the tile's border they differ: the page pass has no seams


def test_page_is_framed_in_black_on_the_cell_grid(extractor):
    geo = band_geometry(extractor)
    gray = np.full((37, 91), 255, np.uint8)
    framed = frame_page(gray, geo)
    m = geo.margin
    assert framed.shape[0] % geo.align == 0 and framed.shape[1] % geo.align == 0
    assert (framed[m:m + 37, m:m + 91] == 255).all()
    assert framed.sum() == gray.sum()  # everything else black, as the training canvas


def test_extreme_aspect_and_tiny_pages(extractor):
    strip = np.random.default_rng(2).integers(0, 256, (100, 6000)).astype(np.uint8)
    out = page_hypercolumns(extractor, strip)
    assert out.shape == (384, 13, 750) and np.isfinite(out).all()
    np.testing.assert_allclose(out[:, :, :30], page_hypercolumns(extractor, strip[:, :300])[:, :, :30], atol=1e-4)
    assert page_hypercolumns(extractor, np.full((64, 64), 255, np.uint8)).shape == (384, 8, 8)
    assert page_hypercolumns(extractor, np.zeros((1, 1), np.uint8)).shape == (384, 1, 1)


@pytest.mark.parametrize("bad, message", [(np.zeros((8, 8, 3), np.uint8), "grey"), (np.zeros((8, 8)), "uint8"),
                                          (np.zeros((0, 8), np.uint8), "empty")])
def test_bad_pages_are_refused_with_the_reason(extractor, bad, message):
    with pytest.raises(ValueError, match=message):
        page_hypercolumns(extractor, bad)


def test_band_rows_must_line_up_with_the_cells(extractor, page):
    with pytest.raises(ValueError, match="multiple of 8"):
        page_hypercolumns(extractor, page, band_rows=12)
    with pytest.raises(ValueError, match="cell 6 px does not line up"):
        band_geometry(extractor, cell=6)
