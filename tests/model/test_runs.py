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
    with h5py.File(tiles, "w") as f:
        f["gray"] = np.zeros((24, 16, 16), np.uint8)
        f["color"] = np.zeros((24, 16, 16, 3), np.uint8)
        f.attrs.update(canvas=448, tile=224)
    annotate_run(d / "out", features, [tiles], heads.centers())
    return d / "out"


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
