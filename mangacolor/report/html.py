"""Assemble ``results/{chapter}``: the run's figures, metrics, every strategy's coloured pages, ``index.html``,
``viewer.html`` (B&W | colour | truth page by page) and ``model.pt`` (the colourising model, for users).

``index.html`` is the one page a person opens to see the run: intro, config summary, metrics table (best value
per column marked), every figure with its caption, the coloured pages and the time each rule took (from the
Snakemake benchmark files). The folder is built beside its final path and renamed when complete, so a failure
leaves no half-written report. ``CAPTIONS`` is the single source of the figure captions: the ``.rst`` files of
``workflow/report/`` (used by ``snakemake --report``) are generated from it with
``python -m mangacolor.report workflow/report``.
"""
from __future__ import annotations

import html
import json
import math
import shutil
import sys
from pathlib import Path

import cv2
import h5py
import pandas as pd

from ..io import atomic_path

# key (also the workflow/report/{key}.rst name) -> (title, category, caption); in the order data flows
FIGURES = {
    "backbone_edges": ("Backbone edges", "Backbone",
                       "Edge map of the first test page from the VGG16 backbone's HED side outputs, the features "
                       "the hypercolumns are built from. Look for panel borders and line art picked out cleanly: "
                       "what the backbone does not see, the colouriser cannot colour."),
    "bin_usage": ("Colour bins", "Bins",
                  "Left: empirical prior of the training chapters' colours over the quantised ab plane (log10 "
                  "probability, one square per bin); right: the class-rebalancing weights derived from it. Look "
                  "for a prior concentrated near grey (a = b = 0) and weights that boost the rare saturated bins."),
    "loss_curves": ("Loss curves", "Training",
                    "Training (solid) and validation (dashed) loss per epoch of the classifier with each "
                    "optimiser, the regression baseline's loss on its own scale, and validation top-1/top-5 bin "
                    "accuracy per model (the regression baseline, which needs no bins, on the 313 reference bins "
                    "of Zhang et al.). Look for optimisers that stall at the same plateau (as in the blog) and "
                    "for validation loss rising while training loss falls (overfitting)."),
    "stages": ("Stages of training", "Training",
               "Fixed validation tiles after successive epochs: B&W input, the prediction after each stored epoch "
               "(the tile's own lightness with the predicted chroma) and the true colours. Look for colour "
               "appearing and settling on the right objects as training proceeds."),
    "collapse": ("Regression collapse", "Training",
                 "Regression baseline vs classifier vs truth on the test chapter: colourfulness per page, dominant "
                 "colours and one crop side by side. Regression predicts the conditional mean colour, which drifts "
                 "to greyish brown wherever the B&W input leaves the colour ambiguous; the classifier picks a "
                 "colour. Both keep the print's lightness, so white paper stays pale (the truth's own chroma on "
                 "that lightness reaches only about two thirds of its colourfulness: see the metrics' true_ab)."),
    "panels": ("Pages side by side", "Whole pages",
               "Whole test pages: B&W input, each colourisation strategy (tiles with their grid in orange, "
               "overlapping tiles, the whole page as one crop, contours) and the true colours. Compare seams at "
               "the tile grid, colour consistency within a panel and colourfulness across strategies."),
    "seams": ("Seams", "Whole pages",
              "Close-up of the tile corner where the tiles strategy shows the largest colour jump: tiles, "
              "overlapping tiles and truth, with the tile grid dashed in orange. Tiles change colour abruptly "
              "along the grid; overlapping tiles blend across it."),
    "registration": ("Registering a scan", "Pages",
                     "A user's B&W scans rarely sit pixel for pixel on the colour pages: another scan size, an "
                     "offset, a fraction of a degree of rotation. Here the chapter's first print is turned into such "
                     "a scan and registered back onto its colour page (ECC on blurred darkness maps, with a feature "
                     "match as fallback). Magenta is the scan's line art over the faded colour page: doubled lines "
                     "on the left, one line on the right. The title gives the mean corner error and the alignment "
                     "score written to pages.csv for every registered pair."),
    "lineart": ("Line art of the print", "Colour pages",
                "The first test page's print, what the line-art extractor keeps (ink lines black, solid ink areas "
                "blue) and the closed regions between the lines, one random colour each; below, a close-up. "
                "Screens (dots, line screens, hatching, gradients) are neither: the colour page replaces them by "
                "the region's flat colour. Look for screen dots left in the line art, and for regions that leak "
                "through a broken outline."),
    "closeups": ("Close-ups", "Colour pages",
                 "The same close-up of each test page as the print, the seed's chroma-only output (the print's own "
                 "lightness with predicted chroma: the screen dots and black lettering stay), the colour pages "
                 "(line art over the predicted colours, flat per closed region; lightness predicted too) and the "
                 "truth. Look for dots gone, regions of one flat colour that stop at ink lines, and sound effects "
                 "that take a colour."),
}
CAPTIONS = {key: caption for key, (_, _, caption) in FIGURES.items()}

