"""The whole workflow on a tiny config in a temporary directory: outputs, incremental reruns, determinism."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import pandas as pd
import pytest
import torch
import yaml

from mangacolor.evaluate.metrics import psnr

ROOT = Path(__file__).resolve().parent.parent
SNAKEFILE = ROOT / "Snakefile"

TINY = yaml.safe_load((ROOT / ".test" / "config_tiny.yaml").read_text())  # shared with CI
BIN_INDEPENDENT = {"pages", "tiles", "hypercolumns", "crops", "targets", "train_regression", "colorize_regression",
                   "backbone_edges", "tone_lookup", "figure_lineart", "figure_registration"}


def snakemake(workdir: Path, *args: str, config: dict | None = None) -> str:
    """Run snakemake in ``workdir`` on its tiny.yaml (rewritten from ``config`` when given); returns stdout+err."""
    if config is not None:
        (workdir / "tiny.yaml").write_text(yaml.safe_dump(config))
    cmd = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--configfile", "tiny.yaml", "--cores", "2",
           *args, "results/chapter1"]
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def planned_jobs(output: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run as {rule: count}; empty when nothing is to be done."""
    jobs = {}
    if "Job stats:" not in output:
        return jobs
    table = output.split("Job stats:", 1)[1]
    for line in table.splitlines()[3:]:
        m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not m:
            break
        if m.group(1) != "total":
            jobs[m.group(1)] = int(m.group(2))
    return jobs


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("workflow")
    snakemake(workdir, config=TINY)
    return workdir


def test_chapter_report_is_complete(run_dir):
    out = run_dir / "results" / "chapter1"
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["strategies"]) == set(metrics["color"]) == {"tiles", "overlap", "page", "contours"}
    assert set(metrics["baselines"]) == {"gray", "regression", "tone_lookup"}
    assert {"true_ab", "grid_truth", "region_truth"} <= set(metrics["references"])
    refs = metrics["references"]  # ceilings: the truth's grid average scores between the grey baseline and 1
    assert metrics["baselines"]["gray"]["auc"] < refs["grid_truth"]["auc"] < 1
    # the published pages are the ones scored: PSNR of each page PNG against the truth, recomputed here
    per_page = pd.read_csv(out / "metrics.csv")
    truth = cv2.imread(str(run_dir / "results" / "work" / "pages" / "chapter1" / "color" / "000.png"))
    for strategy in metrics["strategies"]:
        page = cv2.imread(str(out / "pages" / strategy / "000.png"))
        row = per_page[(per_page.group == "color") & (per_page.method == strategy) & (per_page.page == 0)].iloc[0]
        assert psnr(page[..., ::-1], truth[..., ::-1]) == pytest.approx(row.psnr, abs=1e-3), strategy
    for row in metrics["strategies"].values():
        assert {"psnr", "auc", "auc_colored", "bin_accuracy", "colorfulness_ratio", "seam"} <= set(row)
        assert 0 <= row["auc"] <= 1
    html = (out / "index.html").read_text()
    for src in re.findall(r'src="([^"]+)"', html):
        assert (out / src).is_file(), src
    assert sorted(p.parent.name for p in (out / "pages").glob("*/*.png")) == sorted(
        ["bw", "contours", "overlap", "page", "tiles", "truth"])  # every strategy's page, and the viewer's B&W, truth
    scores = pd.read_csv(out / "scores.csv")  # every head on the held-out tiles, beside the grey baseline
    assert list(scores.model) == ["gray", "classification-sgd", "classification-adam", "regression-adam",
                                  "classification-ensemble"]  # the ensemble (colorize.model) joins the two
    exported = torch.load(out / "model.pt", weights_only=True)["meta"]  # the model colorize users get
    assert exported["members"] == ["classification-sgd", "classification-adam"] and "abstain" in exported
    assert scores.cells.nunique() == 1 and (scores.top1.between(0, 1)).all()
    assert "Models on held-out tiles" in html
    assert not list((run_dir / "results").glob(".*"))  # no temp folders left behind


def test_nothing_to_do_after_a_run(run_dir):
    assert planned_jobs(snakemake(run_dir, "-n")) == {}


