"""Registration of real pairs: a user's B&W scan warped onto the pixel grid of the official colour page.

A B&W scan and the colour page of the same page are rarely pixel-aligned: another scan size, an offset, a fraction
of a degree of rotation. ``register_pair`` finds the affine transform from scan pixels to colour-page pixels and
resamples the scan onto the colour page's grid, so that training targets (colour) and inputs (B&W) line up.

Both pages are compared as blurred darkness maps (255 - grey, Gaussian sigma ``ALIGN_SIGMA`` px): the blur turns
screentone dots into the flat tone they stand for, so the B&W print and the colour fills look alike, and line art
(black in both) dominates. The transform is refined by ECC (``cv2.findTransformECC``, MOTION_AFFINE) coarse to fine
over a pyramid of factors 2^k, starting from the guess that the scan covers the colour page (per-axis size ratio);
when that does not reach ``min_score``, ORB features matched between the two maps give a RANSAC similarity
(``cv2.estimateAffinePartial2D``) as a second start, which finds large offsets and rotations.

The score is the correlation of edge maps (gradient magnitude of the darkness blurred with ``EDGE_SIGMA`` px) of the
colour page and the warped scan over the whole colour page, clipped to 0..1: 1 when every edge lies on an edge,
near 0 for unrelated pages (apart from the panel frames pages share). A pair scoring under ``min_score`` is refused.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..kernels.lab import rgb_to_lab

MIN_SCORE = 0.4  # edge correlation under which a pair counts as not aligned (unrelated pages share only frames)
MAX_SIZE_RATIO = 2.0  # a scan side more than this factor larger or smaller than the colour page's is refused
MIN_CHROMA = 10.0  # Lab chroma above which a pixel counts as coloured (the metrics' "coloured" mask)
MIN_COLOURED_FRACTION = 0.005  # a colour page with fewer coloured pixels than this is grey
IDENTITY_TOL_PX = 0.25  # a transform moving no page corner further than this is taken as the identity
ALIGN_SIGMA = 1.5  # px at each pyramid level: blur of the darkness maps ECC aligns
EDGE_SIGMA = 2.0  # px: blur of the darkness before the gradient, for the score
COARSEST_SIDE = 96  # px: the pyramid's coarsest level keeps the short side at least this long
LINE_MIN_AREA = 48  # px: dark shapes smaller than this in the overlay are screentone dots, not line art
LINE_MAX_GREY = 128  # grey values below this are ink in the overlay
OVERLAY_INK = (230, 0, 170)  # RGB magenta of the scan's line art in draw_overlay
PAPER = 255  # grey value given to colour-page pixels the warped scan does not cover


class RegistrationError(ValueError):
    """A B&W/colour pair that cannot be registered; the message names the page and why."""


@dataclass(frozen=True)
class Registration:
    """A B&W scan registered onto its colour page."""

    bw: np.ndarray  # (H, W) uint8: the scan resampled onto the colour page's grid, PAPER where it does not reach
    matrix: np.ndarray  # (2, 3) float64: scan pixel (x, y, 1) -> colour-page pixel (x, y)
    score: float  # edge-map correlation of the warped scan and the colour page, 0..1


def _darkness(gray: np.ndarray, factor: int, sigma: float) -> np.ndarray:
    """float32 (h / factor, w / factor): 255 - grey, area-downsampled by ``factor`` and blurred by ``sigma`` px."""
    img = gray
    if factor > 1:
        h, w = gray.shape
        img = cv2.resize(gray, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(255.0 - img.astype(np.float32), (0, 0), sigma)


def _edges(gray: np.ndarray, sigma: float) -> np.ndarray:
    """float32 (H, W): gradient magnitude of the darkness blurred by ``sigma`` px."""
    d = _darkness(gray, 1, sigma)
    return cv2.magnitude(cv2.Sobel(d, cv2.CV_32F, 1, 0), cv2.Sobel(d, cv2.CV_32F, 0, 1))


def alignment_score(bw: np.ndarray, color_gray: np.ndarray, sigma: float = EDGE_SIGMA) -> float:
    """Correlation of the edge maps (blur ``sigma`` px) of two same-size uint8 (H, W) pages, clipped to 0..1
    (0 if either is flat)."""
    a, b = _edges(bw, sigma).ravel(), _edges(color_gray, sigma).ravel()
    a, b = a - a.mean(), b - b.mean()
    denom = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
    return float(np.clip(np.dot(a, b) / denom, 0.0, 1.0)) if denom > 0 else 0.0


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points (N, 2) (x, y) through a (2, 3) affine matrix."""
    return points @ matrix[:, :2].T + matrix[:, 2]


