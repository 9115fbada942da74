# Stage 8: figures, each from a rule, each flagged for `snakemake --report` with a caption.
# `figures.*` values are params of these rules only: a style change reruns figures and the report, nothing else.
FIG = f"--dpi {config['figures']['dpi']}"


rule figure_bins:
    input:
        BINS,
    output:
        fig("bin_usage.png", "bin_usage", "Bins"),
    log:
        log_path(f"figures/{TT}/{BT}/bin_usage"),
    conda:
        ENV
    params:
        style=FIG,
    shell:
        "mangacolor figure bins --bins {input} {params.style} --out {output} > {log} 2>&1"


rule figure_loss_curves:
    input:
        [f"{model_root(m)}/models/{m}/history.csv" for m in MODELS],
    output:
        fig("loss_curves.png", "loss_curves", "Training"),
    log:
        log_path(f"figures/{TT}/{FT}/{BT}/loss_curves"),
    conda:
        ENV
    params:
        style=FIG,
    shell:
        "mangacolor figure loss-curves --histories {input} {params.style} --out {output} > {log} 2>&1"


rule figure_stages:
    input:
        f"{RUN}/models/{{kind}}-{{opt}}/samples.npz",
    output:
        fig("stages_{kind}-{opt}.png", "stages", "Training"),
    log:
        log_path(f"figures/{TT}/{FT}/{BT}/stages_{{kind}}-{{opt}}"),
    wildcard_constraints:
        kind="classification",
    conda:
        ENV
    params:
        style=FIG,
    shell:
        "mangacolor figure stages --samples {input} --title {wildcards.kind}-{wildcards.opt} {params.style} "
        "--out {output} > {log} 2>&1"


use rule figure_stages as figure_stages_regression with:
    input:
        f"{REG}/models/{{kind}}-{{opt}}/samples.npz",
    output:
        fig("stages_{kind}-{opt}.png", "stages", "Training", root=REG),
    log:
        log_path(f"figures/{TT}/{FT}/regression/stages_{{kind}}-{{opt}}"),
    wildcard_constraints:
        kind="regression",


rule figure_collapse:
    input:
        pages=f"{WORK}/pages/{{chapter}}",
        colorized=[colorized(m) for m in [COLORIZE_MODEL] + ([BASELINE_MODEL] if BASELINE_MODEL else [])],
    output:
        fig("{chapter}/collapse.png", "collapse", "Training"),
    log:
        log_path(f"figures/{TT}/{FT}/{BT}/{{chapter}}/collapse"),
    conda:
        ENV
    params:
        style=FIG,
    shell:
        "mangacolor figure collapse --pages {input.pages} --colorized {input.colorized} {params.style} "
        "--out {output} > {log} 2>&1"


rule figure_pages:
    input:
        pages=f"{WORK}/pages/{{chapter}}",
        colorized=colorized(COLORIZE_MODEL),
    output:
        panels=report(
            directory(f"{RUN}/figures/{{chapter}}/panels"),
            patterns=["{name}.png"],
            caption="../report/panels.rst",
            category="Whole pages",
        ),
        seams=fig("{chapter}/seams.png", "seams", "Whole pages"),
    log:
        log_path(f"figures/{TT}/{FT}/{BT}/{{chapter}}/pages"),
    conda:
        ENV
    params:
        style=FIG,
        n=config["figures"]["pages"],
    shell:
        "mangacolor figure pages --pages {input.pages} --colorized {input.colorized} --n-pages {params.n} "
        "{params.style} --out {output.panels} --seams {output.seams} > {log} 2>&1"


rule figure_lineart:
    input:
        f"{WORK}/pages/{{chapter}}",
    output:
        report(f"{WORK}/figures/lineart/{{chapter}}.png", caption="../report/lineart.rst", category="Colour pages"),
    log:
        log_path("figures/lineart/{chapter}"),
    conda:
        ENV
    params:
        style=FIG,
    shell:
        "mangacolor figure lineart --pages {input} {params.style} --out {output} > {log} 2>&1"


rule figure_closeups:
    input:
        pages=f"{WORK}/pages/{{chapter}}",
        colorized=colorized(COLORIZE_MODEL),
    output:
        fig("{chapter}/closeups.png", "closeups", "Colour pages"),
    log:
        log_path(f"figures/{TT}/{FT}/{BT}/{{chapter}}/closeups"),
    conda:
        ENV
    params:
        style=FIG,
        n=config["figures"]["pages"],
    shell:
        "mangacolor figure closeups --pages {input.pages} --colorized {input.colorized} --n-pages {params.n} "
        "{params.style} --out {output} > {log} 2>&1"


rule figure_registration:
    input:
        f"{WORK}/pages/{{chapter}}",
    output:
        report(f"{WORK}/figures/registration/{{chapter}}.png", caption="../report/registration.rst", category="Pages"),
    log:
        log_path("figures/registration/{chapter}"),
    conda:
        ENV
    params:
        style=FIG,
    shell:
        "mangacolor figure registration --pages {input} {params.style} --out {output} > {log} 2>&1"
