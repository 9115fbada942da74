"""The embedded default data: a procedural manga series, each page printed in colour and in B&W.

Real manga cannot ship with the pipeline, so the series is generated with the property the method relies
on: one artist, one cast, shapes that are always the same colour (`palette`), printed in B&W as ink, paper
and screentones so that several colours become the same paper and only shape tells them apart.
"""
from .page import chapter_style, render_layers, render_page, stable_seed
from .palette import COLOURS, INDEX, RGB

__all__ = ["render_page", "render_layers", "chapter_style", "stable_seed", "COLOURS", "INDEX", "RGB"]
