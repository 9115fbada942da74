"""A training run's model.pt is usable on its own and loads without unpickling code; the exported copy records the
colourising defaults."""
import h5py
import numpy as np
import pytest
import torch

from mangacolor.model.load import ModelError, load_model
from mangacolor.model.runs import annotate_run, export_model


@pytest.fixture(scope="module")
def run(tmp_path_factory, heads):
    d = tmp_path_factory.mktemp("run")
    features, labels = heads.write_chapter(d, "a", 24, 0)
    heads.run(([features], [labels]), d / "out", epochs=1)
    with h5py.File(features, "a") as f:  # what the hypercolumns step records
        f.attrs.update(weights="random", layers=np.array([3], np.int32), grid=np.int64(heads.G), precision="float32",
                       weights_sha256="", weights_seed=np.int64(0))
    tiles = d / "tiles.h5"
    with h5py.File(tiles, "w") as f:  # blank prints: no screentone to record a scale reference by
        f["gray"] = np.zeros((24, 16, 16), np.uint8)
        f["color"] = np.zeros((24, 16, 16, 3), np.uint8)
        f["page"], f["pos"] = np.arange(24), np.zeros((24, 2), np.int32)
        f.attrs.update(canvas=448, tile=224)
    annotate_run(d / "out", features, [tiles], heads.centers())
    return d / "out"


def test_the_training_prints_screen_profile_is_recorded(tmp_path, heads, run, capsys):
    from mangacolor.data.pages import synthetic_pages, write_page_folder
    from mangacolor.data.synth import render_page
    from mangacolor.data.tiles import write_tiles
    from mangacolor.features.scale import estimate_scale

    assert "scale_reference" not in torch.load(run / "model.pt", weights_only=True)["meta"]  # blank prints
    pages = tmp_path / "pages"
    # the fixed print (one ruling a series) carries a scale; the default's random rulings do not (README, Scale)
    write_page_folder(synthetic_pages(2016, "ch2", 2, "fixed", n_prints=1, arc="series"), pages, progress=False)
    write_tiles(pages, tmp_path / "tiles.h5", 1344, 224, True)
    out = tmp_path / "out"
    out.mkdir()
    for name in ("model.pt", "samples.npz"):
        (out / name).write_bytes((run / name).read_bytes())
    annotate_run(out, run.parent / "features-a.h5", [tmp_path / "tiles.h5"], heads.centers())
    reference = torch.load(out / "model.pt", weights_only=True)["meta"]["scale_reference"]
    assert estimate_scale(render_page(2016, "ch3", 0)[1], reference.numpy()) == pytest.approx(1.0, abs=0.05)


def test_annotated_model_loads_weights_only_with_plain_metadata(run, heads):
    saved = torch.load(run / "model.pt", weights_only=True)
    meta = saved["meta"]
    assert meta["features"] == {"weights": "random", "layers": [3], "grid": heads.G, "precision": "float32",
                                "weights_sha256": "", "weights_seed": 0}
    assert meta["tiling"] == {"canvas": 448, "tile": 224}
    assert torch.is_tensor(meta["centers"]) and meta["centers"].shape == (heads.Q, 2)
    _, loaded = load_model(run)  # a folder holding model.pt
    np.testing.assert_array_equal(loaded["centers"], heads.centers())
    with np.load(run / "samples.npz") as z:
        assert z["gray"].shape[1:] == (16, 16)


def test_export_adds_the_colourising_record(run, tmp_path):
    out = export_model(run, tmp_path / "model.pt", "overlap", "annealed_mean", 0.38, 112, True, "color")
    meta = torch.load(out, weights_only=True)["meta"]
    assert meta["colorize"] == {"strategy": "overlap", "decode": "annealed_mean", "temperature": 0.38,
                                "overlap_stride": 112, "abstain": True, "output": "color"}
    assert "colorize" not in torch.load(run / "model.pt", weights_only=True)["meta"]
    with pytest.raises(ValueError, match="decode 'mean'"):
        export_model(run, tmp_path / "other.pt", "overlap", "mean", 0.38, 112, True, "color")
    with pytest.raises(ModelError, match="checkpoint.pt.*training checkpoint"):
        export_model(run / "checkpoint.pt", tmp_path / "other.pt", "overlap", "argmax", 0.38, 112, True, "color")
    assert not (tmp_path / "other.pt").exists()
