"""results/{chapter} holds everything a person needs to see the run, opened from index.html, and appears whole or
not at all; the snakemake --report captions are the same texts."""
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest
import torch

from mangacolor.cli import main as cli
from mangacolor.report.html import CAPTIONS, best_values

ROOT = Path(__file__).resolve().parents[2]
# (caption key, file the figure rule writes)
FIGURE_FILES = [("backbone_edges", "backbone_edges.png"), ("registration", "chapter1.png"), ("bin_usage", "bin_usage.png"),
                ("loss_curves", "loss_curves.png"), ("stages", "stages_classification-adam.png"),
                ("stages", "stages_classification-sgd.png"), ("collapse", "collapse.png"), ("seams", "seams.png"),
                ("lineart", "lineart.png"), ("closeups", "closeups.png")]
METRICS = {"strategies": {
    "tiles": {"psnr": 20.0, "auc": 0.80, "auc_colored": 0.50, "bin_accuracy": 0.30, "colorfulness_ratio": 0.70,
              "seam": 3.5},
    "overlap": {"psnr": 21.5, "auc": 0.85, "auc_colored": 0.55, "bin_accuracy": 0.31, "colorfulness_ratio": 1.40,
                "seam": 1.1}},
    "baselines": {
        "gray": {"psnr": 22.0, "auc": 0.70, "auc_colored": 0.20, "bin_accuracy": 0.10, "colorfulness_ratio": 0.0,
                 "seam": float("nan")},
        "regression": {"psnr": 19.0, "auc": 0.75, "auc_colored": 0.30, "bin_accuracy": 0.12,
                       "colorfulness_ratio": 0.2, "seam": 0.95}}}
# column -> the method whose mean is best (highest; closest to 1 for the ratio and the seam score)
EXPECTED_BEST = {"psnr": "gray", "auc": "overlap", "auc_colored": "overlap", "bin_accuracy": "overlap",
                 "colorfulness_ratio": "tiles", "seam": "regression"}
CONFIG = {"seed": 0, "chapters": {"ch2": {"source": "synthetic", "pages": 6}, "chapter1": {"source": "synthetic",
          "pages": 3}}, "train": ["ch2"], "test": ["chapter1"], "tiling": {"canvas": 1344, "tile": 224},
          "bins": {"step": 10, "rule": "gamut", "lambda": 0.5}, "features": {"weights": "hed", "layers": [8, 15]},
          "training": {"epochs": 6, "runs": {"classification": ["adam"]}},
          "colorize": {"model": "classification-adam", "strategies": ["tiles", "overlap"]}}
BENCHMARKS = {"hypercolumns/c1344-t224/hed/ch2.tsv": (120.5, 2048.0), "train/classification-adam.tsv": (300.25, 900.0),
              "pages/chapter1.tsv": (2.0, 150.0)}


class Tables(HTMLParser):
    """Rows of every <table> as lists of (text, class) cells, plus every src/href."""

    def __init__(self):
        super().__init__()
        self.tables, self.links, self._cell = [], [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ["", a.get("class") or ""]
        for k in ("src", "href"):
            if k in a and not a[k].startswith("#"):
                self.links.append(a[k])

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0] += data

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append((self._cell[0].strip(), self._cell[1]))
            self._cell = None


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, pages_kit, user_models):
    d = tmp_path_factory.mktemp("inputs")
    pages = pages_kit.make_pages(d / "pages" / "chapter1")
    figs = d / "figures"
    (figs / "panels").mkdir(parents=True)
    img = np.random.default_rng(0).integers(0, 255, (60, 80, 3), np.uint8)
    for _, name in FIGURE_FILES:
        cv2.imwrite(str(figs / name), img)
    for i in range(2):
        cv2.imwrite(str(figs / "panels" / f"page{i:03d}.png"), img)
    (d / "metrics.json").write_text(json.dumps(METRICS))
    (d / "metrics.csv").write_text("group,method,page,psnr\nstrategies,tiles,0,20.0\n")
    for rel, (s, rss) in BENCHMARKS.items():
        p = d / "benchmarks" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
                     f"{s}\t0:00:00\t{rss}\t1\t1\t1\t0\t0\t0\t{s}\n")
    (d / "classification-adam").mkdir()
    model = user_models.write(d / "classification-adam" / "model.pt", colorize=None)  # as training leaves it
    return {"dir": d, "figs": figs, "pages": pages, "model": model,
            "colorized": pages_kit.make_colorized(d / "cls.h5", pages)}


