"""Sparse hypercolumn storage (features.sample): what the file keeps, what training and scoring read from it."""
import h5py
import numpy as np
import pytest

from mangacolor.data.cells import stratified_cells
from mangacolor.data.dataset import TileDataset
from mangacolor.evaluate.scores import score_head
from mangacolor.features.backbone import Hypercolumns, load_vgg_features
from mangacolor.features.hypercolumns import compute, extract_to_h5
from mangacolor.model.load import load_model


@pytest.fixture(scope="module")
def model():
    features, info = load_vgg_features("random", seed=0)
    return Hypercolumns(features, "default", grid=8, convention=info)


def test_sparse_file_keeps_the_dense_hypercolumns_of_the_sampled_cells(model, tmp_path):
    tiles = np.random.default_rng(0).integers(0, 256, (5, 32, 32), dtype=np.uint8)
    rng = np.random.default_rng(1)
    cells = np.sort(np.stack([rng.choice(64, 10, replace=False) for _ in range(5)]), 1).astype(np.int32)
    weight = rng.uniform(1, 10, (5, 10)).astype(np.float32)
    out = tmp_path / "sparse.h5"
    extract_to_h5(tiles, out, model, batch_size=2, device="cpu", progress=False, cells=cells, cell_weights=weight)
    dense = compute(model, tiles, batch_size=2, device="cpu").reshape(5, model.channels, 64)
    with h5py.File(out, "r") as f:
        assert f["x"].shape == (5, model.channels, 10) and f["x"].dtype == np.float16
        assert f.attrs["sample"] == 10 and f.attrs["grid"] == 8
        np.testing.assert_array_equal(f["cells"][:], cells)
        np.testing.assert_array_equal(f["weight"][:], weight)
        expected = np.take_along_axis(dense, cells[:, None, :].astype(np.int64), 2).astype(np.float16)
        np.testing.assert_allclose(f["x"][:].astype(np.float32), expected.astype(np.float32), rtol=1e-3, atol=1e-3)
    with pytest.raises(ValueError, match="N = 5"):
        extract_to_h5(tiles, tmp_path / "bad.h5", model, device="cpu", progress=False, cells=cells[:3],
                      cell_weights=weight[:3])
    assert not (tmp_path / "bad.h5").exists()


def sparsify(features, labels, out, n, seed=0):
    """A sparse copy of a dense features file, sampled on its labels' hard bins (as `hypercolumns --sample`)."""
    with h5py.File(features, "r") as f, h5py.File(labels, "r") as g:
        x, hard = f["x"][:], g["hard"][:]
    samples = [stratified_cells(h, n, np.random.default_rng([seed, i])) for i, h in enumerate(hard)]
    cells = np.stack([c for c, _ in samples])
    with h5py.File(out, "w") as f:
        f["x"] = np.take_along_axis(x.reshape(*x.shape[:2], -1), cells[:, None, :].astype(np.int64), 2)
        f["cells"], f["weight"] = cells, np.stack([w for _, w in samples])
        f.attrs.update(grid=x.shape[-1], sample=n)
    return out


@pytest.fixture
def sparse_chapters(tmp_path, heads):
    dense, sparse = ([], []), ([], [])
    for name, n, seed in (("ch1", 24, 1), ("ch2", 18, 2)):
        fp, lp = heads.write_chapter(tmp_path, name, n, seed)
        dense[0].append(fp), dense[1].append(lp)
        sparse[0].append(sparsify(fp, lp, tmp_path / f"sparse-{name}.h5", 16)), sparse[1].append(lp)
    return dense, sparse


def test_dataset_gathers_labels_at_the_stored_cells(sparse_chapters, heads):
    dense, sparse = TileDataset(*sparse_chapters[0]), TileDataset(*sparse_chapters[1])
    assert sparse.sparse and not dense.sparse and (sparse.sample, sparse.grid) == (16, heads.G)
    item, full = sparse[30], dense[30]
    cells = sparse.cells(30)
    ys, xs = np.unravel_index(cells, (heads.G, heads.G))
    assert item["x"].shape == (heads.C, 16, 1) and item["idx"].shape == (heads.K, 16, 1)
    np.testing.assert_array_equal(item["x"][:, :, 0].numpy(), full["x"][:, ys, xs].numpy())
    for key in ("ab", "idx", "w"):
        np.testing.assert_array_equal(item[key][:, :, 0].numpy(), full[key][:, ys, xs].numpy())
    np.testing.assert_array_equal(item["hard"][:, 0].numpy(), full["hard"][ys, xs].numpy())
    assert item["weight"].shape == (16, 1) and float(item["weight"].sum()) == pytest.approx(heads.G ** 2)
    np.testing.assert_array_equal(sparse.grid_ab(30), full["ab"].permute(1, 2, 0).numpy())
    with pytest.raises(ValueError, match="sample"):  # sparse and dense chapters do not mix
        TileDataset([sparse_chapters[1][0][0], sparse_chapters[0][0][1]], sparse_chapters[0][1])


def test_training_on_the_sample_learns_as_dense_training_does(sparse_chapters, tmp_path, heads):
    (dense, sparse) = sparse_chapters
    kw = dict(optimizer="adam", lr=0.01, epochs=8)
    h_dense = heads.run(dense, tmp_path / "dense", **kw)
    h_sparse = heads.run(sparse, tmp_path / "sparse", **kw)
    assert h_sparse.val_top1.iloc[-1] > h_sparse.val_top1.iloc[0] + 0.1
    assert abs(h_sparse.val_top1.iloc[-1] - h_dense.val_top1.iloc[-1]) < 0.1
    model, meta = load_model(tmp_path / "sparse" / "model.pt")
    assert meta["sample"] == 16 and meta["grid"] == heads.G
    with np.load(tmp_path / "sparse" / "samples.npz") as z:  # pictures on the full grid, from the sampled cells
        assert z["epoch_8"].shape[1:] == (heads.G, heads.G, 2) and z["ab_true"].shape[1:] == (heads.G, heads.G, 2)
    with pytest.raises(ValueError, match="per-cell head"):
        heads.run(sparse, tmp_path / "k3", kernel=3, widths=(16, 16))


def test_scores_on_the_sample_estimate_the_dense_scores(sparse_chapters, tmp_path, heads):
    """Each sampled cell weighted by the cells it stands for: sampled scores estimate the dense ones."""
    dense, sparse = (TileDataset(*c) for c in sparse_chapters)
    centers = heads.centers()
    heads.run(sparse_chapters[0], tmp_path / "run", optimizer="adam", lr=0.01, epochs=4)
    model, meta = load_model(tmp_path / "run" / "model.pt")
    # The grey baseline's hits depend on the cell's bin alone, which the sample is stratified on: exact (the plain
    # mean over the sampled cells, which over-represents rare bins, is not).
    a, b = score_head(None, {}, dense, centers), score_head(None, {}, sparse, centers)
    assert b["cells"] == 16 * len(sparse) and a["cells"] == heads.G ** 2 * len(dense)
    assert b["top1"] == pytest.approx(a["top1"], rel=1e-6) and b["top5"] == pytest.approx(a["top5"], rel=1e-6)
    a, b = score_head(model, meta, dense, centers), score_head(model, meta, sparse, centers)
    assert b["top1"] == pytest.approx(a["top1"], abs=0.03)
    assert b["chroma_ratio"] == pytest.approx(a["chroma_ratio"], rel=0.05)