# metrics.json column -> (header, how "best" is judged: "max" or "one" = closest to 1)
METRICS = {"psnr": ("PSNR (dB)", "max"), "ssim": ("SSIM", "max"), "auc": ("AUC", "max"),
           "auc_colored": ("AUC coloured", "max"), "bin_accuracy": ("bin accuracy", "max"),
           "colorfulness_ratio": ("colourfulness ratio", "one"), "delta_cf": ("&Delta;CF", "min"),
           "lineart_kept": ("line art kept", "max"), "ink_recolored": ("ink recoloured (&Delta;ab)", "min"),
           "seam": ("seam score", "one")}
#: metrics.json groups of the table: (group, the row label's prefix); references are ceilings, not contenders.
METRIC_GROUPS = (("color", "colour page"), ("strategies", "chroma only"), ("baselines", "baseline"))
CONFIG_SECTIONS = ("tiling", "bins", "features", "training", "colorize")

CSS = """
body { font-family: system-ui, sans-serif; max-width: 1400px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; } th, td { border: 1px solid #ddd; padding: 3px 8px; }
th { background: #f3f3f3; text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.best { background: #d9f2d9; font-weight: bold; } tr.total td { font-weight: bold; border-top: 2px solid #999; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #444; max-width: 60em; } .config { display: flex; flex-wrap: wrap; gap: 1.5em; }
.thumbs img { width: 160px; } nav a { margin-right: 1em; }
"""


