"""Training data and loop on tiny HDF5 chapters: page-wise validation split, outputs, determinism, resume."""
import os

import h5py
import numpy as np
import pandas as pd
import pytest
import torch

from mangacolor.data.dataset import TileDataset, split_by_page
from mangacolor.model.decode import bin_hits
from mangacolor.model.load import load_model
from mangacolor.model.train import sample_epochs


@pytest.fixture
def chapters(tmp_path, heads):
    (f1, l1), (f2, l2) = heads.write_chapter(tmp_path, "ch1", 24, 1), heads.write_chapter(tmp_path, "ch2", 18, 2)
    return [f1, f2], [l1, l2]


def weights(out_dir):
    return torch.load(out_dir / "model.pt", weights_only=True)["state_dict"]


def same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_dataset_concatenates_chapters_and_returns_channels_first_tensors(chapters, heads):
    ds = TileDataset(*chapters)
    assert len(ds) == 42 and (ds.in_channels, ds.grid, ds.k) == (heads.C, heads.G, heads.K)
    item = ds[30]  # tile 6 of chapter 2
    assert item["x"].shape == (heads.C, heads.G, heads.G) and item["x"].dtype == torch.float16
    assert item["idx"].shape == item["w"].shape == (heads.K, heads.G, heads.G) and item["idx"].dtype == torch.int64
    assert item["ab"].shape == (2, heads.G, heads.G) and item["hard"].shape == (heads.G, heads.G)
    with h5py.File(chapters[0][1], "r") as f:
        np.testing.assert_array_equal(item["x"].numpy(), f["x"][6])
    with h5py.File(chapters[1][1], "r") as g:
        np.testing.assert_array_equal(item["hard"].numpy(), g["hard"][6])
        np.testing.assert_array_equal(item["idx"].permute(1, 2, 0).numpy(), g["idx"][6])
    assert ds.pages[30].tolist() == [1, 2]
    with pytest.raises(IndexError):
        ds[42]


def test_validation_split_keeps_whole_pages_apart(chapters):
    pages = TileDataset(*chapters).pages  # both chapters number their pages from 0
    train_idx, val_idx = split_by_page(pages, 0.25, seed=0)
    assert sorted(np.concatenate([train_idx, val_idx]).tolist()) == list(range(len(pages)))
    train_pages = {tuple(p) for p in pages[train_idx]}
    val_pages = {tuple(p) for p in pages[val_idx]}
    assert not train_pages & val_pages
    assert len(val_pages) == round(0.25 * 14)  # 8 + 6 pages
    again = split_by_page(pages, 0.25, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(again, (train_idx, val_idx)))
    assert len(split_by_page(pages, 0.0, seed=0)[1]) == 0
    assert len(split_by_page(pages[:3], 0.5, seed=0)[1]) == 0  # a single page is never all held out


def test_training_writes_model_history_and_samples(chapters, tmp_path, heads):
    out = tmp_path / "run"
    history = heads.run(chapters, out, optimizer="adam", lr=0.01, epochs=8)
    assert list(history.columns) == ["epoch", "train_loss", "val_loss", "val_top1", "val_top5", "val_l_mae", "seconds"]
    assert history.epoch.tolist() == list(range(1, 9))
    assert history.train_loss.iloc[-1] < history.train_loss.iloc[0]
    assert history.val_top1.iloc[-1] > history.val_top1.iloc[0]
    assert (history.val_top5 >= history.val_top1).all()
    pd.testing.assert_frame_equal(pd.read_csv(out / "history.csv"), history, check_dtype=False)

    model, meta = load_model(out / "model.pt")
    assert (meta["kind"], meta["optimizer"], meta["epochs"], meta["n_bins"]) == ("classification", "adam", 8, heads.Q)
    assert meta["parameters"] == sum(p.numel() for p in model.parameters())
    # the loaded head scores on the validation pages exactly what training recorded for its last epoch
    data = TileDataset(*chapters)
    _, val_idx = split_by_page(data.pages, 0.25, seed=3)
    val = [data[int(i)] for i in val_idx]
    with torch.no_grad():
        out_val = model(torch.stack([b["x"] for b in val]).float())
    hits, _ = bin_hits(out_val, "classification", torch.as_tensor(heads.centers()), torch.stack([b["hard"] for b in val]))
    assert hits / (len(val) * heads.G * heads.G) == pytest.approx(history.val_top1.iloc[-1], abs=1e-9)

    samples = np.load(out / "samples.npz")
    assert samples["epochs"].tolist() == sample_epochs(8) == [1, 2, 4, 8]
    assert samples["epoch_8"].shape == samples["ab_true"].shape == (4, heads.G, heads.G, 2)
    _, val_idx = split_by_page(TileDataset(*chapters).pages, 0.25, seed=3)
    assert set(samples["tile_index"].tolist()) <= set(val_idx.tolist())


def test_regression_head_trains_and_reports_quantised_accuracy(chapters, tmp_path, heads):
    history = heads.run(chapters, tmp_path / "reg", kind="regression", optimizer="adam", lr=0.01, epochs=3)
    assert history.train_loss.iloc[-1] < history.train_loss.iloc[0]
    assert history.val_top1.between(0, 1).all() and (history.val_top5 >= history.val_top1).all()
    assert np.load(tmp_path / "reg" / "samples.npz")["epoch_3"].shape == (4, heads.G, heads.G, 2)


