"""The series' story arcs: which backdrops, characters and prop close-ups a chapter's panels draw from.

The default arc, ``series``, is the one every training chapter comes from: the crew at sea, on deck and on a
tangerine island. The ``new`` arc takes them to a winter island (snowfields and firs, a village street, a castle
hall with banners and lanterns, a treasure chest) and brings in a newcomer, the wanderer, who is in many of its
panels: shapes and colours that a model trained on the default arc has never seen, in the same artist's style
(same line art, lettering, panel layouts, sound effects and print).
"""
from __future__ import annotations

from dataclasses import dataclass

from .cast import CAST
from .scenes import BACKDROPS, CLOSEUPS


@dataclass(frozen=True)
class Arc:
    scenes: tuple[str, ...]  # backdrops (keys of scenes.BACKDROPS), drawn at each chapter's own frequencies
    cast: tuple[str, ...]  # who appears (keys of cast.CAST)
    closeups: tuple[str, ...]  # panels without characters (keys of scenes.CLOSEUPS)
    lead: str | None = None  # a character of `cast` given a fixed share of the cast frequencies ...
    lead_share: float = 0.0  # ... this one


CREW = ("captain", "swordsman", "navigator", "mascot")
ARCS: dict[str, Arc] = {
    "series": Arc(scenes=("sea", "deck", "island", "focus", "plain"), cast=CREW,
                  closeups=("feast", "flag", "branch")),
    "new": Arc(scenes=("snowfield", "village", "castle", "focus", "plain"), cast=CREW + ("wanderer",),
               closeups=("lantern", "chest", "pine"), lead="wanderer", lead_share=0.4),
}

for _name, _arc in ARCS.items():  # a typo in the tables above fails at import, naming the arc
    for _kind, _names, _known in (("scenes", _arc.scenes, BACKDROPS), ("cast", _arc.cast, CAST),
                                  ("closeups", _arc.closeups, CLOSEUPS)):
        _unknown = set(_names) - set(_known)
        assert not _unknown, f"arc {_name!r}: unknown {_kind} {sorted(_unknown)}"
    assert _arc.lead is None or _arc.lead in _arc.cast, f"arc {_name!r}: lead {_arc.lead!r} is not in its cast"


def get_arc(name: str) -> Arc:
    """The arc called `name`; a ValueError naming the known arcs otherwise."""
    if name not in ARCS:
        raise ValueError(f"unknown arc {name!r}: expected one of {', '.join(ARCS)}")
    return ARCS[name]
