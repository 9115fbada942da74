"""Scale curve: stage times, hypercolumn bytes and peak RSS against the number of training pages, extrapolated to
the full-size config (workflow/configs/full-size.yaml).

    python benchmarks/scale.py [--sizes 6,12,24,48] [--sample 128] [--epochs 2] [--workdir DIR] [--out docs/scale.png]

The pipeline runs up to the held-out chapter's scores for each size, in one temp dir with its own config (random
VGG16 weights, the default layers and grid, sparse storage of `--sample` cells per tile, a per-cell head,
classification-adam only, `--epochs` epochs): training chapters of 6 pages, the first k of them for size 6 k, so a
larger size reuses the smaller one's per-chapter jobs (pages, tiles, targets, hypercolumns) and runs its own bins,
labels and training. A size's `stage_s` is the sum of Snakemake's benchmark seconds of its jobs (per-chapter stages:
over its chapters); `peak_rss_mb` is the largest max_rss of those jobs; `hypercolumn_bytes` the size of its training
chapters' hypercolumn files.

Full-size extrapolation, from the linear fit of each curve (per page) times the full-size config's pages, each stage
scaled by how its work grows between the two configs:
- hypercolumns: by the VGG16 FLOPs per tile (torch's FlopCounterMode on both backbones: convolutions);
- labels: by the grid cells per tile (soft encoding per cell); pages, tiles, targets, bins: as measured per page;
- train: by the head's training FLOPs per cell (forward + backward, FlopCounterMode), cells per tile, epochs and
  the number of models; storage: by the bytes per stored cell (channels x 2 + position and weight) and cells.
`hours_cpu` is this machine (its measured rate). `hours_gpu` is NOT measured (no GPU here): the hypercolumns and
training FLOPs at `--gpu-tflops` sustained (an assumption, stated in the figure), no faster than writing the
hypercolumn files (and, training, reading them every epoch) at `--disk-gbps`; the other stages stay on the CPUs as
measured. Every model is counted as a classifier.
Prints one JSON object on its last line:
{"sizes": [{"pages", "tiles", "stage_s", "hypercolumn_bytes", "peak_rss_mb"}, ...],
 "full_size": {"hypercolumn_gb", "dense_hypercolumn_gb", "crops_gb", "hours_cpu", "hours_gpu", ...}}
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import torch
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mangacolor.config import bins_tag, feature_tag, normalise_config, tiles_tag  # noqa: E402

PAGES_PER_CHAPTER = 6
TEST_PAGES = 2
PER_CHAPTER = ("pages", "tiles", "targets", "hypercolumns", "labels")  # one job per chapter
PER_RUN = ("bins", "train")  # one job per size
STAGES = PER_CHAPTER + PER_RUN


def bench_config(chapters: list[str], sample: int, epochs: int) -> dict:
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["chapters"] = {**{c: {"source": "synthetic", "pages": PAGES_PER_CHAPTER} for c in chapters},
                          "chapter1": {"source": "synthetic", "pages": TEST_PAGES}}
    config["train"], config["test"] = chapters, ["chapter1"]
    config["features"].update(weights="random", sample=sample)
    config["training"].update(kernel=1, context=0, epochs=epochs, runs={"classification": ["adam"]})
    return config


def tags(config: dict) -> tuple[str, str, str, str]:
    config = json.loads(json.dumps(config))
    normalise_config(config)
    return (tiles_tag(config["tiling"]), feature_tag(config["features"]), bins_tag(config["bins"]),
            f"-g{config['features']['grid']}")


def snakemake(workdir: Path, cores: int, target: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--configfile", "run.yaml",
           "--cores", str(cores), target]
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env=env)  # this checkout's package
    if proc.returncode:
        sys.exit(proc.stdout[-3000:] + proc.stderr[-3000:])


def read_bench(path: Path) -> tuple[float, float]:
    """(seconds, max_rss MB) of a Snakemake benchmark file."""
    with open(path) as f:
        row = next(csv.DictReader(f, delimiter="\t"))
    rss = row.get("max_rss", "NA")
    return float(row["s"]), float(rss) if rss not in ("NA", "-", "") else 0.0


def stage_costs(bench: Path, chapters: list[str], tt: str, ft: str, bt: str, g: str) -> tuple[dict, float]:
    """Per stage, the seconds of this size's jobs; and their peak RSS (MB)."""
    files = {
        "pages": [bench / "pages" / f"{c}.tsv" for c in chapters],
        "tiles": [bench / "tiles" / tt / f"{c}.tsv" for c in chapters],
        "targets": [bench / "targets" / f"{tt}{g}" / f"{c}.tsv" for c in chapters],
        "hypercolumns": [bench / "hypercolumns" / tt / ft / f"{c}.tsv" for c in chapters],
        "labels": [bench / "labels" / tt / f"{bt}{g}" / f"{c}.tsv" for c in chapters],
        "bins": [bench / "bins" / tt / f"{bt}.tsv"],
        "train": [bench / "train" / tt / ft / bt / "classification-adam.tsv"],
    }
    stage_s, peak = {}, 0.0
    for stage, paths in files.items():
        costs = [read_bench(p) for p in paths]
        stage_s[stage] = round(sum(s for s, _ in costs), 2)
        peak = max([peak, *(r for _, r in costs)])
    return stage_s, peak


