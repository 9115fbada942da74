"""How far one colour hint carries over a chapter of the synthetic series, where every region's part is known.

    python benchmarks/hints.py [--model results/chapter1] [--chapter chapter1] [--pages 4] [--first-page 0] [--oracle]

For every part of the palette seen on the hint page and on the others: one point hint (a colour the part never
has) at the centre of the part's largest region on the hint page, then the chapter's hints applied to every page
(`mangacolor.colorize.hints`, the rule `mangacolor colorize --hints` uses). Measured on the chapter's *other*
pages (`mangacolor.evaluate.hints.hint_shares`): recall, the share of the part's pixels that took the hinted
colour, and false, the share of the other parts' pixels that did. Targets: recall >= 0.8, false <= 0.02.

The model is the one the main run exports (``results/chapter1/model.pt``: run ``snakemake --cores 8
results/chapter1`` first, or the reduced run of ``benchmarks/hints_small.yaml``), used with its recorded
settings; the pages are printed as the run prints them (``--print``). ``--oracle`` replaces the model by the truth
(each cell's true ab, soft-encoded on the model's bins): the ceiling of the rule and the regions with a perfect
prediction. To calibrate, use pages the model never trained on from a training chapter (its pages past
``chapters.X.pages``: ``--chapter ch4 --first-page 6``), never a test chapter. Prints one JSON object last.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mangacolor.colorize import hints  # noqa: E402
from mangacolor.colorize.strategies import plan_crops  # noqa: E402
from mangacolor.data.synth import COLOURS, render_layers, render_print  # noqa: E402
from mangacolor.evaluate.hints import hint_for_part, hint_shares  # noqa: E402
from mangacolor.kernels.lab import rgb_to_lab  # noqa: E402

HINT_RGB = (255, 0, 255)  # magenta: the colour of no part of the series
MIN_HINT_PIXELS, MIN_OTHER_PIXELS = 2000, 3000  # a part is measured when it is this visible


def oracle_probs(plan, color: np.ndarray, centers: np.ndarray, grid: int, sigma: float = 8.0) -> np.ndarray:
    """(N, Q, G, G) 'predictions' from the truth: each crop cell's mean true ab, soft-encoded on the bins."""
    ab = rgb_to_lab(color)[..., 1:]
    out = []
    for (y0, x0, y1, x1) in plan.boxes:
        h, w = ab.shape[:2]
        crop = np.zeros((y1 - y0, x1 - x0, 2), np.float32)
        ys, xs = slice(max(y0, 0), min(y1, h)), slice(max(x0, 0), min(x1, w))
        crop[ys.start - y0:ys.stop - y0, xs.start - x0:xs.stop - x0] = ab[ys, xs]
        cells = cv2.resize(crop, (grid, grid), interpolation=cv2.INTER_AREA).reshape(-1, 2)
        d2 = ((cells[:, None, :] - centers[None]) ** 2).sum(-1)
        p = np.exp(-(d2 - d2.min(1, keepdims=True)) / (2 * sigma ** 2))
        out.append((p / p.sum(1, keepdims=True)).T.reshape(-1, grid, grid))
    return np.asarray(out, np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "results" / "chapter1"), help="model.pt or its folder")
    parser.add_argument("--chapter", default="chapter1", help="synthetic chapter (chapter1 is held out)")
    parser.add_argument("--pages", type=int, default=4, help="how many pages, from --first-page on")
    parser.add_argument("--first-page", type=int, default=0, help="the first page's number in its chapter")
    parser.add_argument("--series-seed", type=int, default=2016)
    parser.add_argument("--print", default="screentone", dest="print_style", help="screentone | fixed")
    parser.add_argument("--hint-page", type=int, default=0, help="which of the pages (0: the first) is hinted")
    parser.add_argument("--oracle", action="store_true", help="the truth instead of the model's prediction")
    parser.add_argument("--sweep", type=lambda t: [float(v) for v in t.split(",")], default=[],
                        help="also measure at these match distances (calibrate on a training chapter, not chapter1)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import torch

    from mangacolor.colorize.user import PageColorizer, model_settings
    from mangacolor.model.load import ModelError, load_model, model_path

    torch.set_num_threads(args.threads)
    try:
        path = model_path(args.model)
    except ModelError as exc:
        sys.exit(f"{exc}\nbenchmarks/hints.py needs a trained model: run the main job (snakemake --cores 8 "
                 "results/chapter1), which exports results/chapter1/model.pt, or give --model")
    head, meta = load_model(path)
    settings = model_settings(meta, path, output="chroma")  # pages are not composed here: the form is moot
    colorizer = PageColorizer(head, meta, settings, device="cpu")
    pages, t0 = [], time.perf_counter()
    for i in range(args.first_page, args.first_page + args.pages):
        label, ink = render_layers(args.series_seed, args.chapter, i)
        color, gray = render_print(args.series_seed, args.chapter, i, args.print_style)
        if args.oracle:  # the truth on the overlap strategy's crops
            plan = plan_crops(gray, "overlap", tile=settings.tile, canvas=settings.canvas,
                              stride=settings.overlap_stride)
            probs = oracle_probs(plan, color, colorizer.centers, int(meta["features"]["grid"]))
            regions = hints.page_regions(gray, plan.boxes, plan.inner, plan.tile, probs)
        else:
            p = colorizer.predict(gray, with_probs=True)
            regions = hints.page_regions(gray, p.boxes, p.inner, p.tile, p.probs, p.regions)
        pages.append((label, ink, regions))
        print(f"page {i}: {regions.n} regions", file=sys.stderr)
    seconds_per_page = (time.perf_counter() - t0) / args.pages

    hint_label, hint_ink, hint_regions = pages[args.hint_page]
    others = [p for j, p in enumerate(pages) if j != args.hint_page]

    def measure() -> dict:
        parts = {}
        for k, colour in enumerate(COLOURS):
            seen = int(((hint_label == k) & (hint_ink < 128)).sum())
            elsewhere = sum(int(((label == k) & (ink < 128)).sum()) for label, ink, _ in others)
            if seen < MIN_HINT_PIXELS or elsewhere < MIN_OTHER_PIXELS:
                continue
            scribble = hint_for_part(str(args.hint_page), hint_regions, hint_label, k, HINT_RGB)
            if scribble is None:
                continue
            chapter_hints = hints.ChapterHints.learn([scribble], lambda name: hint_regions, colorizer.centers)
            recoloured = [(label, ink, (chapter_hints.assign(regions) >= 0)[regions.reach])
                          for label, ink, regions in others]
            shares = hint_shares(recoloured, k)
            parts[colour.name] = {key: round(v, 4) if isinstance(v, float) else v for key, v in shares.items()}
        return parts

    default_distance = hints.MATCH_DISTANCE
    sweep = {}
    for distance in args.sweep:
        hints.MATCH_DISTANCE = distance
        found = measure()
        sweep[str(distance)] = {"median_recall": round(float(np.median([s["recall"] for s in found.values()])), 4),
                                "median_false": round(float(np.median([s["false"] for s in found.values()])), 5),
                                "targets_met": sum(s["recall"] >= 0.8 and s["false"] <= 0.02
                                                   for s in found.values())}
        print(f"distance {distance}: {sweep[str(distance)]}", file=sys.stderr)
    hints.MATCH_DISTANCE = default_distance
    parts = measure()
    for name, shares in parts.items():
        print(f"{name:14s} recall {shares['recall']:.3f}  false {shares['false']:.4f}", file=sys.stderr)
    met = [name for name, s in parts.items() if s["recall"] >= 0.8 and s["false"] <= 0.02]
    recalls = [s["recall"] for s in parts.values()]
    print(json.dumps({
        "model": str(path), "oracle": args.oracle, "chapter": args.chapter, "pages": args.pages,
        "first_page": args.first_page, "print": args.print_style, "hint_page": args.hint_page,
        "strategy": settings.strategy,
        "rule": {"match_distance": hints.MATCH_DISTANCE, "match_blur": hints.MATCH_BLUR,
                 "match_area": hints.MATCH_AREA, "min_region": hints.MIN_REGION},
        "parts": parts, "median_recall": round(float(np.median(recalls)), 4) if recalls else None,
        "max_false": max((s["false"] for s in parts.values()), default=None),
        "parts_meeting_targets": met, "targets_met": f"{len(met)}/{len(parts)}", **({"sweep": sweep} if sweep else {}),
        "seconds_per_page": round(seconds_per_page, 1)}))


if __name__ == "__main__":
    main()
