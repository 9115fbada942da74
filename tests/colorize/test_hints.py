"""Colour hints: the closed region under a scribble takes its colour, and the same part takes it on the chapter's
other pages (measured on a tiny synthetic chapter, where every region's part is known); bad hints are named."""
import io

import cv2
import numpy as np
import pytest
from PIL import Image

from mangacolor.cli import main
from mangacolor.colorize import hints
from mangacolor.colorize.strategies import plan_crops
from mangacolor.data.pages import PageError
from mangacolor.data.synth import INDEX, render_layers, render_print
from mangacolor.evaluate.hints import hint_for_part, hint_shares
from mangacolor.kernels.bins import bin_centers
from mangacolor.kernels.lab import rgb_to_lab

CENTERS = bin_centers(10, "gamut")
G = 28


def oracle_regions(gray, color):
    """The page's regions with a perfect 'model': each crop cell's true ab, soft-encoded on the bins."""
    plan = plan_crops(gray, "overlap", tile=224, canvas=1344, stride=112)
    ab = rgb_to_lab(color)[..., 1:]
    (oy, ox), (h, w) = plan.offset, gray.shape
    canvas = np.zeros((1344, 1344, 2), np.float32)
    canvas[oy:oy + h, ox:ox + w] = ab
    probs = []
    for y, x in plan.origins:
        cells = cv2.resize(canvas[y:y + 224, x:x + 224], (G, G), interpolation=cv2.INTER_AREA).reshape(-1, 2)
        d2 = ((cells[:, None] - CENTERS[None]) ** 2).sum(-1)
        p = np.exp(-(d2 - d2.min(1, keepdims=True)) / (2 * 8.0 ** 2))
        probs.append((p / p.sum(1, keepdims=True)).T.reshape(-1, G, G))
    return hints.page_regions(gray, plan.boxes, plan.inner, plan.tile, np.asarray(probs, np.float32))


@pytest.fixture(scope="module")
def chapter():
    pages = []
    for i in range(3):
        label, ink = render_layers(2016, "chapter1", i)
        color, gray = render_print(2016, "chapter1", i, "screentone")  # each page toned its own way
        pages.append((label, ink, oracle_regions(gray, color)))
    return pages


def test_one_hint_carries_to_the_same_part_on_the_other_pages(chapter):
    label, _, regions = chapter[0]
    hair = INDEX["hair_green"]  # the swordsman's hair: regions closed by line art on every page
    scribble = hint_for_part("0", regions, label, hair, (255, 0, 255))
    chapter_hints = hints.ChapterHints.learn([scribble], lambda name: regions, CENTERS)
    on_page = chapter_hints.assign(regions, "0")
    hinted = regions.labels[tuple(scribble.points[0])]
    assert on_page[hinted] == 0  # the region under the scribble takes its colour
    others = [(lab, ink, (chapter_hints.assign(r) >= 0)[r.reach]) for lab, ink, r in chapter[1:]]
    shares = hint_shares(others, hair)
    assert shares["part_pixels"] > 10000
    assert shares["recall"] >= 0.8 and shares["false"] <= 0.02, shares
    # the rule decides: a hint on another part (the sky) leaves the hair alone
    sky = hint_for_part("0", regions, label, INDEX["sky"], (255, 0, 255))
    sky_hints = hints.ChapterHints.learn([sky], lambda name: regions, CENTERS)
    sky_marks = [(lab, ink, (sky_hints.assign(r) >= 0)[r.reach]) for lab, ink, r in chapter[1:]]
    assert hint_shares(sky_marks, hair)["recall"] < 0.05


