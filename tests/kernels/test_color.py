"""Lab conversions, ab bins and their encoding: C++ kernels against NumPy references, skimage and brute force."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from skimage.color import lab2rgb, rgb2lab

from mangacolor.kernels.bins import DEFAULT_RULE, RULES, ABQuantizer, bin_centers, empirical_prior, rebalance_weights
from mangacolor.kernels.lab import lab_to_rgb, lab_to_rgb_ref, rgb_to_lab, rgb_to_lab_ref

rng = np.random.default_rng(0)


def colour_cube(step=5):
    """Every colour whose channels are multiples of ``step`` or 255: (n, 3) uint8."""
    v = np.unique(np.r_[np.arange(0, 256, step), 255]).astype(np.uint8)
    return np.stack(np.meshgrid(v, v, v, indexing="ij"), -1).reshape(-1, 3)


@st.composite
def strided(draw, last, dtype, elements, max_side=12):
    """Arrays (..., last) of 0-3 leading axes, sometimes non-contiguous (steps, flips, a channel-first transpose)."""
    lead = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=max_side))
    view = draw(st.sampled_from(["plain", "step", "flip", "transpose"]))
    if view == "step" and lead:
        big = draw(hnp.arrays(dtype, (2 * lead[0],) + lead[1:] + (last,), elements=elements))
        return big[::2]
    if view == "transpose":
        return np.moveaxis(draw(hnp.arrays(dtype, (last,) + lead, elements=elements)), 0, -1)
    a = draw(hnp.arrays(dtype, lead + (last,), elements=elements))
    return a[::-1] if view == "flip" and lead else a


# ---------------------------------------------------------------- Lab
def test_rgb_to_lab_matches_skimage_over_the_cube():
    rgb = colour_cube()
    expected = rgb2lab(rgb[:, None])[:, 0]
    np.testing.assert_allclose(rgb_to_lab(rgb), expected, atol=1e-3)
    np.testing.assert_allclose(rgb_to_lab_ref(rgb), expected, atol=1e-4)
    assert rgb_to_lab(rgb).dtype == np.float32


@settings(max_examples=50, deadline=None)
@given(rgb=strided(3, np.uint8, st.integers(0, 255)))
def test_rgb_to_lab_kernel_matches_reference(rgb):
    out = rgb_to_lab(rgb)
    assert out.shape == rgb.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, rgb_to_lab_ref(rgb), atol=1e-3)


@settings(max_examples=50, deadline=None)
@given(lab=strided(3, np.float32, st.floats(-130, 130, width=32)))
def test_lab_to_rgb_kernel_matches_reference(lab):
    lab = lab.copy()
    lab[..., 0] = np.abs(lab[..., 0]) % 101
    out = lab_to_rgb(lab)
    assert out.shape == lab.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - lab_to_rgb_ref(lab)).max(initial=0) <= 1  # float32 vs float64 at .5
    np.testing.assert_allclose(lab_to_rgb(lab, np.float32), lab_to_rgb_ref(lab, np.float32), atol=2e-5)


def test_lab_to_rgb_matches_skimage_including_out_of_gamut():
    lab = np.stack([rng.uniform(0, 100, 20000), rng.uniform(-128, 127, 20000), rng.uniform(-128, 127, 20000)], -1)
    lab = lab.astype(np.float32)
    with pytest.warns(UserWarning, match="negative Z"):
        expected = lab2rgb(lab[:, None].astype(np.float64))[:, 0]
    np.testing.assert_allclose(lab_to_rgb(lab, np.float32), expected, atol=2e-5)
    diff = np.abs(lab_to_rgb(lab).astype(int) - np.round(expected * 255))
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3


def test_round_trips():
    rgb = colour_cube(3)
    lab = rgb_to_lab(rgb)
    np.testing.assert_array_equal(lab_to_rgb(lab), rgb)  # RGB -> Lab -> RGB is exact for 8-bit colours
    np.testing.assert_array_equal(rgb_to_lab(lab_to_rgb(lab)), lab)  # and so Lab -> RGB -> Lab for their Lab
    np.testing.assert_allclose(lab_to_rgb(lab, np.float32), rgb / 255, atol=1e-4)  # float32 Lab: ~1e-4 off


def test_lab_edge_shapes_and_dtypes():
    assert rgb_to_lab(np.zeros((0, 3), np.uint8)).shape == (0, 3)
    white = np.array([255, 255, 255], np.uint8)  # one pixel, no leading axes
    np.testing.assert_allclose(rgb_to_lab(white), rgb2lab(white[None, None])[0, 0], atol=1e-3)
    assert lab_to_rgb(np.array([100.0, 0, 0])).tolist() == [255, 255, 255]  # float64 is converted
    with pytest.raises(ValueError, match=r"rgb must have dtype uint8, got float32"):
        rgb_to_lab(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"rgb must have shape \(\.\.\., 3\), got \(4, 4\)"):
        rgb_to_lab(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match=r"floating dtype.*got int64"):
        lab_to_rgb(np.zeros((2, 3), np.int64))
    with pytest.raises(ValueError, match=r"lab must have shape \(\.\.\., 3\), got \(2, 2\)"):
        lab_to_rgb(np.zeros((2, 2), np.float32))


# ---------------------------------------------------------------- bins
@pytest.mark.parametrize("rule, q, lo, hi", [
    ("gamut", 313, (-90, -110), (100, 100)),
    ("reachable", 261, (-90, -110), (100, 90)),
    ("hull", 295, (-90, -110), (100, 100)),
])
def test_bin_count_and_extent_per_rule(rule, q, lo, hi):
    c = bin_centers(10, rule)
    assert c.shape == (q, 2) and c.dtype == np.float32
    assert tuple(c.min(0)) == lo and tuple(c.max(0)) == hi
    assert (c % 10 == 0).all()
    assert (np.lexsort((c[:, 1], c[:, 0])) == np.arange(q)).all()  # sorted by a, then b


def test_default_rule_is_zhangs_313_bins():
    assert DEFAULT_RULE == "gamut" and set(RULES) == {"gamut", "reachable", "hull"}
    c = bin_centers()
    assert len(c) == 313
    assert c[:2].tolist() == [[-90, 50], [-90, 60]]  # pts_in_hull.npy's first rows (richzhang/colorization#23)


def test_rules_nest():
    sets = {r: set(map(tuple, bin_centers(10, r).tolist())) for r in RULES}
    assert sets["reachable"] <= sets["hull"] <= sets["gamut"]
    # every 8-bit colour's nearest grid point is a bin under every rule
    ab = rgb_to_lab(colour_cube(15))[:, 1:]
    cells = set(map(tuple, (np.floor(ab / 10 + 0.5) * 10).tolist()))
    assert cells <= sets["reachable"]


def test_bin_centers_errors_and_other_steps():
    with pytest.raises(ValueError, match="rule must be one of"):
        bin_centers(10, "pts")
    with pytest.raises(ValueError, match="step must be a positive integer"):
        bin_centers(0)
    assert len(bin_centers(20)) < len(bin_centers(10)) < len(bin_centers(5))


# ---------------------------------------------------------------- encoding
@pytest.fixture(scope="module")
def quantizer():
    return ABQuantizer()


ab_values = st.one_of(
    st.floats(-140, 140, width=32),  # beyond the table's [-128, 128) too: the brute-force fallback
    st.integers(-26, 26).map(lambda i: i * 5.0),  # grid points and midpoints between them: exact ties
)


@settings(max_examples=60, deadline=None)
@given(ab=strided(2, np.float32, ab_values), k=st.sampled_from([1, 2, 5, 8]),
       sigma=st.sampled_from([2.0, 5.0, 10.0]))
def test_soft_encoding_equals_brute_force(quantizer, ab, k, sigma):
    idx, w = quantizer.soft(ab, k=k, sigma=sigma)
    ridx, rw = quantizer.soft_ref(ab, k=k, sigma=sigma)
    assert idx.shape == w.shape == ab.shape[:-1] + (k,) and idx.dtype == np.int16 and w.dtype == np.float32
    np.testing.assert_array_equal(idx, ridx)
    np.testing.assert_allclose(w, rw, atol=1e-6)
    np.testing.assert_allclose(w.sum(-1), 1, atol=1e-6)
    hard = quantizer.hard(ab)
    np.testing.assert_array_equal(hard, quantizer.hard_ref(ab))
    np.testing.assert_array_equal(hard, idx[..., 0])


def test_soft_encoding_on_a_page_agrees_with_sklearn(quantizer):
    from sklearn.neighbors import NearestNeighbors
    ab = rgb_to_lab(rng.integers(0, 256, (60, 50, 3), dtype=np.uint8))[..., 1:]
    idx, w = quantizer.soft(ab)
    dist, _ = NearestNeighbors(n_neighbors=5).fit(quantizer.centers).kneighbors(ab.reshape(-1, 2))
    mine = np.linalg.norm(ab[..., None, :] - quantizer.centers[idx], axis=-1).reshape(-1, 5)
    np.testing.assert_allclose(mine, dist, atol=1e-4)  # same neighbours up to the order of exact ties
    expected = np.exp(-dist ** 2 / (2 * 5.0 ** 2))
    np.testing.assert_allclose(w.reshape(-1, 5), expected / expected.sum(1, keepdims=True), atol=1e-5)
    assert np.all(np.diff(mine, axis=1) >= -1e-5)  # nearest first


def test_encoding_with_custom_centers_and_errors(quantizer):
    q = ABQuantizer(centers=np.array([[0, 0], [10, 0], [0, 10]]))
    idx, w = q.soft(np.array([[5.0, 5.0], [9.0, 1.0]], np.float32), k=3)
    assert idx.tolist() == [[0, 1, 2], [1, 0, 2]]  # (5, 5) is a three-way tie: lower index first
    np.testing.assert_allclose(w[0], 1 / 3, atol=1e-6)
    assert q.hard(np.float64([11, 0])) == 1  # float64 is converted
    with pytest.raises(ValueError, match=r"k must be in \[1, 3\], got 4"):
        q.soft(np.zeros((1, 2), np.float32), k=4)
    with pytest.raises(ValueError, match=r"ab must have shape \(\.\.\., 2\), got \(4, 3\)"):
        quantizer.hard(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"floating dtype.*got int32"):
        quantizer.soft(np.zeros((4, 2), np.int32))
    with pytest.raises(ValueError, match=r"ab must be finite, got 1 pixel"):
        quantizer.soft(np.array([[0, np.nan], [1, 1]], np.float32))
    with pytest.raises(ValueError, match="sigma must be positive"):
        quantizer.soft(np.zeros((1, 2), np.float32), sigma=0)
    with pytest.raises(ValueError, match=r"centers must have shape \(Q, 2\)"):
        ABQuantizer(centers=np.zeros((3, 3)))
    assert quantizer.soft(np.zeros((0, 7, 2), np.float32))[0].shape == (0, 7, 5)


# ---------------------------------------------------------------- prior and weights
def test_empirical_prior(quantizer):
    centers, q = quantizer.centers, len(quantizer.centers)
    hard = [quantizer.hard(rng.normal(0, 20, (30, 30, 2)).astype(np.float32)) for _ in range(3)]
    counts = sum(np.bincount(h.ravel(), minlength=q) for h in hard)
    raw = empirical_prior(hard, centers, smooth_sigma=0)
    np.testing.assert_allclose(raw, counts / counts.sum())
    p = empirical_prior(counts, centers)  # integer counts, as labels.write_bins passes them
    assert p.shape == (q,) and p.dtype == np.float64 and p.sum() == pytest.approx(1)
    np.testing.assert_allclose(p, empirical_prior(hard, q))  # Q alone means the default bins
    # smoothing spreads mass to neighbours a grid step away with weight exp(-100 / 50) relative to the bin itself
    one = empirical_prior(np.array([156]), centers, kind="indices")
    assert one[156] == one.max() and (one > 0).sum() > 1
    a, b = centers[156]
    right = np.flatnonzero((centers[:, 0] == a + 10) & (centers[:, 1] == b))[0]
    assert one[right] / one[156] == pytest.approx(np.exp(-2))
    with pytest.raises(ValueError, match=r"hard indices must lie in \[0, 313\)"):
        empirical_prior([np.array([313])], q)
    with pytest.raises(ValueError, match="at least one count"):
        empirical_prior(np.zeros(q), centers)


def test_rebalance_weights():
    p = rng.dirichlet(np.ones(313) * 0.1)
    w = rebalance_weights(p)
    assert w.dtype == np.float32 and (p * w).sum() == pytest.approx(1, abs=1e-5)
    expected = 1 / (0.5 * p + 0.5 / 313)
    np.testing.assert_allclose(w, expected / (p * expected).sum(), rtol=1e-6)
    assert np.all(np.diff(w[np.argsort(p)]) <= 1e-6)  # rarer bins weigh more
    np.testing.assert_allclose(rebalance_weights(np.full(313, 1 / 313)), 1, rtol=1e-6)
    np.testing.assert_allclose(rebalance_weights(p, lam=1.0), 1, rtol=1e-5)  # lam = 1: no rebalancing
