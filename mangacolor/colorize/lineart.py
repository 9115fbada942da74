"""Line art of a screentoned B&W print: ink lines apart from screen dots, line screens, hatching and solid fills.

A colour edition keeps the print's line art, drops its screentones and paints flat colours; black hair stays
black, solid black sound effects are recoloured. So ``extract_lineart`` returns two masks (``LineArt``):

- ``lines``: ink strokes of any width up to a few pixels, the outlines of solid areas (a sound effect's outline
  is line art, its fill is not) and small ink blots (pupils). This is what the composition keeps dark.
- ``solid``: the inside of solid black areas too wide to be a stroke (hair, sound effects, black clothes), which
  the colour edition paints in the region's colour, black where that colour is dark.

Screens of any kind (dots, line screens, hatching, cross-hatching, gradients) are in neither mask.

Method: locally, a screen and a stroke are the same dark pixels; what tells them apart is context a few screen
periods wide (a screen repeats, a stroke does not; a stroke is long, a dot is not). A small fully convolutional
network (``LineNet``: 3x3 convolutions whose dilations grow to 8 and shrink back, a receptive field of 41 px,
wide enough for several periods of a 4-8 px screen) labels every pixel paper-or-screen / line / solid. Its input
is the print's *darkness*, the grey level rescaled between the page's own paper and ink levels (``darkness``),
so a faded scan with grey ink reads like a crisp one. It is trained on the synthetic series
(``colorize.lineart_train``) printed by the print model (random screens of every kind, angle and ruling per page,
shading across borders), by the palette's fixed screens at random angles and rulings, and as pure line art,
with scan degradations (grey levels, blur, noise, JPEG), against the series' true ink layer. The weights ship
with the package (``lineart_net.npz``, checked by SHA-256 on load). Dark pixels beside a stroke the network
found (three of their 8 neighbours on it) join it (``with_stroke_edges``): its strokes come out a pixel thin on
their soft edges.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

# the architecture, as data: channels of every hidden layer and the dilation of each 3x3 convolution
CHANNELS = 16
DILATIONS = (1, 2, 4, 8, 4, 2, 1)
CLASSES = ("paper_or_screen", "line", "solid")
LINE, SOLID = 1, 2

WEIGHTS = Path(__file__).with_name("lineart_net.npz")
WEIGHTS_SHA256 = "3350663f45eee9132b39975ddd8c99b96e3c1bd504b750a1fecbcf473a151629"  # of the shipped lineart_net.npz (lineart_train prints it)

PAPER_PERCENTILE, INK_PERCENTILE = 99.0, 0.5  # page levels: the grey of paper and of full ink
MIN_CONTRAST = 32.0  # grey levels between paper and ink below which a page is blank (no line art)
STROKE_EDGE_DARKNESS = 0.5  # a pixel this dark (``darkness``) beside a stroke is part of the stroke ...
STROKE_EDGE_NEIGHBOURS = 3  # ... when at least this many of its 8 neighbours are stroke (a dot at a corner has fewer)


@dataclass(frozen=True)
class LineArt:
    """Line art of a page: ``lines`` bool (H, W), ink strokes, outlines and small blots, kept dark in colour;
    ``solid`` bool (H, W), the inside of wide solid black areas. The two never overlap."""

    lines: np.ndarray
    solid: np.ndarray

    def __post_init__(self):
        if self.lines.shape != self.solid.shape or self.lines.ndim != 2:
            raise ValueError(f"LineArt: lines {self.lines.shape} and solid {self.solid.shape} must be one (H, W)")
        if (self.lines & self.solid).any():
            raise ValueError("LineArt: a pixel cannot be both line and solid")


# ---------------------------------------------------------------- input
def _check_print(print_gray) -> np.ndarray:
    g = np.asarray(print_gray)
    if g.ndim != 2 or g.dtype != np.uint8:
        raise ValueError(f"print_gray must be a uint8 (H, W) grey page, got {g.dtype} {g.shape}")
    return g


def page_levels(print_gray: np.ndarray) -> tuple[float, float]:
    """(paper, ink) grey levels of a print: the 99th and 0.5th percentiles of its grey values."""
    g = _check_print(print_gray)
    paper, ink = np.percentile(g, [PAPER_PERCENTILE, INK_PERCENTILE])
    return float(paper), float(ink)


def darkness(print_gray: np.ndarray) -> np.ndarray:
    """Ink darkness of each pixel, float32 (H, W) in [0, 1]: 0 at the page's paper level, 1 at its ink level.
    A page with less than MIN_CONTRAST grey levels between the two is blank: all 0."""
    paper, ink = page_levels(print_gray)
    if paper - ink < MIN_CONTRAST:
        return np.zeros(print_gray.shape, np.float32)
    return np.clip((paper - print_gray.astype(np.float32)) / np.float32(paper - ink), 0.0, 1.0)


# ---------------------------------------------------------------- the network
class LineNet(nn.Module):
    """darkness (B, 1, H, W) float32 -> class scores (B, 3, H, W) (CLASSES), same size (zero padding)."""

    def __init__(self, channels: int = CHANNELS, dilations: tuple[int, ...] = DILATIONS):
        super().__init__()
        layers, c_in = [], 1
        for d in dilations:
            layers += [nn.Conv2d(c_in, channels, 3, padding=d, dilation=d), nn.ReLU(inplace=True)]
            c_in = channels
        self.features = nn.Sequential(*layers)
        self.classify = nn.Conv2d(channels, len(CLASSES), 1)
        self.channels, self.dilations = channels, tuple(dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(x))


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_linenet(net: LineNet, path: str | os.PathLike, meta: dict) -> None:
    """Write a LineNet's weights and ``meta`` (JSON-able: how it was trained) to an .npz at ``path``."""
    arrays = {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    meta = {**meta, "channels": net.channels, "dilations": list(net.dilations), "classes": list(CLASSES)}
    with open(path, "wb") as f:
        np.savez(f, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)


def load_linenet(path: str | os.PathLike = WEIGHTS, sha256: str | None = WEIGHTS_SHA256) -> tuple[LineNet, dict]:
    """A LineNet in eval mode from an .npz written by ``save_linenet``, and its metadata. ``sha256``: the
    expected digest of the file (default: the shipped weights'); None skips the check."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"line-art weights not found: {path}")
    if sha256 is not None and (found := file_sha256(path)) != sha256:
        raise ValueError(f"line-art weights {path}: SHA-256 {found} does not match the expected {sha256}")
    with np.load(path) as z:
        meta = json.loads(str(z["meta"]))
        state = {k: torch.from_numpy(z[k]) for k in z.files if k != "meta"}
    if meta.get("classes") != list(CLASSES):
        raise ValueError(f"line-art weights {path}: classes {meta.get('classes')} are not {list(CLASSES)}")
    net = LineNet(meta["channels"], tuple(meta["dilations"]))
    net.load_state_dict(state)
    return net.eval(), meta


@functools.lru_cache(maxsize=1)
def _shipped_net() -> LineNet:
    return load_linenet()[0]


def pixel_classes(dark: np.ndarray, net: LineNet | None = None) -> np.ndarray:
    """The network's class of every pixel of a ``darkness`` map, uint8 (H, W): 0 paper or screen, 1 line,
    2 solid (CLASSES). ``net``: a LineNet (default: the shipped weights)."""
    net = _shipped_net() if net is None else net
    with torch.inference_mode():
        scores = net(torch.from_numpy(dark)[None, None])
    return scores[0].argmax(0).numpy().astype(np.uint8)


def extract_lineart(print_gray: np.ndarray, net: LineNet | None = None) -> LineArt:
    """Line art of a B&W print (uint8 (H, W), 0 ink .. 255 paper, any paper and ink level): see ``LineArt``;
    the network's strokes with their soft edges (``with_stroke_edges``)."""
    dark = darkness(_check_print(print_gray))
    cls = pixel_classes(dark, net)
    return LineArt(lines=with_stroke_edges(cls == LINE, cls == SOLID, dark), solid=cls == SOLID)


def with_stroke_edges(lines: np.ndarray, solid: np.ndarray, dark: np.ndarray) -> np.ndarray:
    """``lines`` grown by the pixels beside a stroke (at least STROKE_EDGE_NEIGHBOURS of their 8 neighbours
    are line) that are at least STROKE_EDGE_DARKNESS dark and not solid: the network draws strokes a pixel thin
    on their soft edges, which the colour page would otherwise paint over. Screen dots apart from strokes, and
    most dots that only touch one, stay out."""
    neighbours = cv2.filter2D(lines.astype(np.float32), -1, np.ones((3, 3), np.float32),
                              borderType=cv2.BORDER_CONSTANT)
    return lines | ((neighbours >= STROKE_EDGE_NEIGHBOURS) & (dark >= STROKE_EDGE_DARKNESS) & ~solid)
