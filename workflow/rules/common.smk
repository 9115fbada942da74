# Paths of every stage. Each path carries what its content depends on, so that changing a config value makes
# new paths for the outputs it affects and leaves the others valid (a bin change never touches features).
import json
from shlex import quote

from mangacolor.config import bins_tag, feature_tag, tiles_tag

WORK = "results/work"
TT = tiles_tag(config["tiling"])
FT = feature_tag(config["features"])  # carries the cells sampled per tile (features.sample) when > 0
BT = bins_tag(config["bins"])
GRID = config["features"]["grid"]
SAMPLE = config["features"]["sample"]
FEAT = f"{WORK}/features/{TT}/{FT}"  # bin-independent; the chapters' tiles, sampled when SAMPLE > 0
FT_DENSE = feature_tag(config["features"], dense=True)
FEAT_DENSE = f"{WORK}/features/{TT}/{FT_DENSE}"  # inference (crops) is always dense
TARGETS = f"{WORK}/targets/{TT}-g{GRID}"  # bin-independent grid ab of the colour tiles
BINS = f"{WORK}/bins/{TT}-g{GRID}/{BT}/bins.npz"  # the prior is counted on the grid targets the loss sees
RUN = f"{WORK}/runs/{TT}/{FT}/{BT}"  # bin-dependent: the classifiers and everything evaluated with bins
TONE_LOOKUP = f"{TARGETS}/tone_lookup-k{config['tone_lookup']['k']}-n{config['tone_lookup']['max_cells']}.npz"
REG = f"{WORK}/runs/{TT}/{FT}/regression"  # bin-independent: the regression baseline predicts ab directly
TRAIN_CHAPTERS = config["train"]
MODELS = [f"{kind}-{opt}" for kind, opts in config["training"]["runs"].items() for opt in opts]
CLASSIFIERS = [m for m in MODELS if m.startswith("classification")]
ENSEMBLE = "classification-ensemble"  # every trained classifier joined into one (rule ensemble)
COLORIZE_MODEL = config["colorize"]["model"]
SCORED_MODELS = MODELS + ([ENSEMBLE] if COLORIZE_MODEL == ENSEMBLE else [])
BASELINE_MODEL = next((m for m in MODELS if m.startswith("regression")), None)


def model_root(model):
    """Where a model's files and colourisations live: regression runs do not depend on the bins."""
    return REG if model.startswith("regression") else RUN


def colorized(model):
    return f"{model_root(model)}/colorized/{model}/{{chapter}}.h5"


# Threads: the heavy rules (VGG16) take every core Snakemake was given (the CLI caps them at the CPU count);
# training a small head scales poorly over threads, so the trainings run side by side, training.threads for each
# of a job's training.processes.
HEAVY_THREADS = workflow.cores
TRAIN_PROCESSES = config["training"]["processes"]
TRAIN_THREADS = min(config["training"]["threads"] * TRAIN_PROCESSES, workflow.cores)
# Every rule runs in this environment under `--sdm conda` (it installs this package).
ENV = "../envs/mangacolor.yaml"


def log_path(name):
    return f"{WORK}/logs/{name}.log"


def bench_path(name):
    return f"{WORK}/benchmarks/{name}.tsv"


# ---------------------------------------------------------------- input functions
def chapter_files(wildcards):
    """A user chapter's image files, so that editing a page reruns the chapter."""
    chapter = config["chapters"][wildcards.chapter]
    folders = [chapter[key] for key in ("color", "bw") if key in chapter]
    return [str(p) for folder in folders for p in sorted(Path(folder).glob("*")) if p.is_file()]


def chapter_source(wildcards):
    """Where a chapter's pages come from, and how they are printed (training chapters: several prints a page)."""
    chapter = config["chapters"][wildcards.chapter]
    prints = config["train_prints"] if wildcards.chapter in TRAIN_CHAPTERS else 1
    how = f"--print {chapter.get('print', config['print'])} --prints {prints}"
    if chapter.get("source") == "synthetic":
        arc = chapter.get("arc", "series")
        return f"--series-seed {config['series_seed']} --n-pages {chapter['pages']} --arc {arc} {how}"
    return (
        f"--color {quote(chapter['color'])}" + (f" --bw {quote(chapter['bw'])}" if "bw" in chapter else "") + f" {how}"
    )


def fig(name, caption, category, root=RUN):
    return report(f"{root}/figures/{name}", caption=f"../report/{caption}.rst", category=category)


# The report's figures, by the caption key each one is shown under (mangacolor.report.html.FIGURES).
REPORT_FIGURES = (
    "backbone_edges",
    "registration",
    "bin_usage",
    "loss_curves",
    "stages",
    "collapse",
    "seams",
    "lineart",
    "closeups",
)


def chapter_figures(wildcards):
    return {
        "backbone_edges": f"{WORK}/figures/hed/backbone_edges.png",
        "registration": f"{WORK}/figures/registration/{wildcards.chapter}.png",
        "bin_usage": f"{RUN}/figures/bin_usage.png",
        "loss_curves": f"{RUN}/figures/loss_curves.png",
        "stages": [f"{model_root(m)}/figures/stages_{m}.png" for m in MODELS],
        "collapse": f"{RUN}/figures/{wildcards.chapter}/collapse.png",
        "panels": f"{RUN}/figures/{wildcards.chapter}/panels",
        "seams": f"{RUN}/figures/{wildcards.chapter}/seams.png",
        "lineart": f"{WORK}/figures/lineart/{wildcards.chapter}.png",
        "closeups": f"{RUN}/figures/{wildcards.chapter}/closeups.png",
        "metrics_json": f"{RUN}/metrics/{wildcards.chapter}.json",
        "metrics_csv": f"{RUN}/metrics/{wildcards.chapter}.csv",
        "colorized": colorized(COLORIZE_MODEL).format(chapter=wildcards.chapter),
        "scores": f"{RUN}/scores/{wildcards.chapter}.csv",
    }


def figure_pairs(wildcards, input):
    """The report's ``--figure KEY=PATH`` arguments."""
    paths = {key: [input[key]] if isinstance(input[key], str) else list(input[key]) for key in REPORT_FIGURES}
    return " ".join(f"{key}={quote(path)}" for key in REPORT_FIGURES for path in paths[key])