# ---------------------------------------------------------------- captions for snakemake --report
def write_captions(folder) -> None:
    """Write ``{key}.rst`` for every caption into ``folder`` (workflow/report)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for key, caption in CAPTIONS.items():
        with atomic_path(folder / f"{key}.rst") as tmp:
            tmp.write_text(caption + "\n")


# ---------------------------------------------------------------- inputs
def report_name(key: str, path) -> str:
    """The file name a figure gets in the report: the figure key, or for the figures drawn once per model (stages)
    their own file name."""
    return Path(path).name if key == "stages" else f"{key}.png"


def parse_figures(pairs: list[str]) -> list[tuple[str, Path]]:
    """``KEY=PATH`` arguments -> [(key, path)]; KEY must be one of FIGURES (the caption's key)."""
    figures = []
    for pair in pairs:
        key, sep, path = pair.partition("=")
        if not sep or key not in FIGURES:
            raise ValueError(f"--figure {pair!r}: expected KEY=PATH with KEY one of {', '.join(FIGURES)}")
        figures.append((key, Path(path)))
    return figures


def benchmark_table(folder) -> pd.DataFrame:
    """One row per benchmark file under ``folder``: rule, wildcards (the rest of its path), seconds (mean over
    repeats), max RSS in MB; slowest first."""
    records = []
    folder = Path(folder)
    for path in sorted(folder.rglob("*.tsv")) if folder.is_dir() else []:
        parts = path.relative_to(folder).with_suffix("").parts
        try:
            df = pd.read_csv(path, sep="\t", na_values=["-", "NA"])
        except (pd.errors.EmptyDataError, pd.errors.ParserError):
            continue
        if "s" not in df or df.empty:
            continue
        rss = pd.to_numeric(df.get("max_rss"), errors="coerce") if "max_rss" in df else pd.Series([math.nan])
        records.append({"rule": parts[0], "wildcards": "/".join(parts[1:]),
                        "seconds": float(pd.to_numeric(df["s"], errors="coerce").mean()),
                        "max_rss_mb": float(rss.max())})
    table = pd.DataFrame.from_records(records, columns=["rule", "wildcards", "seconds", "max_rss_mb"])
    return table.sort_values("seconds", ascending=False, kind="stable").reset_index(drop=True)


def best_values(means: dict) -> dict:
    """Per metric column, the best value over all rows (max, or closest to 1); NaN/missing values ignored."""
    best = {}
    for col, (_, how) in METRICS.items():
        vals = [m[col] for m in means.values() if isinstance(m.get(col), (int, float)) and math.isfinite(m[col])]
        if vals:
            best[col] = (max(vals) if how == "max" else min(vals) if how == "min"
                         else min(vals, key=lambda v: abs(v - 1)))
    return best


# ---------------------------------------------------------------- HTML pieces
def _esc(x) -> str:
    return html.escape(str(x))


def _fmt(v, digits=3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "&ndash;"
    return f"{v:.{digits}f}" if isinstance(v, float) else _esc(v)


def _kv_table(title: str, d: dict) -> str:
    rows = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(json.dumps(v) if isinstance(v, (dict, list)) else v)}</td></tr>"
                   for k, v in d.items())
    return f"<div><h3>{_esc(title)}</h3><table>{rows}</table></div>"


def config_html(config: dict) -> str:
    train, test = list(config.get("train", [])), list(config.get("test", []))
    rows = []
    for name, spec in config.get("chapters", {}).items():
        role = "train" if name in train else "test" if name in test else "unused"
        spec = spec if isinstance(spec, dict) else {"source": spec}
        source = spec.get("source") or spec.get("color", "")
        rows.append(f"<tr><td>{_esc(name)}</td><td>{_esc(role)}</td><td>{_esc(source)}</td>"
                    f"<td class=num>{_esc(spec.get('pages', ''))}</td></tr>")
    chapters = ("<div><h3>chapters</h3><table><tr><th>chapter</th><th>role</th><th>source</th><th>pages</th></tr>"
                + "".join(rows) + "</table></div>")
    top = {k: config[k] for k in ("seed", "series_seed") if k in config}
    parts = [chapters] + ([_kv_table("run", top)] if top else [])
    parts += [_kv_table(s, config[s]) for s in CONFIG_SECTIONS if isinstance(config.get(s), dict)]
    return f"<div class=config>{''.join(parts)}</div>"


