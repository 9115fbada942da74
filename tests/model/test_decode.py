"""Reading out a head: annealed mean and argmax decoding, nearest bins, top-k hits."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mangacolor.model.decode import annealed_mean, bin_hits, decode, nearest_bins

CENTERS = np.array([[a, b] for a in range(-110, 111, 10) for b in range(-110, 111, 10)], np.float32)


def test_one_hot_gives_the_bin_centre():
    idx = np.array([[0, 5], [17, len(CENTERS) - 1]])
    p = np.zeros((1, len(CENTERS), 2, 2), np.float32)
    for (i, j), q in np.ndenumerate(idx):
        p[0, q, i, j] = 1
    for method in ("argmax", "annealed_mean"):
        ab = decode(p, CENTERS, method, 0.38, probs=True)
        assert ab.shape == (1, 2, 2, 2) and ab.dtype == np.float32
        np.testing.assert_allclose(ab[0], CENTERS[idx], atol=1e-4)


def test_temperature_limits():
    rng = np.random.default_rng(0)
    logits = torch.tensor(rng.normal(0, 3, (2, len(CENTERS), 4, 4)), dtype=torch.float32)
    np.testing.assert_allclose(decode(logits, CENTERS, "annealed_mean", T=1e-3), decode(logits, CENTERS, "argmax", 1.0), atol=1e-3)
    p = torch.softmax(logits, 1).numpy()
    mean = np.einsum("bqhw,qc->bhwc", p, CENTERS)
    np.testing.assert_allclose(decode(logits, CENTERS, "annealed_mean", T=1.0), mean, atol=1e-3)
    np.testing.assert_allclose(decode(p, CENTERS, "annealed_mean", T=1.0, probs=True), mean, atol=1e-3)
    # lower temperature is between mean and mode: further from the mean than T=1
    t38 = decode(logits, CENTERS, "annealed_mean", T=0.38)
    assert np.abs(t38 - mean).mean() > 1.0
    with pytest.raises(ValueError):
        decode(logits, CENTERS, "annealed_mean", T=0.0)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2 ** 31), st.floats(0.05, 2.0))
def test_annealed_mean_stays_in_the_hull_of_centres(seed, T):
    logits = np.random.default_rng(seed).normal(0, 5, (1, len(CENTERS), 3, 3)).astype(np.float32)
    ab = decode(logits, CENTERS, "annealed_mean", T=T)
    assert (ab >= CENTERS.min(0) - 1e-3).all() and (ab <= CENTERS.max(0) + 1e-3).all()




def test_temperature_moves_the_mean_towards_the_mode():
    """Two bins at 10 and 0 with logits 1 and 0: T = 1 gives the plain mean, lower T leans to the likelier bin."""
    centers = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    logits = torch.tensor([0.0, 1.0]).view(1, 2, 1, 1)
    a = [float(annealed_mean(logits, centers, T)[0, 0, 0, 0]) for T in (1.0, 0.38, 0.1)]
    assert a[0] == pytest.approx(10 / (1 + np.exp(-1)), abs=1e-4)
    assert a[0] < a[1] < a[2] < 10.0


def test_nearest_bins_and_hits():
    centers = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    ab = torch.tensor([1.0, 9.0]).view(1, 2, 1, 1)
    assert nearest_bins(ab, centers, k=2).flatten().tolist() == [2, 0]
    logits = torch.arange(8.0).view(1, 8, 1, 1)  # bin 7 first, then 6, 5, 4, 3
    grid = torch.as_tensor(CENTERS[:8])
    assert bin_hits(logits, "classification", grid, torch.tensor([[[7]]])) == (1, 1)
    assert bin_hits(logits, "classification", grid, torch.tensor([[[3]]])) == (0, 1)
    assert bin_hits(logits, "classification", grid, torch.tensor([[[2]]])) == (0, 0)