def _corners(shape: tuple[int, int]) -> np.ndarray:
    """The four corners (4, 2) (x, y) of a page of shape (H, W), in pixel-edge coordinates."""
    h, w = shape[:2]
    return np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]])


def corner_error_px(matrix: np.ndarray, true_matrix: np.ndarray, shape: tuple[int, int]) -> float:
    """Mean distance, in colour-page px, between where ``matrix`` and ``true_matrix`` (both (2, 3) scan -> colour)
    put the scan content that truly belongs at the four corners of a colour page of shape (H, W)."""
    corners = _corners(shape)
    scan_points = _apply(cv2.invertAffineTransform(np.asarray(true_matrix, np.float64)), corners)
    return float(np.linalg.norm(_apply(np.asarray(matrix, np.float64), scan_points) - corners, axis=1).mean())


def _pyramid(shape: tuple[int, int]) -> list[int]:
    """Downsampling factors, coarsest first, down to 1, keeping the short side >= COARSEST_SIDE."""
    factors = [1]
    while min(shape) // (factors[-1] * 2) >= COARSEST_SIDE:
        factors.append(factors[-1] * 2)
    return factors[::-1]


def _ecc(bw: np.ndarray, color_gray: np.ndarray, warp: np.ndarray) -> np.ndarray | None:
    """Refine ``warp`` ((2, 3) colour -> scan px) by coarse-to-fine ECC; None where ECC fails to converge."""
    warp = warp.astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-6)
    for factor in _pyramid(color_gray.shape):
        scaled = warp.copy()
        scaled[:, 2] /= factor
        try:
            _, scaled = cv2.findTransformECC(_darkness(color_gray, factor, ALIGN_SIGMA),
                                             _darkness(bw, factor, ALIGN_SIGMA), scaled, cv2.MOTION_AFFINE,
                                             criteria, None, 1)
        except cv2.error:  # the correlation fell apart (nothing in common) or the warp left the image
            return None
        warp = scaled.copy()
        warp[:, 2] *= factor
    return warp.astype(np.float64)


def _feature_guess(bw: np.ndarray, color_gray: np.ndarray) -> np.ndarray | None:
    """A RANSAC similarity ((2, 3) colour -> scan px) from ORB matches of the two darkness maps; None if too few."""
    factor = max(1, max(color_gray.shape) // 1024)
    maps = [np.clip(_darkness(g, factor, ALIGN_SIGMA), 0, 255).astype(np.uint8) for g in (color_gray, bw)]
    orb = cv2.ORB_create(nfeatures=4000)
    (kc, dc), (kb, db) = (orb.detectAndCompute(m, None) for m in maps)
    if dc is None or db is None or len(kc) < 8 or len(kb) < 8:
        return None
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(dc, db)
    if len(matches) < 8:
        return None
    src = np.float32([kc[m.queryIdx].pt for m in matches]) * factor
    dst = np.float32([kb[m.trainIdx].pt for m in matches]) * factor
    warp, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0 * factor)
    if warp is None or int(inliers.sum()) < 12:
        return None
    return warp


def _scale(matrix: np.ndarray) -> float:
    """The mean linear scale (colour px per scan px) of a (2, 3) scan -> colour matrix."""
    return float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))


