"""Each figure, drawn through the CLI from tiny fixtures, is a legible PNG showing what its caption promises."""
import cv2
import h5py
import numpy as np
import pandas as pd
import pytest

from mangacolor.cli import main as cli
from mangacolor.colorize.strategies import plan_crops, to_rgb
from mangacolor.kernels.lab import rgb_to_lab
from mangacolor.report.figures import _worst_corner
from mangacolor.data.pages import Page, write_page_folder

OPTIMIZERS = ["sgd", "adadelta", "adam"]


def make_bins(path, step=10):
    a, b = np.meshgrid(np.arange(-110, 111, step), np.arange(-110, 111, step))
    centers = np.stack([a.ravel(), b.ravel()], 1).astype(np.float32)
    centers = centers[np.hypot(centers[:, 0], centers[:, 1] - 10) < 100]
    prior = np.exp(-np.hypot(*centers.T) / 15)
    prior[np.hypot(*centers.T) > 80] = 0  # never seen
    prior /= prior.sum()
    q, lam = len(centers), 0.5
    weights = 1 / ((1 - lam) * prior + lam / q)
    weights /= (prior * weights).sum()
    np.savez(path, centers=centers, prior=prior, weights=weights.astype(np.float32), counts=prior * 1e6,
             step=step, rule="disc", lam=lam)
    return path


def make_histories(models_dir, epochs=6):
    paths = []
    e = np.arange(1, epochs + 1)
    for j, (kind, opt) in enumerate([("classification", o) for o in OPTIMIZERS] + [("regression", "adam")]):
        scale = 0.02 if kind == "regression" else 4.0
        d = models_dir / f"{kind}-{opt}"
        d.mkdir(parents=True)
        pd.DataFrame({"epoch": e, "train_loss": scale * (1 + (j + 1) / e), "val_loss": scale * (1.2 + (j + 1) / e),
                      "val_top1": 0.1 + 0.05 * e / (j + 1), "val_top5": 0.3 + 0.08 * e / (j + 1),
                      "seconds": 1.0}).to_csv(d / "history.csv", index=False)
        paths.append(str(d / "history.csv"))
    return paths


def make_samples(path, fake_page, s=3, epochs=(1, 3, 6), t=224, g=56):
    tiles = [fake_page(i)[0][:t, :t] for i in range(s)]
    color = np.stack([np.pad(c, ((0, t - c.shape[0]), (0, t - c.shape[1]), (0, 0)), constant_values=255)
                      for c in tiles])
    gray = np.stack([cv2.cvtColor(c, cv2.COLOR_RGB2GRAY) for c in color])
    true_ab = np.stack([cv2.resize(rgb_to_lab(c)[..., 1:], (g, g), interpolation=cv2.INTER_AREA) for c in color])
    arrays = {f"epoch_{e}": (true_ab * e / max(epochs)).astype(np.float32) for e in epochs}
    np.savez(path, epochs=np.array(epochs), gray=gray, color=color, **arrays)
    return path


# ---------------------------------------------------------------- checks
def read_png(path, min_w=300, min_h=200) -> np.ndarray:
    """The PNG at ``path`` as RGB after checking it is one, is big enough to read and is not blank."""
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    img = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    h, w = img.shape[:2]
    assert w >= min_w and h >= min_h, f"{path}: {w}x{h} is too small to read"
    assert img.std() > 10 and len(np.unique(img.reshape(-1, 3), axis=0)) > 50, f"{path} looks blank"
    return img


def saturated_share(img: np.ndarray) -> float:
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    return float(((hsv[..., 1] > 120) & (hsv[..., 2] > 80)).mean())


def orange_pixels(img: np.ndarray) -> int:
    r, g, b = (img[..., k].astype(int) for k in range(3))
    return int(((r > 220) & (abs(g - 140) < 30) & (b < 60)).sum())


@pytest.fixture(scope="module")
def chapter(tmp_path_factory, pages_kit):
    d = tmp_path_factory.mktemp("run")
    pages = pages_kit.make_pages(d / "pages" / "chapter1")
    return {"dir": d, "pages": pages,
            "cls": pages_kit.make_colorized(d / "cls.h5", pages),
            "reg": pages_kit.make_colorized(d / "reg.h5", pages, kind="regression", strategies=("tiles",))}


# ---------------------------------------------------------------- figures
def test_bins_figure_shows_prior_and_weights_side_by_side(tmp_path):
    out = tmp_path / "bin_usage.png"
    assert cli(["figure", "bins", "--dpi", "100", "--bins", str(make_bins(tmp_path / "bins.npz")), "--out", str(out)]) == 0
    img = read_png(out, min_w=900)
    assert img.shape[1] > 1.8 * img.shape[0]  # two square ab planes side by side


