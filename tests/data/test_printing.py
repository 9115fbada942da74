"""The print model: one seed, one print; a colour does not decide its print (it varies across pages, and
colours share prints); line art stays crisp ink; users' colour pages are cut into their flat regions."""
import time

import cv2
import numpy as np
import pytest

from mangacolor.data.printing import INK_CUT, label_regions, line_art, print_page, segment_regions
from mangacolor.data.synth.page import render_layers, render_page, render_print

# mid-tone colours of distinct lightness and hue, and black
COLOURS = np.array([(215, 45, 45), (45, 85, 200), (85, 175, 60), (245, 205, 60), (150, 95, 55), (235, 90, 150),
                    (135, 198, 245), (70, 180, 85), (250, 135, 40), (140, 45, 70), (60, 120, 230), (24, 24, 28)],
                   np.uint8)
CELL, ROWS, COLS = 80, 6, 8
SEEDS = range(40)


def grid_page():
    """A page of CELL x CELL squares outlined in ink, each colour of COLOURS in four squares:
    (colour (H, W, 3) uint8, label (H, W) uint8 = colour index + 1, ink (H, W) uint8)."""
    h, w = ROWS * CELL, COLS * CELL
    label = np.zeros((h, w), np.uint8)
    for k in range(ROWS * COLS):
        r, c = divmod(k, COLS)
        label[r * CELL:(r + 1) * CELL, c * CELL:(c + 1) * CELL] = k % len(COLOURS) + 1
    ink = np.zeros((h, w), np.uint8)
    for r in range(ROWS + 1):
        cv2.line(ink, (0, r * CELL), (w, r * CELL), 255, 3, cv2.LINE_AA)
    for c in range(COLS + 1):
        cv2.line(ink, (c * CELL, 0), (c * CELL, h), 255, 3, cv2.LINE_AA)
    palette = np.concatenate([[(255, 255, 255)], COLOURS]).astype(np.uint8)
    keep = 1.0 - ink.astype(np.float32) / 255.0
    color = np.round(palette[label] * keep[..., None]).astype(np.uint8)
    return color, label, ink


@pytest.fixture(scope="module")
def grid():
    color, label, ink = grid_page()
    return color, label, ink, label_regions(label, ink)


def cell_prints(bw):
    """Each square's print as a signature: "paper", "solid", or ("screen", coverage step, peak frequency)."""
    out = []
    for k in range(ROWS * COLS):
        r, c = divmod(k, COLS)
        patch = bw[r * CELL + 8:(r + 1) * CELL - 8, c * CELL + 8:(c + 1) * CELL - 8] < 128
        cover = patch.mean()
        if cover < 0.01:
            out.append("paper")
        elif cover > 0.99:
            out.append("solid")
        else:
            spec = np.abs(np.fft.fft2(patch - cover))
            ky, kx = np.unravel_index(np.argmax(spec), spec.shape)
            n = spec.shape[0]
            ky, kx = min(ky, n - ky), (kx if ky <= n - ky else (n - kx) % n)
            out.append(("screen", int(round(cover / 0.04)), int(ky), int(kx)))
    return out


@pytest.fixture(scope="module")
def grid_prints(grid):
    color, _, ink, regions = grid
    return [cell_prints(print_page(color, seed, regions, ink)) for seed in SEEDS]


def test_print_is_deterministic_in_its_seed(grid):
    color, _, ink, regions = grid
    a = print_page(color, 123, regions, ink)
    assert a.dtype == np.uint8 and a.shape == color.shape[:2]
    np.testing.assert_array_equal(a, print_page(color, 123, regions, ink))
    assert (a != print_page(color, 124, regions, ink)).mean() > 0.01
    np.testing.assert_array_equal(print_page(color, 7), print_page(color, 7))  # regions from the colour page


