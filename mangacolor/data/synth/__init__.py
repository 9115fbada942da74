"""The embedded default data: a procedural manga series, each page printed in colour and in B&W.

Real manga cannot ship with the pipeline, so the series is generated with the property the method relies
on: one artist, one cast, shapes that are always the same colour (`palette`), printed in B&W as ink, paper
and screentones so that several colours become the same paper and only shape tells them apart. Story arcs
(`arcs.ARCS`) say what a chapter draws: the default arc of the training chapters, or a new arc with backdrops,
props and a newcomer that never appear in it.
"""
from .arcs import ARCS
from .page import PRINT_STYLES, chapter_style, render_layers, render_page, render_print, stable_seed
from .palette import COLOURS, INDEX, RGB

__all__ = ["ARCS", "render_page", "render_print", "PRINT_STYLES", "render_layers", "chapter_style", "stable_seed",
           "COLOURS", "INDEX", "RGB"]
