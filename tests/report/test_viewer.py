"""The before/after viewer in a real headless Chromium: what a reader sees left and right of the slider, page turns
and slider moves by key and mouse, the comparison modes, and the view kept in the URL fragment."""
import numpy as np
import pytest
from PIL import Image

from mangacolor.report.viewer import write_viewer

W, H = 300, 400
# page -> (B&W grey level, colour RGB, truth RGB or None): flat images, so a pixel says which image shows there
PAGES = [(100, (200, 40, 40), (40, 40, 200)),
         (160, (40, 180, 40), None),
         (60, (220, 200, 40), (200, 40, 200))]


@pytest.fixture(scope="module")
def viewer(tmp_path_factory):
    folder = tmp_path_factory.mktemp("viewer")
    for sub in ("bw", "color", "truth"):
        (folder / sub).mkdir()
    pages = []
    for i, (grey, colour, truth) in enumerate(PAGES):
        name = f"page {i + 1}#.png"  # a space and a '#': the paths must be URL-encoded
        Image.fromarray(np.full((H, W), grey, np.uint8)).save(folder / "bw" / name)
        Image.fromarray(np.full((H, W, 3), colour, np.uint8)).save(folder / "color" / name)
        if truth is not None:
            Image.fromarray(np.full((H, W, 3), truth, np.uint8)).save(folder / "truth" / name)
        pages.append({"name": f"{i + 1:03d}", "bw": f"bw/{name}", "color": str(folder / "color" / name),
                      "truth": f"truth/{name}" if truth is not None else None})
    return write_viewer(folder / "viewer.html", pages, "Chapter 1 <test>")


def _colours_at(tab, *fractions):
    """The screenshot's RGB at these fractions of the page image's width, halfway down (away from the labels)."""
    box = tab.js("(() => { const b = document.getElementById('stage').getBoundingClientRect();"
                 " return [b.left, b.top, b.width, b.height]; })()")
    shot = tab.screenshot().astype(int)
    left, top, width, height = box
    return [tuple(shot[int(top + height / 2), int(left + f * width)]) for f in fractions]


def _is(rgb, expected, tol=6):
    expected = (expected,) * 3 if isinstance(expected, int) else expected
    return all(abs(a - b) <= tol for a, b in zip(rgb, expected))


def test_viewer_is_self_contained(viewer):
    text = viewer.read_text()
    assert "http://" not in text and "https://" not in text and "@import" not in text
    assert "<title>Chapter 1 &lt;test&gt;</title>" in text
    assert "</script>" not in text.split("<script id=pages", 1)[1].split("</script>", 1)[0]


def test_fragment_sets_page_and_slider(browser, viewer):
    browser.open(viewer.as_uri() + "#page=1&slider=0.2")
    assert browser.js("document.getElementById('counter').textContent") == "Page 1 / 3"
    assert browser.js("document.title") == "Chapter 1 <test>"
    at_10, at_30, at_90 = _colours_at(browser, 0.1, 0.3, 0.9)
    assert _is(at_10, 100) and _is(at_30, (200, 40, 40)) and _is(at_90, (200, 40, 40))
    assert browser.js("document.getElementById('missing').textContent") == ""
    header, stage, slider = browser.js("['header', '#stage', '#slider'].map((s) => "
                                       "document.querySelector(s).getBoundingClientRect().toJSON())")
    assert header["bottom"] <= stage["top"] and stage["bottom"] <= slider["top"] and slider["bottom"] <= 800
    assert stage["height"] > 400 and abs(stage["width"] / stage["height"] - W / H) < 0.01  # fills, undistorted


def test_keys_move_the_slider_and_turn_pages(browser, viewer):
    browser.open(viewer.as_uri() + "#page=1&slider=0.2")
    for _ in range(4):
        browser.press("d")
    at_30, at_50 = _colours_at(browser, 0.3, 0.5)
    assert _is(at_30, 100) and _is(at_50, (200, 40, 40))  # slider at 0.4: B&W now reaches past 0.3
    browser.press("a", shift=True)
    assert "slider=0.390" in browser.js("location.hash")
    browser.press("ArrowRight")
    assert browser.js("document.getElementById('counter').textContent") == "Page 2 / 3"
    at_10, at_70 = _colours_at(browser, 0.1, 0.7)
    assert _is(at_10, 160) and _is(at_70, (40, 180, 40))
    browser.press("PageDown")
    assert browser.js("document.getElementById('counter').textContent") == "Page 3 / 3"
    browser.press("PageDown")  # past the last page: stays
    assert browser.js("document.getElementById('counter').textContent") == "Page 3 / 3"
    browser.press("PageUp")
    browser.press("ArrowLeft")
    assert browser.js("document.getElementById('counter').textContent") == "Page 1 / 3"
    browser.press("End")
    assert "page=3" in browser.js("location.hash")
    browser.press("Home")
    assert "page=1" in browser.js("location.hash")


def test_truth_modes(browser, viewer):
    browser.open(viewer.as_uri() + "#page=3&slider=0.5")
    browser.press("2")  # colour | truth
    at_20, at_80 = _colours_at(browser, 0.2, 0.8)
    assert _is(at_20, (220, 200, 40)) and _is(at_80, (200, 40, 200))
    assert browser.js("document.getElementById('label-right').textContent") == "truth"
    browser.press("t")  # -> B&W | truth
    at_20, at_80 = _colours_at(browser, 0.2, 0.8)
    assert _is(at_20, 60) and _is(at_80, (200, 40, 200))
    browser.press("ArrowLeft")  # page 2 has no truth: B&W | colour, truth buttons disabled
    at_20, at_80 = _colours_at(browser, 0.2, 0.8)
    assert _is(at_20, 160) and _is(at_80, (40, 180, 40))
    assert browser.js("document.getElementById('mode-color-truth').disabled") is True
    browser.press("ArrowRight")  # back on page 3 the chosen comparison returns
    assert _is(_colours_at(browser, 0.8)[0], (200, 40, 200))


def test_reload_keeps_the_view_and_mouse_drags_the_slider(browser, viewer):
    browser.open(viewer.as_uri() + "#page=3&slider=0.9&mode=bw-truth")
    at_50, at_95 = _colours_at(browser, 0.5, 0.95)
    assert _is(at_50, 60) and _is(at_95, (200, 40, 200))
    left, top, width, height = browser.js("(() => { const b = document.getElementById('stage')"
                                          ".getBoundingClientRect(); return [b.left, b.top, b.width, b.height]; })()")
    browser.drag(left + 0.6 * width, left + 0.25 * width, top + height / 2)
    at_15, at_35 = _colours_at(browser, 0.15, 0.35)
    assert _is(at_15, 60) and _is(at_35, (200, 40, 200))
    assert abs(float(browser.js("document.getElementById('slider').value")) - 250) <= 5


def test_bad_pages_are_named(tmp_path):
    Image.fromarray(np.zeros((H, W), np.uint8)).save(tmp_path / "a.png")
    with pytest.raises(FileNotFoundError, match=r"page 1 \(002\): color image .*missing.png"):
        write_viewer(tmp_path / "v.html", [{"name": "001", "bw": "a.png", "color": "a.png"},
                                           {"name": "002", "bw": "a.png", "color": "missing.png"}], "t")
    with pytest.raises(ValueError, match="page 0: unknown key.*'colour'"):
        write_viewer(tmp_path / "v.html", [{"name": "001", "bw": "a.png", "colour": "a.png"}], "t")
    with pytest.raises(ValueError, match="no pages"):
        write_viewer(tmp_path / "v.html", [], "t")
    assert not (tmp_path / "v.html").exists()
