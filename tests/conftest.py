"""Shared fixtures: tiny HDF5 training chapters with a known feature -> ab rule, and tiny page folders with a
colourised chapter for the figure and report tests."""
from types import SimpleNamespace

import cv2
import h5py
import numpy as np
import pytest
import torch

from mangacolor.colorize.strategies import plan_crops, to_rgb
from mangacolor.data.pages import Page, load_page_folder, write_page_folder
from mangacolor.kernels.bins import bin_centers
from mangacolor.kernels.lab import lab_to_rgb, rgb_to_lab
from mangacolor.model.heads import build_model
from mangacolor.model.train import train

# ---------------------------------------------------------------- tiny training chapters
C, G, Q, K = 8, 8, 20, 5
TILES_PER_PAGE = 3
LR = {"sgd": 1e-3, "adadelta": 1.0, "adam": 1e-3}


def centers_grid():
    a, b = np.meshgrid(np.arange(5), np.arange(4), indexing="ij")
    return (np.stack([a.ravel(), b.ravel()], 1) * 20.0 - 40).astype(np.float32)  # (Q, 2)


def write_chapter(tmp_path, name, n, seed):
    """Features with raw-activation scales; ab a function of two channels, soft-encoded on the bins."""
    rng = np.random.default_rng(seed)
    x = rng.gamma(1.0, 1.0, (n, C, G, G)) * np.logspace(-1, 2, C).reshape(1, C, 1, 1)
    ab = np.stack([x[:, 0] / x[:, 0].mean(), x[:, 7] / x[:, 7].mean()], -1) * 25 - 30
    d = np.linalg.norm(ab[..., None, :] - centers_grid(), axis=-1)  # (n, G, G, Q)
    idx = np.argsort(d, -1)[..., :K]
    w = np.exp(-np.take_along_axis(d, idx, -1) ** 2 / (2 * 10.0 ** 2))
    w /= w.sum(-1, keepdims=True)
    fp, lp = tmp_path / f"features-{name}.h5", tmp_path / f"labels-{name}.h5"
    with h5py.File(fp, "w") as f:
        f.create_dataset("x", data=x.astype(np.float16), chunks=(1, C, G, G))
    with h5py.File(lp, "w") as f:
        f["idx"], f["w"] = idx.astype(np.int16), w.astype(np.float16)
        f["ab"], f["hard"] = ab.astype(np.float16), idx[..., 0].astype(np.int16)
        f["page"] = (np.arange(n) // TILES_PER_PAGE).astype(np.int32)
        f["L"] = np.clip(20 + 60 * x[:, 3] / x[:, 3].max(), 0, 100).astype(np.float16)  # fill lightness from channel 3
    return fp, lp


def run_training(chapters, out_dir, **kw):
    features, labels = chapters
    args = dict(kind="classification", optimizer="sgd", centers=centers_grid(), epochs=4, lr=0.05, batch_size=8,
                seed=3, device="cpu", threads=1, class_weights=np.linspace(0.5, 2, Q), widths=(16,), kernel=1,
                context=0, val_fraction=0.25, cell_fraction=1.0, temperature=0.38, sample_tiles=4, log=lambda s: None)
    args.update(kw)
    return train(features, labels, out_dir, **args)



@pytest.fixture(scope="session")
def heads():
    """Tiny training data: ``C, G, Q, K``, ``centers()``, ``write_chapter(dir, name, n, seed)``,
    ``run((features, labels), out_dir, **train_kwargs)``."""
    return SimpleNamespace(C=C, G=G, Q=Q, K=K, LR=LR, centers=centers_grid, write_chapter=write_chapter,
                           run=run_training)


# ---------------------------------------------------------------- tiny pages and colourised chapters
H, W = 300, 200
PANELS = [(10, 10, 145, 95), (10, 105, 145, 190), (155, 10, 290, 95), (155, 105, 290, 190)]
FILLS = [(230, 80, 60), (70, 140, 220), (90, 190, 90), (240, 200, 60)]
def fake_page(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A white 300x200 page of 4 black-bordered panels, each with a coloured fill and a grey disc."""
    rng = np.random.default_rng(seed)
    color = np.full((H, W, 3), 255, np.uint8)
    for (y0, x0, y1, x1), fill in zip(PANELS, np.roll(FILLS, seed, axis=0)):
        color[y0:y1, x0:x1] = 0
        color[y0 + 3:y1 - 3, x0 + 3:x1 - 3] = fill
        cv2.circle(color, (int(rng.integers(x0 + 25, x1 - 25)), int(rng.integers(y0 + 25, y1 - 25))), 18,
                   (200, 170, 150), -1)
    bw = cv2.cvtColor(color, cv2.COLOR_RGB2GRAY)
    return color, bw


def make_pages(folder, n=3, seed=0):
    pages = [Page(f"{i:03d}", *fake_page(seed + i), "test") for i in range(n)]
    write_page_folder(iter(pages), folder, progress=False)
    return folder


def make_colorized(path, pages_dir, kind="classification", strategies=("tiles", "overlap")):
    """A colourised chapter: tiles = truth + a different ab offset per tile (seams), overlap = blurred truth;
    a regression file predicts one greyish brown everywhere."""
    rows, pages = load_page_folder(pages_dir)
    with h5py.File(path, "w") as f:
        for i, (color, bw) in enumerate(pages):
            true_ab = rgb_to_lab(color)[..., 1:]
            for s in strategies:
                plan = plan_crops(bw, s, tile=112, canvas=448, stride=56)
                if kind == "regression":
                    ab = np.broadcast_to(np.float32([6, 14]), true_ab.shape).copy()
                elif s == "tiles":
                    ab = true_ab.copy()
                    for k, (y0, x0, y1, x1) in enumerate(plan.boxes):
                        ab[max(y0, 0):y1, max(x0, 0):x1] += (np.float32([-1, 1]) * (25 if k % 2 else -25))
                else:
                    ab = cv2.GaussianBlur(true_ab, (0, 0), 4)
                g = f.create_group(f"page{i:03d}/{s}")
                g["ab"] = ab.astype(np.float16)
                g["rgb"] = g["rgb_chroma"] = to_rgb(bw, ab)
                if kind != "regression":  # a "colour page": the truth's lightness with this ab
                    lab = np.concatenate([rgb_to_lab(color)[..., :1], ab], -1)
                    g["rgb_color"] = lab_to_rgb(lab)
                g["boxes"] = plan.boxes
                g.attrs.update(offset=plan.offset, scale=plan.scale, tile=plan.tile, canvas=plan.canvas)
        f.attrs.update(kind=kind, optimizer="adam", strategies=list(strategies), pages=len(rows))
    return path




@pytest.fixture(scope="session")
def pages_kit():
    """Tiny page folders: ``H, W``, ``fake_page(seed)``, ``make_pages(folder, n, seed)``,
    ``make_colorized(path, pages_dir, kind, strategies)``."""
    return SimpleNamespace(H=H, W=W, fake_page=fake_page, make_pages=make_pages, make_colorized=make_colorized)


# ---------------------------------------------------------------- a tiny model file for `mangacolor colorize`
USER_RECORD = {"strategy": "tiles", "decode": "annealed_mean", "temperature": 0.38, "overlap_stride": 112,
               "abstain": False, "output": "color"}


def write_user_model(path, colorize=USER_RECORD, tiling=None, seed=0, scale_reference=None):
    """A classification head on the random backbone's layer 3 (64 channels, 8x8 grid), saved as a model.pt as the
    main run exports it (features, centres as a tensor, tiling, the colourising record, and the training prints'
    screen profile when ``scale_reference`` is given); returns ``path``."""
    torch.manual_seed(seed)
    centers = bin_centers(20, "gamut")
    head = build_model("classification", in_channels=64, n_bins=len(centers), widths=(8,), kernel=1, context=0)
    meta = {"kind": "classification", "optimizer": "adam", "epochs": 1, "in_channels": 64, "n_bins": len(centers),
            "widths": [8], "kernel": 1, "context": 0, "grid": 8,
            "features": {"weights": "random", "layers": [3], "grid": 8, "precision": "float32", "weights_seed": 0},
            "centers": torch.as_tensor(np.asarray(centers, np.float32)),
            "tiling": tiling or {"canvas": 448, "tile": 224}}
    if colorize is not None:
        meta["colorize"] = dict(colorize)
    if scale_reference is not None:
        meta["scale_reference"] = torch.as_tensor(np.asarray(scale_reference, np.float32))
    torch.save({"state_dict": head.state_dict(), "meta": meta}, path)
    return path


@pytest.fixture(scope="session")
def user_models():
    """Tiny model files: ``write(path, colorize=RECORD, tiling=None)`` (`write_user_model`), ``RECORD``."""
    return SimpleNamespace(write=write_user_model, RECORD=USER_RECORD)


@pytest.fixture
def user_model(tmp_path):
    """A tiny model.pt (`write_user_model`) in the test's folder."""
    return write_user_model(tmp_path / "model.pt")
