"""Abstention: confidence, the calibrated shrink of unsure cells, and its fit on validation pages."""
import numpy as np
import pytest
import torch
from torch import nn

from mangacolor.model.calibrate import calibrate_abstention
from mangacolor.model.decode import abstain, confidence, decode


def test_confidence_is_one_for_one_bin_and_zero_for_a_flat_distribution():
    sure = torch.full((1, 8, 1, 1), -50.0)
    sure[0, 3] = 50.0
    assert confidence(sure).item() == pytest.approx(1.0, abs=1e-6)
    assert confidence(torch.zeros(1, 8, 1, 1)).item() == pytest.approx(0.0, abs=1e-6)


def test_abstain_scales_by_the_factor_at_each_confidence():
    ab = np.full((1, 1, 3, 2), 40.0, np.float32)
    conf = np.array([[[0.0, 0.5, 1.0]]])
    out = abstain(ab, conf, {"levels": [0.2, 0.8], "factors": [0.0, 1.0]})
    np.testing.assert_allclose(out[0, 0, :, 0], [0.0, 20.0, 40.0])


def test_decode_with_abstention_keeps_sure_cells_and_greys_unsure_ones():
    centers = np.array([[0, 0], [50, 0], [0, 50]], np.float32)
    logits = torch.tensor([[-9.0, 9.0, -9.0], [0.0, 0.1, 0.0]]).T.reshape(1, 3, 1, 2)  # cell 0 sure, cell 1 flat
    plain = decode(logits, centers, "annealed_mean", 0.38)
    shrunk = decode(logits, centers, "annealed_mean", 0.38, abstention={"levels": [0.1, 0.9], "factors": [0, 1]})
    np.testing.assert_allclose(shrunk[0, 0, 0], plain[0, 0, 0], atol=1e-3)
    assert np.abs(shrunk[0, 0, 1]).max() < 0.2 * np.abs(plain[0, 0, 1]).max()


class Oracle(nn.Module):
    """Logits peaked on the bin nearest to each cell's true ab (known from the two feature channels) - or, with
    ``wrong``, on a bin chosen without looking at the truth: calibration must trust the first, not the second."""

    def __init__(self, centers, mean0, mean7, wrong=False):
        super().__init__()
        self.c, self.m0, self.m7, self.wrong = torch.as_tensor(centers), mean0, mean7, wrong

    def forward(self, x):
        ab = torch.stack([x[:, 0] / self.m0, x[:, 7] / self.m7], -1) * 25 - 30  # (B, G, G, 2)
        if self.wrong:
            ab = ab.roll(1, dims=1).flip(-1)
        d = torch.cdist(ab.reshape(-1, 2), self.c).reshape(*ab.shape[:3], -1)
        return (-d / 3.0).permute(0, 3, 1, 2)


def test_calibration_trusts_a_head_that_knows_and_greys_one_that_guesses(tmp_path, heads):
    import h5py

    fp, lp = heads.write_chapter(tmp_path, "ch", 24, seed=1)
    with h5py.File(fp) as f:
        x = f["x"][()].astype(np.float64)
    centers = heads.centers()
    args = ([fp], [lp], 0.5, 0, centers, 0.38, 5)
    good = calibrate_abstention(Oracle(centers, x[:, 0].mean(), x[:, 7].mean()), *args)
    bad = calibrate_abstention(Oracle(centers, x[:, 0].mean(), x[:, 7].mean(), wrong=True), *args)
    for cal in (good, bad):
        assert len(cal["levels"]) == len(cal["factors"]) == 5 and cal["cells"] > 0
        assert np.all(np.diff(cal["factors"]) >= 0) and 0 <= min(cal["factors"]) <= max(cal["factors"]) <= 1
        assert np.all(np.diff(cal["levels"]) >= 0)
    assert min(good["factors"]) > 0.8
    assert max(bad["factors"]) < min(good["factors"]) - 0.3
