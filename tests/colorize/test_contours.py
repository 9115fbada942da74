"""Panels of a synthetic page are found as contours, with their bounding boxes; art and balloons are not."""
import cv2
import numpy as np
import pytest

from mangacolor.colorize.contours import aspect_ratios, draw_contours, find_contours

# (y0, x0, y1, x1) of 4 panels (outer edge of their 5 px black border) on a 1200 x 780 white page
PANELS = [(30, 30, 580, 375), (30, 405, 580, 750), (610, 30, 1170, 460), (610, 490, 1170, 750)]


def panel_page(panels=PANELS, border=5, shape=(1200, 780)):
    page = np.full(shape, 255, np.uint8)
    for y0, x0, y1, x1 in panels:
        page[y0:y1, x0:x1] = 0
        page[y0 + border:y1 - border, x0 + border:x1 - border] = 255
    # art: a stroke touching the first panel's border, a screentone patch, a small balloon, a filled blob
    cv2.line(page, (35, 200), (300, 400), 0, 3)
    page[100:300, 450:700] = 180
    cv2.ellipse(page, (600, 300), (60, 40), 0, 0, 360, 0, 2)
    cv2.circle(page, (200, 800), 40, 0, -1)
    cv2.circle(page, (620, 900), 50, 60, -1)
    return page


def test_finds_exactly_the_panels_with_their_bboxes():
    regions = find_contours(panel_page())
    assert sorted(r.bbox for r in regions) == sorted(PANELS)
    for r in regions:
        y0, x0, y1, x1 = r.bbox
        assert r.aspect == pytest.approx((x1 - x0) / (y1 - y0))
        assert r.solidity > 0.99
        assert r.area == pytest.approx((y1 - y0 - 1) * (x1 - x0 - 1), rel=1e-3)  # polygon through pixel centres


def test_nested_and_overlapping_regions_are_all_kept():
    page = panel_page()
    cv2.ellipse(page, (245, 890), (150, 130), 0, 0, 360, 0, 4)  # a big balloon inside panel 3
    regions = find_contours(page)
    assert len(regions) == 5
    small = min(regions, key=lambda r: r.area)
    assert small.bbox == pytest.approx((890 - 132, 245 - 152, 890 + 133, 245 + 153), abs=2)


def test_area_and_shape_tests():
    page = panel_page()
    assert find_contours(page, min_area=10 ** 6) == []
    strip = panel_page(PANELS + [(5, 20, 25, 760)], border=3)  # a 20 x 740 strip
    wide = find_contours(strip, min_area=12000, max_aspect=50)
    assert len(wide) == 5 and (5, 20, 25, 760) in [r.bbox for r in wide]
    assert len(find_contours(strip, min_area=12000)) == 4
    ring = np.full((600, 600), 255, np.uint8)  # a thick ring is large and square but not solid
    cv2.ellipse(ring, (300, 300), (250, 250), 0, 0, 270, 0, 60)
    assert len(find_contours(ring, min_solidity=0.0)) == 1 and find_contours(ring) == []
    # black gutters join all the ink: the page itself is dropped by max_area_frac
    assert find_contours(255 - np.full((600, 400), 255, np.uint8)) == []


def test_aspect_ratios_before_shape_test():
    page = panel_page(PANELS + [(5, 20, 25, 760)], border=3)
    ar = aspect_ratios([page, page], min_area=12000)
    assert len(ar) == 10 and ar.max() == pytest.approx(740 / 20)
    assert len(find_contours(page, min_area=12000)) == 4


def test_draw_contours_overlay():
    page = panel_page()
    regions = find_contours(page)
    rgb = draw_contours(page, regions)
    assert rgb.shape == page.shape + (3,) and rgb.dtype == np.uint8
    colours = {tuple(rgb[y0, (x0 + x1) // 2]) for y0, x0, y1, x1 in (r.bbox for r in regions)}
    assert len(colours) == 4 and all(len(set(c)) > 1 for c in colours)  # distinct, not grey
    assert np.array_equal(rgb[5, 5], [255, 255, 255])