def test_recolouring_sets_the_hint_colour_and_leaves_the_rest(chapter):
    label, _, regions = chapter[0]
    scribble = hint_for_part("0", regions, label, INDEX["hair_green"], (255, 136, 0))
    chapter_hints = hints.ChapterHints.learn([scribble], lambda name: regions, CENTERS)
    ab = np.full(label.shape + (2,), 3.0, np.float32)
    choice = chapter_hints.assign(regions, "0")
    out = chapter_hints.recolor(ab, regions, choice)
    marked = (choice >= 0)[regions.reach]
    np.testing.assert_allclose(out[marked], np.broadcast_to(hints.hint_lab((255, 136, 0))[1:], out[marked].shape))
    lab = hints.ChapterHints.recolor(chapter_hints, np.zeros(label.shape + (3,), np.float32), regions, choice)
    np.testing.assert_allclose(lab[marked][:3], np.broadcast_to(hints.hint_lab((255, 136, 0)), (3, 3)))
    assert np.all(out[~marked] == 3.0) and marked.any()
    assert np.array_equal(hints.ChapterHints([]).assign(regions), np.full(regions.n + 1, -1))


# ---------------------------------------------------------------- hints files
PAGE_NAMES = ["001.png", "002.png", "A/003.png"]


def test_yaml_hints_name_pages_by_any_of_their_names(tmp_path):
    f = tmp_path / "hints.yaml"
    f.write_text("hints:\n- {page: 001.png, x: 5, y: 6, color: '#ff8800'}\n- {page: '002', x: 1, y: 2, colour: red}\n"
                 "- {page: A/003.jpg, x: 0, y: 0, color: [10, 20, 30]}\n- {page: 3, x: 3, y: 3, color: "
                 "'rgb(1, 2, 3)'}\n")
    found = hints.load_hints(f, PAGE_NAMES, ["001.png", "002.png", "A/003.jpg"])
    assert [(s.page, s.rgb, s.points.tolist()) for s in found] == [
        ("001.png", (255, 136, 0), [[6, 5]]), ("002.png", (255, 0, 0), [[2, 1]]),
        ("A/003.png", (10, 20, 30), [[0, 0]]), ("A/003.png", (1, 2, 3), [[3, 3]])]


@pytest.mark.parametrize("text, message", [
    ("- {page: 009, x: 1, y: 1, color: red}\n", "entry 1: page '009' is not a page of this chapter"),
    ("- {page: 001, x: 1, y: 1, color: reddish}\n", "entry 1: colour 'reddish' is not a colour"),
    ("- {page: 001, x: 1, y: 1, color: [300, 0, 0]}\n", r"colour \[300, 0, 0\] is not a colour"),
    ("- {page: 001, x: 1.5, y: 1, color: red}\n", "x must be a pixel position"),
    ("- {page: 001, x: 1, color: red, size: 3}\n", "unknown key.*size; missing y"),
    ("hints: {}\n", "expected a list of hints"),
    ("- [1, 2\n", "not a readable YAML hints file"),
])
def test_bad_yaml_hints_are_named(tmp_path, text, message):
    f = tmp_path / "hints.yaml"
    f.write_text(text)
    with pytest.raises(PageError, match=message):
        hints.load_hints(f, PAGE_NAMES)


def test_overlay_hints_are_blobs_of_their_colour(tmp_path):
    folder = tmp_path / "overlays"
    folder.mkdir()
    overlay = np.zeros((40, 30, 4), np.uint8)
    overlay[5:9, 5:15] = (250, 130, 10, 255)
    overlay[30:33, 20:25] = (20, 40, 250, 200)
    overlay[20, 2] = (0, 255, 0, 60)  # faint: not a scribble
    Image.fromarray(overlay).save(folder / "002.png")
    (a, b) = hints.load_hints(folder, PAGE_NAMES)
    assert (a.page, a.rgb, len(a.points), a.shape) == ("002.png", (250, 130, 10), 40, (40, 30))
    assert (b.rgb, len(b.points)) == ((20, 40, 250), 15)
    Image.fromarray(np.zeros((40, 30, 4), np.uint8)).save(folder / "001.png")
    with pytest.raises(PageError, match="001.png: overlay has no opaque pixels"):
        hints.load_hints(folder, PAGE_NAMES)


