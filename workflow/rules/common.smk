# Paths of every stage. Each path carries what its content depends on, so that changing a config value makes
# new paths for the outputs it affects and leaves the others valid (a bin change never touches features).
import os

from mangacolor.config import bins_tag, feature_tag, tiles_tag

WORK = "results/work"
TT = tiles_tag(config["tiling"])
FT = feature_tag(config["features"])
BT = bins_tag(config["bins"])
GRID = config["features"]["grid"]
FEAT = f"{WORK}/features/{TT}/{FT}"  # bin-independent
TARGETS = f"{WORK}/targets/{TT}-g{GRID}"  # bin-independent grid ab of the colour tiles
RUN = f"{WORK}/runs/{TT}/{FT}/{BT}"  # bin-dependent: the classifiers and everything evaluated with bins
REG = f"{WORK}/runs/{TT}/{FT}/regression"  # bin-independent: the regression baseline predicts ab directly
TRAIN_CHAPTERS = config["train"]
MODELS = [f"{kind}-{opt}" for kind, opts in config["training"]["runs"].items() for opt in opts]
COLORIZE_MODEL = config["colorize"]["model"]
BASELINE_MODEL = next((m for m in MODELS if m.startswith("regression")), None)


def model_root(model):
    """Where a model's files and colourisations live: regression runs do not depend on the bins."""
    return REG if model.startswith("regression") else RUN


def colorized(model):
    return f"{model_root(model)}/colorized/{model}/{{chapter}}.h5"


# Threads of the heavy rules (VGG16): Snakemake caps this at --cores, and the CLI at the CPU count.
HEAVY_THREADS = 8
# Training a small head scales poorly over threads: the trainings run side by side on a share of the CPUs each
# (on 2 CPUs: 1 thread each, two at a time finish 18% sooner than one after another on both CPUs).
CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
TRAIN_THREADS = max(1, CPUS // 4)


def log_path(name):
    return f"{WORK}/logs/{name}.log"


def bench_path(name):
    return f"{WORK}/benchmarks/{name}.tsv"