def backbone_flops(layers, grid: int, tile: int) -> float:
    """FLOPs of one tile through the hypercolumn backbone (convolutions; counted on the meta device)."""
    from torch.utils.flop_counter import FlopCounterMode

    from mangacolor.features.backbone import Hypercolumns, load_vgg_features

    features, info = load_vgg_features("random", seed=0)
    model = Hypercolumns(features, layers, grid, convention=info).to("meta")
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 1, tile, tile, device="meta"))
    return float(counter.get_total_flops())


def head_train_flops(channels: int, widths, n_bins: int) -> float:
    """FLOPs of one training step per cell of a per-cell classifier head (forward + backward)."""
    from torch.utils.flop_counter import FlopCounterMode

    from mangacolor.model.heads import build_model

    head = build_model("classification", channels, n_bins, widths, 1, 0)
    x = torch.randn(2, channels, 64, 1)
    with FlopCounterMode(display=False) as counter:
        head(x).logsumexp(1).mean().backward()
    return float(counter.get_total_flops()) / (2 * 64)


def crops_per_page(pages_dir: Path, colorize: dict, tiling: dict) -> float:
    """Crops of every strategy per page (what the dense `crops` cache of a test chapter holds)."""
    from mangacolor.colorize.strategies import plan_crops
    from mangacolor.data.pages import load_page_folder

    rows, pages = load_page_folder(pages_dir)
    crops = sum(len(plan_crops(bw, s, tile=tiling["tile"], canvas=tiling["canvas"], stride=colorize["overlap_stride"],
                               min_area=colorize["contour_min_area"]).crops)
                for _, bw in pages for s in colorize["strategies"])
    return crops / len(rows)


def fit(x, y) -> tuple[float, float]:
    """Least-squares line y = a + b x -> (a, b)."""
    b, a = np.polyfit(np.asarray(x, float), np.asarray(y, float), 1)
    return float(a), float(b)


