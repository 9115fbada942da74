"""Command line: one subcommand per workflow step (what each Snakemake rule calls), plus `colorize` for users.

Each subcommand only parses arguments and calls the module that holds the step; imports are lazy so that
`mangacolor --help` is instant.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _ints(text: str) -> list[int]:
    return [int(t) for t in text.split(",") if t]


def _bool(text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return text.lower() == "true"


def _strs(text: str) -> list[str]:
    return [t for t in text.split(",") if t]


def _threads(n: int) -> None:
    import os

    import torch

    torch.set_num_threads(max(1, min(n, os.cpu_count() or 1)))


def _feature_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", required=True, help="hed | imagenet | random | path to a .pth state dict")
    p.add_argument("--layers", type=_ints, required=True, help="comma-separated vgg16().features indices")
    p.add_argument("--grid", type=int, required=True)
    p.add_argument("--precision", choices=["float32", "bfloat16"], required=True)
    p.add_argument("--batch-size", type=int, required=True)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], required=True)
    p.add_argument("--compression", choices=["none", "lzf", "gzip"], required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--threads", type=int, required=True)


def _decode_args(p: argparse.ArgumentParser) -> None:
    """How a step that decodes a head's bins runs: --decode, --temperature, --threads, --out."""
    p.add_argument("--decode", choices=["annealed_mean", "argmax"], required=True)
    p.add_argument("--temperature", type=float, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--out", required=True)


def cmd_pages(a):
    from .data.pages import folder_pages, synthetic_pages, write_page_folder

    if a.color and a.arc is not None:
        raise SystemExit("mangacolor pages: --arc is for synthetic chapters; a chapter of --color pages has none")
    if a.color:
        pages = folder_pages(a.color, a.bw, a.chapter, a.print, a.prints)
    elif a.series_seed is None or a.n_pages is None or a.arc is None:
        raise SystemExit("mangacolor pages: a synthetic chapter needs --series-seed, --n-pages and --arc")
    else:
        pages = synthetic_pages(a.series_seed, a.chapter, a.n_pages, a.print, a.prints, a.arc)
    n = write_page_folder(pages, a.out)
    print(f"{a.out}: {n} pages of chapter {a.chapter}")


def cmd_tiles(a):
    from .data.tiles import write_tiles

    write_tiles(a.pages, a.out, a.canvas, a.tile, a.drop_blank)


def _extractor(a):
    from .features.backbone import Hypercolumns

    _threads(a.threads)
    return Hypercolumns.from_weights(a.weights, a.layers, a.grid, seed=a.seed)


def cmd_hypercolumns(a):
    import h5py

    from .features.hypercolumns import extract_to_h5

    cells = weights = None
    if a.sample:
        from .data.cells import sample_chapter_cells

        if a.targets is None:
            raise SystemExit("mangacolor hypercolumns: --sample needs --targets (the chapter's targets file)")
        cells, weights = sample_chapter_cells(a.targets, a.sample, a.seed)
    model = _extractor(a)
    with h5py.File(a.tiles, "r") as f:
        if cells is not None and len(cells) != len(f["gray"]):
            raise SystemExit(f"mangacolor hypercolumns: {a.targets} has {len(cells)} tiles, {a.tiles} has "
                             f"{len(f['gray'])}")
        extract_to_h5(f["gray"], a.out, model, batch_size=a.batch_size, device=a.device,
                      precision=a.precision, compression=None if a.compression == "none" else a.compression,
                      cells=cells, cell_weights=weights)


def cmd_edges(a):
    from .features.backbone import save_edge_figure
    from .data.pages import load_page_folder

    _, pages = load_page_folder(a.pages)
    _, bw = next(pages)
    save_edge_figure(bw, a.out, max_side=a.max_side)


def cmd_bins(a):
    from .data.targets import write_bins

    write_bins(a.targets, a.out, a.step, a.rule, a.lam)


def cmd_targets(a):
    from .data.targets import write_targets

    write_targets(a.tiles, a.out, a.grid)


def cmd_tone_lookup(a):
    from .evaluate.tone_lookup import write_tone_lookup

    write_tone_lookup(a.tiles, a.targets, a.out, a.seed, a.max_cells, a.k)


def cmd_labels(a):
    from .data.targets import write_labels

    write_labels(a.targets, a.bins, a.out, a.k, a.sigma)


def cmd_train(a):
    import os

    from .data.targets import load_bins
    from .model.runs import annotate_run
    from .model.train import reference_centers, train

    _threads(max(1, a.threads // a.processes))  # the job's threads, shared by its processes
    if a.bins is None and a.kind == "classification":
        raise SystemExit("mangacolor train: the classifier needs --bins")
    bins = load_bins(a.bins) if a.bins else {"centers": reference_centers(), "weights": None}
    out_dir = Path(a.out).parent
    train(a.features, a.labels, out_dir, a.kind, a.optimizer, epochs=a.epochs, lr=a.lr,
          batch_size=a.batch_size, seed=a.seed, device=a.device, class_weights=bins["weights"] if a.rebalance else None,
          centers=bins["centers"], widths=a.widths, kernel=a.kernel, context=a.context,
          val_fraction=a.val_fraction, cell_fraction=a.cell_fraction, temperature=a.temperature,
          lightness_weight=a.lightness_weight, processes=a.processes)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun, process 0 alone writes the run's files
        return
    annotate_run(out_dir, a.features[0], a.tiles, bins["centers"])
    if a.kind == "classification" and a.abstain_levels:
        _calibrate(a)


def _calibrate(a):
    """Calibrate the abstention of the classifier at ``a.out`` (with the bin centres it records) on the validation
    pages of its training split."""
    from .model.calibrate import calibrate_abstention, record_abstention
    from .model.load import load_model

    model, meta = load_model(a.out)
    abstention = calibrate_abstention(model, a.features, a.labels, a.val_fraction, a.seed, meta["centers"],
                                      a.temperature, a.abstain_levels)
    record_abstention(a.out, abstention)
    print(f"abstention calibrated on {abstention['cells']} validation cells: factors "
          + " ".join(f"{f:.2f}" for f in abstention["factors"]))


def cmd_ensemble(a):
    from .model.ensemble import write_ensemble

    _threads(a.threads)
    write_ensemble(a.models, a.out)
    print(f"{a.out}: ensemble of {', '.join(str(m) for m in a.models)}")
    if a.abstain_levels:
        _calibrate(a)


def cmd_crops(a):
    from .colorize.chapter import write_crops

    write_crops(a.pages, a.out, _extractor(a), strategies=a.strategies, overlap_stride=a.overlap_stride,
                canvas=a.canvas, tile=a.tile, batch_size=a.batch_size, device=a.device, precision=a.precision)


def cmd_colorize_chapter(a):
    from .colorize.chapter import colorize_chapter

    _threads(a.threads)
    colorize_chapter(a.crops, a.pages, a.model, a.bins, a.out, decode=a.decode, temperature=a.temperature,
                     abstain=a.abstain, output=a.output)


def cmd_metrics(a):
    from .evaluate.chapter import write_metrics

    write_metrics(a.pages, a.bins, a.colorized, a.baseline, a.out_json, a.out_csv, canvas=a.canvas, tile=a.tile,
                  grid=a.grid, tone_lookup=a.tone_lookup)


def cmd_scores(a):
    from .evaluate.scores import write_scores

    _threads(a.threads)
    write_scores(a.features, a.labels, a.bins, a.models, a.out, decode_method=a.decode, temperature=a.temperature,
                 device=a.device)


def cmd_figure(a):
    from .report import figures

    draw = {
        "bins": lambda: figures.figure_bins(a.bins, a.out, a.dpi),
        "loss-curves": lambda: figures.figure_loss_curves(a.histories, a.out, a.dpi),
        "stages": lambda: figures.figure_stages(a.samples, a.out, a.title, a.dpi),
        "collapse": lambda: figures.figure_collapse(a.pages, a.colorized, a.out, a.dpi),
        "pages": lambda: figures.figure_pages(a.pages, a.colorized, a.out, a.n_pages, a.seams, a.dpi),
        "lineart": lambda: figures.figure_lineart(a.pages, a.out, a.dpi),
        "closeups": lambda: figures.figure_closeups(a.pages, a.colorized, a.out, a.n_pages, a.dpi),
        "registration": lambda: figures.figure_registration(a.pages, a.out, a.dpi),
    }
    draw[a.name]()


def cmd_report(a):
    import json

    from .report.html import parse_figures, write_report

    colorize = {"strategy": a.user_strategy, "decode": a.decode, "temperature": a.temperature,
                "overlap_stride": a.overlap_stride, "abstain": a.abstain, "output": a.output}
    write_report(a.chapter, json.loads(a.config_json), parse_figures(a.figure), a.panels, a.metrics[0], a.metrics[1],
                 a.colorized, a.scores, a.benchmarks, a.out, pages_dir=a.pages, model=a.model, colorize=colorize,
                 held_out=dict(pair.split("=", 1) for pair in a.held_out or []))


def cmd_colorize(a):
    from .colorize.user import colorize_pages
    from .report.viewer import write_viewer

    _threads(a.threads)
    result = colorize_pages(a.pages, a.model, a.out, strategy=a.strategy, decode=a.decode, temperature=a.temperature,
                            canvas=a.canvas, tile=a.tile, overlap_stride=a.overlap_stride, abstain=a.abstain,
                            output=a.output, device=a.device, scale=a.scale,
                            force=a.force, hints=a.hints, viewer=write_viewer if a.viewer else None)
    print(result.summary(), file=sys.stderr if result.failed else sys.stdout)
    if result.failed:
        done = len(result.written) + len(result.copied)
        others = f"the other {done} were written" if done else "no page was written"
        print(f"mangacolor colorize: error: {len(result.failed)} page(s) failed ({others}); fix or remove them and "
              "rerun the same command: finished pages are skipped", file=sys.stderr)
        return 2
    return 0


def cmd_models(a):
    from .model.runs import find_models, models_table

    models = find_models(a.root)
    if not models:
        raise FileNotFoundError(f"{a.root}: no model.pt under it (the main run exports results/<chapter>/model.pt)")
    print(models_table(models))


# `mangacolor figure NAME`: each figure's own arguments (all required: the figure rules pass every value).
_PAGES = ("--pages", {"help": "a chapter's page folder"})
FIGURE_ARGS = (
    ("bins", "bin prior and rebalancing weights", [("--bins", {})]),
    ("loss-curves", "loss and accuracy per epoch of every model", [("--histories", {"nargs": "+"})]),
    ("stages", "sample tiles after successive epochs", [("--samples", {}), ("--title", {})]),
    ("collapse", "regression vs classifier vs truth", [_PAGES, ("--colorized", {"nargs": "+"})]),
    ("pages", "side-by-side pages and the seam close-up",
     [_PAGES, ("--colorized", {}), ("--n-pages", {"type": int}), ("--seams", {})]),
    ("lineart", "line art and closed regions of a page's print", [_PAGES]),
    ("closeups", "close-ups: print, chroma only, colour pages, truth",
     [_PAGES, ("--colorized", {}), ("--n-pages", {"type": int})]),
    ("registration", "a misaligned scan registered back onto its colour page", [_PAGES]),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mangacolor", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("pages", help="generate or import a chapter's pages")
    p.add_argument("--chapter", required=True)
    p.add_argument("--series-seed", type=int, help="the procedural series (synthetic chapters)")
    p.add_argument("--n-pages", type=int, help="pages of a synthetic chapter")
    p.add_argument("--arc", choices=["series", "new"],
                   help="story arc of a synthetic chapter: the training chapters' (series) or the new arc (new)")
    p.add_argument("--color", help="folder of colour pages (instead of the synthetic series)")
    p.add_argument("--bw", help="folder of matching B&W pages (optional)")
    p.add_argument("--print", required=True, choices=["screentone", "lightness", "fixed"],
                   help="how a colour page without a B&W partner is printed")
    p.add_argument("--prints", type=int, required=True, help="prints per page (1 + further print variants)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_pages)

    p = sub.add_parser("tiles", help="pad and tile a page folder into HDF5")
    p.add_argument("--pages", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--canvas", type=int, required=True)
    p.add_argument("--tile", type=int, required=True)
    p.add_argument("--drop-blank", type=_bool, required=True, help="true: leave all-black tiles out")
    p.set_defaults(func=cmd_tiles)

    p = sub.add_parser("hypercolumns", help="VGG16 hypercolumns of a chapter's B&W tiles into HDF5")
    p.add_argument("--tiles", required=True)
    p.add_argument("--out", required=True)
    _feature_args(p)
    p.add_argument("--sample", type=int, required=True,
                   help="grid cells kept per tile, stratified on their colour (0 = dense: every cell)")
    p.add_argument("--targets", help="the chapter's targets file (colours of the cells); required with --sample")
    p.set_defaults(func=cmd_hypercolumns)

    p = sub.add_parser("edges", help="figure: HED's edge map of a page through the converted VGG16 weights")
    p.add_argument("--pages", required=True)
    p.add_argument("--max-side", type=int, required=True, help="downscale the page to this longest side first")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_edges)

    p = sub.add_parser("bins", help="ab bins, prior and rebalancing weights of the training chapters")
    p.add_argument("--targets", nargs="+", required=True, help="the training chapters' grid targets (targets h5)")
    p.add_argument("--step", type=int, required=True)
    p.add_argument("--rule", required=True)
    p.add_argument("--lam", type=float, required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_bins)

    p = sub.add_parser("targets", help="grid-resolution ab of a chapter's colour tiles (bin-independent)")
    p.add_argument("--tiles", required=True)
    p.add_argument("--grid", type=int, required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_targets)

    p = sub.add_parser("tone-lookup", help="fit the tone-lookup baseline (colour from local tone alone)")
    p.add_argument("--tiles", nargs="+", required=True, help="the training chapters' tiles files")
    p.add_argument("--targets", nargs="+", required=True, help="their targets files, in the same order")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--max-cells", type=int, required=True, help="training cells kept (a seeded subsample)")
    p.add_argument("--k", type=int, required=True, help="neighbours averaged")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_tone_lookup)

    p = sub.add_parser("labels", help="soft-encoded targets of a chapter")
    p.add_argument("--targets", required=True, help="the chapter's file from `mangacolor targets`")
    p.add_argument("--bins", required=True)
    p.add_argument("--k", type=int, required=True)
    p.add_argument("--sigma", type=float, required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_labels)

    p = sub.add_parser("train", help="train one model (kind x optimiser)")
    p.add_argument("--features", nargs="+", required=True)
    p.add_argument("--labels", nargs="+", required=True,
                   help="labels files (classifier), or targets files (enough for regression)")
    p.add_argument("--tiles", nargs="+", required=True, help="tiles files (sample images for the figures)")
    p.add_argument("--bins", help="bins.npz; required by the classifier, regression is scored on the 313 "
                                  "reference bins without it")
    p.add_argument("--kind", choices=["classification", "regression"], required=True)
    p.add_argument("--optimizer", choices=["sgd", "adadelta", "adam"], required=True)
    p.add_argument("--epochs", type=int, required=True)
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--batch-size", type=int, required=True)
    p.add_argument("--val-fraction", type=float, required=True)
    p.add_argument("--rebalance", type=_bool, required=True, help="true: class-rebalancing weights in the loss")
    p.add_argument("--widths", type=_ints, required=True)
    p.add_argument("--kernel", type=int, choices=[1, 3], required=True, help="support of the last hidden conv")
    p.add_argument("--context", type=int, required=True, help="width of the context branch at a quarter of the grid "
                                                          "(0 = none)")
    p.add_argument("--cell-fraction", type=float, required=True, help="share of grid cells per training step")
    p.add_argument("--temperature", type=float, required=True, help="annealed-mean temperature of the samples")
    p.add_argument("--lightness-weight", type=float, required=True,
                   help="weight of the fill-lightness loss (0 = no lightness output)")
    p.add_argument("--abstain-levels", type=int, required=True,
                   help="confidence groups of the abstention calibration on validation pages (0 = none)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--processes", type=int, required=True,
                   help="processes training together (> 1: launched by torchrun --nproc_per_node N)")
    p.add_argument("--threads", type=int, required=True, help="threads of the job, shared by its processes")
    p.add_argument("--out", required=True, help="model.pt path; history.csv and samples.npz go beside it")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("ensemble", help="join trained classifiers into one model (geometric mean of their bins)")
    p.add_argument("--models", nargs="+", required=True, help="the classifiers' model.pt files (two or more)")
    p.add_argument("--features", nargs="+", required=True, help="their training features (abstention calibration)")
    p.add_argument("--labels", nargs="+", required=True, help="their training labels (abstention calibration)")
    p.add_argument("--val-fraction", type=float, required=True, help="their training's validation share")
    p.add_argument("--seed", type=int, required=True, help="their training's seed (it fixes the validation pages)")
    p.add_argument("--temperature", type=float, required=True, help="annealed-mean temperature of the calibration")
    p.add_argument("--abstain-levels", type=int, required=True,
                   help="confidence groups of the abstention calibration on validation pages (0 = none)")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--out", required=True, help="model.pt of the ensemble")
    p.set_defaults(func=cmd_ensemble)

    p = sub.add_parser("crops", help="model inputs of every strategy for a chapter, with their hypercolumns")
    p.add_argument("--pages", required=True)
    p.add_argument("--strategies", type=_strs, required=True)
    p.add_argument("--overlap-stride", type=int, required=True)
    p.add_argument("--canvas", type=int, required=True)
    p.add_argument("--tile", type=int, required=True)
    p.add_argument("--out", required=True)
    _feature_args(p)
    p.set_defaults(func=cmd_crops)

    p = sub.add_parser("colorize-chapter", help="colourise a test chapter with every strategy")
    for flag, text in (("--crops", "the chapter's crops.h5 (hypercolumns of every strategy's input)"),
                       ("--pages", "the chapter's page folder"), ("--model", "the head's model.pt")):
        p.add_argument(flag, required=True, help=text)
    p.add_argument("--bins", help="bins.npz (default: the centres stored in the model)")
    p.add_argument("--abstain", type=_bool, required=True, help="true: shrink unsure cells' chroma (model record)")
    p.add_argument("--output", choices=["color", "chroma"], required=True,
                   help="color: colour pages (line art over flat predicted colours); chroma: the print's lightness "
                        "with predicted chroma")
    _decode_args(p)
    p.set_defaults(func=cmd_colorize_chapter)

    p = sub.add_parser("metrics", help="per-page, per-strategy metrics with baselines")
    p.add_argument("--pages", required=True, help="the chapter's page folder (truth and print)")
    p.add_argument("--bins", required=True, help="bins.npz (bin accuracy)")
    p.add_argument("--colorized", required=True, help="the colourised chapter of the colourising model")
    p.add_argument("--baseline", help="colourised chapter of the regression model")
    p.add_argument("--tone-lookup", help="the tone-lookup baseline (.npz): adds its row")
    p.add_argument("--grid", type=int, help="hypercolumn grid: adds the references rows (ceilings)")
    p.add_argument("--canvas", type=int, required=True)
    p.add_argument("--tile", type=int, required=True)
    p.add_argument("--out-json", required=True)
    p.add_argument("--out-csv", required=True)
    p.set_defaults(func=cmd_metrics)

    p = sub.add_parser("scores", help="per-cell bin accuracy and chroma of every head on a held-out chapter's tiles")
    p.add_argument("--features", required=True, help="hypercolumns of the chapter's tiles")
    p.add_argument("--labels", required=True, help="the chapter's bin labels")
    p.add_argument("--bins", required=True)
    p.add_argument("--models", nargs="+", required=True, help="model.pt files")
    p.add_argument("--device", required=True, help="auto (CUDA if present) | cpu | cuda")
    _decode_args(p)
    p.set_defaults(func=cmd_scores)

    p = sub.add_parser("figure", help="draw one of the run's figures")
    figure = p.add_subparsers(dest="name", required=True)
    for name, help_text, args in FIGURE_ARGS:
        q = figure.add_parser(name, help=help_text)
        for flag, kw in args:
            q.add_argument(flag, required=True, **kw)
        q.add_argument("--dpi", type=int, required=True)
        q.add_argument("--out", required=True)
        q.set_defaults(func=cmd_figure)

    p = sub.add_parser("report", help="assemble results/{chapter} with index.html")
    p.add_argument("--chapter", required=True)
    p.add_argument("--figure", nargs="+", required=True, metavar="KEY=PATH",
                   help="each figure with its caption key (backbone_edges, bin_usage, loss_curves, stages, ...)")
    p.add_argument("--panels", required=True)
    p.add_argument("--metrics", nargs=2, required=True)
    p.add_argument("--colorized", required=True)
    p.add_argument("--scores", help="scores.csv of the models on the chapter's tiles")
    p.add_argument("--config-json", required=True)
    p.add_argument("--benchmarks", required=True)
    p.add_argument("--pages", required=True, help="the chapter's page folder (B&W and truth for viewer.html)")
    p.add_argument("--model", required=True, help="the colourising model.pt, exported as OUT/model.pt")
    p.add_argument("--user-strategy", choices=["tiles", "overlap", "page", "contours"], required=True,
                   help="the strategy viewer.html shows and `mangacolor colorize` defaults to (recorded in model.pt)")
    p.add_argument("--decode", choices=["annealed_mean", "argmax"], required=True, help="recorded in model.pt")
    p.add_argument("--temperature", type=float, required=True, help="recorded in model.pt")
    p.add_argument("--overlap-stride", type=int, required=True, help="recorded in model.pt")
    p.add_argument("--abstain", type=_bool, required=True, help="true: shrink unsure cells' chroma (recorded)")
    p.add_argument("--output", choices=["color", "chroma"], required=True, help="the page form (recorded)")
    p.add_argument("--held-out", nargs="+", metavar="CHAPTER=METRICS_JSON",
                   help="every held-out chapter's metrics.json: the side-by-side table")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("colorize", help="colourise your own B&W chapter (images, folders, CBZ/ZIP) with a model",
                       description="Colourise B&W pages with a trained model. Settings not given are the model's "
                                   "own (recorded by the run that exported it).")
    p.add_argument("pages", nargs="+", help="images, folders of images or CBZ/ZIP archives (never modified)")
    p.add_argument("--model", required=True, help="a model.pt, or a results folder holding one (results/chapter1); "
                                                  "`mangacolor models` lists them")
    p.add_argument("-o", "--out", required=True, help="output folder, or a .cbz archive (rerun to resume)")
    p.add_argument("--strategy", choices=["tiles", "overlap", "page", "contours"],
                   help="default: the model's (the main run records its colorize.user_strategy)")
    p.add_argument("--decode", choices=["annealed_mean", "argmax"], help="default: the model's")
    p.add_argument("--temperature", type=float, help="annealed-mean temperature; default: the model's")
    p.add_argument("--canvas", type=int, help="pages are fitted to this square (px); default: the model's tiling")
    p.add_argument("--tile", type=int, help="crop size (px); default: the model's tiling")
    p.add_argument("--overlap-stride", type=int, help="overlap strategy's stride (px); default: the model's")
    p.add_argument("--abstain", type=_bool, help="true: shrink unsure cells' chroma toward neutral (by the model's "
                                                 "calibration); default: the model's")
    p.add_argument("--output", choices=["color", "chroma"], help="color: colour pages (line art over flat colours, "
                                                              "heads that predict lightness); chroma: the print's "
                                                              "lightness with the predicted colour; default: the "
                                                              "model's")
    p.add_argument("--hints", help="colour hints: a YAML of (page, x, y, color) entries or a folder of transparent PNG "
                                   "overlays named like the pages (README, Colour a chapter)")
    p.add_argument("--force", action="store_true", help="colourise pages that are already in colour too "
                                                        "(default: copy them as they are)")
    p.add_argument("--viewer", action="store_true", help="write viewer.html: B&W and colour page side by side")
    p.add_argument("--scale", type=float, help="the pages are drawn this many times larger than the training pages "
                                               "(2: scanned at twice the resolution); default: measured on each page "
                                               "by its screentones where the model records the training scale")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(func=cmd_colorize)

    p = sub.add_parser("models", help="list the trained models under a results folder with their held-out scores")
    p.add_argument("root", nargs="?", default="results", help="folder to search (default: results)")
    p.set_defaults(func=cmd_models)
    return parser


def _user_errors() -> tuple[type, ...]:
    """The errors that are the user's to fix: printed as one line, exit 2 (imported only once one was raised)."""
    from .config import ConfigError
    from .data.pages import PageError
    from .model.load import ModelError

    return PageError, ConfigError, ModelError, FileNotFoundError


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse (no unmapping of blocks up to 32 MB, no trimming of the
    heap) instead of handing it back after every batch: the next batch's tensors then need no fresh zeroed pages
    from the kernel, which otherwise costs a sixth of the CPU time of a run in system time (benchmarks/malloc.py).
    Peak memory is unchanged. Returns False where there is no glibc ``mallopt`` (nothing is changed there)."""
    import ctypes

    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3  # <malloc.h>
    return all(mallopt(option, value) == 1 for option, value in (
        (m_mmap_threshold, 32 << 20), (m_trim_threshold, (1 << 31) - 1), (m_top_pad, 256 << 20)))


def main(argv: list[str] | None = None) -> int:
    keep_freed_memory()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except KeyboardInterrupt as exc:  # Ctrl-C: one line, exit 130 (the shell convention for SIGINT)
        print(f"mangacolor {args.command}: {getattr(exc, 'message', 'interrupted')}", file=sys.stderr)
        return 130
    except Exception as exc:
        if not isinstance(exc, _user_errors()):
            raise
        print(f"mangacolor {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
