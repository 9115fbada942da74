"""Registration: a scan that is scaled, shifted and rotated off its colour page comes back onto it within a pixel;
pairs that cannot be registered are refused with errors naming the page."""
import time

import cv2
import numpy as np
import pytest

from mangacolor.data.register import (MIN_SCORE, OVERLAY_INK, Registration, RegistrationError, corner_error_px,
                                      draw_overlay, register_pair)
from mangacolor.data.synth import render_page


@pytest.fixture(scope="module")
def page():
    """(colour RGB uint8 (1200, 780, 3), B&W uint8 (1200, 780)) of one synthetic page, pixel-aligned."""
    return render_page(2016, "ch2", 0)


def misprint(bw, scale, shift, angle, out_shape):
    """The B&W page printed at ``scale``, shifted by ``shift`` (x, y) px and rotated by ``angle`` degrees about the
    page centre, on a scan of ``out_shape`` (h, w). Returns (scan, true (2, 3) scan -> colour matrix)."""
    h, w = bw.shape
    to_scan = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    to_scan[:, 2] += shift
    scan = cv2.warpAffine(bw, to_scan, out_shape[::-1], flags=cv2.INTER_LINEAR, borderValue=255)
    return scan, cv2.invertAffineTransform(to_scan)


def test_corner_error_measures_pixels():
    shifted = np.array([[1.0, 0.0, 3.0], [0.0, 1.0, 4.0]])
    assert corner_error_px(np.eye(2, 3), np.eye(2, 3), (100, 60)) == 0.0
    assert corner_error_px(shifted, np.eye(2, 3), (100, 60)) == pytest.approx(5.0)


def test_known_transform_is_recovered_within_a_pixel(page):
    color, bw = page
    scan, truth = misprint(bw, 0.97, (13, 13), 0.5, (1250, 800))
    before = corner_error_px(np.array([[780 / 800, 0, 0], [0, 1200 / 1250, 0]]), truth, bw.shape)
    reg = register_pair(scan, color, "ch2/000.png")
    assert isinstance(reg, Registration)
    assert reg.bw.shape == bw.shape and reg.bw.dtype == np.uint8
    assert reg.matrix.shape == (2, 3) and reg.matrix.dtype == np.float64
    assert before > 10
    assert corner_error_px(reg.matrix, truth, bw.shape) < 1.0
    assert MIN_SCORE < reg.score <= 1.0
    # the registered print lies on the original print: line art where the original has it
    inner = (slice(40, -40), slice(40, -40))
    ink, warped_ink = bw[inner] < 128, reg.bw[inner] < 128
    assert (ink & warped_ink).sum() / ink.sum() > 0.8


def test_large_rotation_and_offset_found_by_features(page):
    color, bw = page
    scan, truth = misprint(bw, 1.0, (-200, 0), 15.0, (1400, 1080))
    reg = register_pair(scan, color, "ch2/000.png")
    assert corner_error_px(reg.matrix, truth, bw.shape) < 1.0


def test_aligned_pair_comes_back_unchanged(page):
    color, bw = page
    start = time.perf_counter()
    reg = register_pair(bw, color, "ch2/000.png")
    assert time.perf_counter() - start < 10.0
    assert np.array_equal(reg.matrix, np.eye(2, 3))
    assert np.array_equal(reg.bw, bw)
    assert reg.score > MIN_SCORE


def test_unrelated_pages_are_refused_by_name(page):
    color, _ = page
    _, other_bw = render_page(2016, "chapter1", 2)
    with pytest.raises(RegistrationError, match=r"chapter1/002\.png.*does not align"):
        register_pair(other_bw, color, "chapter1/002.png")


@pytest.mark.parametrize("shape", [(590, 780), (1200, 1600)])
def test_size_ratio_over_two_is_refused(page, shape):
    color, bw = page
    scan = cv2.resize(bw, shape[::-1], interpolation=cv2.INTER_AREA)
    with pytest.raises(RegistrationError, match=r"p7\.png.*factor of 2"):
        register_pair(scan, color, "p7.png")


def test_grey_colour_page_is_refused(page):
    color, bw = page
    grey = np.repeat(cv2.cvtColor(color, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    with pytest.raises(RegistrationError, match=r"color/004\.png.*grey"):
        register_pair(bw, grey, "color/004.png")


def test_overlay_marks_the_scan_line_art(page):
    color, bw = page
    reg = register_pair(bw, color)
    out = draw_overlay(color, reg)
    assert out.shape == color.shape and out.dtype == np.uint8
    magenta = np.all(out == OVERLAY_INK, axis=-1)
    # the page frame and panel borders are line art; paper without ink is not marked
    assert magenta[bw < 64].mean() > 0.5
    assert not magenta[bw == 255].any()
