# Stage 7: per-page, per-strategy metrics of the test chapters, with the grey and regression baselines beside.


rule metrics:
    input:
        pages=f"{WORK}/pages/{{chapter}}",
        bins=f"{WORK}/bins/{TT}/{BT}/bins.npz",
        main=colorized(COLORIZE_MODEL),
        baseline=[colorized(BASELINE_MODEL)] if BASELINE_MODEL else [],
    output:
        json=f"{RUN}/metrics/{{chapter}}.json",
        csv=f"{RUN}/metrics/{{chapter}}.csv",
    params:
        canvas=config["tiling"]["canvas"],
        tile=config["tiling"]["tile"],
        grid=GRID,
        baseline=lambda wc, input: f"--baseline {input.baseline[0]}" if input.baseline else "",
    log:
        log_path(f"metrics/{TT}/{FT}/{BT}/{{chapter}}"),
    benchmark:
        bench_path(f"metrics/{TT}/{FT}/{BT}/{{chapter}}")
    shell:
        "mangacolor metrics --pages {input.pages} --bins {input.bins} --colorized {input.main} {params.baseline} "
        "--canvas {params.canvas} --tile {params.tile} --grid {params.grid} --out-json {output.json} --out-csv {output.csv} "
        "2>&1 | tee {log}"
