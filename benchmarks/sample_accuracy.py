"""Held-out per-cell accuracy of a head trained on sampled hypercolumns (features.sample) vs on dense ones.

    python benchmarks/sample_accuracy.py [--chapters 6] [--pages 6] [--test-pages 4] [--sample 128] [--workdir DIR]

Runs the pipeline up to the held-out scores twice in one directory, on the default config with `--chapters`
training chapters of `--pages` pages (6 = twice the default) and a per-cell head (kernel 1, context 0, the only head
sparse storage can train), classification-adam only: once dense (features.sample 0) and once sampled. Pages, tiles,
targets, labels and bins are shared; each run computes its own hypercolumns. Both heads are then scored on the same
dense hypercolumns of the held-out chapter, every cell counted.
Prints one JSON object on its last line: {"dense": {...}, "sampled": {...}, "top1_difference": ...} with, per run,
the held-out top-1/top-5, the scores the run itself wrote (on its own, sampled, held-out features for the sampled
run), the bytes of training hypercolumns and the training job's seconds.
Target: the sampled head's held-out top-1 within 0.02 of the dense head's.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mangacolor.config import bins_tag, feature_tag, normalise_config, tiles_tag  # noqa: E402


def snakemake(workdir: Path, config_name: str, cores: int, *targets: str) -> None:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--configfile", config_name,
           "--cores", str(cores), *targets]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env=env)  # this checkout's package
    if proc.returncode:
        sys.exit(proc.stdout[-3000:] + proc.stderr[-3000:])


def run_paths(config: dict) -> dict[str, str]:
    """Where the pipeline puts this config's features, scores and classifier (as workflow/rules/common.smk)."""
    full = json.loads(json.dumps(config))  # every section present: it starts from config.yaml
    normalise_config(full)
    tt, ft, bt = tiles_tag(full["tiling"]), feature_tag(full["features"]), bins_tag(full["bins"])
    run = f"results/work/runs/{tt}/{ft}/{bt}"
    return {"features": f"results/work/features/{tt}/{ft}", "dense": f"results/work/features/{tt}/"
            f"{feature_tag(full['features'], dense=True)}", "run": run,
            "scores": f"{run}/scores/chapter1.csv", "model": f"{run}/models/classification-adam/model.pt",
            "labels": f"results/work/labels/{tt}/{bt}-g{full['features']['grid']}/chapter1.h5",
            "bins": f"results/work/bins/{tt}-g{full['features']['grid']}/{bt}/bins.npz",
            "bench": f"results/work/benchmarks/train/{tt}/{ft}/{bt}/classification-adam.tsv"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapters", type=int, default=6, help="training chapters (the default config has 3)")
    parser.add_argument("--pages", type=int, default=6, help="pages per training chapter")
    parser.add_argument("--test-pages", type=int, default=4)
    parser.add_argument("--sample", type=int, default=128, help="cells per tile of the sampled run")
    parser.add_argument("--workdir", help="where to run (default: a fresh temp dir)")
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()

    from mangacolor.data.dataset import TileDataset
    from mangacolor.data.targets import load_bins
    from mangacolor.evaluate.scores import score_head
    from mangacolor.model.load import load_model

    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    train = [f"ch{i}" for i in range(2, args.chapters + 2)]
    config["chapters"] = {**{c: {"source": "synthetic", "pages": args.pages} for c in train},
                          "chapter1": {"source": "synthetic", "pages": args.test_pages}}
    config["train"], config["test"] = train, ["chapter1"]
    config["training"].update(kernel=1, context=0, runs={"classification": ["adam"]})
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="mangacolor-sample-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, sample in (("dense", 0), ("sampled", args.sample)):
        config["features"]["sample"] = sample
        (workdir / f"{name}.yaml").write_text(yaml.safe_dump(config))
        paths = run_paths(config)
        snakemake(workdir, f"{name}.yaml", args.cores, paths["scores"])
        with open(workdir / paths["scores"]) as f:
            own = {row["model"]: row for row in csv.DictReader(f)}["classification-adam"]
        with open(workdir / paths["bench"]) as f:
            train_s = float(next(csv.DictReader(f, delimiter="\t"))["s"])
        results[name] = {"sample": sample, "paths": paths, "own_top1": float(own["top1"]),
                         "train_s": round(train_s, 1),
                         "hypercolumn_bytes": sum((workdir / paths["features"] / f"{c}.h5").stat().st_size
                                                  for c in train)}
    # both heads on the dense held-out hypercolumns (the dense run's), every cell counted
    dense_paths = results["dense"]["paths"]
    held_out = TileDataset([workdir / dense_paths["features"] / "chapter1.h5"], [workdir / dense_paths["labels"]])
    centers = load_bins(workdir / dense_paths["bins"])["centers"]
    for name, result in results.items():
        model, meta = load_model(workdir / result.pop("paths")["model"])
        scores = score_head(model, meta, held_out, centers)
        result.update(top1=round(scores["top1"], 4), top5=round(scores["top5"], 4), cells=scores["cells"])
    print(f"workdir: {workdir}")
    print(json.dumps({**results, "top1_difference": round(results["sampled"]["top1"] - results["dense"]["top1"], 4)}))


if __name__ == "__main__":
    main()
