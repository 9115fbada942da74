"""sRGB <-> CIE Lab.

Lab is CIE L*a*b* under D65 (2 degree observer) with skimage.color's constants, float32, L in 0..100. The C++
kernels (``mangacolor._core``) agree with ``skimage.color.rgb2lab``/``lab2rgb`` to 1e-3; ``*_ref`` functions are
the plain NumPy statement of the same formulas.
"""
from __future__ import annotations

import numpy as np

from .. import _core

# skimage.color.colorconv constants: sRGB primaries and the D65 2-degree white point.
XYZ_FROM_RGB = np.array([[0.412453, 0.357580, 0.180423],
                         [0.212671, 0.715160, 0.072169],
                         [0.019334, 0.119193, 0.950227]])
RGB_FROM_XYZ = np.linalg.inv(XYZ_FROM_RGB)
WHITE_D65 = np.array([0.95047, 1.0, 1.08883])

def check_last(x: np.ndarray, n: int, name: str) -> None:
    if x.ndim < 1 or x.shape[-1] != n:
        raise ValueError(f"{name} must have shape (..., {n}), got {x.shape}")


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """uint8 sRGB (..., 3) -> float32 Lab (..., 3) (C++; any strides, no copy). Other dtypes raise ValueError."""
    return _core.rgb_to_lab(np.asarray(rgb))


def lab_to_rgb(lab: np.ndarray, dtype=np.uint8) -> np.ndarray:
    """float Lab (..., 3) -> sRGB (..., 3): uint8 rounded, or float32 in [0, 1] with ``dtype=np.float32`` (C++).

    Float inputs other than float32 are converted to float32 first; integer inputs raise ValueError. Out-of-gamut
    colours are clipped per channel, as skimage does (which also clips negative z, without its warning here).
    """
    lab = np.asarray(lab)
    if lab.dtype.kind != "f":
        raise ValueError(f"lab must have a floating dtype (float32 preferred), got {lab.dtype}")
    if np.dtype(dtype) not in (np.dtype(np.uint8), np.dtype(np.float32)):
        raise ValueError(f"dtype must be uint8 or float32, got {np.dtype(dtype)}")
    return _core.lab_to_rgb(lab.astype(np.float32, copy=False), np.dtype(dtype) == np.float32)


def rgb_to_lab_ref(rgb: np.ndarray) -> np.ndarray:
    """NumPy reference of ``rgb_to_lab`` (skimage's formulas, float64 inside)."""
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8:
        raise ValueError(f"rgb must have dtype uint8, got {rgb.dtype}")
    check_last(rgb, 3, "rgb")
    s = rgb / 255.0
    lin = np.where(s > 0.04045, ((s + 0.055) / 1.055) ** 2.4, s / 12.92)
    t = lin @ XYZ_FROM_RGB.T / WHITE_D65
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16.0 / 116.0)
    lab = np.stack([116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], -1)
    return lab.astype(np.float32)


def lab_to_rgb_ref(lab: np.ndarray, dtype=np.uint8) -> np.ndarray:
    """NumPy reference of ``lab_to_rgb`` (skimage's formulas, float64 inside)."""
    lab = np.asarray(lab, np.float64)
    check_last(lab, 3, "lab")
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([fy + lab[..., 1] / 500.0, fy, np.maximum(fy - lab[..., 2] / 200.0, 0.0)], -1)
    xyz = np.where(f > 0.2068966, f ** 3, (f - 16.0 / 116.0) / 7.787) * WHITE_D65
    lin = xyz @ RGB_FROM_XYZ.T
    with np.errstate(invalid="ignore"):
        s = np.where(lin > 0.0031308, 1.055 * np.abs(lin) ** (1 / 2.4) - 0.055, 12.92 * lin)
    s = np.clip(s, 0.0, 1.0)
    if np.dtype(dtype) == np.float32:
        return s.astype(np.float32)
    return np.round(s * 255).astype(np.uint8)
