"""`mangacolor colorize` as a user meets it: a chapter (folder or CBZ) in, a folder or CBZ out, settings from the
model's record, one-line errors (checked before the model loads), Ctrl-C and resume, and the viewer."""
import io
import pickle
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from mangacolor.cli import main
from mangacolor.colorize import user
from mangacolor.colorize.batch import CBZ_COMMENT
from mangacolor.model import load as model_load

H, W = 120, 80


def bw_page(seed, size=(H, W)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    page = np.full(size, 255, np.uint8)
    page[10:-10:7, 8:-8] = rng.integers(0, 2, (len(range(10, size[0] - 10, 7)), size[1] - 16), dtype=np.uint8) * 255
    page[:3], page[-3:], page[:, :3], page[:, -3:] = 0, 0, 0, 0
    return page


def png(array, mode=None) -> bytes:
    buf = io.BytesIO()
    image = Image.fromarray(array)
    (image.convert(mode) if mode else image).save(buf, format="PNG")
    return buf.getvalue()


def folder_of(tmp_path, n, name="bw"):
    src = tmp_path / name
    src.mkdir()
    for i in range(n):
        (src / f"p{i + 1}.png").write_bytes(png(bw_page(i)))
    return src


def colorize(*args):
    return main(["colorize", *map(str, args), "--threads", "1", "--device", "cpu"])


def one_line_error(capsys, *fragments):
    """The command's last stderr line (its message) holds every fragment; no traceback anywhere."""
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err, err
    last = err.splitlines()[-1]
    assert last.startswith("mangacolor colorize: "), err
    for fragment in fragments:
        assert fragment in last, err
    return last


@pytest.fixture
def no_model_load(monkeypatch):
    """Fails the test if the model is loaded: bad inputs must be refused before that."""
    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded before the inputs were checked")
    monkeypatch.setattr(user, "load_model", refuse)


# ---------------------------------------------------------------- a chapter in and out
def test_cbz_in_cbz_out_in_natural_order_with_colour_pages_copied_and_the_viewer(tmp_path, user_model, capsys):
    colour = np.zeros((H, W, 3), np.uint8)
    colour[..., 0], colour[..., 1], colour[..., 2] = 220, np.arange(W, dtype=np.uint8)[None] * 3, 40
    entries = {"10.png": png(bw_page(10)), "2.png": png(bw_page(2)), "1.png": png(bw_page(1)),
               "cover.png": png(colour), "ComicInfo.xml": b"<ComicInfo/>"}
    src = tmp_path / "chapter.cbz"
    with zipfile.ZipFile(src, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    out = tmp_path / "out" / "chapter-colour.cbz"
    assert colorize(src, "--model", user_model, "-o", out, "--viewer") == 0
    summary = capsys.readouterr().out
    assert "3 written, 0 skipped (already done), 1 already in colour (copied), 0 failed" in summary
    assert "ComicInfo.xml" in summary
    with zipfile.ZipFile(out) as zf:
        assert zf.comment == CBZ_COMMENT
        assert zf.namelist() == ["1.png", "2.png", "10.png", "cover.png"]
        assert zf.read("cover.png") == entries["cover.png"]  # copied byte for byte
        rgb = np.asarray(Image.open(io.BytesIO(zf.read("2.png"))))
    assert rgb.shape == (H, W, 3)
    grey = np.asarray(Image.fromarray(rgb).convert("L")).astype(int)
    assert np.abs(grey - bw_page(2)).mean() < 12  # the print's own lightness, coloured
    viewer = tmp_path / "out" / "chapter-colour-viewer"
    assert (viewer / "viewer.html").is_file()
    assert sorted(p.name for p in (viewer / "color").iterdir()) == ["1.png", "10.png", "2.png", "cover.png"]
    assert np.array_equal(np.asarray(Image.open(viewer / "bw" / "10.png")), bw_page(10))
    assert sorted(p.name for p in out.parent.iterdir()) == ["chapter-colour-viewer", "chapter-colour.cbz"]


def test_folder_out_with_a_viewer_beside_the_pages(tmp_path, user_model, capsys, monkeypatch):
    src = folder_of(tmp_path, 2)
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)  # paths as a user types them: relative
    assert colorize("bw", "--model", "model.pt", "-o", "out", "--viewer") == 0
    assert sorted(p.name for p in out.iterdir()) == [".viewer", "p1.png", "p2.png", "viewer.html"]
    html = (out / "viewer.html").read_text()
    assert "p1.png" in html and ".viewer/bw/p2.png" in html
    capsys.readouterr()
    assert colorize(out, "--model", user_model, "-o", tmp_path / "again") == 0  # the viewer's copies are no pages
    line = capsys.readouterr().out.splitlines()[0]
    assert "2 written" in line or "2 already in colour" in line or "1 written" in line and "1 already" in line


def test_colliding_names_keep_every_page(tmp_path, user_model, capsys):
    for name, seed in (("A", 1), ("B", 2)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "001.png").write_bytes(png(bw_page(seed)))
    (tmp_path / "A" / "001.jpg").write_bytes(png(bw_page(3)))  # a PNG misnamed .jpg: same stem as 001.png
    out = tmp_path / "out"
    assert colorize(tmp_path / "A", tmp_path / "B", "--model", user_model, "-o", out) == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert written == ["A/001.jpg.png", "A/001.png.png", "B/001.png"]
    assert "3 written" in capsys.readouterr().out


def test_transparent_16bit_and_palette_pages_are_read(tmp_path, user_model, capsys):
    src = tmp_path / "odd"
    src.mkdir()
    rgba = np.zeros((H, W, 4), np.uint8)  # transparent black, as exported line art stores it
    rgba[20:24, 10:70, 3] = 255  # one opaque black stroke
    (src / "1.png").write_bytes(png(rgba))
    sixteen = (bw_page(4).astype(np.uint16) * 257)
    buf = io.BytesIO()
    Image.fromarray(sixteen).save(buf, format="PNG")
    (src / "2.png").write_bytes(buf.getvalue())
    (src / "3.png").write_bytes(png(np.repeat(bw_page(5)[..., None], 3, 2), mode="P"))
    out = tmp_path / "out"
    assert colorize(src, "--model", user_model, "-o", out) == 0
    captured = capsys.readouterr()
    assert "3 written" in captured.out and "composited onto white" in captured.err + captured.out
    page1 = np.asarray(Image.open(out / "1.png").convert("L")).astype(int)
    assert page1[60:100].mean() > 235 and page1[20:24, 12:68].mean() < 60  # white paper, black stroke
    for name in ("2.png", "3.png"):
        assert np.asarray(Image.open(out / name)).shape == (H, W, 3)


# ---------------------------------------------------------------- failures and interruptions
def test_a_bad_page_never_stops_the_batch(tmp_path, user_model, capsys):
    src = folder_of(tmp_path, 2)
    (src / "p3.png").write_bytes((src / "p1.png").read_bytes()[:200])  # truncated
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    out = tmp_path / "out"
    assert colorize(src, "--model", user_model, "-o", out) == 2
    err = capsys.readouterr().err
    assert "p3.png" in err and "1 page(s) failed (the other 2 were written)" in err
    assert sorted(p.name for p in out.iterdir()) == ["p1.png", "p2.png"]
    assert {p.name: p.read_bytes() for p in src.iterdir()} == before


def test_when_every_page_fails_nothing_is_left_and_nothing_claimed(tmp_path, user_model, capsys):
    src = tmp_path / "bw"
    src.mkdir()
    (src / "p1.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    out = tmp_path / "out"
    assert colorize(src, "--model", user_model, "-o", out) == 2
    err = capsys.readouterr().err
    assert "no page was written" in err and "were written" not in err
    assert not out.exists()


def test_ctrl_c_is_one_line_and_exit_130_then_a_rerun_resumes(tmp_path, user_model, capsys, monkeypatch):
    src = tmp_path / "ch.cbz"
    with zipfile.ZipFile(src, "w") as zf:
        for i in range(30):
            zf.writestr(f"{i + 1}.png", png(bw_page(i, (72, 64))))
    calls = []
    real_call = user.PageColorizer.__call__

    def counted(self, gray):
        if len(calls) == 10 and not hasattr(self, "resumed"):
            raise KeyboardInterrupt
        calls.append(gray.tobytes())
        return real_call(self, gray)

    monkeypatch.setattr(user.PageColorizer, "__call__", counted)
    out = tmp_path / "out.cbz"
    assert colorize(src, "--model", user_model, "-o", out) == 130
    one_line_error(capsys, "interrupted: 10 page(s) finished this run are kept in", "out.cbz.parts",
                   "rerun the same command to resume")
    assert not out.exists() and len(list((tmp_path / "out.cbz.parts").glob("*.png"))) == 10
    first_ten = list(calls)
    monkeypatch.setattr(user.PageColorizer, "resumed", True, raising=False)
    assert colorize(src, "--model", user_model, "-o", out) == 0
    captured = capsys.readouterr()
    assert "10 page(s) already done" in captured.err and "20 written, 10 skipped" in captured.out
    assert len(calls) == 30 and not set(calls[10:]) & set(first_ten)  # none of the first 10 redone
    with zipfile.ZipFile(out) as zf:
        assert zf.namelist() == [f"{i + 1}.png" for i in range(30)]


def test_ctrl_c_while_the_model_loads(tmp_path, user_model, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(user, "load_model", interrupted)
    out = tmp_path / "out"
    assert colorize(folder_of(tmp_path, 1), "--model", user_model, "-o", out) == 130
    one_line_error(capsys, "mangacolor colorize: interrupted")
    assert not out.exists()


def test_output_that_is_an_existing_file_is_one_line(tmp_path, no_model_load, capsys):
    existing = tmp_path / "notes.txt"
    existing.write_text("mine")
    assert colorize(folder_of(tmp_path, 1), "--model", tmp_path / "none.pt", "-o", existing) == 2
    one_line_error(capsys, "notes.txt exists and is a file")
    assert existing.read_text() == "mine"
    cbz = tmp_path / "theirs.cbz"
    cbz.write_bytes(b"PK not mine")
    assert colorize(folder_of(tmp_path, 1, "bw2"), "--model", tmp_path / "none.pt", "-o", cbz) == 2
    one_line_error(capsys, "theirs.cbz exists and is a file")


def test_inputs_and_output_are_checked_before_the_model_loads(tmp_path, no_model_load, capsys):
    src = folder_of(tmp_path, 1)
    assert colorize(tmp_path / "missing", "--model", "m.pt", "-o", tmp_path / "o") == 2
    one_line_error(capsys, "missing: no such file or folder")
    assert colorize(src, "--model", "m.pt", "-o", src / "colour.cbz") == 2
    one_line_error(capsys, "inside the input folder")
    broken = tmp_path / "broken.cbz"
    broken.write_bytes(b"not a zip")
    assert colorize(broken, "--model", "m.pt", "-o", tmp_path / "o") == 2
    one_line_error(capsys, "broken.cbz: not a readable ZIP/CBZ archive")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.cbz", "bw"]


def test_bad_hints_are_named_before_the_model_loads(tmp_path, no_model_load, capsys):
    src = folder_of(tmp_path, 2)
    hints = tmp_path / "hints.yaml"
    hints.write_text("- {page: p9, x: 3, y: 4, color: '#ff8800'}\n")
    assert colorize(src, "--model", "m.pt", "-o", tmp_path / "o", "--hints", hints) == 2
    one_line_error(capsys, "hints.yaml entry 1: page 'p9' is not a page of this chapter", "p1.png")
    hints.write_text("- {page: p2, x: 3, y: 4, color: '#ff8800'}\n- {page: p1.png, x: 3, y: 4, color: blurple}\n")
    assert colorize(src, "--model", "m.pt", "-o", tmp_path / "o", "--hints", hints) == 2
    one_line_error(capsys, "hints.yaml entry 2: colour 'blurple' is not a colour")
    hints.write_text("- {page: p2, x: -3, y: 4, color: red}\n")
    assert colorize(src, "--model", "m.pt", "-o", tmp_path / "o", "--hints", hints) == 2
    one_line_error(capsys, "entry 1: x must be a pixel position")
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------- the model: found, trusted, its own settings
def test_model_from_a_results_folder_with_its_recorded_settings(tmp_path, user_models, capsys):
    results = tmp_path / "results" / "chapter1"
    results.mkdir(parents=True)
    user_models.write(results / "model.pt", colorize={**user_models.RECORD, "strategy": "page", "decode": "argmax"})
    src = folder_of(tmp_path, 1)
    assert colorize(src, "--model", results, "-o", tmp_path / "a") == 0
    assert "strategy page, argmax" in capsys.readouterr().err
    assert colorize(src, "--model", results, "-o", tmp_path / "b", "--strategy", "overlap") == 0
    assert "strategy overlap, argmax" in capsys.readouterr().err  # a flag overrides the record, only that one
    a, b = (np.asarray(Image.open(tmp_path / d / "p1.png")) for d in "ab")
    assert a.shape == b.shape == (H, W, 3) and not np.array_equal(a, b)


def test_a_model_without_a_record_needs_the_flags(tmp_path, user_models, capsys):
    model = user_models.write(tmp_path / "model.pt", colorize=None)
    src = folder_of(tmp_path, 1)
    assert colorize(src, "--model", model, "-o", tmp_path / "o") == 2
    one_line_error(capsys, "records no strategy, decode, temperature, overlap-stride, abstain, output",
                   "--strategy --decode")
    assert not (tmp_path / "o").exists()
    assert colorize(src, "--model", model, "-o", tmp_path / "o", "--strategy", "tiles", "--decode", "argmax",
                    "--temperature", "1", "--overlap-stride", "112", "--abstain", "false", "--output", "chroma") == 0


class Exploit:
    def __reduce__(self):
        return (open, ("/tmp/mangacolor-pwned", "w"))


@pytest.mark.parametrize("kind", ["checkpoint", "text", "truncated", "pickle", "folder", "foreign"])
def test_anything_but_a_model_is_one_line_naming_the_file(tmp_path, user_model, capsys, kind):
    bad = tmp_path / ("checkpoint.pt" if kind == "checkpoint" else "bad.pt")
    if kind == "checkpoint":  # what training writes every epoch: RNG states hold NumPy objects
        torch.save({"config": {}, "epoch": 1, "model": {}, "optimizer": {}, "rng": np.random.get_state()}, bad)
    elif kind == "text":
        bad.write_text("hello\n")
    elif kind == "truncated":
        bad.write_bytes(user_model.read_bytes()[:3000])
    elif kind == "pickle":
        bad.write_bytes(pickle.dumps({"state_dict": {}, "meta": Exploit()}))
    elif kind == "folder":
        bad = tmp_path / "results"
        bad.mkdir()
    else:
        torch.save({"weights": torch.zeros(3)}, bad)
    assert colorize(folder_of(tmp_path, 1), "--model", bad, "-o", tmp_path / "o") == 2
    err = one_line_error(capsys, str(bad))
    assert {"checkpoint": "training checkpoint: use the model.pt beside it", "text": "not a mangacolor model file",
            "truncated": "not a mangacolor model file", "pickle": "not a mangacolor model file",
            "folder": "folder has no model.pt", "foreign": "expected the keys 'state_dict' and 'meta'"}[kind] in err
    assert not (tmp_path / "o").exists()
    import os
    assert not os.path.exists("/tmp/mangacolor-pwned")


def test_model_files_keep_no_pickled_objects(user_model):
    saved = torch.load(user_model, weights_only=True)  # raises on anything but tensors and plain values
    assert torch.is_tensor(saved["meta"]["centers"])
    _, meta = model_load.load_model(user_model)
    assert isinstance(meta["centers"], np.ndarray) and meta["centers"].dtype == np.float32


def test_models_lists_exported_and_trained_models_with_their_scores(tmp_path, user_models, capsys):
    report = tmp_path / "results" / "chapter1"
    run = tmp_path / "results" / "work" / "runs" / "x" / "models" / "classification-adam"
    report.mkdir(parents=True)
    run.mkdir(parents=True)
    user_models.write(report / "model.pt", colorize={**user_models.RECORD, "strategy": "overlap"})
    user_models.write(run / "model.pt", colorize=None)
    (report / "scores.csv").write_text("model,kind,optimizer,parameters,cells,top1,top5,chroma_ratio\n"
                                       "gray,baseline,,0,10,0.5,0.6,0\nclassification-adam,classification,adam,9,10,"
                                       "0.683,0.865,1.2\n")
    (report / "metrics.json").write_text('{"strategies": {"overlap": {"auc_colored": 0.909}}}')
    (run.parent.parent / "scores").mkdir()
    (run.parent.parent / "scores" / "chapter1.csv").write_text((report / "scores.csv").read_text())
    (tmp_path / "results" / "work" / "notes").mkdir()
    (tmp_path / "results" / "work" / "notes" / "model.pt").write_text("not a model")
    assert main(["models", str(tmp_path / "results")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["model.pt", "model"]
    exported = next(line for line in lines if "chapter1/model.pt" in line)
    trained = next(line for line in lines if "classification-adam/model.pt" in line)
    assert lines.index(exported) == 1  # the exported model first
    assert "0.683" in exported and "0.865" in exported and "overlap" in exported and "0.909" in exported
    assert "0.683" in trained and "chapter1" in trained
    assert any("notes/model.pt" in line and "not a model" in line for line in lines)
    assert main(["models", str(tmp_path / "nothing")]) == 2


# ---------------------------------------------------------------- pages at another scale than the training pages
def test_a_page_scanned_larger_is_coloured_at_the_training_scale_and_reported(tmp_path, user_models, capsys,
                                                                              monkeypatch):
    import cv2

    from mangacolor.data.synth import render_page
    from mangacolor.features.scale import reference_profile

    reference = reference_profile(render_page(2016, "ch3", i)[1] for i in range(2))
    page = render_page(2016, "ch2", 0)[1]
    h, w = page.shape
    large = cv2.resize(page, (w * 3 // 2, h * 3 // 2), interpolation=cv2.INTER_LINEAR)  # scanned 1.5 times finer
    head, meta = user.load_model(user_models.write(tmp_path / "scaled.pt", scale_reference=reference))
    colorizer = user.PageColorizer(head, meta, user.model_settings(meta, "scaled.pt"), device="cpu")
    seen = []  # the pages the model is run on
    predict = colorizer.predict
    monkeypatch.setattr(colorizer, "predict", lambda gray, with_probs: seen.append(gray.shape) or
                        predict(gray, with_probs))
    out = colorizer(large)
    assert colorizer.scales[0] == pytest.approx(1.5, rel=0.04)
    assert seen[0] == pytest.approx((h, w), abs=0.04 * h) and out.shape == large.shape + (3,)  # laid back on it
    colorizer(page)
    assert colorizer.scales[1] == pytest.approx(1.0, abs=0.05) and seen[1] == page.shape  # never resampled

    src = tmp_path / "in"
    src.mkdir()
    (src / "large.png").write_bytes(png(large))
    (src / "blank.png").write_bytes(png(np.full((300, 300), 255, np.uint8)))
    assert colorize(src, "-o", tmp_path / "out", "--model", tmp_path / "scaled.pt") == 0
    out = capsys.readouterr().out
    assert "drawn 1.5" in out and "times the training pages' scale" in out and "1 page(s)" in out
    assert "no screentone to measure the scale by" in out

    # a model without a training scale: the user gives it, or is told pages are coloured as given
    plain = user_models.write(tmp_path / "plain.pt")
    assert colorize(src, "-o", tmp_path / "given", "--model", plain, "--scale", "1.5") == 0
    assert "drawn 1.50-1.50 times the training pages' scale" in capsys.readouterr().out
    assert colorize(src, "-o", tmp_path / "as-is", "--model", plain) == 0
    assert "records no training scale" in capsys.readouterr().err
    assert colorize(src, "-o", tmp_path / "bad", "--model", plain, "--scale", "0") == 2
    one_line_error(capsys, "--scale 0")
    assert not (tmp_path / "bad").exists()


def test_colorize_honours_the_tiling_recorded_in_the_model(tmp_path, user_models, capsys, monkeypatch):
    plans = []
    real = user.plan_crops
    monkeypatch.setattr(user, "plan_crops", lambda *a, **k: plans.append((k["canvas"], k["tile"])) or real(*a, **k))
    src = folder_of(tmp_path, 1)
    for tile in (224, 112):
        model = user_models.write(tmp_path / f"m{tile}.pt", {**user_models.RECORD, "strategy": "tiles"},
                                  tiling={"canvas": 448, "tile": tile})
        assert colorize(src, "--model", model, "-o", tmp_path / f"out{tile}") == 0
        assert f"canvas 448, tile {tile}" in capsys.readouterr().err
    assert plans == [(448, 224), (448, 112)]