def report_args(inputs, out, colorized=None):
    figs = inputs["figs"]
    return ["report", "--chapter", "chapter1", "--figure", *[f"{key}={figs / n}" for key, n in FIGURE_FILES],
            "--panels", str(figs / "panels"), "--metrics", str(inputs["dir"] / "metrics.json"),
            str(inputs["dir"] / "metrics.csv"), "--colorized", str(colorized or inputs["colorized"]),
            "--config-json", json.dumps(CONFIG), "--benchmarks", str(inputs["dir"] / "benchmarks"),
            "--pages", str(inputs["pages"]), "--model", str(inputs["model"]), "--user-strategy", "overlap",
            "--decode", "argmax", "--temperature", "0.5", "--overlap-stride", "56", "--abstain", "true", "--output", "chroma",
            "--out", str(out)]


@pytest.fixture(scope="module")
def report(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("results") / "chapter1"
    assert cli(report_args(inputs, out)) == 0
    parser = Tables()
    parser.feed((out / "index.html").read_text())
    return out, parser


def test_index_references_every_figure_and_every_reference_exists(report):
    out, parsed = report
    links = set(parsed.links)
    for link in links:
        assert (out / link).is_file(), f"index.html links to missing {link}"
    copied = {p.relative_to(out).as_posix() for p in (out / "figures").rglob("*.png")}
    assert len(copied) == len(FIGURE_FILES) + 2
    assert copied <= links  # every copied figure is shown
    assert {"figures/registration.png", "figures/stages_classification-adam.png"} <= copied  # clear names
    assert {"metrics.json", "metrics.csv"} <= links


def test_every_caption_is_in_the_index(report):
    html = (report[0] / "index.html").read_text()
    for caption in CAPTIONS.values():
        assert caption.replace("&", "&amp;").replace("'", "&#x27;") in html


def test_metrics_table_marks_the_best_value_of_each_column(report):
    _, parsed = report
    table = next(t for t in parsed.tables if t[0][1][0] == "method")
    header = [text for text, _ in table[0]]
    assert [h.split(" ")[0].lower() for h in header[2:]] == ["psnr", "ssim", "auc", "auc", "bin", "colourfulness",
                                                            "δcf", "line", "ink", "seam"]
    assert {(row[0][0], row[1][0]) for row in table[1:]} == {
        ("chroma only", "tiles"), ("chroma only", "overlap"), ("baseline", "gray"), ("baseline", "regression")}
    column = {"psnr": 2, "auc": 4, "auc_colored": 5, "bin_accuracy": 6, "colorfulness_ratio": 7, "seam": 11}
    for col, j in column.items():
        marked = [row[1][0] for row in table[1:] if "best" in row[j][1]]
        assert marked == [EXPECTED_BEST[col]], f"{col}: marked {marked}"


def test_best_values_ignore_nan_and_pick_closest_to_one():
    best = best_values({"a": {"seam": float("nan"), "colorfulness_ratio": 1.3},
                        "b": {"seam": 0.8, "colorfulness_ratio": 0.8}})
    assert best == {"seam": 0.8, "colorfulness_ratio": 0.8}
    assert best_values({"a": {"colorfulness_ratio": 1.2}, "b": {"colorfulness_ratio": 0.75}})[
        "colorfulness_ratio"] == 1.2


def test_timings_table_is_sorted_with_the_total(report):
    _, parsed = report
    table = next(t for t in parsed.tables if [c[0] for c in t[0][:2]] == ["rule", "wildcards"])
    rows = [[c[0] for c in r] for r in table[1:]]
    assert [r[0] for r in rows] == ["train", "hypercolumns", "pages", "total"]
    assert rows[1][1] == "c1344-t224/hed/ch2" and float(rows[1][3]) == 2048
    assert float(rows[-1][2]) == pytest.approx(sum(s for s, _ in BENCHMARKS.values()), abs=0.1)


def test_config_summary_shows_chapters_and_their_roles(report):
    _, parsed = report
    chapters = next(t for t in parsed.tables if t[0][0][0] == "chapter")
    assert [(r[0][0], r[1][0]) for r in chapters[1:]] == [("ch2", "train"), ("chapter1", "test")]


def test_every_strategy_page_is_written(report, inputs):
    out, _ = report
    with h5py.File(inputs["colorized"], "r") as f:
        for s in ("tiles", "overlap"):
            names = sorted(p.name for p in (out / "pages" / s).iterdir())
            assert names == ["000.png", "001.png", "002.png"]
            png = cv2.cvtColor(cv2.imread(str(out / "pages" / s / "001.png")), cv2.COLOR_BGR2RGB)
            assert np.array_equal(png, f[f"page001/{s}/rgb"][()])


def test_the_model_is_exported_with_the_colourising_defaults(report, inputs):
    out, parsed = report
    saved = torch.load(out / "model.pt", weights_only=True)
    assert saved["meta"]["colorize"] == {"strategy": "overlap", "decode": "argmax", "temperature": 0.5,
                                         "overlap_stride": 56, "abstain": True, "output": "chroma"}
    source = torch.load(inputs["model"], weights_only=True)
    assert "colorize" not in source["meta"]  # the training run's own file is left as it was
    for key, value in source["state_dict"].items():
        assert torch.equal(saved["state_dict"][key], value)
    assert {"viewer.html", "model.pt"} <= set(parsed.links)


def _stage_colours(tab, *fractions):
    left, top, width, height = tab.js("(() => { const b = document.getElementById('stage')"
                                      ".getBoundingClientRect(); return [b.left, b.top, b.width, b.height]; })()")
    shot = tab.screenshot().astype(int)
    return [shot[int(top + fy * height), int(left + fx * width)] for fx, fy in fractions]


def test_viewer_shows_bw_colour_and_truth_of_every_page(report, inputs, browser, pages_kit):
    out, _ = report
    names = sorted(p.name for p in (out / "pages" / "bw").iterdir())
    assert names == sorted(p.name for p in (out / "pages" / "truth").iterdir()) == ["000.png", "001.png", "002.png"]
    browser.open((out / "viewer.html").as_uri() + "#page=2&slider=0.5")
    assert browser.js("document.getElementById('counter').textContent") == "Page 2 / 3"
    bw = cv2.imread(str(inputs["pages"] / "bw" / "001.png"), cv2.IMREAD_GRAYSCALE)
    colour = cv2.cvtColor(cv2.imread(str(out / "pages" / "overlap" / "001.png")), cv2.COLOR_BGR2RGB)
    truth = cv2.cvtColor(cv2.imread(str(inputs["pages"] / "color" / "001.png")), cv2.COLOR_BGR2RGB)
    # inside the first panel's fill (left half) and the second's (right half), away from the discs' rows
    spots = [(0.25, 0.12), (0.75, 0.12)]
    pixel = [(int(fy * pages_kit.H), int(fx * pages_kit.W)) for fx, fy in spots]
    left_px, right_px = _stage_colours(browser, *spots)
    assert np.abs(left_px - bw[pixel[0]]).max() <= 8  # B&W left of the slider
    assert np.abs(right_px - colour[pixel[1]]).max() <= 8  # the user strategy's colour right of it
    browser.press("2")  # colour | truth
    left_px, right_px = _stage_colours(browser, *spots)
    assert np.abs(left_px - colour[pixel[0]]).max() <= 8 and np.abs(right_px - truth[pixel[1]]).max() <= 8
    assert not np.allclose(colour[pixel[1]], truth[pixel[1]], atol=8)  # the check can tell colour from truth


def test_a_failure_midway_leaves_no_report(inputs, tmp_path):
    broken = tmp_path / "broken.h5"
    with h5py.File(broken, "w") as f:  # strategies listed but the pages are missing: fails after figures copied
        f.attrs["strategies"] = ["tiles"]
        f.create_group("page000")
    out = tmp_path / "results" / "chapter1"
    with pytest.raises(KeyError):
        cli(report_args(inputs, out, colorized=broken))
    assert not out.exists()
    assert list((tmp_path / "results").iterdir()) == []  # no temporary folder left either


def test_rst_captions_match_the_report_and_every_rule_has_one():
    folder = ROOT / "workflow" / "report"
    for key, caption in CAPTIONS.items():
        assert (folder / f"{key}.rst").read_text().strip() == caption, \
            f"{key}.rst is stale: run python -m mangacolor.report workflow/report"
    rules = "".join((ROOT / "workflow" / "rules" / f).read_text() for f in ("figures.smk", "features.smk"))
    used = set(re.findall(r"report/(\w+)\.rst", rules)) | set(re.findall(r'fig\("[^"]+", "(\w+)"', rules))
    assert used and used <= set(CAPTIONS)


def test_held_out_chapters_side_by_side_pick_each_chapters_best():
    from mangacolor.report.html import held_out_html

    color = {"overlap": {"psnr": 14.0, "colorfulness_ratio": 0.9}, "contours": {"psnr": 15.5,
                                                                              "colorfulness_ratio": 1.1}}
    table = held_out_html({"chapter1": {**METRICS, "color": color}, "newarc": METRICS})
    parser = Tables()
    parser.feed(table)
    (rows,) = parser.tables
    assert [r[0][0] for r in rows[1:]] == ["chapter1", "newarc"]
    chapter1 = [text for text, _ in rows[1]]
    assert chapter1[1] == "0.200" and chapter1[3].startswith("0.550 (overlap)")  # grey, best strategy by AuC
    assert chapter1[5] == "15.50 (contours)" and chapter1[6] == "1.100 (contours)"  # best colour page, its ratio
    assert [text for text, _ in rows[2]][5] == "–"  # no colour pages in that run
