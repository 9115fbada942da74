"""Config checks the JSON schema cannot express, and the path tags that say what an output depends on."""
from __future__ import annotations

from pathlib import Path

LAYER_SETS = {"full": (3, 8, 15, 22)}


class ConfigError(ValueError):
    """A config value that is wrong; the message names the key."""


def check_config(config: dict) -> None:
    """Cross-key checks run after schema validation (which already applied defaults)."""
    chapters = config["chapters"]
    for key in ("train", "test"):
        unknown = [c for c in config[key] if c not in chapters]
        if unknown:
            raise ConfigError(f"config {key}: chapter(s) {', '.join(unknown)} not defined under `chapters`")
    both = sorted(set(config["train"]) & set(config["test"]))
    if both:
        raise ConfigError(f"config test: chapter(s) {', '.join(both)} are also in `train`; test chapters never train")
    tiling = config["tiling"]
    if tiling["canvas"] % tiling["tile"]:
        raise ConfigError(f"config tiling.tile: {tiling['tile']} does not divide tiling.canvas {tiling['canvas']}")
    kind, optimiser = config["colorize"]["model"].split("-")
    if optimiser == "ensemble":
        if len(config["training"]["runs"].get("classification", [])) < 2:
            raise ConfigError("config colorize.model: classification-ensemble joins the trained classifiers, and "
                              "training.runs.classification lists fewer than two; list more or name one "
                              "(classification-adam)")
    elif optimiser not in config["training"]["runs"].get(kind, []):
        raise ConfigError(f"config colorize.model: {kind}-{optimiser} is not trained; add {optimiser} to "
                          f"training.runs.{kind}")
    colorize = config["colorize"]
    if colorize["user_strategy"] not in colorize["strategies"]:
        raise ConfigError(f"config colorize.user_strategy: {colorize['user_strategy']} is not among "
                          f"colorize.strategies ({', '.join(colorize['strategies'])}); the report shows its pages")
    if "classification" not in config["training"]["runs"] or not config["training"]["runs"]["classification"]:
        raise ConfigError("config training.runs.classification: at least one optimiser is needed")
    training = config["training"]
    kernel, context = training.get("kernel", 1), training.get("context", 0)
    if training.get("cell_fraction", 1.0) < 1 and (kernel != 1 or context):
        raise ConfigError(f"config training.cell_fraction: {training['cell_fraction']} < 1 needs a per-cell head "
                          f"(training.kernel 1 and training.context 0, got {kernel} and {context})")
    features = config["features"]
    sample, cells = features.get("sample", 0), features["grid"] ** 2
    if sample and (kernel != 1 or context):
        raise ConfigError(f"config features.sample: {sample} stores sampled cells without their neighbours, so it "
                          f"needs a per-cell head (training.kernel 1 and training.context 0, got {kernel} and "
                          f"{context}); use features.sample 0 for this head")
    if sample >= cells:
        raise ConfigError(f"config features.sample: {sample} is not below the {cells} cells of the "
                          f"{features['grid']}x{features['grid']} grid (features.grid); 0 stores every cell")
    processes = training.get("processes", 1)
    if training["batch_size"] % processes:
        raise ConfigError(f"config training.processes: {processes} does not divide training.batch_size "
                          f"{training['batch_size']} (each process takes an equal share of every batch)")
    for name, chapter in chapters.items():
        for key in ("color", "bw"):
            if key in chapter and not Path(chapter[key]).is_dir():
                raise ConfigError(f"config chapters.{name}.{key}: folder {chapter[key]} does not exist")
    weights = config["features"]["weights"]
    if weights not in ("hed", "imagenet", "random") and not Path(weights).is_file():
        raise ConfigError(f"config features.weights: {weights!r} is neither hed, imagenet, random nor an existing "
                          ".pth file")


def layers_tag(layers) -> str:
    return "_".join(str(i) for i in layers)


def tiles_tag(tiling: dict) -> str:
    """Everything tiles depend on: canvas, tile size, blank-tile policy."""
    return f"c{tiling['canvas']}-t{tiling['tile']}" + ("" if tiling["drop_blank"] else "-keepblank")


def feature_tag(features: dict, dense: bool = False) -> str:
    """Everything hypercolumns depend on besides the tiles (never the bins): weights, layers, grid, precision, and
    the cells sampled per tile (``-s{N}``) unless ``dense`` (the tag of the dense features inference computes)."""
    weights = features["weights"]
    if weights not in ("hed", "imagenet", "random"):
        weights = Path(weights).stem
    sample = 0 if dense else features.get("sample", 0)
    return (f"vgg16-{weights}-l{layers_tag(features['layers'])}-g{features['grid']}-{features['precision']}"
            + (f"-s{sample}" if sample else ""))


def bins_tag(bins: dict) -> str:
    """Everything the bin grid depends on: gamut rule and step."""
    return f"{bins['rule']}-s{bins['step']}"


def normalise_config(config: dict) -> None:
    """Resolve aliases in place (``features.layers: full``) so that every rule sees plain values."""
    layers = config["features"]["layers"]
    if isinstance(layers, str):
        config["features"]["layers"] = list(LAYER_SETS[layers])
    for chapter in config["chapters"].values():
        if chapter.get("source") == "synthetic":
            chapter.setdefault("pages", 6)