def extrapolate(sizes: list[dict], bench: dict, full: dict, args) -> dict:
    """The full-size config's storage and hours from the fits of the measured sizes (module docstring)."""
    pages = [s["pages"] for s in sizes]
    f_feat, b_feat, f_train = full["features"], bench["features"], full["training"]
    train_pages = sum(full["chapters"][c]["pages"] for c in full["train"])
    all_pages = sum(c["pages"] for c in full["chapters"].values())
    test_pages = all_pages - train_pages
    # tiles per training page (every page of a training chapter is printed train_prints times) and per test page
    train_tiles_page = sum(s["tiles"] for s in sizes) / sum(pages) * full["train_prints"] / bench["train_prints"]
    with h5py.File(bench["_workdir"] / "results/work/tiles" / tiles_tag(bench["tiling"]) / "chapter1.h5", "r") as f:
        test_tiles_page = len(f["gray"]) / TEST_PAGES
    all_tiles = train_tiles_page * train_pages + test_tiles_page * test_pages
    models = sum(len(v) for v in f_train["runs"].values())
    bench_channels = sizes[0]["channels"]
    from mangacolor.features.backbone import channels_for

    channels = channels_for(f_feat["layers"])
    cells_full = f_feat["sample"] or f_feat["grid"] ** 2
    cell_bytes = lambda c, sparse: c * 2 + (8 if sparse else 0)  # noqa: E731 (float16 x; int32 cell + float32 weight)
    _, bytes_per_page = fit(pages, [s["hypercolumn_bytes"] for s in sizes])
    bench_tiles_page = sum(s["tiles"] for s in sizes) / sum(pages)
    per_cell = bytes_per_page / (bench_tiles_page * b_feat["sample"])  # measured, HDF5 overhead included
    # every chapter's hypercolumns file (the held-out chapter's too: it is scored on its own sample)
    storage = per_cell * cell_bytes(channels, True) / cell_bytes(bench_channels, True) * cells_full * all_tiles
    dense = cell_bytes(channels, False) * f_feat["grid"] ** 2 * all_tiles

    flops_b = backbone_flops(b_feat["layers"], b_feat["grid"], bench["tiling"]["tile"])
    flops_f = backbone_flops(f_feat["layers"], f_feat["grid"], full["tiling"]["tile"])
    head_b = head_train_flops(bench_channels, bench["training"]["widths"], 313)
    head_f = head_train_flops(channels, f_train["widths"], 313)
    train_scale = (head_f / head_b) * (cells_full / b_feat["sample"]) * (f_train["epochs"] / bench["training"]["epochs"]) \
        * models  # the benchmark trains one model
    scale = {"pages": 1.0, "tiles": 1.0, "targets": 1.0, "bins": 1.0, "labels": (f_feat["grid"] / b_feat["grid"]) ** 2,
             "hypercolumns": flops_f / flops_b, "train": train_scale}
    # per-chapter stages run on the held-out chapter too, the tile stages in proportion to its tiles
    tile_pages = train_pages + test_pages * test_tiles_page / train_tiles_page
    stage_pages = {"pages": all_pages, "tiles": tile_pages, "targets": tile_pages, "hypercolumns": tile_pages,
                   "labels": tile_pages, "bins": train_pages, "train": train_pages}
    slopes = {stage: fit(pages, [s["stage_s"][stage] for s in sizes])[1] for stage in STAGES}
    cpu_s = {stage: max(slopes[stage], 0.0) * stage_pages[stage] * scale[stage] for stage in STAGES}

    gpu_rate = args.gpu_tflops * 1e12
    gpu_s = dict(cpu_s)
    # at least the time to write the hypercolumns files
    gpu_s["hypercolumns"] = max(flops_f * all_tiles / gpu_rate, storage / (args.disk_gbps * 1e9))
    train_tiles = train_tiles_page * train_pages * (1 - f_train["val_fraction"])
    train_flops = head_f * cells_full * train_tiles * f_train["epochs"] * models
    train_read = storage * train_tiles_page * train_pages / all_tiles * f_train["epochs"] * models \
        / (args.disk_gbps * 1e9)
    gpu_s["train"] = max(train_flops / gpu_rate, train_read)
    hypercolumn_s = sum(s["stage_s"]["hypercolumns"] for s in sizes)
    cpu_rate = flops_b * sum(s["tiles"] for s in sizes) / hypercolumn_s  # measured FLOP/s of the VGG16 pass here
    crops = crops_per_page(bench["_workdir"] / "results/work/pages/chapter1", full["colorize"], full["tiling"])
    return {
        "pages": all_pages, "train_pages": train_pages, "tiles": round(all_tiles),
        "hypercolumn_gb": round(storage / 1e9, 1), "dense_hypercolumn_gb": round(dense / 1e9, 1),
        "crops_gb": round(crops * test_pages * cell_bytes(channels, False) * f_feat["grid"] ** 2 / 1e9, 1),
        "hours_cpu": round(sum(cpu_s.values()) / 3600, 1), "hours_gpu": round(sum(gpu_s.values()) / 3600, 2),
        "stage_hours_cpu": {k: round(v / 3600, 3) for k, v in cpu_s.items()},
        "stage_hours_gpu": {k: round(v / 3600, 3) for k, v in gpu_s.items()},
        "backbone_gflop_per_tile": {"benchmark": round(flops_b / 1e9, 2), "full_size": round(flops_f / 1e9, 2)},
        "head_mflop_per_cell_step": {"benchmark": round(head_b / 1e6, 3), "full_size": round(head_f / 1e6, 3)},
        "cpu_gflops_measured": round(cpu_rate / 1e9, 1), "gpu_tflops_assumed": args.gpu_tflops,
        "disk_gbps_assumed": args.disk_gbps, "crops_per_test_page": round(crops, 1),
    }


