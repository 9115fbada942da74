"""Benchmark whole-page colourisation: tiles and overlap (224 crops of the canvas) against the native page pass.

Each strategy runs in a fresh process (--repeats times, strategies alternating; the fastest run is kept, since
other processes on a shared machine only ever slow a run down) on the same synthetic 1200 x 780 pages
(random-weight VGG16 of config.yaml's layers and grid, and a random classification head of its shape; its tiling,
overlap stride, decode and temperature), from the B&W page to ab per pixel: plan, VGG, head, decode, compose.
Per strategy: seconds per page (mean over the pages, after a warm-up), peak RSS of its process, and the VGG GFLOP
it spent (2 x the multiply-adds of every convolution, from the shapes actually run).
The GEMM rate (float32 matmul of --gemm^3, best of 3) is measured in the same run, and
limit_s = native GFLOP per page / GEMM GFLOP/s is the time the native pass would take at that rate.

Prints one JSON object on its last line:
{"strategies": {"tiles": {"s_per_page", "peak_rss_mb", "gflop"}, "overlap": {...}, "native": {...}},
 "gemm_gflops", "limit_s", "native_speedup_vs_overlap", "native_s_over_limit", ["big": {...}]}.
Targets: native_speedup_vs_overlap >= 4, native_s_over_limit <= 2, big peak_rss_mb <= 8192.

    python benchmarks/colorize.py [--pages 2] [--threads 2] [--big]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from memory import peak_rss_mb  # noqa: E402  (benchmarks/memory.py, beside this script)

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml  # noqa: E402

STRATEGIES = ("tiles", "overlap", "native")
SERIES, CHAPTER = 2016, "chapter1"
CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
FEATURES, TRAINING, TILING, COLORIZE = (CONFIG[k] for k in ("features", "training", "tiling", "colorize"))
CELL = TILING["tile"] // FEATURES["grid"]


def gemm_gflops(n: int, repeats: int = 3) -> float:
    """float32 matmul rate of n x n by n x n, best of `repeats`, in GFLOP/s."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.matmul(a, b)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9


