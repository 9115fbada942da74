# mangacolor: learn to colourise B&W manga from coloured pages of the same series.
#   snakemake --cores 8 results/chapter1      rebuilds every figure and metric of chapter 1 from raw pages.
# This file only loads and validates the config, includes the stages in the order data flows, and names targets.
from snakemake.utils import min_version, validate

min_version("8.0")


configfile: "config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")

from mangacolor.config import check_config, normalise_config

normalise_config(config)
check_config(config)


wildcard_constraints:
    chapter=r"(?!work$)[A-Za-z][A-Za-z0-9_]*",
    kind=r"classification|regression",
    opt=r"sgd|adadelta|adam|ensemble",  # ensemble: rule ensemble (train.smk), never trained itself


include: "workflow/rules/common.smk"
include: "workflow/rules/pages.smk"
include: "workflow/rules/tiles.smk"
include: "workflow/rules/features.smk"
include: "workflow/rules/bins.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/colorize.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        expand("results/{chapter}", chapter=config["test"]),
