"""mangacolor: learn to colourise black-and-white manga from coloured pages of the same series."""

__version__ = "0.1.0"
