"""A page's scale relative to the training pages, from its screentones, and the fallback when it has none."""
import cv2
import numpy as np
import pytest

from mangacolor.data.synth import render_layers, render_page
from mangacolor.features.scale import FREQS, estimate_scale, reference_profile, to_reference_scale


def resized(gray: np.ndarray, s: float) -> np.ndarray:
    """The page as if scanned s times finer (area averaging when shrinking)."""
    h, w = gray.shape
    return cv2.resize(gray, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)


@pytest.fixture(scope="module")
def reference():
    return reference_profile(render_page(2016, "ch3", i)[1] for i in range(3))  # "training" pages


@pytest.fixture(scope="module")
def bw():
    return render_page(2016, "ch2", 0)[1]  # a page the reference never saw


@pytest.mark.parametrize("s", [0.5, 1.0, 1.5])
def test_scale_of_a_resized_page(reference, bw, s):
    assert estimate_scale(resized(bw, s), reference) == pytest.approx(s, rel=0.03)


def test_to_reference_scale_brings_the_page_back_to_the_training_size(reference, bw):
    page, scale = to_reference_scale(resized(bw, 1.5), reference)
    assert scale == pytest.approx(1.5, rel=0.03)
    assert page.shape == pytest.approx(bw.shape, rel=0.03) and page.dtype == np.uint8
    same, one = to_reference_scale(bw, reference)
    assert one == 1.0 and same is bw  # within tolerance of the training scale: not resampled


def test_line_art_without_screens_has_no_scale_and_falls_back_to_1(reference):
    _, ink = render_layers(2016, "ch2", 0)
    line_art = (255 - ink).astype(np.uint8)  # the same page's lines, no screentone
    assert estimate_scale(line_art, reference) is None
    assert estimate_scale(np.full((600, 400), 255, np.uint8), reference) is None
    with pytest.warns(UserWarning, match="no screentone"):
        page, scale = to_reference_scale(line_art, reference)
    assert scale == 1.0 and page is line_art


def test_too_small_or_thin_pages_have_no_scale(reference, bw):
    assert estimate_scale(bw[:64, :64], reference) is None
    assert estimate_scale(np.tile(bw[:100], (1, 8)), reference) is None  # 100 x 6240


def test_no_reference_keeps_the_page(bw):
    page, scale = to_reference_scale(bw, None)
    assert page is bw and scale == 1.0


def test_bad_references_are_refused(bw):
    with pytest.raises(ValueError, match="shape"):
        estimate_scale(bw, np.ones(10, np.float32))
    _, ink = render_layers(2016, "ch3", 0)
    with pytest.raises(ValueError, match="no screentone"):
        reference_profile([(255 - ink).astype(np.uint8)])
    with pytest.raises(ValueError, match="no page of at least"):
        reference_profile([bw[:50, :50]])
    assert reference_profile([bw]).shape == FREQS.shape