class ConvCounter:
    """Counts 2 x multiply-adds of every Conv2d of a module as it runs (forward hooks on the real shapes)."""

    def __init__(self, module):
        import torch

        self.flop = 0
        self.hooks = [m.register_forward_hook(self._count) for m in module.modules()
                      if isinstance(m, torch.nn.Conv2d)]

    def _count(self, conv, inputs, output):
        k_h, k_w = conv.kernel_size
        self.flop += 2 * output.numel() * (conv.in_channels // conv.groups) * k_h * k_w


def build(threads: int):
    import torch

    from mangacolor.features.backbone import Hypercolumns
    from mangacolor.kernels.bins import bin_centers
    from mangacolor.model.heads import build_model

    torch.set_num_threads(threads)
    extractor = Hypercolumns.from_weights("random", FEATURES["layers"], FEATURES["grid"])
    centers = bin_centers(CONFIG["bins"]["step"], CONFIG["bins"]["rule"])
    torch.manual_seed(0)
    head = build_model("classification", extractor.channels, len(centers), TRAINING["widths"], TRAINING["kernel"],
                       TRAINING["context"]).eval()
    return extractor, head, centers


def colorize(strategy: str, bw: np.ndarray, extractor, head, centers) -> np.ndarray:
    """ab (H, W, 2) of one B&W page by one strategy."""
    if strategy == "native":
        from mangacolor.colorize.native import native_ab

        return native_ab(extractor, head, bw, "classification", centers, COLORIZE["decode"], COLORIZE["temperature"],
                         cell=CELL)[0]
    from mangacolor.colorize.chapter import head_ab
    from mangacolor.colorize.strategies import compose, plan_crops
    from mangacolor.features.hypercolumns import compute

    plan = plan_crops(bw, strategy, tile=TILING["tile"], canvas=TILING["canvas"], stride=COLORIZE["overlap_stride"])
    x = compute(extractor, plan.crops, batch_size=FEATURES["batch_size"], device="cpu")
    ab = head_ab(head, {"kind": "classification"}, x, centers, COLORIZE["decode"], COLORIZE["temperature"])
    return compose(bw, plan, ab)


def child(args) -> None:
    """One strategy on --pages pages in this fresh process: print its measurements as JSON."""
    from mangacolor.data.synth import render_page

    extractor, head, centers = build(args.threads)
    pages = [render_page(SERIES, CHAPTER, i)[1] for i in range(args.pages)]
    colorize(args.child, pages[0][:224, :224], extractor, head, centers)  # warm-up: oneDNN kernels, allocator
    counter = ConvCounter(extractor.features)
    seconds = []
    for bw in pages:
        t = time.perf_counter()
        ab = colorize(args.child, bw, extractor, head, centers)
        seconds.append(time.perf_counter() - t)
        assert ab.shape == bw.shape + (2,) and np.isfinite(ab).all()
    print(json.dumps({"s_per_page": float(np.mean(seconds)), "s_pages": seconds, "peak_rss_mb": peak_rss_mb(),
                      "gflop": counter.flop / 1e9 / len(pages)}))


def big_child(args) -> None:
    """The native pass over one 10000 x 7000 page (the synthetic page repeated): time and peak RSS."""
    from mangacolor.colorize.native import native_ab
    from mangacolor.data.synth import render_page

    extractor, head, centers = build(args.threads)
    h, w = args.big_size
    bw = render_page(SERIES, CHAPTER, 0)[1]
    page = np.tile(bw, (-(-h // bw.shape[0]), -(-w // bw.shape[1])))[:h, :w].copy()
    before = peak_rss_mb()
    counter = ConvCounter(extractor.features)
    t = time.perf_counter()
    ab, _ = native_ab(extractor, head, page, "classification", centers, COLORIZE["decode"], COLORIZE["temperature"],
                      cell=CELL)
    seconds = time.perf_counter() - t
    assert ab.shape == (h, w, 2)
    print(json.dumps({"size": [h, w], "s": seconds, "peak_rss_mb": peak_rss_mb(), "rss_before_mb": before,
                      "gflop": counter.flop / 1e9}))


def run_child(flag: list[str], args) -> dict:
    cmd = [sys.executable, __file__, *flag, "--pages", str(args.pages), "--threads", str(args.threads)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=2, help="synthetic pages per strategy")
    ap.add_argument("--threads", type=int, default=2, help="torch threads in every process")
    ap.add_argument("--strategies", default=",".join(STRATEGIES),
                    help="comma-separated subset of " + ",".join(STRATEGIES))
    ap.add_argument("--repeats", type=int, default=1, help="fresh processes per strategy, alternating")
    ap.add_argument("--gemm", type=int, default=2048, help="side of the matmul that measures the GEMM rate")
    ap.add_argument("--big", action="store_true", help="also the native pass over one 10000 x 7000 page")
    ap.add_argument("--big-size", type=int, nargs=2, default=(10000, 7000), metavar=("H", "W"))
    ap.add_argument("--child", choices=STRATEGIES, help=argparse.SUPPRESS)
    ap.add_argument("--big-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    if args.big_child:
        return big_child(args)

    import torch

    torch.set_num_threads(args.threads)
    rates = [gemm_gflops(args.gemm)]
    results = {}
    for _ in range(args.repeats):
        for strategy in args.strategies.split(","):
            run = run_child(["--child", strategy], args)
            print(f"{strategy}: {json.dumps(run)}", file=sys.stderr)
            if strategy not in results or run["s_per_page"] < results[strategy]["s_per_page"]:
                results[strategy] = run
    rates.append(gemm_gflops(args.gemm))  # before and after: the best is the machine's rate in this run
    report = {"strategies": {k: {m: v[m] for m in ("s_per_page", "peak_rss_mb", "gflop")} for k, v in results.items()},
              "gemm_gflops": max(rates), "threads": args.threads, "pages": args.pages}
    if "native" in results:
        report["limit_s"] = results["native"]["gflop"] / max(rates)
        report["native_s_over_limit"] = results["native"]["s_per_page"] / report["limit_s"]
        if "overlap" in results:
            report["native_speedup_vs_overlap"] = results["overlap"]["s_per_page"] / results["native"]["s_per_page"]
    if args.big:
        report["big"] = run_child(["--big-child", "--big-size", *map(str, args.big_size)], args)
        print(f"big: {json.dumps(report['big'])}", file=sys.stderr)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
