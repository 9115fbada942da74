"""Sparse storage's cell sample: deterministic in the seed, every colour that occurs kept, unbiased weights."""
import h5py
import numpy as np
import pytest

from mangacolor.data.cells import fill_grid, gather_cells, sample_chapter_cells, stratified_cells
from mangacolor.kernels.bins import ABQuantizer

G = 28


def skewed_tile(seed: int) -> np.ndarray:
    """Bins (G, G) of a tile: a few large areas and a handful of bins of one or two cells."""
    rng = np.random.default_rng(seed)
    bins = np.repeat(rng.integers(0, 4, (G // 7, G // 7)), 7, 0).repeat(7, 1)  # 4x4 blocks of 4 common bins
    rare = rng.choice(G * G, 9, replace=False)
    bins.reshape(-1)[rare] = 100 + np.arange(9) // 2  # bins 100..104: one or two cells each
    return bins


@pytest.mark.parametrize("n", [16, 64, 200])
def test_sample_keeps_every_bin_and_its_weights_sum_to_the_tile(n):
    bins = skewed_tile(1)
    cells, weight = stratified_cells(bins, n, np.random.default_rng(0))
    assert cells.shape == weight.shape == (n,) and cells.dtype == np.int32
    assert np.all(np.diff(cells) > 0) and cells.max() < G * G  # distinct positions, in order
    assert set(np.unique(bins.reshape(-1)[cells])) == set(np.unique(bins))
    assert weight.sum() == pytest.approx(G * G)
    # every kept cell of a bin stands for the same share of that bin
    flat = bins.reshape(-1)
    for b in np.unique(flat):
        kept = flat[cells] == b
        assert weight[kept] == pytest.approx(np.full(kept.sum(), (flat == b).sum() / kept.sum()))


def test_common_bins_get_cells_in_proportion_to_their_area():
    bins = skewed_tile(2)
    flat = bins.reshape(-1)
    cells, _ = stratified_cells(bins, 200, np.random.default_rng(0))
    for b in np.unique(flat[flat < 100]):
        expected = 200 * (flat == b).sum() / flat.size
        assert abs((flat[cells] == b).sum() - expected) <= 3


def test_sample_is_deterministic_in_the_seed():
    bins = skewed_tile(3)
    a = stratified_cells(bins, 64, np.random.default_rng(5))
    b = stratified_cells(bins, 64, np.random.default_rng(5))
    c = stratified_cells(bins, 64, np.random.default_rng(6))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_weighted_mean_over_the_sample_estimates_the_mean_over_every_cell():
    """Rare bins are over-sampled; their weights undo it, so the weighted mean is unbiased and the plain one not."""
    bins = skewed_tile(4)
    value = (bins.reshape(-1) >= 100).astype(float) * 10 + np.random.default_rng(0).random(G * G)  # high on rare
    weighted, plain = [], []
    for seed in range(300):
        cells, weight = stratified_cells(bins, 32, np.random.default_rng(seed))
        weighted.append((value[cells] * weight).sum() / weight.sum())
        plain.append(value[cells].mean())
    assert np.mean(weighted) == pytest.approx(value.mean(), rel=0.01)
    assert np.mean(plain) > value.mean() * 1.5


def test_more_bins_than_cells_keeps_the_rarest():
    bins = np.arange(G * G) // 4  # 196 bins of 4 cells
    bins[:3] = [1000, 1001, 1002]  # three bins of one cell (bin 0 keeps one)
    cells, weight = stratified_cells(bins, 10, np.random.default_rng(0))
    kept = set(bins[cells].tolist())
    assert len(kept) == 10 and {1000, 1001, 1002, 0} <= kept
    with pytest.raises(ValueError, match="sample"):
        stratified_cells(bins, 0, np.random.default_rng(0))


def test_chapter_sample_reads_the_targets_and_does_not_depend_on_batching(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    palette = rng.uniform(-60, 60, (12, 2))  # a dozen colours, a few cells of some of them
    ab = palette[np.minimum(rng.geometric(0.3, (7, G, G)), 12) - 1].astype(np.float16)
    path = tmp_path / "targets.h5"
    with h5py.File(path, "w") as f:
        f["ab"] = ab
    cells, weight = sample_chapter_cells(path, 50, seed=3)
    assert cells.shape == weight.shape == (7, 50)
    hard = ABQuantizer(10, "gamut").hard(ab.astype(np.float32)).reshape(7, -1)
    for tile in range(7):
        assert set(hard[tile, cells[tile]]) == set(hard[tile])
    monkeypatch.setattr("mangacolor.data.cells.BATCH", 2)
    again = sample_chapter_cells(path, 50, seed=3)
    assert np.array_equal(again[0], cells) and np.array_equal(again[1], weight)
    assert not np.array_equal(sample_chapter_cells(path, 50, seed=4)[0], cells)
    with pytest.raises(ValueError, match=str(G * G - 1)):
        sample_chapter_cells(path, G * G, seed=3)


def test_fill_grid_puts_kept_cells_back_and_fills_from_the_nearest():
    values = np.arange(3.0)
    cells = np.array([0, 5 * 8 + 5, 63])
    grid = fill_grid(values, cells, 8)
    assert grid.shape == (8, 8)
    np.testing.assert_array_equal(gather_cells(grid, cells), values)
    assert grid[1, 1] == 0 and grid[5, 4] == 1 and grid[7, 6] == 2
