"""Composition over flat colours: ink stays as dark as printed, screen dots give way to their region's flat
colour, solid ink takes a bright, coloured prediction and keeps a dark or neutral one, area by area."""
import numpy as np
import pytest

from mangacolor.colorize.compose_color import (SOLID_COLOUR_C, SOLID_COLOUR_L, SOLID_OUTLINE, compose_color,
                                               recoloured_solids)
from mangacolor.colorize.lineart import LineArt, extract_lineart
from mangacolor.data.printing import Sheet, potential
from mangacolor.kernels.lab import rgb_to_lab

H, W = 120, 160
RED, SKY, WHITE = (200, 40, 40), (120, 180, 240), (255, 255, 255)


def lab_of(rgb):
    return rgb_to_lab(np.array(rgb, np.uint8).reshape(1, 1, 3))[0, 0]


def drawn_print():
    """Paper page; a dot-screened rectangle outlined in 2 px ink; a solid square (a sound effect) and a
    solid bar (hair). Returns (print, line art, region Lab)."""
    g = np.full((H, W), 255, np.uint8)
    yy, xx = np.mgrid[0:H, 0:W]
    screen = (yy % 6 < 3) & (xx % 6 < 3)
    g[10:60, 10:90][screen[10:60, 10:90]] = 0  # the screen
    lines = np.zeros((H, W), bool)
    lines[8:10, 8:92] = lines[60:62, 8:92] = lines[8:62, 8:10] = lines[8:62, 90:92] = True
    g[lines] = 0
    solid = np.zeros((H, W), bool)
    solid[75:105, 20:50] = True  # sound effect
    solid[75:105, 100:140] = True  # hair
    g[solid] = 0
    g[74, 20:50] = g[105, 20:50] = 0  # outlines of the solids are line art
    lines[74, 20:50] = lines[105, 20:50] = True
    lab = np.broadcast_to(lab_of(WHITE), (H, W, 3)).copy()
    lab[10:60, 10:90] = lab_of(SKY)
    lab[75:105, 20:50] = lab_of(RED)
    lab[75:105, 100:140] = lab_of((20, 20, 25))
    return g, LineArt(lines=lines, solid=solid & ~lines), lab


def test_ink_stays_dark_and_the_screen_becomes_its_flat_colour():
    g, art, lab = drawn_print()
    rgb = compose_color(g, art, lab)
    assert rgb.shape == (H, W, 3) and rgb.dtype == np.uint8
    assert rgb[art.lines].max() <= 5  # full ink prints black over any colour
    inside = rgb[12:58, 12:88].reshape(-1, 3)  # screen dots and the gaps between them
    assert (np.unique(inside, axis=0) == np.array(SKY)).all() and len(np.unique(inside, axis=0)) == 1
    assert (rgb[110:, :] == WHITE).all()  # paper stays paper


def test_solid_ink_takes_a_bright_colour_and_keeps_a_dark_one():
    g, art, lab = drawn_print()
    rgb = compose_color(g, art, lab)
    sfx = rgb[80:100, 25:45].reshape(-1, 3)
    assert (sfx == np.array(RED)).all()  # recoloured like a colour edition's sound effect
    assert rgb[80:100, 105:135].max() <= 5  # hair predicted near-black stays ink


def test_a_recoloured_solid_keeps_its_outline_as_ink():
    """The sound effect (rows 75-104, cols 20-49 solid) takes its colour inside; a band SOLID_OUTLINE px wide
    along its edge stays as dark as printed, as a colour edition keeps a sound effect's outline."""
    g, art, lab = drawn_print()
    rgb = compose_color(g, art, lab)
    b = SOLID_OUTLINE
    assert b >= 1
    band = np.zeros((H, W), bool)
    band[75:105, 20:50] = True
    band[75 + b:105 - b, 20 + b:50 - b] = False
    assert rgb[band].max() <= 5
    assert (rgb[75 + b:105 - b, 20 + b:50 - b].reshape(-1, 3) == np.array(RED)).all()