def test_bin_change_reruns_only_bin_dependent_rules(run_dir):
    config = json.loads(json.dumps(TINY))
    config["bins"] = {"step": 20}
    try:
        jobs = planned_jobs(snakemake(run_dir, "-n", config=config))
    finally:
        (run_dir / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    assert {"bins", "labels", "train", "colorize", "metrics", "scores", "report", "figure_bins"} <= set(jobs)
    assert not BIN_INDEPENDENT & set(jobs), jobs


def test_figure_style_change_reruns_only_figures(run_dir):
    config = json.loads(json.dumps(TINY))
    config["figures"]["dpi"] = 120
    try:
        jobs = planned_jobs(snakemake(run_dir, "-n", config=config))
    finally:
        (run_dir / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    assert jobs and all(rule.startswith("figure_") or rule == "report" for rule in jobs), jobs


def test_two_fresh_runs_give_identical_metrics(run_dir, tmp_path):
    snakemake(tmp_path, config=TINY)
    first = (run_dir / "results" / "chapter1" / "metrics.json").read_bytes()
    assert (tmp_path / "results" / "chapter1" / "metrics.json").read_bytes() == first


def test_bad_config_fails_before_any_job(tmp_path):
    config = json.loads(json.dumps(TINY))
    config["bins"] = {"stepp": 10}
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(config))
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--configfile", "tiny.yaml",
                           "--cores", "1", "results/chapter1"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "stepp" in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()


def test_slurm_profile_requests_gpus_for_heavy_rules(tmp_path):
    """Dry run of the documented full-size config through the SLURM profile: the resources each job would ask."""
    pytest.importorskip("snakemake_executor_plugin_slurm")
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--profile",
                           str(ROOT / "profiles" / "slurm"), "--configfile",
                           str(ROOT / "workflow" / "configs" / "full-size.yaml"), "-n", "results/chapter1"],
                          cwd=tmp_path, capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    jobs = re.findall(r"^rule (\w+):.*?resources: ([^\n]+)", out, flags=re.S | re.M)
    resources = {}
    for rule, res in jobs:
        resources.setdefault(rule, dict(kv.split("=", 1) for kv in res.split(", ")))
    jobs = planned_jobs(out)
    # hypercolumns: the 9 training chapters and the held-out one (its tiles are scored per cell)
    assert jobs["train"] == 3 and jobs["train_regression"] == 1 and jobs["hypercolumns"] == 10
    for rule in ("hypercolumns", "train", "train_regression", "crops"):
        assert resources[rule]["gpu"] == "1" and resources[rule]["slurm_partition"] == "gpu", resources[rule]
        assert int(resources[rule]["cpus_per_task"]) == 8
    assert "gpu" not in resources["labels"] and int(resources["train"]["mem_mb"]) >= 16000


def test_slurm_profile_requests_a_gpu_per_training_process(tmp_path):
    """training.processes N: each training job asks SLURM for N GPUs and runs N processes under torchrun."""
    pytest.importorskip("snakemake_executor_plugin_slurm")
    config = yaml.safe_load((ROOT / "workflow" / "configs" / "full-size.yaml").read_text())
    config["training"]["processes"] = 4
    (tmp_path / "p4.yaml").write_text(yaml.safe_dump(config))
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--profile",
                           str(ROOT / "profiles" / "slurm"), "--configfile", "p4.yaml", "-n", "results/chapter1"],
                          cwd=tmp_path, capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    jobs = re.findall(r"^rule (\w+):.*?resources: ([^\n]+)\nShell command: ([^\n]+)", out, flags=re.S | re.M)
    training = [(res, shell) for rule, res, shell in jobs if rule in ("train", "train_regression")]
    assert len(training) == 4
    for res, shell in training:
        resources = dict(kv.split("=", 1) for kv in res.split(", "))
        assert resources["gpu"] == "4" and resources["slurm_partition"] == "gpu", resources
        assert shell.startswith("torchrun --standalone --nproc_per_node 4 -m mangacolor train ") and \
            "--processes 4" in shell
    # the other GPU rules keep one GPU; the full-size features are sampled, the crops of inference dense
    heavy = {rule: dict(kv.split("=", 1) for kv in res.split(", ")) for rule, res, _ in jobs}
    assert heavy["hypercolumns"]["gpu"] == "1" and heavy["crops"]["gpu"] == "1"
    assert "-s1024/ch2.h5" in out and re.search(r"-float32/crops/chapter1\.h5", out)