def test_hints_outside_the_page_or_on_line_art_are_named():
    labels = np.zeros((50, 40), np.int32)
    labels[10:30, 10:30] = 1
    regions = hints.PageRegions(labels, np.full((2, 4), 0.25), np.array([0, 400]), hints.reach_of(labels))
    inside = hints.Scribble("p.png", (1, 2, 3), np.array([[20, 20]]), "h.yaml entry 1")
    near = hints.Scribble("p.png", (1, 2, 3), np.array([[20, 32]]), "h.yaml entry 2")  # 3 px off the region
    assert hints.scribble_regions(inside, regions) == [1] == hints.scribble_regions(near, regions)
    far = hints.Scribble("p.png", (1, 2, 3), np.array([[45, 5]]), "h.yaml entry 3")
    with pytest.raises(PageError, match="entry 3: on page p.png the hint lies on line art"):
        hints.scribble_regions(far, regions)
    out = hints.Scribble("p.png", (1, 2, 3), np.array([[20, 99]]), "h.yaml entry 4")
    with pytest.raises(PageError, match=r"entry 4: position x=99, y=20 is outside page p.png \(40x50\)"):
        hints.scribble_regions(out, regions)
    drawn = hints.Scribble("p.png", (1, 2, 3), np.array([[20, 20]]), "o/p.png blob 1", (60, 40))
    with pytest.raises(PageError, match="overlay is 40x60 but page p.png is 40x50"):
        hints.scribble_regions(drawn, regions)


# ---------------------------------------------------------------- through the command
def boxes_page(shift: int = 0) -> np.ndarray:
    """A white page with two black-outlined boxes, the left one screened with dots, the right one a flat mid grey
    (where the hint's colour shows: the print keeps its lightness, and white paper shows no colour)."""
    page = np.full((160 + shift, 120), 255, np.uint8)
    page[10:150, 65:110] = 150
    cv2.rectangle(page, (10, 10), (55, 150), 0, 3)
    cv2.rectangle(page, (65, 10), (110, 150), 0, 3)
    page[20:140:4, 20:46:4] = 0
    return page


def test_hints_through_the_command(tmp_path, user_model, capsys):
    src = tmp_path / "bw"
    src.mkdir()
    for name, shift in (("p1.png", 0), ("p2.png", 8)):  # p2: another page (taller), the same boxes
        Image.fromarray(boxes_page(shift)).save(src / name)
    f = tmp_path / "hints.yaml"
    f.write_text("- {page: p1, x: 88, y: 80, color: '#ff8800'}\n")  # inside the right box of page p1
    out = tmp_path / "out"
    code = main(["colorize", str(src), "--model", str(user_model), "-o", str(out), "--hints", str(f),
                 "--threads", "1", "--device", "cpu"])
    assert code == 0, capsys.readouterr().err
    assert "hints: 1 scribble(s) on 1 page(s)" in capsys.readouterr().err
    want = hints.hint_lab((255, 136, 0))[1:]
    for name in ("p1.png", "p2.png"):  # the same box on the other page takes the colour too (the rule)
        rgb = np.asarray(Image.open(out / name))
        ab = rgb_to_lab(rgb)[..., 1:]
        inside = ab[30:130, 75:100].reshape(-1, 2)
        assert np.abs(np.median(inside, 0) - want).max() < 6, name  # the hint's hue on the page's lightness
        assert np.abs(np.median(ab[5:8, :].reshape(-1, 2), 0) - want).max() > 20  # the margin keeps its own
    plain = tmp_path / "plain"  # without the hint the boxes have the model's own colour
    assert main(["colorize", str(src), "--model", str(user_model), "-o", str(plain), "--threads", "1"]) == 0
    ab = rgb_to_lab(np.asarray(Image.open(plain / "p2.png")))[..., 1:]
    assert np.abs(np.median(ab[30:130, 75:100].reshape(-1, 2), 0) - want).max() > 20
    out2 = tmp_path / "out2"
    f.write_text("- {page: p1, x: 88, y: 80, color: 'not a colour'}\n")
    assert main(["colorize", str(src), "--model", str(user_model), "-o", str(out2), "--hints", str(f)]) == 2
    assert "entry 1: colour 'not a colour' is not a colour" in capsys.readouterr().err
    assert not out2.exists()
