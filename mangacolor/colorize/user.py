"""`mangacolor colorize`: colourise a user's own B&W pages with a trained model.

Inputs are files or folders (expanded to their PNG/JPEG images) and are only read. Each page is written as
``OUT/<name>.png`` atomically. An unreadable page is reported and skipped: every readable page is still done,
and the command exits non-zero listing the pages it could not read.
"""
from __future__ import annotations

from pathlib import Path

import cv2
from tqdm import tqdm

from ..features.backbone import Hypercolumns
from .chapter import head_ab
from .strategies import compose, plan_crops, to_rgb
from ..features.hypercolumns import compute
from ..io import atomic_path
from ..data.pages import IMAGE_SUFFIXES, PageError, read_page


def expand_inputs(paths: list[str | Path]) -> list[Path]:
    """Files as given, folders expanded to their images (sorted); a PageError for a missing path or empty folder."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise PageError(f"{path}: folder has no PNG/JPEG pages")
            files += found
        elif path.exists():
            files.append(path)
        else:
            raise PageError(f"{path}: no such file or folder")
    return files


def check_output_folder(out: Path, inputs: list[Path]) -> None:
    """Refuse an output folder that is, or is inside, an input folder, or whose outputs would overwrite an input."""
    out = out.resolve()
    for src in inputs:
        folder = src.resolve().parent
        if out == folder or folder in out.parents:
            raise PageError(f"output folder {out} is inside the input folder {folder}; choose another -o")
        if (out / f"{src.stem}.png").resolve() == src.resolve():
            raise PageError(f"writing {out / (src.stem + '.png')} would overwrite an input")


def colorize_pages(paths, model_path, strategy="contours", out="colorized", device="auto",
                   decode="annealed_mean", temperature=0.38) -> list[Path]:
    """Colourise every readable page; returns the written files. Raises PageError listing unreadable pages."""
    from ..model.load import load_model

    files = expand_inputs(paths)
    out = Path(out)
    check_output_folder(out, files)
    head, meta = load_model(model_path)
    if "features" not in meta:
        raise PageError(f"{model_path}: no backbone settings in the model file; use a model.pt written by "
                        "the train rule")
    feats = meta["features"]
    extractor = Hypercolumns.from_weights(feats["weights"], feats["layers"], feats["grid"],
                                          seed=max(int(feats.get("weights_seed", 0)), 0))
    out.mkdir(parents=True, exist_ok=True)
    written, failed = [], []
    for path in tqdm(files, desc="colorize", unit="page"):
        try:
            gray = read_page(path, "bw")
        except PageError as exc:
            failed.append(str(exc))
            continue
        plan = plan_crops(gray, strategy)
        x = compute(extractor, plan.crops, device=device, precision=feats.get("precision", "float32"))
        ab = compose(gray, plan, head_ab(head, meta, x, meta["centers"], decode, temperature))
        target = out / f"{path.stem}.png"
        with atomic_path(target) as tmp:
            cv2.imwrite(str(tmp), cv2.cvtColor(to_rgb(gray, ab), cv2.COLOR_RGB2BGR))
        written.append(target)
    print(f"{len(written)} page(s) written to {out}")
    if failed:
        raise PageError(f"{len(failed)} page(s) could not be read (the others were written):\n  " + "\n  ".join(failed))
    return written