def metrics_html(metrics: dict) -> str:
    rows = {(label, k): v for group, label in METRIC_GROUPS for k, v in metrics.get(group, {}).items()}
    best = best_values({f"{g}/{k}": v for (g, k), v in rows.items()})  # references are ceilings, not contenders
    rows.update({("reference", k): v for k, v in metrics.get("references", {}).items()})
    arrows = {"max": "&uarr;", "min": "&darr;", "one": "(best: 1)"}
    head = "".join(f"<th>{h} {arrows[how]}</th>" for h, how in METRICS.values())
    body = []
    for (group, name), m in rows.items():
        cells = []
        for col in METRICS:
            v = m.get(col)
            cls = "num best" if col in best and v == best[col] else "num"
            cells.append(f"<td class='{cls}'>{_fmt(v, 2 if col == 'psnr' else 3)}</td>")
        body.append(f"<tr><td>{_esc(group)}</td><td>{_esc(name)}</td>{''.join(cells)}</tr>")
    return (f"<table class=metrics><tr><th>output</th><th>method</th>{head}</tr>{''.join(body)}</table>"
            "<p>Chapter means over its pages; best value per column highlighted (highest or lowest as the arrow "
            "says, or closest to 1 for the colourfulness ratio and the seam score, which are 1 for a prediction "
            "as colourful and as smooth across the tile grid as the truth). <i>Colour page</i> rows are the "
            "delivered colour edition (line art over flat predicted colours, lightness predicted too), "
            "<i>chroma only</i> rows the seed's form (the print's own lightness with predicted chroma). "
            "&Delta;CF is the absolute difference of colourfulness from the truth's; <i>line art kept</i> the share "
            "of the truth's line-art pixels (ink in the print, dark in the truth) that stay dark (L* &lt; 30); "
            "<i>ink recoloured</i> the mean ab error on pixels that are ink in the print but coloured in the truth "
            "(sound effects). Reference rows are ceilings, not contenders: <i>true_ab</i> is "
            "the truth's chroma on the B&amp;W page's own lightness, <i>grid_truth</i> the truth's chroma averaged "
            "to the hypercolumn grid and upsampled (a perfect model at that grid). Per-page values: "
            "<a href='metrics.csv'>metrics.csv</a>, means: <a href='metrics.json'>metrics.json</a>.</p>")


def scores_html(scores: pd.DataFrame | None) -> str:
    """Table of ``scores.csv`` (every head per hypercolumn cell of the held-out tiles), best model marked."""
    if scores is None or scores.empty:
        return "<p>No model scores.</p>"
    models = scores[scores.kind != "baseline"]
    best = {c: models[c].max() for c in ("top1", "top5")}
    best["chroma_ratio"] = min(models.chroma_ratio, key=lambda v: abs(v - 1)) if len(models) else None
    rows = []
    for r in scores.itertuples():
        cells = "".join(f"<td class='num{' best' if r.kind != 'baseline' and getattr(r, c) == best[c] else ''}'>"
                        f"{_fmt(float(getattr(r, c)))}</td>" for c in ("top1", "top5", "chroma_ratio"))
        params = f"{int(r.parameters):,}" if "parameters" in scores else ""
        rows.append(f"<tr><td>{_esc(r.model)}</td><td class=num>{params}</td><td class=num>{r.cells}</td>{cells}</tr>")
    return ("<table><tr><th>model</th><th>parameters</th><th>cells</th><th>top-1 bin accuracy &uarr;</th>"
            "<th>top-5 &uarr;</th>"
            f"<th>chroma ratio (best: 1)</th></tr>{''.join(rows)}</table>"
            "<p>Every trained head on the held-out chapter's tiles at its own resolution (one prediction per "
            "hypercolumn cell, what it was trained for), against each cell's nearest bin; <i>gray</i> predicts "
            "a = b = 0. Chroma ratio: mean |ab| of the decoded prediction over the truth's. Full table: "
            "<a href='scores.csv'>scores.csv</a>.</p>")


def timings_html(table: pd.DataFrame) -> str:
    if table.empty:
        return "<p>No benchmark files were found.</p>"
    rows = "".join(f"<tr><td>{_esc(r.rule)}</td><td>{_esc(r.wildcards)}</td><td class=num>{r.seconds:.1f}</td>"
                   f"<td class=num>{_fmt(r.max_rss_mb, 0)}</td></tr>" for r in table.itertuples())
    total = (f"<tr class=total><td>total</td><td>{len(table)} jobs (sum, not wall-clock)</td>"
             f"<td class=num>{table.seconds.sum():.1f}</td><td></td></tr>")
    return ("<table><tr><th>rule</th><th>wildcards</th><th>seconds</th><th>max RSS (MB)</th></tr>"
            f"{rows}{total}</table>")


