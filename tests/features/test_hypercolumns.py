"""Hypercolumn extraction: what lands in the HDF5 file, that it streams, and that it is deterministic."""
import warnings

import h5py
import numpy as np
import pytest
import torch

import mangacolor
from mangacolor.features.backbone import Hypercolumns, load_vgg_features
from mangacolor.features.hypercolumns import compute, extract_to_h5, resolve_device


@pytest.fixture(scope="module")
def model():
    features, info = load_vgg_features("random", seed=0)
    return Hypercolumns(features, "default", grid=8, convention=info)


@pytest.fixture(scope="module")
def tiles():
    return np.random.default_rng(0).integers(0, 256, (5, 32, 32), dtype=np.uint8)


class SlicedOnly:
    """An array-like that can only be sliced (like a dataset too large for memory); records the slices read."""

    def __init__(self, array):
        self.array, self.shape, self.dtype, self.reads = array, array.shape, array.dtype, []

    def __len__(self):
        return len(self.array)

    def __getitem__(self, key):
        self.reads.append(key)
        return self.array[key]

    def __array__(self, *a, **k):
        raise AssertionError("the whole input was read at once")


def test_compute_is_deterministic_on_cpu(model, tiles):
    a = compute(model, tiles, batch_size=2, device="cpu")
    b = compute(model, tiles, batch_size=5, device="cpu")
    assert a.shape == (5, 384, 8, 8) and a.dtype == np.float32
    np.testing.assert_array_equal(a, compute(model, tiles, batch_size=2, device="cpu"))
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)  # batching changes only float rounding
    # The same seed gives the same backbone, hence the same hypercolumns, in a fresh model.
    features, info = load_vgg_features("random", seed=0)
    np.testing.assert_array_equal(a, compute(Hypercolumns(features, "default", 8, convention=info), tiles, 2, "cpu"))


def test_extract_to_h5_from_an_h5_dataset(model, tiles, tmp_path):
    with h5py.File(tmp_path / "tiles.h5", "w") as f:
        f["gray"] = tiles
    out = tmp_path / "features" / "random-8_15-8" / "ch1.h5"
    with h5py.File(tmp_path / "tiles.h5", "r") as f:
        extract_to_h5(f["gray"], out, model, batch_size=2, device="auto", attrs={"chapter": "ch1"},
                      compression="lzf", progress=False)
    with h5py.File(out, "r") as f:
        x = f["x"]
        assert x.shape == (5, 384, 8, 8) and x.dtype == np.float16
        assert x.chunks == (1, 384, 8, 8) and x.compression == "lzf"
        np.testing.assert_allclose(x[()], compute(model, tiles, 2, "cpu"), rtol=1e-3, atol=1e-3)
        a = dict(f.attrs)
    assert a["weights"] == "random" and a["weights_sha256"] == model.info["sha256"] and a["weights_seed"] == 0
    assert list(a["layers"]) == [8, 15] and a["grid"] == 8 and a["channels"] == 384 and a["tile"] == 32
    assert a["precision"] == "float32" and a["mangacolor_version"] == mangacolor.__version__
    assert a["convention"] == "imagenet" and not a["bgr"] and a["chapter"] == "ch1"
    assert sorted(p.name for p in out.parent.iterdir()) == ["ch1.h5"]  # no temp file left beside it


def test_extraction_streams_in_batches(model, tiles, tmp_path):
    source = SlicedOnly(tiles)
    extract_to_h5(source, tmp_path / "x.h5", model, batch_size=2, device="cpu", progress=False)
    assert source.reads == [slice(0, 2), slice(2, 4), slice(4, 6)]
    with h5py.File(tmp_path / "x.h5", "r") as f:
        assert f["x"].shape == (5, 384, 8, 8) and f["x"].compression is None


def test_failed_extraction_leaves_no_file(model, tiles, tmp_path):
    class Failing(SlicedOnly):
        def __getitem__(self, key):
            if key.start >= 2:
                raise OSError("disk went away")
            return super().__getitem__(key)

    with pytest.raises(OSError, match="disk went away"):
        extract_to_h5(Failing(tiles), tmp_path / "x.h5", model, batch_size=2, device="cpu", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_empty_input_and_bad_arguments(model, tmp_path):
    extract_to_h5(np.zeros((0, 32, 32), np.uint8), tmp_path / "empty.h5", model, device="cpu", compression="gzip",
                  progress=False)
    with h5py.File(tmp_path / "empty.h5", "r") as f:
        assert f["x"].shape == (0, 384, 8, 8) and f["x"].chunks == (1, 384, 8, 8)
    with pytest.raises(ValueError, match="uint8"):
        compute(model, np.zeros((2, 32, 32), np.float32))
    with pytest.raises(ValueError, match="precision"):
        extract_to_h5(np.zeros((2, 32, 32), np.uint8), tmp_path / "p.h5", model, precision="float8", progress=False)
    with pytest.raises(ValueError, match="compression"):
        extract_to_h5(np.zeros((2, 32, 32), np.uint8), tmp_path / "c.h5", model, compression="zstd", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.h5"]


def test_bfloat16_autocast_stays_close_to_float32(model, tiles):
    ref = compute(model, tiles, 5, "cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # CPUs without native bfloat16 warn that it is slow
        bf16 = compute(model, tiles, 5, "cpu", precision="bfloat16")
    assert np.linalg.norm(bf16 - ref) / np.linalg.norm(ref) < 0.05


def test_auto_device_is_cpu_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")
