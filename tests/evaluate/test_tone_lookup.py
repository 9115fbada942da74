"""Tone-lookup baseline: it reads colour off the print where the tone gives it away, and only there."""
import numpy as np
import pytest

from mangacolor.evaluate.tone_lookup import FEATURES, ToneLookup, cell_features, fit_tone_lookup
from mangacolor.evaluate.metrics import auc_ab

PATCH = 32  # px side of one flat-tone patch
CELL = 8


def _tones() -> list[np.ndarray]:
    """Five PATCH x PATCH uint8 prints a B&W page tells apart only by tone: paper, a dot screen, horizontal and
    vertical line screens, solid ink."""
    yy, xx = np.mgrid[:PATCH, :PATCH]
    paper = np.full((PATCH, PATCH), 255, np.uint8)
    dots = np.where((yy % 4 < 2) & (xx % 4 < 2), 0, 255).astype(np.uint8)
    rows = np.where(yy % 3 == 0, 0, 255).astype(np.uint8)
    cols = np.where(xx % 3 == 0, 0, 255).astype(np.uint8)
    return [paper, dots, rows, cols, np.zeros((PATCH, PATCH), np.uint8)]


TONE_AB = np.array([[30, 30], [-40, 20], [50, -30], [0, -50], [20, 60]], np.float32)  # colour of each tone
RANDOM_AB = np.array([[40, 0], [-40, 0], [0, 40], [0, -40]], np.float32)  # colours drawn regardless of tone


def _page(rows: int, cols: int, rng, tone_decides: bool) -> tuple[np.ndarray, np.ndarray]:
    """A page of rows x cols patches: (grey uint8 (H, W), true ab float32 (H, W, 2)). Each patch gets a random tone
    and, if ``tone_decides``, that tone's colour, else a colour drawn independently of it."""
    tones = _tones()
    gray = np.zeros((rows * PATCH, cols * PATCH), np.uint8)
    ab = np.zeros((rows * PATCH, cols * PATCH, 2), np.float32)
    for r in range(rows):
        for c in range(cols):
            t = int(rng.integers(len(tones)))
            where = np.s_[r * PATCH:(r + 1) * PATCH, c * PATCH:(c + 1) * PATCH]
            gray[where] = tones[t]
            ab[where] = TONE_AB[t] if tone_decides else RANDOM_AB[rng.integers(len(RANDOM_AB))]
    return gray, ab


def _training_set(tone_decides: bool, seed: int = 0, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """n tiles of 2 x 2 patches: (grey uint8 (n, 64, 64), per-cell ab float32 (n, 8, 8, 2))."""
    rng = np.random.default_rng(seed)
    pages = [_page(2, 2, rng, tone_decides) for _ in range(n)]
    gray = np.stack([g for g, _ in pages])
    ab = np.stack([a for _, a in pages])
    cells = ab.reshape(n, 64 // CELL, CELL, 64 // CELL, CELL, 2).mean(axis=(2, 4))
    return gray, cells


def _aucs(lookup: ToneLookup, tone_decides: bool) -> tuple[float, float]:
    """(tone-lookup AuC, grey AuC) of ab error on a fresh 4 x 5-patch page."""
    gray, true_ab = _page(4, 5, np.random.default_rng(99), tone_decides)
    pred = lookup.predict_page(gray)
    assert pred.shape == true_ab.shape and pred.dtype == np.float32
    return auc_ab(pred, true_ab), auc_ab(np.zeros_like(true_ab), true_ab)


def test_features_have_one_row_per_cell():
    gray = _page(1, 2, np.random.default_rng(0), True)[0][:30, :61]
    feats = cell_features(gray, CELL, 2 * CELL)
    assert feats.shape == (4, 8, len(FEATURES)) and feats.dtype == np.float32
    assert np.isfinite(feats).all()


def test_tone_that_decides_colour_is_read_far_above_grey():
    lookup = fit_tone_lookup(*_training_set(True), seed=0, max_cells=2000, k=8)
    tone, grey = _aucs(lookup, True)
    assert tone > 0.9
    assert tone > grey + 0.2


def test_tone_independent_of_colour_scores_near_grey():
    lookup = fit_tone_lookup(*_training_set(False), seed=0, max_cells=2000, k=8)
    tone, grey = _aucs(lookup, False)
    assert abs(tone - grey) < 0.05


def test_fit_is_deterministic_in_the_seed():
    gray, ab = _training_set(True)
    a, b = (fit_tone_lookup(gray, ab, seed=3, max_cells=500) for _ in range(2))
    other = fit_tone_lookup(gray, ab, seed=4, max_cells=500)
    assert np.array_equal(a.features, b.features) and np.array_equal(a.ab, b.ab)
    assert not np.array_equal(a.features, other.features)
    page = _page(2, 3, np.random.default_rng(5), True)[0]
    assert np.array_equal(a.predict_page(page), b.predict_page(page))


def test_save_load_round_trip(tmp_path):
    lookup = fit_tone_lookup(*_training_set(True), seed=0, max_cells=1000, k=8)
    path = tmp_path / "tone_lookup.npz"
    lookup.save(path)
    loaded = ToneLookup.load(path)
    assert (loaded.k, loaded.cell, loaded.window) == (8, CELL, 2 * CELL)
    page = _page(2, 3, np.random.default_rng(5), True)[0]
    assert np.array_equal(loaded.predict_page(page), lookup.predict_page(page))
    with np.load(path) as data:
        assert not any(data[key].dtype == object for key in data.files)


def test_load_names_the_file_and_missing_key(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, features=np.zeros((3, len(FEATURES)), np.float32))
    with pytest.raises(ValueError, match=r"other\.npz.*missing ab"):
        ToneLookup.load(path)


def test_grid_must_divide_the_tile():
    with pytest.raises(ValueError, match="whole number of cells"):
        fit_tone_lookup(np.zeros((2, 64, 64), np.uint8), np.zeros((2, 7, 7, 2), np.float32), seed=0)
