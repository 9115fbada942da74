# Stage 7: per-page, per-strategy metrics of the test chapters, with the grey and regression baselines beside, and
# the scores of every trained head per hypercolumn cell of the test chapters' tiles (what the heads were trained for).


rule metrics:
    input:
        pages=f"{WORK}/pages/{{chapter}}",
        bins=BINS,
        main=colorized(COLORIZE_MODEL),
        baseline=[colorized(BASELINE_MODEL)] if BASELINE_MODEL else [],
        tone_lookup=TONE_LOOKUP,
    output:
        json=f"{RUN}/metrics/{{chapter}}.json",
        csv=f"{RUN}/metrics/{{chapter}}.csv",
    log:
        log_path(f"metrics/{TT}/{FT}/{BT}/{{chapter}}"),
    benchmark:
        bench_path(f"metrics/{TT}/{FT}/{BT}/{{chapter}}")
    conda:
        ENV
    params:
        canvas=config["tiling"]["canvas"],
        tile=config["tiling"]["tile"],
        grid=GRID,
        baseline=lambda wc, input: f"--baseline {input.baseline[0]}" if input.baseline else "",
    shell:
        "mangacolor metrics --pages {input.pages} --bins {input.bins} --colorized {input.main} {params.baseline} "
        "--tone-lookup {input.tone_lookup} --canvas {params.canvas} --tile {params.tile} --grid {params.grid} --out-json {output.json} --out-csv {output.csv} "
        "2>&1 | tee {log}"


rule scores:
    input:
        features=f"{FEAT}/{{chapter}}.h5",
        labels=f"{WORK}/labels/{TT}/{BT}-g{GRID}/{{chapter}}.h5",
        bins=BINS,
        models=[f"{model_root(m)}/models/{m}/model.pt" for m in SCORED_MODELS],
    output:
        f"{RUN}/scores/{{chapter}}.csv",
    log:
        log_path(f"scores/{TT}/{FT}/{BT}/{{chapter}}"),
    benchmark:
        bench_path(f"scores/{TT}/{FT}/{BT}/{{chapter}}")
    conda:
        ENV
    threads: 2
    resources:
        mem_mb=4000,
        gpu=1,
    params:
        decode=COLORIZE["decode"],
        temperature=COLORIZE["temperature"],
        device=config["training"]["device"],
    shell:
        "mangacolor scores --features {input.features} --labels {input.labels} --bins {input.bins} "
        "--models {input.models} --decode {params.decode} --temperature {params.temperature} --device {params.device} "
        "--threads {threads} --out {output} 2>&1 | tee {log}"
