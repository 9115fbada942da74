"""How many times larger than the training pages a page is drawn, from its screentones.

The network's filters and the hypercolumn grid are in pixels, so a page scanned at another resolution than the
training pages must be resized to the training scale before the native pass. Screentones are printed with a fixed
ruling, and a page drawn s times larger shows each screen frequency f at f / s. `screen_profile` condenses a page
into its whitened log power spectrum, averaged over directions, on a log-frequency grid (`FREQS`), where a change
of scale is a shift; `estimate_scale` finds the shift that best aligns a page's profile with the training pages'
(`reference_profile`: the array a model records, one value per frequency of `FREQS`).

Why screens and not line width: line art is drawn 1-3 px wide with crisp edges, so stroke widths are a few
integers whose mix changes with resampling (halving a page removes its 1 px lines), while a screen's peaks
survive resampling and move exactly with the scale. A page without screentones (line art only, a blank page) has
no peaks: `estimate_scale` then returns None and `to_reference_scale` keeps the page at scale 1 with a warning.
"""
from __future__ import annotations

import warnings
from typing import Iterable

import cv2
import numpy as np

#: Frequencies (cycles per pixel) of a profile's entries, evenly spaced in log f; a factor s in scale is a shift
#: by log(s) / LOG_STEP entries.
FREQS = np.geomspace(0.02, 0.5, 160)
LOG_STEP = float(np.log(FREQS[1] / FREQS[0]))
#: Trend removed from the log spectrum: its running median over this half-width in log f.
TREND_HALF_WIDTH = 0.25
#: Spectrum windows: square, a power of two between these sides; at most MAX_WINDOWS_PER_SIDE per axis.
MAX_WINDOW, MIN_SIDE, MAX_WINDOWS_PER_SIDE = 512, 128, 8
#: A page shows screens when some frequency's power stands this far (natural log) above its trend.
MIN_PEAK = 1.0
#: ... and its profile, shifted, matches the reference at least this well (cosine of the two profiles; pages with
#: few screened regions match less well, and below this a shift is as likely wrong as right).
MIN_MATCH = 0.55
#: Scales searched, and the relative difference below which `to_reference_scale` does not resample.
SCALE_RANGE = (0.35, 5.0)
SCALE_TOLERANCE = 0.05


def check_page(gray: np.ndarray) -> np.ndarray:
    """The page as a NumPy array; ValueError naming its shape and dtype unless it is a non-empty (H, W) uint8."""
    gray = np.asarray(gray)
    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise ValueError(f"page must be grey (H, W) uint8, got shape {gray.shape} dtype {gray.dtype}")
    if 0 in gray.shape:
        raise ValueError(f"page is empty: shape {gray.shape}")
    return gray


