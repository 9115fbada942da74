"""Held-out scores per hypercolumn cell: the grey baseline, an oracle head and a trained head on tiny chapters."""
import h5py
import numpy as np
import pandas as pd
import torch
from torch import nn

from mangacolor.data.dataset import TileDataset
from mangacolor.evaluate.scores import score_head, write_scores


class OracleRegression(nn.Module):
    """Recovers the chapter's true ab from the two feature channels it was made of (see write_chapter)."""

    def __init__(self, mean0, mean7):
        super().__init__()
        self.mean0, self.mean7 = mean0, mean7

    def forward(self, x):
        return torch.stack([x[:, 0] / self.mean0, x[:, 7] / self.mean7], 1) * 25 - 30


def test_grey_baseline_scores_the_cells_whose_nearest_bin_is_grey(tmp_path, heads):
    fp, lp = heads.write_chapter(tmp_path, "test", 6, seed=5)
    with h5py.File(lp) as f:
        hard = f["hard"][()]
    centers = heads.centers()
    grey_bin = int(np.argmin(np.linalg.norm(centers, axis=1)))
    s = score_head(None, {}, TileDataset([fp], [lp]), centers)
    assert s["cells"] == hard.size
    assert s["top1"] == (hard == grey_bin).mean()
    assert s["chroma_ratio"] == 0.0


def test_an_oracle_head_scores_top1_one_and_chroma_ratio_one(tmp_path, heads):
    fp, lp = heads.write_chapter(tmp_path, "test", 6, seed=5)
    with h5py.File(fp) as f:
        x = f["x"][()].astype(np.float64)
    # heads.write_chapter derives ab from the float64 features; the stored float16 ones round a little
    oracle = OracleRegression(x[:, 0].mean(), x[:, 7].mean())
    s = score_head(oracle, {"kind": "regression"}, TileDataset([fp], [lp]), heads.centers())
    assert s["top1"] > 0.97 and s["top5"] == 1.0
    assert abs(s["chroma_ratio"] - 1) < 0.01


def test_write_scores_ranks_a_trained_classifier_above_the_grey_baseline(tmp_path, heads):
    features, labels = [], []
    for name, n, seed in (("ch1", 24, 1), ("ch2", 18, 2)):
        f, l = heads.write_chapter(tmp_path, name, n, seed)
        features.append(f)
        labels.append(l)
    out = tmp_path / "run"
    heads.run((features, labels), out, optimizer="adam", lr=0.01, epochs=6)
    test_f, test_l = heads.write_chapter(tmp_path, "held-out", 6, seed=9)
    bins = tmp_path / "bins.npz"
    np.savez(bins, centers=heads.centers(), step=20, rule="test", weights=np.ones(len(heads.centers())))
    table = write_scores(test_f, test_l, bins, [out / "model.pt"], tmp_path / "scores.csv")
    saved = pd.read_csv(tmp_path / "scores.csv")
    assert list(saved.model) == ["gray", "run"] and list(saved.kind) == ["baseline", "classification"]
    assert (saved.cells == 6 * 8 * 8).all()
    assert saved.top1[1] > saved.top1[0] + 0.1
    assert np.allclose(saved.top1, table.top1, atol=1e-6)
