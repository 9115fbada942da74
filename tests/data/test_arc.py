"""The new arc of the procedural series: a held-out chapter with a newcomer, props and backdrops that the
default arc never draws, while every default-arc page stays exactly what it was before arcs existed."""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from mangacolor.cli import build_parser, cmd_pages
from mangacolor.data.pages import PageError, load_page_folder, synthetic_pages
from mangacolor.data.synth import ARCS, COLOURS, INDEX, RGB, chapter_style, render_layers, render_page, render_print
from mangacolor.data.synth.cast import CAST, Pose, place
from mangacolor.data.synth.ink import Canvas, compose

SERIES = 2016
SMALL = (600, 390)


def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(a.tobytes())
    return h.hexdigest()[:16]


# Recorded from the series before arcs were added (render_* outputs of the default config's chapters).
BEFORE_ARCS = {
    "layers ch2 0": (lambda: render_layers(SERIES, "ch2", 0, SMALL), "c7f4ffe05b1e713e"),
    "layers ch4 2": (lambda: render_layers(SERIES, "ch4", 2, SMALL), "4be56aa116e88965"),
    "layers chapter1 1": (lambda: render_layers(SERIES, "chapter1", 1, SMALL), "6f42252385024cec"),
    "page ch2 5": (lambda: render_page(SERIES, "ch2", 5), "206b5feeac0fc224"),
    "page chapter1 0": (lambda: render_page(SERIES, "chapter1", 0), "c0e17d90ca69aeec"),
    "screentone ch3 1 v1": (lambda: render_print(SERIES, "ch3", 1, "screentone", SMALL, variant=1),
                            "f3b939e87400a149"),
    "screentone chapter1 3": (lambda: render_print(SERIES, "chapter1", 3, "screentone", SMALL), "1a38a125c9aca7e0"),
    "fixed ch2 4": (lambda: render_print(SERIES, "ch2", 4, "fixed", SMALL), "2e6a3af2de773618"),
    "style ch3": (lambda: chapter_style(SERIES, "ch3"), "c8a5d28dfc7cd4de"),
}


@pytest.mark.parametrize("case", list(BEFORE_ARCS))
def test_default_arc_is_byte_identical_to_before_arcs(case):
    make, expected = BEFORE_ARCS[case]
    assert _digest(*make()) == expected


ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text())
NEWCOMER = ("hair_lavender", "coat_teal", "scarf_lime", "boots_navy")  # the wanderer's own parts
NEW_WORLD = ("snow", "dusk", "ice", "pine", "stone", "flagstone", "banner", "brass", "glow", "chest_plum", "plaster",
             "roof_slate")  # the new arc's backdrops and props
NEW_COLOURS = NEWCOMER + NEW_WORLD


def _fill_colours(label, ink) -> tuple[set[str], set[tuple[int, int, int]]]:
    """Palette names in a label image, and the RGB values of the colour page's flat fills (no line art)."""
    color, _ = compose(label, ink)
    names = {COLOURS[k].name for k in np.flatnonzero(np.bincount(label.ravel()))}
    packed = np.unique(color[ink == 0].astype(np.int32) @ np.array([1 << 16, 1 << 8, 1], np.int32))
    return names, {(int(v) >> 16, (int(v) >> 8) & 255, int(v) & 255) for v in packed}


def _chapters(arc):
    return [(name, c["pages"]) for name, c in CONFIG["chapters"].items()
            if c.get("source") == "synthetic" and c.get("arc", "series") == arc]


def test_the_default_config_holds_out_a_new_arc_chapter():
    assert CONFIG["chapters"]["newarc"] == {"source": "synthetic", "pages": 4, "arc": "new"}
    assert CONFIG["test"] == ["chapter1", "newarc"]
    assert {name for name, _ in _chapters("series")} >= set(CONFIG["train"]) | {"chapter1"}


def test_default_arc_pages_never_show_the_new_arc():
    new_rgb = {tuple(RGB[INDEX[n]].tolist()) for n in NEW_COLOURS}
    pages = [(name, i, (1200, 780)) for name, n in _chapters("series") for i in range(n)]  # the default config's
    pages += [(f"ch{k}", i, (480, 312)) for k in range(5, 10) for i in range(6)]  # and more chapters of the arc
    for chapter, i, size in pages:
        label, ink = render_layers(SERIES, chapter, i, size)
        names, rgb = _fill_colours(label, ink)
        assert not names & set(NEW_COLOURS), (chapter, i, names & set(NEW_COLOURS))
        assert not rgb & new_rgb, (chapter, i)


