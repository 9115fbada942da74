"""`mangacolor colorize` on a user's folder: unreadable pages are reported, readable ones written, inputs untouched."""
import numpy as np
import pytest
import torch
from PIL import Image

from mangacolor.cli import main
from mangacolor.kernels.bins import bin_centers
from mangacolor.model.heads import build_model


@pytest.fixture
def model_file(tmp_path):
    centers = bin_centers(20, "gamut")
    head = build_model("classification", in_channels=64, n_bins=len(centers), widths=(8,), kernel=1, context=0)
    meta = {"kind": "classification", "in_channels": 64, "n_bins": len(centers), "widths": [8], "kernel": 1, "context": 0,
            "features": {"weights": "random", "layers": [3], "grid": 8, "precision": "float32", "weights_seed": 0},
            "centers": centers}
    path = tmp_path / "model.pt"
    torch.save({"state_dict": head.state_dict(), "meta": meta}, path)
    return path


def _page(path, seed):
    rng = np.random.default_rng(seed)
    page = np.full((300, 200), 255, np.uint8)
    page[20:280:7, 10:190] = rng.integers(0, 2, (38, 180), dtype=np.uint8) * 255
    Image.fromarray(page).save(path)


def test_folder_with_an_unreadable_page(tmp_path, model_file, capsys):
    src = tmp_path / "bw"
    src.mkdir()
    _page(src / "p1.png", 0)
    _page(src / "p2.png", 1)
    (src / "p3.png").write_bytes((src / "p1.png").read_bytes()[:200])  # truncated
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    out = tmp_path / "out"
    code = main(["colorize", "--model", str(model_file), "--strategy", "tiles", str(src), "-o", str(out),
                 "--threads", "1"])
    assert code == 2
    assert "p3.png" in capsys.readouterr().err
    written = sorted(p.name for p in out.iterdir())
    assert written == ["p1.png", "p2.png"]
    rgb = np.asarray(Image.open(out / "p1.png"))
    assert rgb.shape == (300, 200, 3)
    assert {p.name: p.read_bytes() for p in src.iterdir()} == before


def test_refuses_output_inside_input_folder(tmp_path, model_file, capsys):
    src = tmp_path / "bw"
    src.mkdir()
    _page(src / "p1.png", 0)
    code = main(["colorize", "--model", str(model_file), str(src), "-o", str(src / "colour")])
    assert code == 2 and "inside the input folder" in capsys.readouterr().err
    assert sorted(p.name for p in src.iterdir()) == ["p1.png"]