def test_series_prints_by_variant_and_keeps_the_colour_page():
    color, fixed = render_page(4, "c", 0, size=(480, 320))
    c0, b0 = render_print(4, "c", 0, "screentone", size=(480, 320))
    c1, b1 = render_print(4, "c", 0, "screentone", size=(480, 320), variant=1)
    cf, bf = render_print(4, "c", 0, "fixed", size=(480, 320))
    for c in (c0, c1, cf):
        np.testing.assert_array_equal(c, color)
    np.testing.assert_array_equal(bf, fixed)  # today's print, to reproduce old numbers
    np.testing.assert_array_equal(b0, render_print(4, "c", 0, size=(480, 320))[1])
    assert (b0 != b1).mean() > 0.01 and (b0 != fixed).mean() > 0.01
    with pytest.raises(ValueError, match="print style"):
        render_print(4, "c", 0, "halftone", size=(480, 320))


def test_a_colour_prints_differently_across_pages(grid_prints):
    for k, rgb in enumerate(COLOURS[:-1]):
        prints = [page[j] for page in grid_prints for j in range(k, ROWS * COLS, len(COLOURS))]
        kinds = {p if isinstance(p, str) else "screen" for p in prints}
        assert "paper" in kinds and "screen" in kinds, (rgb, kinds)
        screens = [p for p in prints if p != "paper" and p != "solid"]
        assert len(set(screens)) >= 5, (rgb, set(screens))  # many screens, not one per colour
        assert max(screens.count(p) for p in set(screens)) < 0.3 * len(screens)


def test_most_colour_prints_as_paper_and_dark_tends_to_solid(grid_prints):
    def share(k, kind):
        prints = [page[j] for page in grid_prints for j in range(k, ROWS * COLS, len(COLOURS))]
        return np.mean([p == kind if isinstance(p, str) else kind == "screen" for p in prints])

    mid = range(len(COLOURS) - 1)
    black = len(COLOURS) - 1
    assert np.mean([share(k, "paper") for k in mid]) > 0.5
    assert share(black, "solid") > max(share(k, "solid") for k in mid)
    assert share(black, "solid") < 0.95  # dark colours tend to solid ink, not always


def test_distinct_colours_share_one_print(grid_prints):
    distinct, shared_screens = [], 0
    for page in grid_prints:
        colours_by_print = {}
        for j, p in enumerate(page):
            colours_by_print.setdefault(p, set()).add(j % len(COLOURS))
        distinct.append(len(colours_by_print))
        shared_screens += any(p != "paper" and len(c) > 1 for p, c in colours_by_print.items())
    assert np.mean(distinct) < 0.75 * len(COLOURS)  # 12 colours in 48 squares, far fewer prints
    assert shared_screens >= 0.2 * len(grid_prints)  # and not only paper is shared


def test_ink_lines_stay_dark():
    label, ink = render_layers(2, "ink", 0, size=(480, 320))
    for variant in range(3):
        _, bw = render_print(2, "ink", 0, size=(480, 320), variant=variant)
        assert (bw[ink >= 192] == 0).all()
        assert (bw[ink >= 176] <= 32).all()


def test_line_art_page_prints_as_line_art():
    page = np.full((300, 400, 3), 255, np.uint8)
    rng = np.random.default_rng(0)
    for _ in range(25):
        p, q = rng.integers(0, (400, 300), 2), rng.integers(0, (400, 300), 2)
        cv2.line(page, tuple(map(int, p)), tuple(map(int, q)), (0, 0, 0), int(rng.integers(1, 4)), cv2.LINE_AA)
    cv2.circle(page, (200, 150), 60, (0, 0, 0), 2, cv2.LINE_AA)
    ink = line_art(page)
    for seed in range(10):
        bw = print_page(page, seed)
        assert (bw[ink == 0] == 255).all()  # nothing is toned: all colour is paper white
        assert (bw[ink >= 192] == 0).all()