def _warp(bw: np.ndarray, matrix: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The scan resampled (bilinear) onto a (H, W) grid through ``matrix`` (scan -> colour), PAPER outside; a scan
    shrunk by the warp is low-passed first so that its screentones do not alias into moire."""
    h, w = shape
    shrink = 1.0 / _scale(matrix)
    if shrink > 1.0:
        bw = cv2.GaussianBlur(bw, (0, 0), 0.5 * np.sqrt(shrink ** 2 - 1.0))
    return cv2.warpAffine(bw, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=PAPER)


def _check_inputs(bw: np.ndarray, color: np.ndarray, label: str, max_size_ratio: float) -> None:
    """Raise RegistrationError naming ``label`` for wrong dtypes/shapes, too different sizes or a grey colour page."""
    if bw.dtype != np.uint8 or bw.ndim != 2:
        raise RegistrationError(f"{label}: the B&W page must be uint8 (h, w), got {bw.dtype} {bw.shape}")
    if color.dtype != np.uint8 or color.ndim != 3 or color.shape[2] != 3:
        raise RegistrationError(f"{label}: the colour page must be uint8 (H, W, 3), got {color.dtype} {color.shape}")
    for side, n_bw, n_color in (("height", bw.shape[0], color.shape[0]), ("width", bw.shape[1], color.shape[1])):
        if min(n_bw, n_color) == 0 or max(n_bw / n_color, n_color / n_bw) > max_size_ratio:
            raise RegistrationError(
                f"{label}: B&W scan {bw.shape[0]}x{bw.shape[1]} and colour page {color.shape[0]}x{color.shape[1]} "
                f"differ in {side} by more than a factor of {max_size_ratio:g}; they are not the same page at two "
                "resolutions (rescale the scan first if they are)")
    lab = rgb_to_lab(color)
    coloured = float(np.mean(np.hypot(lab[..., 1], lab[..., 2]) > MIN_CHROMA))
    if coloured < MIN_COLOURED_FRACTION:
        raise RegistrationError(
            f"{label}: the colour page is grey ({coloured:.2%} of its pixels have Lab chroma above {MIN_CHROMA:g}, "
            f"fewer than {MIN_COLOURED_FRACTION:.1%}); it cannot teach colour")


def register_pair(bw: np.ndarray, color: np.ndarray, name: str = "", *, min_score: float = MIN_SCORE,
                  max_size_ratio: float = MAX_SIZE_RATIO) -> Registration:
    """Register a B&W scan uint8 (h, w) onto its colour page uint8 (H, W, 3) (``name`` labels errors).

    Returns the scan warped to (H, W), the (2, 3) scan -> colour transform and the alignment score. A transform
    within IDENTITY_TOL_PX of the identity on a same-size pair is taken as the identity and the scan comes back
    unresampled. Raises RegistrationError (naming ``name``) for sizes differing by more than ``max_size_ratio``, a
    grey colour page, or a pair whose best alignment scores under ``min_score``.
    """
    label = name or "page pair"
    bw, color = np.ascontiguousarray(bw), np.ascontiguousarray(color)
    _check_inputs(bw, color, label, max_size_ratio)
    color_gray = cv2.cvtColor(color, cv2.COLOR_RGB2GRAY)
    shape = color_gray.shape
    (h, w), (H, W) = bw.shape, shape
    cover = np.array([[w / W, 0.0, 0.0], [0.0, h / H, 0.0]])  # colour -> scan: the scan spans the colour page

    best: Registration | None = None
    for guess in (lambda: cover, lambda: _feature_guess(bw, color_gray)):
        start = guess()
        warp = _ecc(bw, color_gray, start) if start is not None else None
        if warp is None:
            continue
        matrix = cv2.invertAffineTransform(warp)
        if bw.shape == shape and corner_error_px(matrix, np.eye(2, 3), shape) <= IDENTITY_TOL_PX:
            matrix, warped = np.eye(2, 3), bw.copy()
        else:
            warped = _warp(bw, matrix, shape)
        # an enlarged scan is blurred by its enlargement: compare edges at that blur on both pages
        sigma = EDGE_SIGMA * max(1.0, _scale(matrix))
        found = Registration(warped, matrix, alignment_score(warped, color_gray, sigma))
        if best is None or found.score > best.score:
            best = found
        if best.score >= min_score:
            break
    if best is None or best.score < min_score:
        got = "ECC did not converge" if best is None else f"its best alignment scores {best.score:.3f}"
        raise RegistrationError(f"{label}: the B&W scan does not align with the colour page ({got}; at least "
                                f"{min_score:g} is needed): are they the same page?")
    return best


def _line_art(bw: np.ndarray) -> np.ndarray:
    """bool (H, W): the dark pixels (< LINE_MAX_GREY) of a B&W page that form connected shapes of at least
    LINE_MIN_AREA px: its line art and solid blacks, without the isolated dots of light screentones."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats((bw < LINE_MAX_GREY).astype(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= LINE_MIN_AREA
    keep[0] = False  # the background component
    return keep[labels]


def draw_overlay(color: np.ndarray, registration: Registration) -> np.ndarray:
    """RGB uint8 (H, W, 3): the colour page faded toward white (its own line art turns grey) with the registered
    scan's line art (``_line_art``) in magenta on top.

    Where the registration is right, magenta covers the grey line art; an offset shows as grey lines doubled beside
    magenta ones.
    """
    out = (0.45 * color.astype(np.float32) + 140.0).astype(np.uint8)
    out[_line_art(registration.bw)] = OVERLAY_INK
    return out
