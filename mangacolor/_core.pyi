"""Signatures of the compiled C++ core (csrc/bindings.cpp); use the wrappers in mangacolor.kernels."""
import numpy as np
from numpy.typing import NDArray

__version__: str

def pad_and_tile(page: NDArray[np.uint8], canvas: int, tile: int, y0: int, x0: int
                 ) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
    """uint8 page (H, W[, C]) placed at (y0, x0) on a black canvas -> (tiles (N, T, T[, C]), blank (N,))."""
def rgb_to_lab(rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    """uint8 sRGB (..., 3) -> float32 Lab (D65)."""
def lab_to_rgb(lab: NDArray[np.float32], as_float: bool = False) -> NDArray[np.uint8] | NDArray[np.float32]:
    """float32 Lab (..., 3) -> uint8 sRGB (rounded), or float32 in [0, 1] when as_float."""
def build_knn_lut(centers: NDArray[np.float32], k: int, lo: float, res: float, n: int
                  ) -> tuple[NDArray[np.int32], NDArray[np.int16]]:
    """Candidate-bin table for k-nearest-bin lookups -> (offsets int32, cand int16)."""
def knn_encode(ab: NDArray[np.float32], centers: NDArray[np.float32], lut: tuple, lo: float, res: float, n: int,
               k: int, sigma: float, weights: bool
               ) -> NDArray[np.int16] | tuple[NDArray[np.int16], NDArray[np.float32]]:
    """float32 ab (..., 2) -> k nearest bins int16 (..., k) [and normalised Gaussian weights float32]."""
