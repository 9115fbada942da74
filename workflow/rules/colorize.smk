# Stage 6: whole-page colourisation. `crops` cuts each test page into the model inputs of every strategy and
# computes their hypercolumns (bin-independent, cached); `colorize` runs a trained head on them and composes
# (the regression baseline's under REG: it needs no bins).
COLORIZE = config["colorize"]


rule crops:
    input:
        f"{WORK}/pages/{{chapter}}",
    output:
        f"{FEAT_DENSE}/crops/{{chapter}}.h5",
    log:
        log_path(f"crops/{TT}/{FT_DENSE}/{{chapter}}"),
    benchmark:
        bench_path(f"crops/{TT}/{FT_DENSE}/{{chapter}}")
    conda:
        ENV
    threads: HEAVY_THREADS
    resources:
        mem_mb=4000,
        gpu=1,
    params:
        strategies=",".join(COLORIZE["strategies"]),
        stride=COLORIZE["overlap_stride"],
        canvas=config["tiling"]["canvas"],
        tile=config["tiling"]["tile"],
        features=FEATURE_ARGS,
    shell:
        "mangacolor crops --pages {input} --strategies {params.strategies} --overlap-stride {params.stride} "
        "--canvas {params.canvas} --tile {params.tile} {params.features} "
        "--threads {threads} --out {output} 2>&1 | tee {log}"


rule colorize:
    input:
        crops=f"{FEAT_DENSE}/crops/{{chapter}}.h5",
        pages=f"{WORK}/pages/{{chapter}}",
        model=f"{RUN}/models/{{kind}}-{{opt}}/model.pt",
        bins=BINS,
    output:
        f"{RUN}/colorized/{{kind}}-{{opt}}/{{chapter}}.h5",
    log:
        log_path(f"colorize/{TT}/{FT}/{BT}/{{kind}}-{{opt}}/{{chapter}}"),
    benchmark:
        bench_path(f"colorize/{TT}/{FT}/{BT}/{{kind}}-{{opt}}/{{chapter}}")
    wildcard_constraints:
        kind="classification",
    conda:
        ENV
    threads: HEAVY_THREADS
    params:
        bins=lambda wc, input: f"--bins {input.bins}",
        decode=COLORIZE["decode"],
        abstain=str(COLORIZE["abstain"]).lower(),
        output=config["output"],
        temperature=COLORIZE["temperature"],
    shell:
        "mangacolor colorize-chapter --crops {input.crops} --pages {input.pages} --model {input.model} "
        "{params.bins} --abstain {params.abstain} --output {params.output} --decode {params.decode} --temperature {params.temperature} --threads {threads} "
        "--out {output} 2>&1 | tee {log}"


use rule colorize as colorize_regression with:
    input:
        crops=f"{FEAT_DENSE}/crops/{{chapter}}.h5",
        pages=f"{WORK}/pages/{{chapter}}",
        model=f"{REG}/models/{{kind}}-{{opt}}/model.pt",
    output:
        f"{REG}/colorized/{{kind}}-{{opt}}/{{chapter}}.h5",
    log:
        log_path(f"colorize/{TT}/{FT}/regression/{{kind}}-{{opt}}/{{chapter}}"),
    benchmark:
        bench_path(f"colorize/{TT}/{FT}/regression/{{kind}}-{{opt}}/{{chapter}}")
    wildcard_constraints:
        kind="regression",
    params:
        bins="",
        decode=COLORIZE["decode"],
        abstain=str(COLORIZE["abstain"]).lower(),
        output=config["output"],
        temperature=COLORIZE["temperature"],