def _figure(src: str, title: str, caption: str) -> str:
    return (f"<figure><a href='{_esc(src)}'><img src='{_esc(src)}' alt='{_esc(title)}'></a>"
            f"<figcaption><b>{_esc(title)}.</b> {_esc(caption)}</figcaption></figure>")


def figures_html(figures: list[tuple[str | None, str]]) -> str:
    """``figures``: (caption key, path relative to the report) in the order they should appear."""
    out, category = [], None
    order = {k: i for i, k in enumerate(FIGURES)}
    for key, rel in sorted(figures, key=lambda f: order.get(f[0], len(order))):
        title, cat, caption = FIGURES.get(key, (Path(rel).stem, "Other", ""))
        if cat != category:
            out.append(f"<h3>{_esc(cat)}</h3>")
            category = cat
        if key == "stages":
            title = f"{title}: {Path(rel).stem.split('_', 1)[-1]}"
        elif key == "panels":
            title = f"{title}: {Path(rel).stem}"
        out.append(_figure(rel, title, caption))
    return "\n".join(out)


def pages_html(pages: dict[str, list[str]]) -> str:
    if not pages:
        return "<p>No coloured pages.</p>"
    strategies = list(pages)
    n = max(len(v) for v in pages.values())
    head = "".join(f"<th>{_esc(s)}</th>" for s in strategies)
    rows = []
    for i in range(n):
        cells = "".join(f"<td><a href='{_esc(pages[s][i])}'><img src='{_esc(pages[s][i])}' alt='{_esc(s)} {i}'>"
                        f"</a></td>" if i < len(pages[s]) else "<td></td>" for s in strategies)
        rows.append(f"<tr><td>page {i}</td>{cells}</tr>")
    return (f"<p>Every page coloured by every strategy, in <code>pages/&lt;strategy&gt;/</code>.</p>"
            f"<table class=thumbs><tr><th></th>{head}</tr>{''.join(rows)}</table>")