def test_solid_ink_predicted_pale_grey_stays_ink():
    """A model unsure of a solid predicts a light neutral for it: the print's black is kept, not a grey patch."""
    g, art, lab = drawn_print()
    lab[75:105, 20:50] = lab_of((170, 168, 172))  # light (L about 69) but chroma under SOLID_COLOUR_C
    rgb = compose_color(g, art, lab)
    assert rgb[80:100, 25:45].max() <= 5


def test_each_solid_area_is_decided_once_on_its_mean_colour():
    solid = np.zeros((20, 40), bool)
    solid[2:18, 2:18] = True  # area A: three quarters red, a quarter dark
    solid[2:18, 22:38] = True  # area B: a quarter red, three quarters dark
    lab = np.zeros((20, 40, 3), np.float32)
    red = lab_of(RED)
    lab[2:14, 2:18] = red
    lab[2:6, 22:38] = red
    lab[14:18, 2:18] = lab[6:18, 22:38] = (15.0, 0.0, 0.0)
    mean_a = (0.75 * red[0] + 0.25 * 15.0, 0.75 * np.hypot(red[1], red[2]))
    assert mean_a[0] >= SOLID_COLOUR_L and mean_a[1] >= SOLID_COLOUR_C  # the fixture is what it says
    takes = recoloured_solids(solid, lab)
    assert takes[2:18, 2:18].all()  # the dark quarter of A goes with its area
    assert not takes[2:18, 22:38].any()  # B's mean is dark: all of it stays ink, its red quarter too
    assert not takes[~solid].any()
    assert not recoloured_solids(np.zeros((5, 5), bool), np.zeros((5, 5, 3), np.float32)).any()


def test_antialiased_edge_keeps_its_grey_and_a_dot_beside_a_line_does_not():
    g, art, lab = drawn_print()
    g[7, 30] = 128  # a half-covered edge pixel just outside the top line
    g[62, 30] = 0  # a screen dot touching the bottom line from outside (screen ends at row 60)
    lab[62, 30] = lab_of(WHITE)
    rgb = compose_color(g, art, lab)
    expected_edge = np.round(np.array(WHITE) * 128 / 255.0)
    np.testing.assert_allclose(rgb[7, 30], expected_edge, atol=1)
    assert (rgb[62, 30] == WHITE).all()


def test_faded_print_keeps_its_own_darkness():
    g, art, lab = drawn_print()
    faded = (60 + (235 - 60) * (g / 255.0)).round().astype(np.uint8)  # ink grey 60 on paper 235
    rgb = compose_color(faded, art, lab)
    np.testing.assert_allclose(rgb[art.lines].mean(), 255 * 60 / 235, atol=2)
    assert (rgb[12:58, 12:88] == np.array(SKY)).all()


def test_shapes_are_checked():
    g, art, lab = drawn_print()
    with pytest.raises(ValueError, match="region_lab"):
        compose_color(g, art, lab[:, :10])
    with pytest.raises(ValueError, match="uint8"):
        compose_color(g.astype(np.float32), art, lab)


def test_a_page_of_one_screened_region_comes_out_one_flat_colour():
    """End to end: a page that is one dot screen, its line art extracted, coloured one flat sky blue."""
    ys, xs = (a.astype(np.float32).ravel() for a in np.mgrid[0:H, 0:W])
    pot = potential(Sheet("dots", 30.0, 5.0, 0.35), ys, xs).reshape(H, W)
    g = np.where(pot > 1 - 0.35, 0, 255).astype(np.uint8)
    lab = np.broadcast_to(lab_of(SKY), (H, W, 3)).copy()
    rgb = compose_color(g, extract_lineart(g), lab)
    assert (rgb == np.array(SKY)).all(axis=-1).mean() > 0.99  # no dots left
