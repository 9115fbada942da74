"""Full run from scratch vs the rerun after a bin-grid change, measured side by side in one run.

    python benchmarks/rerun.py [--config config.yaml] [--workdir DIR] [--step 20]

Runs `snakemake --cores N results/<test chapter>` in a fresh directory, then changes `bins.step` and reruns.
Prints one JSON object on its last line: {"full_s", "rerun_s", "ratio", "rerun_jobs": {rule: count}}.
Target: the rerun takes at most 40% of the full run (features are never recomputed for a bin change).
"""
import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def snakemake(workdir: Path, cores: int, target: str, *extra: str) -> str:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--configfile", "run.yaml",
           "--cores", str(cores), *extra, target]
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(proc.stdout[-2000:] + proc.stderr[-2000:])
    return proc.stdout + proc.stderr


def job_stats(output: str) -> dict:
    table = output.split("Job stats:", 1)[1] if "Job stats:" in output else ""
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, flags=re.M)
            if m.group(1) != "total"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "config.yaml"))
    parser.add_argument("--workdir", help="where to run (default: a fresh temp dir)")
    parser.add_argument("--step", type=int, default=20, help="bins.step after the change")
    parser.add_argument("--cores", type=int, default=8)
    args = parser.parse_args()
    config = yaml.safe_load(Path(args.config).read_text())
    target = f"results/{config['test'][0]}"
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="mangacolor-rerun-"))
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "run.yaml").write_text(yaml.safe_dump(config))
    t0 = time.perf_counter()
    snakemake(workdir, args.cores, target)
    full_s = time.perf_counter() - t0
    config.setdefault("bins", {})["step"] = args.step
    (workdir / "run.yaml").write_text(yaml.safe_dump(config))
    jobs = job_stats(snakemake(workdir, args.cores, target, "-n"))
    t0 = time.perf_counter()
    snakemake(workdir, args.cores, target)
    rerun_s = time.perf_counter() - t0
    print(f"workdir: {workdir}")
    print(json.dumps({"full_s": round(full_s, 1), "rerun_s": round(rerun_s, 1), "ratio": round(rerun_s / full_s, 3),
                      "rerun_jobs": jobs}))


if __name__ == "__main__":
    main()