# ---------------------------------------------------------------- the report
def write_pages(colorized, out_dir: Path) -> dict[str, list[str]]:
    """Every strategy's RGB pages from a colourised chapter as ``pages/{strategy}/NNN.png``; relative paths."""
    written: dict[str, list[str]] = {}
    with h5py.File(colorized, "r") as f:
        strategies = [str(s) for s in f.attrs["strategies"]]
        keys = sorted(k for k in f.keys() if k.startswith("page"))
        for s in strategies:
            (out_dir / "pages" / s).mkdir(parents=True)
            written[s] = []
            for key in keys:
                rel = f"pages/{s}/{int(key[4:]):03d}.png"
                rgb = f[f"{key}/{s}/rgb"][()]
                if not cv2.imwrite(str(out_dir / rel), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
                    raise OSError(f"could not write {out_dir / rel}")
                written[s].append(rel)
    return written


def write_viewer_pages(pages_dir, out_dir: Path, pages: dict[str, list[str]], strategy: str) -> list[dict]:
    """Copy the chapter's B&W and true colour pages into ``pages/bw/`` and ``pages/truth/``; the viewer's page
    entries pairing them with ``strategy``'s coloured pages (``pages`` as `write_pages` returns it)."""
    if strategy not in pages:
        raise ValueError(f"viewer: strategy {strategy!r} was not colourised (strategies: {', '.join(pages)})")
    pages_dir = Path(pages_dir)
    entries = []
    for kind in ("bw", "truth"):
        (out_dir / "pages" / kind).mkdir(parents=True)
    for i, colour in enumerate(pages[strategy]):
        name = Path(colour).name
        for kind, source in (("bw", "bw"), ("truth", "color")):
            src = pages_dir / source / name
            if not src.is_file():
                raise FileNotFoundError(f"{src}: page {i} of the chapter's page folder is missing")
            shutil.copyfile(src, out_dir / "pages" / kind / name)
        entries.append({"name": name, "bw": f"pages/bw/{name}", "color": colour, "truth": f"pages/truth/{name}"})
    return entries


def build_index(chapter: str, config: dict, metrics: dict, figures: list, pages: dict,
                timings: pd.DataFrame, scores: pd.DataFrame | None = None, strategy: str | None = None,
                held_out: dict[str, dict] | None = None) -> str:
    model = config.get("colorize", {}).get("model", "?")
    train = ", ".join(config.get("train", []))
    intro = (f"Results of one mangacolor run on the held-out chapter <b>{_esc(chapter)}</b>: a per-pixel classifier "
             f"over quantised ab colour bins, fed with VGG16 hypercolumns of the B&amp;W page, trained on "
             f"{_esc(train) or '?'} (Zhang et al. 2016, after the blog <i>Manga Learn!</i>). Whole pages are "
             f"coloured by <b>{_esc(model)}</b> with each strategy and compared with the true colours and with "
             "a grey and a regression baseline. Figures, metrics and pages are files of this folder.")
    sections = [("config", "Configuration", config_html(config)), ("metrics", "Metrics", metrics_html(metrics))]
    if held_out:
        sections.append(("held-out", "Held-out chapters side by side", held_out_html(held_out)))
    sections += [
                 ("scores", "Models on held-out tiles", scores_html(scores)),
                 ("figures", "Figures", figures_html(figures)),
                 ("pages", "Coloured pages", viewer_html_link(chapter, strategy) + pages_html(pages)),
                 ("timings", "Timings", timings_html(timings))]
    nav = "".join(f"<a href='#{sid}'>{_esc(t)}</a>" for sid, t, _ in sections)
    body = "\n".join(f"<h2 id='{sid}'>{_esc(t)}</h2>\n{content}" for sid, t, content in sections)
    return (f"<!DOCTYPE html>\n<html lang=en><head><meta charset='utf-8'><title>mangacolor: {_esc(chapter)}</title>"
            f"<style>{CSS}</style></head><body>\n<h1>mangacolor: {_esc(chapter)}</h1>\n<p>{intro}</p>\n"
            f"<nav>{nav}</nav>\n{body}\n</body></html>\n")


#: The columns of the held-out chapters' side-by-side table: (metrics.json group, method, column, header).
HELD_OUT_COLUMNS = (("baselines", "gray", "auc_colored", "grey: AuC coloured"),
                    ("baselines", "tone_lookup", "auc_colored", "tone lookup: AuC coloured"),
                    ("strategies", None, "auc_colored", "best strategy (chroma only): AuC coloured"),
                    ("baselines", "gray", "psnr", "grey: PSNR"),
                    ("color", None, "psnr", "best colour page: PSNR"),
                    ("color", None, "colorfulness_ratio", "its colourfulness ratio"))


def held_out_html(held_out: dict[str, dict]) -> str:
    """Every held-out chapter of the run on one row: the grey and tone-lookup baselines beside the best strategy
    (by the column's metric) and the best colour page."""
    if not held_out:
        return ""
    head = "".join(f"<th>{_esc(h)}</th>" for *_, h in HELD_OUT_COLUMNS)
    rows = []
    for chapter, metrics in held_out.items():
        cells = []
        best_psnr = None
        for group, method, col, _ in HELD_OUT_COLUMNS:
            table = metrics.get(group, {})
            if method is None and col == "colorfulness_ratio":
                method = best_psnr
            if method is None:
                ranked = [(m[col], k) for k, m in table.items() if isinstance(m.get(col), (int, float))]
                method = max(ranked)[1] if ranked else None
                if group == "color":
                    best_psnr = method
            v = table.get(method, {}).get(col) if method else None
            label = f" ({_esc(method)})" if method and group in ("strategies", "color") else ""
            cells.append(f"<td class=num>{_fmt(v, 2 if col == 'psnr' else 3)}{label}</td>")
        rows.append(f"<tr><td>{_esc(chapter)}</td>{''.join(cells)}</tr>")
    return (f"<table><tr><th>chapter</th>{head}</tr>{''.join(rows)}</table><p>Every held-out chapter of the run "
            "(none of them trains): chapter1 is of the training chapters' arc, a new-arc chapter brings props, "
            "backgrounds and a character the training chapters never show. Each chapter's own report has the full "
            "table.</p>")


def viewer_html_link(chapter: str, strategy: str | None) -> str:
    if strategy is None:
        return ""
    return (f"<p><a href='viewer.html'>viewer.html</a> shows every page as B&amp;W | colour ({_esc(strategy)}) | "
            "truth with a slider (arrow keys turn the page). <a href='model.pt'>model.pt</a> is the colourising "
            f"model with its settings: <code>mangacolor colorize --model results/{_esc(chapter)} PAGES -o OUT</code>."
            "</p>")


def write_report(chapter: str, config: dict, figures: list[tuple[str, Path]], panels, metrics_json, metrics_csv,
                 colorized, scores, benchmarks, out, pages_dir=None, model=None, colorize: dict | None = None,
                 held_out: dict[str, Path] | None = None) -> None:
    """Build ``out`` (results/{chapter}) atomically: ``figures`` are (caption key, file) pairs, ``panels`` the
    folder of side-by-side pages, ``colorized`` the chapter's colourised HDF5, ``scores`` a scores.csv or None,
    ``benchmarks`` the folder of Snakemake benchmark files. With ``pages_dir`` (the chapter's page folder),
    ``model`` (its colourising model.pt) and ``colorize`` (``strategy``, ``decode``, ``temperature``,
    ``overlap_stride``: the defaults of `mangacolor colorize`), the report also holds ``viewer.html`` for that
    strategy and ``model.pt`` with those defaults recorded (`model.runs.export_model`). ``held_out`` (chapter ->
    its metrics.json, this one included) adds the held-out chapters' side-by-side table."""
    metrics_json, metrics_csv, panels = Path(metrics_json), Path(metrics_csv), Path(panels)
    metrics = json.loads(metrics_json.read_text())
    with atomic_path(out, suffix=".tmpdir") as tmp:
        (tmp / "figures").mkdir(parents=True)
        shown = []
        for key, src in figures:
            name = report_name(key, src)
            shutil.copyfile(src, tmp / "figures" / name)
            shown.append((key, f"figures/{name}"))
        if not panels.is_dir():
            raise FileNotFoundError(f"{panels}: panels folder not found")
        shutil.copytree(panels, tmp / "figures" / "panels")
        shown += [("panels", f"figures/panels/{p.name}") for p in sorted(panels.glob("*.png"))]
        shutil.copyfile(metrics_json, tmp / "metrics.json")
        shutil.copyfile(metrics_csv, tmp / "metrics.csv")
        table = None
        if scores:
            shutil.copyfile(scores, tmp / "scores.csv")
            table = pd.read_csv(scores)
        pages = write_pages(colorized, tmp)
        strategy = None
        if pages_dir is not None and model is not None and colorize is not None:
            from ..model.runs import export_model
            from .viewer import write_viewer

            strategy = colorize["strategy"]
            export_model(model, tmp / "model.pt", **colorize)
            write_viewer(tmp / "viewer.html", write_viewer_pages(pages_dir, tmp, pages, strategy),
                         f"mangacolor: {chapter}, {strategy} vs truth")
        others = {name: json.loads(Path(path).read_text()) for name, path in (held_out or {}).items()}
        index = build_index(chapter, config, metrics, shown, pages, benchmark_table(benchmarks), table, strategy,
                            others)
        (tmp / "index.html").write_text(index, encoding="utf-8")
    print(f"{out}/index.html: {len(shown)} figures, {sum(map(len, pages.values()))} pages")


if __name__ == "__main__":
    write_captions(sys.argv[1] if len(sys.argv) > 1 else "workflow/report")