def test_loss_curves_figure(tmp_path):
    out = tmp_path / "loss_curves.png"
    assert cli(["figure", "loss-curves", "--histories", *make_histories(tmp_path / "models"),
                "--dpi", "80", "--out", str(out)]) == 0
    img = read_png(out, min_w=1000)
    assert img.shape[1] > 2.5 * img.shape[0]  # three panels in a row


@pytest.mark.parametrize("truth", ["color", "ab_true"])
def test_stages_figure_has_a_column_per_epoch(tmp_path, truth, pages_kit):
    out, samples = tmp_path / "stages.png", make_samples(tmp_path / "samples.npz", pages_kit.fake_page)
    if truth == "ab_true":  # truth given as ab on the grid instead of colour tiles
        z = dict(np.load(samples))
        z["ab_true"] = z["epoch_6"]
        del z["color"]
        np.savez(samples, **z)
    assert cli(["figure", "stages", "--dpi", "100", "--samples", str(samples),
                "--title", "classification-adam", "--out", str(out)]) == 0
    img = read_png(out)
    assert 5 / 3 * 0.8 < img.shape[1] / img.shape[0] < 5 / 3 * 1.25  # 3 tiles x (B&W, 3 epochs, truth)
    assert saturated_share(img) > 0.05  # the coloured predictions and truths are there


def test_collapse_figure(chapter, tmp_path):
    out = tmp_path / "collapse.png"
    assert cli(["figure", "collapse", "--dpi", "100", "--pages", str(chapter["pages"]), "--colorized", str(chapter["cls"]),
                str(chapter["reg"]), "--out", str(out)]) == 0
    img = read_png(out, min_w=1000, min_h=700)
    assert saturated_share(img) > 0.02


def test_pages_figure_writes_one_panel_per_page_and_a_seam_closeup(chapter, tmp_path):
    out, seams = tmp_path / "panels", tmp_path / "seams.png"
    assert cli(["figure", "pages", "--dpi", "100", "--pages", str(chapter["pages"]), "--colorized", str(chapter["cls"]),
                "--n-pages", "2", "--out", str(out), "--seams", str(seams)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["page000.png", "page001.png"]
    img = read_png(out / "page000.png", min_w=700)
    assert orange_pixels(img) > 100  # the tile grid is outlined in orange
    assert orange_pixels(read_png(seams, min_w=700)) > 50  # grid lines marked in the close-up
    assert not list(tmp_path.glob(".*"))  # no temporary leftovers


def test_worst_corner_is_where_tiles_disagree():
    ab = np.zeros((300, 300, 2), np.float32)
    ab[200:, 200:] = 40  # one tile coloured differently: a seam along its top and left edges
    boxes = np.array([(y, x, y + 100, x + 100) for y in (0, 100, 200) for x in (0, 100, 200)])
    jump, y, x = _worst_corner(ab, boxes)
    assert (y, x) == (200, 200) and jump == pytest.approx(20 * np.sqrt(2))


def test_lineart_figure_shows_print_lines_and_regions(tmp_path):
    from mangacolor.data.pages import synthetic_pages

    pages = tmp_path / "pages"
    write_page_folder(synthetic_pages(2016, "ch2", 1, "screentone", 1, "series"), pages, progress=False)
    out = tmp_path / "lineart.png"
    assert cli(["figure", "lineart", "--pages", str(pages), "--dpi", "80", "--out", str(out)]) == 0
    img = read_png(out, min_w=900, min_h=700)
    assert saturated_share(img) > 0.05  # regions in colour beside the grey print


def test_closeups_show_print_chroma_colour_and_truth_per_page(chapter, tmp_path):
    out = tmp_path / "closeups.png"
    assert cli(["figure", "closeups", "--dpi", "80", "--pages", str(chapter["pages"]), "--colorized",
                str(chapter["cls"]), "--n-pages", "2", "--out", str(out)]) == 0
    img = read_png(out, min_w=600, min_h=300)
    assert 1.5 < img.shape[1] / img.shape[0] < 3.5  # 2 pages x (print, chroma, colour, truth)
    assert saturated_share(img) > 0.05


def test_missing_input_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli(["figure", "stages", "--out", str(tmp_path / "x.png")])
    assert exc.value.code == 2
    assert "required: --samples, --title, --dpi" in capsys.readouterr().err


def test_registration_figure_shows_the_scan_before_and_after(tmp_path):
    from mangacolor.data.pages import synthetic_pages

    pages = tmp_path / "pages"
    write_page_folder(synthetic_pages(2016, "ch2", 1, "screentone", 1, "series"), pages, progress=False)
    out = tmp_path / "registration.png"
    assert cli(["figure", "registration", "--pages", str(pages), "--dpi", "100", "--out", str(out)]) == 0
    img = read_png(out, min_w=600)
    assert img.shape[1] > 1.1 * img.shape[0]  # before | after, two portrait pages side by side
    magenta = (img[..., 0] > 190) & (img[..., 1] < 80) & (img[..., 2] > 120)
    assert magenta.mean() > 0.005