def test_same_seed_gives_identical_runs(chapters, tmp_path, heads):
    a, b = heads.run(chapters, tmp_path / "a"), heads.run(chapters, tmp_path / "b")
    pd.testing.assert_frame_equal(a.drop(columns="seconds"), b.drop(columns="seconds"))
    assert same_weights(weights(tmp_path / "a"), weights(tmp_path / "b"))
    heads.run(chapters, tmp_path / "c", seed=4)
    assert not same_weights(weights(tmp_path / "a"), weights(tmp_path / "c"))


@pytest.mark.parametrize("kind, optimizer", [("classification", "sgd"), ("regression", "adam"),
                                             ("classification", "adadelta")])
def test_interrupted_run_resumes_to_the_uninterrupted_weights(chapters, tmp_path, kind, optimizer, heads):
    straight = heads.run(chapters, tmp_path / "straight", kind=kind, optimizer=optimizer, lr=heads.LR[optimizer])

    def interrupt_after_epoch_2(message):
        if "epoch 2/4" in message:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        heads.run(chapters, tmp_path / "resumed", kind=kind, optimizer=optimizer, lr=heads.LR[optimizer], log=interrupt_after_epoch_2)
    assert (tmp_path / "resumed" / "checkpoint.pt").exists() and not (tmp_path / "resumed" / "model.pt").exists()
    messages = []
    resumed = heads.run(chapters, tmp_path / "resumed", kind=kind, optimizer=optimizer, lr=heads.LR[optimizer], log=messages.append)
    # the head's size, then the resume, then epochs 3 and 4 only
    assert "parameters" in messages[0] and "resuming after epoch 2" in messages[1] and len(messages) == 4
    assert same_weights(weights(tmp_path / "straight"), weights(tmp_path / "resumed"))
    pd.testing.assert_frame_equal(straight.drop(columns="seconds"), resumed.drop(columns="seconds"))
    s, r = np.load(tmp_path / "straight" / "samples.npz"), np.load(tmp_path / "resumed" / "samples.npz")
    assert all(np.array_equal(s[key], r[key]) for key in s.files)


def test_more_epochs_continue_a_finished_run_and_other_settings_start_over(chapters, tmp_path, heads):
    heads.run(chapters, tmp_path / "straight")
    heads.run(chapters, tmp_path / "extended", epochs=2)
    messages = []
    heads.run(chapters, tmp_path / "extended", log=messages.append)
    assert "resuming after epoch 2" in messages[1]
    assert same_weights(weights(tmp_path / "straight"), weights(tmp_path / "extended"))
    messages.clear()
    history = heads.run(chapters, tmp_path / "extended", lr=0.01, log=messages.append)
    assert "starting over" in messages[1] and len(history) == 4
    messages.clear()
    os.utime(chapters[1][0], ns=(0, 0))  # regenerated labels
    heads.run(chapters, tmp_path / "extended", lr=0.01, log=messages.append)
    assert "starting over" in messages[1]


def test_worker_processes_read_the_same_batches(chapters, tmp_path, heads):
    heads.run(chapters, tmp_path / "w0", epochs=2)
    heads.run(chapters, tmp_path / "w2", epochs=2, workers=2)
    assert same_weights(weights(tmp_path / "w0"), weights(tmp_path / "w2"))


def targets_only(chapters, tmp_path):
    """Copies of the labels files with only what the bin-independent `targets` rule writes: ab and page."""
    out = []
    for lp in chapters[1]:
        tp = tmp_path / f"targets-{lp.name}"
        with h5py.File(lp, "r") as src, h5py.File(tp, "w") as dst:
            dst["ab"], dst["page"] = src["ab"][()], src["page"][()]
        out.append(tp)
    return chapters[0], out


def test_regression_trains_on_bin_independent_targets_and_is_scored_on_reference_bins(chapters, tmp_path, heads):
    feats, targets = targets_only(chapters, tmp_path)
    assert not TileDataset(feats, targets).soft and "idx" not in TileDataset(feats, targets)[0]
    hist = heads.run((feats, targets), tmp_path / "reg", kind="regression", optimizer="adam", centers=None,
               class_weights=None, lr=1e-2)
    assert hist["val_top1"].notna().all() and (hist["val_top1"] > 0).all()
    with pytest.raises(ValueError, match="soft-encoded labels"):
        heads.run((feats, targets), tmp_path / "cls")


def test_sparse_cell_training_keeps_learning_and_needs_a_per_cell_head(chapters, tmp_path, heads):
    hist = heads.run(chapters, tmp_path / "sparse", cell_fraction=0.25, epochs=6)
    assert hist["val_loss"].iloc[-1] < hist["val_loss"].iloc[0]
    with pytest.raises(ValueError, match="kernel 1"):
        heads.run(chapters, tmp_path / "k3", cell_fraction=0.5, kernel=3)


def test_lightness_output_learns_the_fill_lightness(chapters, tmp_path, heads):
    history = heads.run(chapters, tmp_path / "light", optimizer="adam", lr=0.01, epochs=6, lightness_weight=1.0)
    assert history.val_l_mae.iloc[-1] < 0.6 * history.val_l_mae.iloc[0]
    model, meta = load_model(tmp_path / "light" / "model.pt")
    assert meta["lightness"]
    x = TileDataset(*chapters)[0]["x"][None].float()
    logits, light = model(x, with_lightness=True)
    assert logits.shape[1] == heads.Q and light.shape == (1, 1, heads.G, heads.G)
    plain = heads.run(chapters, tmp_path / "plain", epochs=1)
    assert plain.val_l_mae.isna().all()