def _starts(length: int, win: int) -> np.ndarray:
    """Window starts along one axis: half-overlapping, at most MAX_WINDOWS_PER_SIDE spread over the length."""
    n = min(MAX_WINDOWS_PER_SIDE, (length - win) // (win // 2) + 1)
    return np.linspace(0, length - win, n).round().astype(int)


def screen_profile(gray: np.ndarray) -> np.ndarray | None:
    """Whitened log power spectrum of a grey page (H, W) uint8 at `FREQS` -> float32 (len(FREQS),), >= 0.

    The power spectrum is averaged over Hann-windowed squares of the page and over directions (integer radii);
    its log, read at each frequency of FREQS, minus its running median (TREND_HALF_WIDTH), clipped at 0, keeps
    the peaks. Frequencies the windows cannot resolve (under 3 cycles per window) are 0. None for a page with a
    side under MIN_SIDE px.
    """
    gray = check_page(gray)
    h, w = gray.shape
    if min(h, w) < MIN_SIDE:
        return None
    win = min(MAX_WINDOW, 1 << int(np.log2(min(h, w))))
    hann = np.outer(np.hanning(win), np.hanning(win)).astype(np.float32)
    power = np.zeros((win, win // 2 + 1), np.float64)
    for y in _starts(h, win):
        for x in _starts(w, win):
            t = gray[y:y + win, x:x + win].astype(np.float32)
            power += np.abs(np.fft.rfft2((t - t.mean()) * hann)) ** 2
    radius = np.rint(np.hypot(np.fft.fftfreq(win)[:, None], np.fft.rfftfreq(win)[None, :]) * win).astype(np.intp)
    radial = np.bincount(radius.ravel(), power.ravel()) / np.maximum(np.bincount(radius.ravel()), 1)
    log_power = np.log(radial[:win // 2 + 1] + 1e-9)
    at = FREQS * win
    valid = at >= 3
    lp = np.interp(at, np.arange(win // 2 + 1), log_power)
    half = int(round(TREND_HALF_WIDTH / LOG_STEP))
    profile = np.zeros(len(FREQS), np.float32)
    for i in np.flatnonzero(valid):
        near = slice(max(0, i - half), i + half + 1)
        profile[i] = max(0.0, lp[i] - np.median(lp[near][valid[near]]))
    return profile


def reference_profile(pages: Iterable[np.ndarray]) -> np.ndarray:
    """Mean `screen_profile` of training pages: what a model records to rescale pages later, float32 (len(FREQS),).

    Raises ValueError if no page is large enough or none shows a screen (MIN_PEAK).
    """
    profiles = [p for p in map(screen_profile, pages) if p is not None]
    if not profiles:
        raise ValueError(f"no page of at least {MIN_SIDE} x {MIN_SIDE} px to take a reference screen profile from")
    ref = np.mean(profiles, axis=0).astype(np.float32)
    if ref.max() < MIN_PEAK:
        raise ValueError("the reference pages show no screentone (no spectral peak): their scale cannot be "
                         "recorded; colourise pages at their own scale")
    return ref


def estimate_scale(gray: np.ndarray, reference: np.ndarray) -> float | None:
    """How many times larger than the reference pages the page (H, W) uint8 is drawn (2.0: scanned at twice the
    resolution; resize by 1 / scale to match), or None when the page shows no screen it can be measured by.

    None: a side under MIN_SIDE px, no spectral peak of MIN_PEAK, or no shift within SCALE_RANGE matching the
    reference to MIN_MATCH. The shift is refined to a fraction of a grid step by a parabola through the best
    match and its neighbours.
    """
    ref = np.asarray(reference, np.float32)
    if ref.shape != FREQS.shape:
        raise ValueError(f"reference must be a screen profile of shape {FREQS.shape} (reference_profile), "
                         f"got {ref.shape}")
    page = screen_profile(gray)
    if page is None or page.max() < MIN_PEAK or not ref.any():
        return None
    shifts = np.arange(int(np.floor(np.log(SCALE_RANGE[0]) / LOG_STEP)),
                       int(np.ceil(np.log(SCALE_RANGE[1]) / LOG_STEP)) + 1)
    n = len(FREQS)
    scores = np.empty(len(shifts))
    for k, d in enumerate(shifts):  # a page s times larger shows at index i - d what the reference shows at i
        if d >= 0:
            scores[k] = page[:n - d] @ ref[d:]
        else:
            scores[k] = page[-d:] @ ref[:n + d]
    scores /= np.linalg.norm(page) * np.linalg.norm(ref)
    k = int(scores.argmax())
    if scores[k] < MIN_MATCH:
        return None
    offset = 0.0
    if 0 < k < len(scores) - 1:
        a, b, c = scores[k - 1:k + 2]
        if a - 2 * b + c < 0:
            offset = 0.5 * (a - c) / (a - 2 * b + c)
    return float(np.exp((shifts[k] + offset) * LOG_STEP))


def to_reference_scale(gray: np.ndarray, reference: np.ndarray | None) -> tuple[np.ndarray, float]:
    """(page resized to the reference's scale, the page's scale): a grey page (H, W) uint8 in, the same out.

    No reference, or a scale within SCALE_TOLERANCE of 1: the page itself and 1.0. No measurable screen: the page
    itself and 1.0, with a warning. Otherwise the page resized by 1 / scale (`resize_by_scale`).
    """
    gray = check_page(gray)
    if reference is None:
        return gray, 1.0
    scale = estimate_scale(gray, reference)
    if scale is None:
        warnings.warn(f"page {gray.shape[1]}x{gray.shape[0]} (width x height): no screentone to measure its scale "
                      "by; colourising it at the training scale (1.0)", stacklevel=2)
        return gray, 1.0
    return resize_by_scale(gray, scale), (1.0 if abs(scale - 1.0) < SCALE_TOLERANCE else scale)


def resize_by_scale(gray: np.ndarray, scale: float) -> np.ndarray:
    """A page drawn ``scale`` times larger than the training pages, resized by 1 / scale (area averaging when
    shrinking); the page itself within SCALE_TOLERANCE of 1."""
    if abs(scale - 1.0) < SCALE_TOLERANCE:
        return gray
    h, w = gray.shape
    size = (max(1, round(w / scale)), max(1, round(h / scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA if scale > 1 else cv2.INTER_LINEAR)
