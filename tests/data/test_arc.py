"""The new arc of the procedural series: a held-out chapter with a newcomer, props and backdrops that the
default arc never draws, while every default-arc page stays exactly what it was before arcs existed."""
import hashlib

import pytest

from mangacolor.data.synth import chapter_style, render_layers, render_page, render_print

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
