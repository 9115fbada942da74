"""Benchmark hypercolumn extraction: bare VGG forward vs streamed extraction into HDF5, and memory flat in N.

Prints one JSON object on its last line:
{"forward_tiles_per_s", "extract_tiles_per_s", "ratio", "bytes_per_tile", "peak_rss_mb", "device", ...}.
Throughputs are the best of --repeats alternating runs; ratio is the median over repeats of extraction / the
forward pass measured just before it (robust to load from other processes on a shared machine).
Targets: ratio >= 0.8 (extraction keeps up with the network) and rss_growth_mb ~ 0 when N doubles.

    python benchmarks/hypercolumns.py --tiles 64 --batch 16 [--precision bfloat16] [--weights hed]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from memory import peak_rss_mb  # noqa: E402  (benchmarks/memory.py, beside this script)

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def drawn_tiles(n: int, tile: int, seed: int = 0) -> np.ndarray:
    """Random-ish B&W tiles: white paper with black lines and circles, and some screentone-like noise."""
    import cv2

    rng = np.random.default_rng(seed)
    out = np.full((n, tile, tile), 255, np.uint8)
    for t in out:
        for _ in range(8):
            p, q = rng.integers(0, tile, 2), rng.integers(0, tile, 2)
            cv2.line(t, tuple(map(int, p)), tuple(map(int, q)), 0, int(rng.integers(1, 4)))
            cv2.circle(t, tuple(map(int, p)), int(rng.integers(3, tile // 3)), 0, 1)
        y, x = rng.integers(0, tile // 2, 2)
        t[y:y + tile // 4, x:x + tile // 4] = np.where(rng.random((tile // 4, tile // 4)) < 0.3, 0, 255)
    return out


def write_input(path: Path, n: int, tile: int, chunk: int = 64) -> None:
    """Write N tiles to an HDF5 `gray` dataset without holding them all in memory."""
    import h5py

    with h5py.File(path, "w") as f:
        d = f.create_dataset("gray", (n, tile, tile), np.uint8, chunks=(1, tile, tile))
        for i in range(0, n, chunk):
            d[i:i + chunk] = drawn_tiles(min(chunk, n - i), tile, seed=i)


def build(args):
    import torch

    from mangacolor.features.backbone import LAYER_SETS, Hypercolumns

    if args.threads:
        torch.set_num_threads(args.threads)
    layers = args.layers if args.layers in LAYER_SETS else [int(i) for i in args.layers.split(",")]
    return Hypercolumns.from_weights(args.weights, layers=layers, grid=args.grid)


def child(args) -> None:
    """Extract N tiles read from an HDF5 file; print the peak RSS (run in a fresh process per N)."""
    import h5py

    from mangacolor.features.hypercolumns import extract_to_h5

    model = build(args)
    with tempfile.TemporaryDirectory() as d:
        write_input(Path(d) / "in.h5", args.child, args.tile)
        base = peak_rss_mb()
        with h5py.File(Path(d) / "in.h5", "r") as f:
            extract_to_h5(f["gray"], Path(d) / "x.h5", model, batch_size=args.batch, device=args.device,
                          compression=args.compression, precision=args.precision, progress=False)
    print(json.dumps({"n": args.child, "peak_rss_mb": peak_rss_mb(), "rss_before_extract_mb": base}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiles", type=int, default=64, help="tiles for the throughput runs")
    ap.add_argument("--tile", type=int, default=224)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--grid", type=int, default=56)
    ap.add_argument("--layers", default="default",
                    help="a name of LAYER_SETS (default, deep, full) or comma-separated feature indices")
    ap.add_argument("--weights", default="random", help="random | hed | imagenet | path")
    ap.add_argument("--precision", default="float32", choices=["float32", "bfloat16"])
    ap.add_argument("--compression", default=None, choices=[None, "lzf", "gzip"])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--repeats", type=int, default=2, help="alternating forward/extract measurements, best kept")
    ap.add_argument("--mem-tiles", type=int, default=None,
                    help="memory check: peak RSS extracting N and 2N tiles, each in a fresh process "
                         "(default N = 4 batches; 0 skips it)")
    ap.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)

    import h5py
    import torch

    from mangacolor.features.hypercolumns import _autocast, extract_to_h5, resolve_device

    model = build(args)
    device = resolve_device(args.device)
    model = model.to(device).eval()
    tiles = drawn_tiles(args.tiles, args.tile)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    batches = [torch.from_numpy(tiles[i:i + args.batch]).to(device)[:, None].float()
               for i in range(0, args.tiles, args.batch)]

    def bare_forward() -> float:
        with torch.inference_mode(), _autocast(device, args.precision):
            sync()
            t0 = time.perf_counter()
            for x in batches:
                model(x)
            sync()
        return args.tiles / (time.perf_counter() - t0)

    def extraction(d: Path, net=model) -> float:
        with h5py.File(d / "in.h5", "r") as f:
            t0 = time.perf_counter()
            extract_to_h5(f["gray"], d / "x.h5", net, batch_size=args.batch, device=args.device,
                          compression=args.compression, precision=args.precision, progress=False)
            sync()
        return args.tiles / (time.perf_counter() - t0)

    class NoNetwork(torch.nn.Module):
        """Stands in for the network with a constant output: times extraction's own work (read, convert, write)."""

        def __init__(self):
            super().__init__()
            self.channels, self.grid, self.layers, self.info = model.channels, model.grid, model.layers, model.info
            self.out = torch.rand(args.batch, model.channels, model.grid, model.grid, device=device) * 100

        def forward(self, x):
            return self.out[: len(x)]

    # Alternate the two measurements and keep the best of each: on a shared machine, neighbours only slow runs down.
    with torch.inference_mode(), _autocast(device, args.precision):  # warm-up
        model(batches[0])
    forward, extract = [], []
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        write_input(d / "in.h5", args.tiles, args.tile)
        for _ in range(args.repeats):
            forward.append(bare_forward())
            extract.append(extraction(d))
        bytes_per_tile = os.path.getsize(d / "x.h5") / args.tiles
        io_only = max(extraction(d, NoNetwork()) for _ in range(args.repeats))
    print("forward tiles/s per repeat", [round(v, 2) for v in forward], "extract", [round(v, 2) for v in extract])
    # Neighbours' load drifts: compare each extraction with the forward pass measured just before it.
    ratio = float(np.median([e / f for f, e in zip(forward, extract)]))
    forward, extract = max(forward), max(extract)

    result = {"forward_tiles_per_s": round(forward, 2), "extract_tiles_per_s": round(extract, 2),
              "ratio": round(ratio, 3), "bytes_per_tile": round(bytes_per_tile),
              "peak_rss_mb": round(peak_rss_mb(), 1), "device": str(device),
              # Extraction's own work, without the network, and the ratio it allows if nothing overlapped:
              "io_only_tiles_per_s": round(io_only, 1), "ratio_bound_serial": round(1 / (1 + forward / io_only), 3)}
    if args.mem_tiles is None:
        args.mem_tiles = 4 * args.batch
    if args.mem_tiles:
        rss = {}
        for n in (args.mem_tiles, 2 * args.mem_tiles):
            cmd = [sys.executable, __file__, *sys.argv[1:], "--mem-tiles", "0", "--child", str(n)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            rss[n] = json.loads(out.strip().splitlines()[-1])["peak_rss_mb"]
        result["peak_rss_mb_by_n"] = {str(k): round(v, 1) for k, v in rss.items()}
        result["rss_growth_mb"] = round(rss[2 * args.mem_tiles] - rss[args.mem_tiles], 1)
    result.update(repeats=args.repeats, tiles=args.tiles, tile=args.tile, batch=args.batch, grid=args.grid,
                  layers=args.layers, weights=args.weights, precision=args.precision, compression=args.compression,
                  threads=torch.get_num_threads())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
