"""Grid targets and the bin prior counted on them."""
import h5py
import numpy as np

from mangacolor.data.targets import load_bins, write_bins, write_targets
from mangacolor.kernels.bins import ABQuantizer
from mangacolor.kernels.lab import rgb_to_lab


def _tiles(path, color):
    with h5py.File(path, "w") as f:
        f["color"] = color
        f["gray"] = color.mean(-1).astype(np.uint8)
        f["page"] = np.zeros(len(color), np.int32)
    return path


def test_prior_counts_the_grid_targets_the_loss_sees(tmp_path):
    # A fine red/blue checkerboard: every pixel is saturated, every 8x8 cell averages to one purple blend.
    yy, xx = np.mgrid[:32, :32]
    color = np.where(((yy + xx) % 2 == 0)[..., None], [220, 30, 30], [30, 30, 220]).astype(np.uint8)[None]
    tiles = _tiles(tmp_path / "tiles.h5", color)
    targets = tmp_path / "targets.h5"
    write_targets(tiles, targets, grid=4)
    write_bins([targets], tmp_path / "bins.npz", step=10, rule="gamut", lam=0.5)
    bins = load_bins(tmp_path / "bins.npz")
    quantizer = ABQuantizer(10, "gamut")
    with h5py.File(targets) as f:
        grid_hard = quantizer.hard(f["ab"][()].astype(np.float32))
    assert bins["counts"].sum() == 16 and int(bins["grid"]) == 4  # one count per grid cell, not per pixel
    assert np.array_equal(bins["counts"], np.bincount(grid_hard.ravel(), minlength=len(quantizer.centers)))
    pixel_bins = set(np.unique(quantizer.hard(rgb_to_lab(color)[..., 1:])))
    assert not set(np.flatnonzero(bins["counts"])) & pixel_bins  # the blend, which no single pixel has