def test_the_new_arc_chapter_shows_its_newcomer_backdrops_and_props():
    (chapter, n), = _chapters("new")
    seen: set[str] = set()
    newcomer_share = 0.0
    for i in range(n):
        label, ink = render_layers(SERIES, chapter, i, arc="new")
        names, rgb = _fill_colours(label, ink)
        assert label.dtype == np.uint8 and label.max() < len(COLOURS)
        assert {tuple(RGB[INDEX[p]].tolist()) for p in names & set(NEW_COLOURS)} <= rgb  # visible, not under ink
        seen |= names
        newcomer_share += np.isin(label, [INDEX[p] for p in NEWCOMER]).mean() / n
    assert set(NEW_COLOURS) <= seen, set(NEW_COLOURS) - seen
    assert newcomer_share > 0.01  # the wanderer is on the pages, not a speck
    assert "hat_straw" in seen  # the familiar cast still appears beside the newcomer


def test_new_arc_colours_belong_to_no_crew_member():
    for who in ARCS["series"].cast:
        c = Canvas(900, 600)
        place(c, who, 300, 250, 50.0, Pose(arms=((10, 0), (80, 0)), legs=((5, 0), (5, 0)), holds=CAST[who].props[0]
                                           if CAST[who].props else None))
        assert not {COLOURS[k].name for k in np.unique(c.label)} & set(NEW_COLOURS), who
    c = Canvas(900, 600)
    place(c, "wanderer", 300, 250, 50.0, Pose(arms=((10, 0), (80, 0)), legs=((5, 0), (5, 0)), holds="lantern"))
    assert set(NEWCOMER) | {"brass", "glow"} <= {COLOURS[k].name for k in np.unique(c.label)}


def test_new_arc_pages_are_deterministic_and_differ_from_the_default_arc():
    a = render_print(SERIES, "newarc", 1, "screentone", SMALL, variant=1, arc="new")
    b = render_print(SERIES, "newarc", 1, "screentone", SMALL, variant=1, arc="new")
    assert _digest(*a) == _digest(*b)
    others = [render_print(SERIES, "newarc", 2, "screentone", SMALL, variant=1, arc="new"),
              render_print(SERIES, "newarc", 1, "screentone", SMALL, variant=1, arc="series"),
              render_print(SERIES, "newarc", 1, "screentone", SMALL, variant=2, arc="new")]
    assert len({_digest(*a)} | {_digest(*o) for o in others}) == 4


def test_new_arc_pages_do_not_depend_on_python_hash_salt():
    code = ("import hashlib; from mangacolor.data.synth import render_page; "
            "c, b = render_page(2016, 'newarc', 3, (600, 390), 'new'); "
            "print(hashlib.sha256(c.tobytes() + b.tobytes()).hexdigest()[:16])")
    env = dict(os.environ, PYTHONHASHSEED="4242", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == _digest(*render_page(SERIES, "newarc", 3, SMALL, "new"))


def test_an_unknown_arc_is_refused_by_name():
    with pytest.raises(ValueError, match=r"unknown arc 'winter'.*series, new"):
        render_layers(SERIES, "x", 0, SMALL, arc="winter")
    with pytest.raises(PageError, match=r"chapters\.x\.arc: 'winter'"):
        next(synthetic_pages(SERIES, "x", 1, "screentone", 1, "winter"))


def test_pages_command_writes_a_new_arc_chapter_and_needs_an_arc(tmp_path, capsys):
    parser = build_parser()
    assert parser._subparsers._group_actions[0].choices["pages"]._option_string_actions["--arc"].choices \
        == list(ARCS)
    base = ["pages", "--chapter", "newarc", "--series-seed", "2016", "--n-pages", "1", "--print", "screentone",
            "--prints", "1"]
    with pytest.raises(SystemExit, match="--arc"):
        cmd_pages(parser.parse_args(base + ["--out", str(tmp_path / "none")]))
    cmd_pages(parser.parse_args(base + ["--arc", "new", "--out", str(tmp_path / "newarc")]))
    rows, pages = load_page_folder(tmp_path / "newarc")
    color, bw = next(pages)
    expected, _ = render_print(SERIES, "newarc", 0, "screentone", arc="new")
    np.testing.assert_array_equal(color, expected)
    assert rows[0]["source"] == "synthetic" and bw.shape == color.shape[:2]


def test_pages_rule_passes_each_synthetic_chapters_arc():
    out = subprocess.run(["snakemake", "-n", "-p", "results/work/pages/newarc",
                          "results/work/pages/ch2"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    commands = [line for line in (out.stdout + out.stderr).splitlines() if "mangacolor pages" in line]
    assert any("--chapter newarc" in c and "--arc new " in c for c in commands), commands
    assert any("--chapter ch2" in c and "--arc series " in c for c in commands), commands