def test_scan_degradations_change_the_page_but_keep_it_grey(grid):
    color, _, ink, regions = grid
    clean = print_page(color, 5, regions, ink)
    scanned = print_page(color, 5, regions, ink, degrade=True)
    assert scanned.dtype == np.uint8 and scanned.shape == clean.shape
    np.testing.assert_array_equal(scanned, print_page(color, 5, regions, ink, degrade=True))
    assert np.abs(scanned.astype(int) - clean).mean() > 5
    assert ((scanned > 40) & (scanned < 215)).mean() > 0.05  # blur and noise give grey levels
    assert abs(float(scanned.mean()) - float(clean.mean())) < 25  # still the same page
    _, scanned_series = render_print(4, "c", 0, size=(480, 320), degrade=True)
    assert scanned_series.dtype == np.uint8 and scanned_series.ndim == 2


def _scanned(color, rng):
    """A colour page as it comes from a scan or a web page: resampled (soft edges), noisy, JPEG."""
    h, w = color.shape[:2]
    up = cv2.resize(color, (int(w * 1.37), int(h * 1.37)), interpolation=cv2.INTER_CUBIC)
    x = cv2.resize(up, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    x = np.clip(np.round(x + rng.normal(0, 3, x.shape)), 0, 255).astype(np.uint8)
    _, jpeg = cv2.imencode(".jpg", x, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return cv2.imdecode(jpeg, cv2.IMREAD_UNCHANGED)


def test_colour_page_regions_follow_its_flat_colours(grid):
    color, label, ink, _ = grid
    regions, found_ink = segment_regions(_scanned(color, np.random.default_rng(3)))
    assert regions.dtype == np.int32 and found_ink.dtype == np.uint8
    interiors = []
    for k in range(ROWS * COLS):
        r, c = divmod(k, COLS)
        inner = np.s_[r * CELL + 5:(r + 1) * CELL - 5, c * CELL + 5:(c + 1) * CELL - 5]
        if k % len(COLOURS) == len(COLOURS) - 1:  # a black fill is line art: it prints as ink
            assert (found_ink[inner] >= INK_CUT).all()
            continue
        ids, counts = np.unique(regions[inner], return_counts=True)
        assert counts.max() > 0.98 * counts.sum()  # one region fills the square, noise and JPEG aside
        interiors.append(ids[np.argmax(counts)])
    assert len(set(interiors)) == len(interiors)  # each square is its own region: the ink lines bound them
    assert (found_ink[ink >= 192] >= INK_CUT).mean() > 0.95


def test_series_page_segmented_from_colour_alone():
    label, ink = render_layers(9, "seg", 0)
    color, _ = render_page(9, "seg", 0)
    regions, _ = segment_regions(_scanned(color, np.random.default_rng(0)))
    # purity: most pixels away from the line art fall in a region that is mostly one palette colour
    away = ink == 0
    n = int(regions.max()) + 1
    counts = np.zeros((n, 256), np.int64)
    np.add.at(counts, (regions[away], label[away]), 1)
    assert counts.max(1).sum() > 0.97 * away.sum()
    # ...and parts are not merged into a few big regions: about one region per sizeable part
    parts = np.bincount(label_regions(label, ink).ravel())
    assert n > 0.7 * (parts >= 200).sum()


def test_checks_name_the_argument():
    color = np.zeros((20, 30, 3), np.uint8)
    with pytest.raises(ValueError, match="color"):
        print_page(color[..., 0], 1)
    with pytest.raises(ValueError, match="regions"):
        print_page(color, 1, regions=np.zeros((20, 31), np.int32), ink=np.zeros((20, 30), np.uint8))
    with pytest.raises(ValueError, match="ink"):
        print_page(color, 1, regions=np.zeros((20, 30), np.int32), ink=np.zeros((20, 30), np.float32))
    with pytest.raises(ValueError, match="seed"):
        print_page(color, -1)


def test_a_full_page_prints_in_well_under_a_second():
    label, ink = render_layers(1, "speed", 0)
    color, _ = render_page(1, "speed", 0)
    regions = label_regions(label, ink)
    print_page(color, 0, regions, ink)
    t = time.perf_counter()
    for seed in range(3):
        print_page(color, seed, regions, ink)
    assert (time.perf_counter() - t) / 3 < 1.0