def draw(sizes: list[dict], full: dict, args, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from mangacolor.io import atomic_path

    pages = np.array([s["pages"] for s in sizes], float)
    line = np.linspace(0, pages.max() * 1.05, 50)
    fig = Figure(figsize=(13, 9.5), layout="constrained")
    (ax_store, ax_time), (ax_rss, ax_full) = fig.subplots(2, 2)

    mb = np.array([s["hypercolumn_bytes"] for s in sizes]) / 1e6
    dense_mb = np.array([s["dense_bytes"] for s in sizes]) / 1e6
    for y, label, style in ((mb, f"sampled ({args.sample} cells per tile), measured", "o-"),
                            (dense_mb, "dense (every cell), computed", "s--")):
        a, b = fit(pages, y)
        ax_store.plot(pages, y, style[0], label=f"{label}: {b:.2f} MB/page")
        ax_store.plot(line, a + b * line, style[1:], color=ax_store.lines[-1].get_color(), lw=1)
    ax_store.set(title="Hypercolumn storage of the training chapters", xlabel="training pages", ylabel="MB")
    ax_store.text(0.02, 0.97, f"full size ({full['pages']} pages, {full['tiles']} tiles): {full['hypercolumn_gb']} GB "
                  f"sampled\n(dense: {full['dense_hypercolumn_gb']} GB; dense crops of the held-out chapter for "
                  f"inference: {full['crops_gb']} GB)", transform=ax_store.transAxes, va="top", fontsize=8.5)
    ax_store.legend(loc="upper left", bbox_to_anchor=(0, 0.87), fontsize=8.5)

    for stage in STAGES:
        y = np.array([s["stage_s"][stage] for s in sizes])
        a, b = fit(pages, y)
        ax_time.plot(pages, y, "o", label=f"{stage}: {b:.2f} s/page")
        ax_time.plot(line, a + b * line, "-", color=ax_time.lines[-1].get_color(), lw=1)
    ax_time.set(title="Wall time per stage (Snakemake benchmark files), linear fits", xlabel="training pages",
                ylabel="seconds (sum over the stage's jobs)")
    ax_time.legend(fontsize=8.5)

    rss = np.array([s["peak_rss_mb"] for s in sizes])
    ax_rss.plot(pages, rss, "o-")
    ax_rss.set(title="Peak RSS of any job", xlabel="training pages", ylabel="MB", ylim=(0, rss.max() * 1.3))

    stages = list(full["stage_hours_cpu"])
    y = np.arange(len(stages))
    cpu = [full["stage_hours_cpu"][s] for s in stages]
    gpu = [full["stage_hours_gpu"][s] for s in stages]
    ax_full.barh(y - 0.2, cpu, 0.4, label=f"this machine (2 CPUs): {full['hours_cpu']} h")
    ax_full.barh(y + 0.2, gpu, 0.4, label=f"one GPU (estimate): {full['hours_gpu']} h")
    ax_full.set_xscale("log")
    ax_full.set_yticks(y, stages)
    ax_full.legend(fontsize=8.5, loc="lower right")
    ax_full.set(title="Extrapolated to the full-size config, per stage", xlabel="hours (log scale)")
    fig.supxlabel(f"Full size: the fits x how each stage's work grows (benchmarks/scale.py docstring); VGG16 ran at "
                  f"{full['cpu_gflops_measured']} GFLOP/s here.\nGPU: NOT measured (no GPU here): VGG16 and head FLOPs "
                  f"(FlopCounterMode) at an assumed {full['gpu_tflops_assumed']} TFLOP/s sustained, no faster than "
                  f"writing the hypercolumn files\n(and, training, reading them every epoch) at "
                  f"{full['disk_gbps_assumed']} GB/s; the other stages as on the CPUs.", fontsize=8.5)
    fig.suptitle(f"mangacolor scale curve: {', '.join(str(int(p)) for p in pages)} training pages "
                 f"(random VGG16, grid {args.grid}, {args.epochs} epochs), extrapolated to "
                 f"workflow/configs/full-size.yaml", fontsize=12)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=100, format="png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="6,12,24,48", help="training pages, multiples of 6")
    parser.add_argument("--sample", type=int, default=128, help="features.sample of the benchmark runs")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--gpu-tflops", type=float, default=40.0, help="assumed sustained GPU throughput")
    parser.add_argument("--disk-gbps", type=float, default=2.0, help="assumed read/write rate of hypercolumn files")
    parser.add_argument("--workdir", help="where to run (default: a fresh temp dir)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "scale.png"))
    args = parser.parse_args()
    sizes_pages = [int(s) for s in args.sizes.split(",")]
    if any(p % PAGES_PER_CHAPTER for p in sizes_pages):
        sys.exit(f"--sizes: each size must be a multiple of {PAGES_PER_CHAPTER} pages, got {args.sizes}")
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="mangacolor-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    names = [f"s{i}" for i in range(1, max(sizes_pages) // PAGES_PER_CHAPTER + 1)]
    sizes = []
    for n_pages in sizes_pages:
        chapters = names[:n_pages // PAGES_PER_CHAPTER]
        config = bench_config(chapters, args.sample, args.epochs)
        (workdir / "run.yaml").write_text(yaml.safe_dump(config))
        tt, ft, bt, g = tags(config)
        t0 = time.perf_counter()
        snakemake(workdir, args.cores, f"results/work/runs/{tt}/{ft}/{bt}/scores/chapter1.csv")
        wall = time.perf_counter() - t0
        stage_s, peak = stage_costs(workdir / "results/work/benchmarks", chapters, tt, ft, bt, g)
        feats = [workdir / "results/work/features" / tt / ft / f"{c}.h5" for c in chapters]
        tiles, channels = 0, 0
        for path in feats:
            with h5py.File(path, "r") as f:
                tiles, channels = tiles + f["x"].shape[0], f["x"].shape[1]
        grid = config["features"]["grid"]
        sizes.append({"pages": n_pages, "tiles": tiles, "channels": channels, "stage_s": stage_s,
                      "hypercolumn_bytes": sum(p.stat().st_size for p in feats),
                      "dense_bytes": tiles * channels * grid * grid * 2, "peak_rss_mb": round(peak, 1),
                      "wall_s": round(wall, 1)})
        print(json.dumps(sizes[-1]), flush=True)
    args.grid = bench_config(names[:1], args.sample, args.epochs)["features"]["grid"]
    bench = {**bench_config(names, args.sample, args.epochs), "_workdir": workdir}
    normalise_config(bench)
    full = yaml.safe_load((ROOT / "workflow" / "configs" / "full-size.yaml").read_text())
    defaults = yaml.safe_load((ROOT / "config.yaml").read_text())
    for key, value in defaults.items():  # the full-size config leaves the rest at the defaults
        if isinstance(value, dict) and key != "chapters":
            full[key] = {**value, **full.get(key, {})}
        else:
            full.setdefault(key, value)
    normalise_config(full)
    full_size = extrapolate(sizes, bench, full, args)
    draw(sizes, full_size, args, Path(args.out))
    print(f"workdir: {workdir}; figure: {args.out}")
    print(json.dumps({"sizes": [{k: s[k] for k in ("pages", "tiles", "stage_s", "hypercolumn_bytes", "peak_rss_mb")}
                                for s in sizes], "full_size": full_size}))


if __name__ == "__main__":
    main()
