"""Benchmark glibc malloc's settings (`mangacolor.cli.keep_freed_memory`) on hypercolumn extraction.

Each case runs in a fresh process (cases alternating, --repeats rounds; the fastest run of each is kept, since
other processes on a shared machine only ever slow a run down): the hypercolumns (config.yaml's layers and grid,
random weights) of --tiles tiles cut from synthetic pages, at batch sizes 16 and 4, with glibc's default settings
(freed blocks over its dynamic threshold unmapped, the heap trimmed) and with `keep_freed_memory`. Per case: wall
seconds, user and system CPU seconds of the process (getrusage), peak RSS. Prints one JSON object last:
{"cases": {"default-b16": {"wall_s", "user_s", "sys_s", "peak_rss_mb"}, ...}, "speedup": {"b16": .., "b4": ..}}.

    python benchmarks/malloc.py [--tiles 96] [--threads 2] [--repeats 2]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from memory import peak_rss_mb  # noqa: E402  (benchmarks/memory.py, beside this script)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CASES = [(keep, batch) for batch in (16, 4) for keep in (False, True)]


def name(keep: bool, batch: int) -> str:
    return f"{'kept' if keep else 'default'}-b{batch}"


def child(args) -> None:
    import numpy as np
    import torch
    import yaml

    from mangacolor.cli import keep_freed_memory
    from mangacolor.data.synth import render_page
    from mangacolor.features.backbone import Hypercolumns
    from mangacolor.features.hypercolumns import compute
    from mangacolor.kernels.tiling import pad_and_tile

    if args.keep and not keep_freed_memory():
        sys.exit("no glibc mallopt here: nothing to compare")
    torch.set_num_threads(args.threads)
    config = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
    tiling, features = config["tiling"], config["features"]
    tiles = []
    for i in range(8):
        cut = pad_and_tile(render_page(2016, "ch2", i)[1], tiling["canvas"], tiling["tile"])
        tiles.extend(cut.tiles[~cut.blank])
    tiles = np.array(tiles[:args.tiles])
    extractor = Hypercolumns.from_weights("random", features["layers"], features["grid"])
    before = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    compute(extractor, tiles, batch_size=args.batch, device="cpu")
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"wall_s": round(wall, 2), "user_s": round(after.ru_utime - before.ru_utime, 2),
                      "sys_s": round(after.ru_stime - before.ru_stime, 2), "peak_rss_mb": round(peak_rss_mb()),
                      "tiles": len(tiles)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiles", type=int, default=96)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, default=16, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    best = {}
    for _ in range(args.repeats):
        for keep, batch in CASES:
            cmd = [sys.executable, __file__, "--child", "--batch", str(batch), "--tiles", str(args.tiles),
                   "--threads", str(args.threads)] + (["--keep"] if keep else [])
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode:
                sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
            run = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{name(keep, batch)}: {json.dumps(run)}", file=sys.stderr)
            key = name(keep, batch)
            if key not in best or run["wall_s"] < best[key]["wall_s"]:
                best[key] = run
    speedup = {f"b{b}": round(best[name(False, b)]["wall_s"] / best[name(True, b)]["wall_s"], 3) for b in (16, 4)}
    print(json.dumps({"cases": best, "speedup": speedup, "threads": args.threads}))


if __name__ == "__main__":
    main()
