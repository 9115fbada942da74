"""Which VGG16 layers make the hypercolumn: the blog's [8, 15] beside deeper, more semantic ones, in one table.

    python benchmarks/layers.py [--config config.yaml] [--workdir DIR] [--sets 8,15 8,15,22 8,15,22,29]

For each layer set (indices into torchvision vgg16().features: 8 relu2_2, 15 relu3_3, 22 relu4_3, 29 relu5_3)
it runs the pipeline up to the per-cell scores of every held-out chapter (Adam classifier only, same seed and
settings otherwise) in one work directory, so the bin-independent tiles and targets are shared. The default is
chosen on the VALIDATION pages of the training chapters (`val_top1` of the last epoch in history.csv), never on
a held-out chapter: the held-out columns are reported beside it, not used to choose.
Prints one JSON object last: {"sets": [{"layers", "channels", "val_top1", "held_out": {chapter: top1}, "s"}],
"best_on_validation": [...]}.
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mangacolor.config import bins_tag, feature_tag, tiles_tag  # noqa: E402
from mangacolor.features.backbone import channels_for  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "config.yaml"))
    parser.add_argument("--workdir", help="where to run (default: a fresh temp dir)")
    parser.add_argument("--sets", nargs="+", default=["8,15", "8,15,22", "8,15,22,29"])
    parser.add_argument("--cores", type=int, default=8)
    args = parser.parse_args()
    base = yaml.safe_load(Path(args.config).read_text())
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="mangacolor-layers-"))
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for text in args.sets:
        layers = [int(v) for v in text.split(",")]
        config = json.loads(json.dumps(base))
        config["features"]["layers"] = layers
        config["training"]["runs"] = {"classification": ["adam"], "regression": ["adam"]}
        (workdir / "run.yaml").write_text(yaml.safe_dump(config))
        tt, ft, bt = tiles_tag(config["tiling"]), feature_tag(config["features"]), bins_tag(config["bins"])
        run = f"results/work/runs/{tt}/{ft}/{bt}"
        targets = [f"{run}/scores/{c}.csv" for c in config["test"]]
        t0 = time.perf_counter()
        cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--configfile", "run.yaml",
               "--cores", str(args.cores), *targets]
        proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
        if proc.returncode:
            sys.exit(proc.stdout[-3000:] + proc.stderr[-3000:])
        history = pd.read_csv(workdir / run / "models" / "classification-adam" / "history.csv")
        held = {}
        for chapter, path in zip(config["test"], targets):
            scores = pd.read_csv(workdir / path)
            held[chapter] = round(float(scores[scores.model == "classification-adam"].top1.iloc[0]), 4)
        rows.append({"layers": layers, "channels": channels_for(layers), "val_top1": round(float(
            history.val_top1.iloc[-1]), 4), "held_out": held, "s": round(time.perf_counter() - t0, 1)})
        print(rows[-1], flush=True)
    best = max(rows, key=lambda r: r["val_top1"])["layers"]
    print(f"workdir: {workdir}")
    print(json.dumps({"sets": rows, "best_on_validation": best}))


if __name__ == "__main__":
    main()
