"""Config safety: unknown keys, wrong types and out-of-range values are rejected with the key's name."""
import copy
from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from mangacolor.config import ConfigError, bins_tag, check_config, feature_tag, normalise_config

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")
DEFAULT = yaml.safe_load((ROOT / "config.yaml").read_text())


def checked(config):
    config = copy.deepcopy(config)
    validate(config, SCHEMA)
    normalise_config(config)
    check_config(config)
    return config


def test_default_config_is_valid_and_complete():
    config = checked(DEFAULT)
    assert config["bins"]["step"] == 10 and config["features"]["layers"] == [8, 15]
    assert set(config["test"]).isdisjoint(config["train"])


def test_defaults_fill_missing_sections():
    config = checked({"chapters": {"a": {"source": "synthetic"}, "b": {"source": "synthetic", "pages": 2}},
                      "train": ["a"], "test": ["b"]})
    assert config["tiling"] == {"canvas": 1344, "tile": 224, "drop_blank": True}
    assert config["chapters"]["a"]["pages"] == 6
    assert config["features"]["grid"] == DEFAULT["features"]["grid"]


@pytest.mark.parametrize("path, value, key", [
    (("bins", "colour_step"), 10, "colour_step"),          # unknown key
    (("features", "grid"), "big", "grid"),                  # wrong type
    (("bins", "step"), 0, "step"),                          # out of range
    (("training", "epochs"), -1, "epochs"),
    (("colorize", "strategies"), ["tiles", "magic"], "strategies"),
    (("bins", "lambda"), 1.5, "lambda"),
    (("training", "kernel"), 5, "kernel"),
    (("training", "cell_fraction"), 0, "cell_fraction"),
    (("training", "context"), -1, "context"),
])
def test_schema_rejects_with_key_name(path, value, key):
    config = copy.deepcopy(DEFAULT)
    section = config
    for k in path[:-1]:
        section = section[k]
    section[path[-1]] = value
    with pytest.raises(WorkflowError, match=key):
        validate(config, SCHEMA)


def test_unknown_top_level_key():
    config = copy.deepcopy(DEFAULT)
    config["epochz"] = 3
    with pytest.raises(WorkflowError, match="epochz"):
        validate(config, SCHEMA)


@pytest.mark.parametrize("change, key", [
    (lambda c: c.update(test=["ch2"]), "test"),
    (lambda c: c.update(train=["nope"]), "train"),
    (lambda c: c["tiling"].update(tile=200), "tiling.tile"),
    (lambda c: c["colorize"].update(model="classification-sgd") or c["training"]["runs"].update(
        classification=["adam"]), "colorize.model"),
    (lambda c: c["colorize"].update(model="classification-ensemble") or c["training"]["runs"].update(
        classification=["adam"]), "colorize.model"),
    (lambda c: c["chapters"].update(mine={"color": "/no/such/folder"}), "chapters.mine.color"),
    (lambda c: c["features"].update(weights="missing.pth"), "features.weights"),
    (lambda c: c["training"].update(kernel=3, cell_fraction=0.5), "training.cell_fraction"),
    (lambda c: c["training"].update(kernel=1, context=64, cell_fraction=0.5), "training.context"),
    (lambda c: c["features"].update(sample=256), "features.sample"),  # the default head sees neighbours
    (lambda c: c["features"].update(sample=784) or c["training"].update(kernel=1, context=0), "features.sample"),
    (lambda c: c["training"].update(processes=3), "training.processes"),  # 3 does not divide batch 16
])
def test_cross_key_checks_name_the_key(change, key):
    config = copy.deepcopy(DEFAULT)
    change(config)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        checked(config)


def test_tags_separate_bin_and_feature_dependencies():
    config = checked(DEFAULT)
    other = copy.deepcopy(config)
    other["bins"]["step"] = 20
    assert bins_tag(other["bins"]) != bins_tag(config["bins"])
    assert feature_tag(other["features"]) == feature_tag(config["features"])
    full = copy.deepcopy(DEFAULT)
    full["features"]["layers"] = "full"
    assert checked(full)["features"]["layers"] == [3, 8, 15, 22]


def test_sample_count_is_in_the_features_tag_and_dense_stays_dense():
    config = checked(DEFAULT)
    sampled = copy.deepcopy(DEFAULT)
    sampled["features"]["sample"] = 256
    sampled["training"].update(kernel=1, context=0)
    sampled = checked(sampled)
    assert feature_tag(sampled["features"]) == feature_tag(config["features"]) + "-s256"
    assert feature_tag(sampled["features"], dense=True) == feature_tag(config["features"])
    with pytest.raises(ConfigError, match="per-cell head"):
        bad = copy.deepcopy(sampled)
        bad["training"]["kernel"] = 3
        check_config(bad)


def _schema_defaults(schema: dict, path: str = ""):
    """(dotted key, default) of every schema property that declares one, objects included."""
    for key, sub in schema.get("properties", {}).items():
        dotted = f"{path}.{key}" if path else key
        if "default" in sub and sub["default"] != {}:
            yield dotted, sub["default"]
        yield from _schema_defaults(sub, dotted)


def test_schema_defaults_equal_config_yaml():
    """One home for every default: a config that leaves a key out gets what config.yaml says."""
    schema = yaml.safe_load(Path(SCHEMA).read_text())
    pairs = list(_schema_defaults(schema))
    assert len(pairs) > 30
    for dotted, default in pairs:
        value = DEFAULT
        for part in dotted.split("."):
            assert part in value, f"config.yaml has no {dotted} (schema default {default!r})"
            value = value[part]
        assert value == default, f"{dotted}: schema default {default!r}, config.yaml {value!r}"
