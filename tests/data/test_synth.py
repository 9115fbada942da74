"""The procedural series: pages are deterministic, the B&W page is printed ink/paper/screentone, the colour
page is colourful with the same line art, sound effects change luminance, and parts keep their colours."""
import hashlib
import os
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from mangacolor.data.synth import COLOURS, INDEX, RGB, render_layers, render_page
from mangacolor.data.synth.cast import CAST, Pose, place
from mangacolor.data.synth.ink import Canvas, compose
from mangacolor.data.synth.palette import COVER, luminance

PAGES = [(11, "ch01", i) for i in range(4)] + [(11, "ch02", 0)]


@pytest.fixture(scope="module")
def pages():
    return {key: render_page(*key) for key in PAGES}


def _digest(color, bw):
    return hashlib.sha256(color.tobytes() + bw.tobytes()).hexdigest()


def test_pages_are_deterministic_and_distinct(pages):
    color, bw = render_page(11, "ch01", 0)
    assert _digest(color, bw) == _digest(*pages[(11, "ch01", 0)])
    digests = {_digest(*p) for p in pages.values()}
    assert len(digests) == len(pages)  # other index or chapter -> other page


def test_pages_do_not_depend_on_python_hash_salt(pages):
    code = ("import hashlib; from mangacolor.data.synth import render_page; c, b = render_page(11, 'ch01', 1); "
            "print(hashlib.sha256(c.tobytes() + b.tobytes()).hexdigest())")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONHASHSEED="12345", PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == _digest(*pages[(11, "ch01", 1)])


@pytest.mark.parametrize("size", [(1200, 780), (640, 420)])
def test_shapes_and_dtypes(size):
    color, bw = render_page(3, "x", 0, size=size)
    assert color.shape == (*size, 3) and color.dtype == np.uint8
    assert bw.shape == size and bw.dtype == np.uint8


def test_bw_page_is_ink_paper_and_screentone(pages):
    for color, bw in pages.values():
        assert ((bw < 32) | (bw > 223)).mean() >= 0.95


def test_screentones_are_present_with_density_following_tone(pages):
    # blocks of pure screen (no line art) with an intermediate local density
    toned = 0
    for key in PAGES:
        label, ink = render_layers(*key)
        bw = pages[key][1].astype(np.float32)
        h, w = bw.shape
        b = 24
        blocks = bw[: h // b * b, : w // b * b].reshape(h // b, b, w // b, b).mean((1, 3))
        no_ink = ink[: h // b * b, : w // b * b].reshape(h // b, b, w // b, b).max((1, 3)) == 0
        toned += int((no_ink & (blocks > 40) & (blocks < 215)).sum())
    assert toned > 100
    # each screened colour prints its coverage, and darker colours print darker
    label, ink = render_layers(*PAGES[0])
    bw = pages[PAGES[0]][1]
    shown = [k for k in np.unique(label) if ((label == k) & (ink == 0)).sum() > 3000]
    black = {k: (bw[(label == k) & (ink == 0)] < 128).mean() for k in shown}
    for k in shown:
        assert abs(black[k] - COVER[k]) < 0.1, COLOURS[k].name
    auto = [k for k in shown if COLOURS[k].cover is None]  # not set by hand (paper skin, solid sound effects)
    assert len(auto) >= 4
    lum = np.array([luminance(COLOURS[k].rgb) for k in auto])
    dark = np.array([black[k] for k in auto])
    order = np.argsort(lum)
    assert np.all(np.diff(dark[order]) <= 0.1)  # screens never get lighter as colours darken


def test_several_colours_print_as_plain_paper():
    paper = [c.name for c, cover in zip(COLOURS, COVER) if cover == 0]
    assert {"skin", "white", "sand", "flash"} <= set(paper)


def test_colour_page_is_colourful(pages):
    for color, _ in pages.values():
        hsv = cv2.cvtColor(color, cv2.COLOR_RGB2HSV)
        saturated = (hsv[..., 1] > 100) & (hsv[..., 2] > 80)
        assert saturated.mean() > 0.2


def test_colour_line_art_is_the_bw_ink(pages):
    for key in PAGES:
        color, bw = pages[key]
        _, ink = render_layers(*key)
        lines = ink >= 200
        assert lines.mean() > 0.03
        assert (bw[lines] < 32).mean() > 0.99
        assert (color[lines].max(1) < 32).mean() > 0.99
        dark = color.max(2) < 32  # whatever is black in colour is black in print
        assert (bw[dark] < 32).mean() > 0.99


def test_sound_effects_are_ink_in_print_and_red_or_purple_in_colour(pages):
    found = 0
    for color, bw in pages.values():
        hsv = cv2.cvtColor(color, cv2.COLOR_RGB2HSV).astype(int)
        hue = hsv[..., 0]  # 0..180
        red_or_purple = (hue < 8) | (hue > 125)
        vivid = red_or_purple & (hsv[..., 1] > 150) & (hsv[..., 2] > 120) & (hsv[..., 2] < 250)
        found += int((vivid & (bw < 32)).sum())
    assert found > 1000


def test_palette_colours_are_unique():
    assert len({tuple(c) for c in RGB.tolist()}) == len(COLOURS)


@pytest.mark.parametrize("who", list(CAST))
def test_a_character_keeps_its_colours_across_poses_and_scales(who):
    def draw(scale, flip, arms, tilt):
        c = Canvas(900, 600)
        pose = Pose(arms=arms, legs=((8, 0), (20, -5)), tilt=tilt, eyes="open", mouth="smile")
        place(c, who, 300, 250, scale, pose, flip)
        color, _ = compose(c.label, c.ink)
        keep = (c.label > 0) & (c.ink == 0)
        return {tuple(v) for v in color[keep].tolist()}

    a = draw(60.0, False, ((10, 10), (150, 0)), -8)
    b = draw(35.0, True, ((60, 90), (20, 10)), 10)
    assert a == b
    assert a <= {tuple(v) for v in RGB.tolist()}


def test_signature_parts_belong_to_one_character():
    seen = {}
    for who in CAST:
        c = Canvas(900, 600)
        place(c, who, 300, 250, 50.0, Pose(arms=((10, 0), (10, 0)), legs=((5, 0), (5, 0))))
        seen[who] = set(np.unique(c.label).tolist())
    sig = {"captain": "hat_straw", "swordsman": "hair_green", "navigator": "hair_orange", "mascot": "hat_pink"}
    for who, part in sig.items():
        owners = [o for o, parts in seen.items() if INDEX[part] in parts]
        assert owners == [who]


def test_a_page_renders_well_under_a_second():
    render_page(5, "speed", 0)
    t = time.perf_counter()
    for i in range(1, 4):
        render_page(5, "speed", i)
    assert (time.perf_counter() - t) / 3 < 1.0
