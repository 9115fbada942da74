"""How much the print gives the colours away: the tone-lookup baseline on the fixed print and on the print model.

    python benchmarks/tone_lookup.py [--config config.yaml] [--prints fixed screentone]

For each print style it prints the config's chapters as the pipeline does (training chapters with
`train_prints` prints a page), fits the tone-lookup baseline on the training chapters' tiles (the `tone_lookup`
settings of the config) and scores it, beside the grey baseline, on every held-out chapter: mean coloured-pixel
AuC over its pages (Zhang et al.'s ab-error AuC over pixels whose true chroma exceeds 10). A lookup that beats grey
by far reads colours off the tone; the target is at most grey + 0.05 on the default print.
Prints one JSON object last: {"prints": {style: {chapter: {"tone_lookup": .., "gray": ..}}}}.
"""
import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mangacolor.data.pages import synthetic_pages, write_page_folder  # noqa: E402
from mangacolor.data.targets import write_targets  # noqa: E402
from mangacolor.data.tiles import write_tiles  # noqa: E402
from mangacolor.evaluate.metrics import auc_colored  # noqa: E402
from mangacolor.evaluate.tone_lookup import write_tone_lookup  # noqa: E402
from mangacolor.kernels.lab import rgb_to_lab  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "config.yaml"))
    parser.add_argument("--prints", nargs="+", default=["fixed", "screentone"])
    args = parser.parse_args()
    config = yaml.safe_load(Path(args.config).read_text())
    tiling, grid = config["tiling"], config["features"]["grid"]
    out = {}
    with tempfile.TemporaryDirectory(prefix="mangacolor-tone-") as tmp:
        tmp = Path(tmp)
        for style in args.prints:
            tiles, targets = [], []
            for name in config["train"]:
                spec = config["chapters"][name]
                pages = tmp / style / "pages" / name
                write_page_folder(synthetic_pages(config["series_seed"], name, spec["pages"], style,
                                                  config["train_prints"], spec.get("arc", "series")), pages,
                                  progress=False)
                tiles.append(tmp / style / f"{name}.tiles.h5")
                targets.append(tmp / style / f"{name}.targets.h5")
                write_tiles(pages, tiles[-1], tiling["canvas"], tiling["tile"], tiling["drop_blank"])
                write_targets(tiles[-1], targets[-1], grid)
            lookup = write_tone_lookup(tiles, targets, tmp / style / "lookup.npz", config["seed"],
                                       config["tone_lookup"]["max_cells"], config["tone_lookup"]["k"])
            out[style] = {}
            for name in config["test"]:
                spec = config["chapters"][name]
                scores = {"tone_lookup": [], "gray": []}
                for page in synthetic_pages(config["series_seed"], name, spec["pages"], style, 1,
                                            spec.get("arc", "series")):
                    true_ab = rgb_to_lab(page.color)[..., 1:]
                    scores["tone_lookup"].append(auc_colored(lookup.predict_page(page.bw), true_ab))
                    scores["gray"].append(auc_colored(np.zeros_like(true_ab), true_ab))
                out[style][name] = {k: round(float(np.mean(v)), 4) for k, v in scores.items()}
                print(style, name, out[style][name], flush=True)
    print(json.dumps({"prints": out}))


if __name__ == "__main__":
    main()
