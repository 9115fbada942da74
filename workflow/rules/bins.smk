# Stage 4: each chapter's grid-resolution ab (`targets`, bin-independent) and the tone-lookup baseline fitted on
# them (colour from local tone alone, bin-independent); the ab bin grid, its empirical prior over the training
# chapters' grid targets (what the loss sees) and rebalancing weights; the soft-encoded labels. Paths of bins and
# labels carry the bin grid (BT): a bin change starts there.


rule bins:
    input:
        expand(f"{TARGETS}/{{chapter}}.h5", chapter=TRAIN_CHAPTERS),
    output:
        BINS,
    log:
        log_path(f"bins/{TT}-g{GRID}/{BT}"),
    benchmark:
        bench_path(f"bins/{TT}-g{GRID}/{BT}")
    conda:
        ENV
    params:
        step=config["bins"]["step"],
        rule=config["bins"]["rule"],
        lam=config["bins"]["lambda"],
        train=TRAIN_CHAPTERS,
    shell:
        "mangacolor bins --targets {input} --step {params.step} --rule {params.rule} --lam {params.lam} "
        "--out {output} 2>&1 | tee {log}"


rule targets:
    input:
        f"{WORK}/tiles/{TT}/{{chapter}}.h5",
    output:
        f"{TARGETS}/{{chapter}}.h5",
    log:
        log_path(f"targets/{TT}-g{GRID}/{{chapter}}"),
    benchmark:
        bench_path(f"targets/{TT}-g{GRID}/{{chapter}}")
    conda:
        ENV
    params:
        grid=GRID,
    shell:
        "mangacolor targets --tiles {input} --grid {params.grid} --out {output} 2>&1 | tee {log}"


rule labels:
    input:
        targets=f"{TARGETS}/{{chapter}}.h5",
        bins=BINS,
    output:
        f"{WORK}/labels/{TT}/{BT}-g{GRID}/{{chapter}}.h5",
    log:
        log_path(f"labels/{TT}/{BT}-g{GRID}/{{chapter}}"),
    benchmark:
        bench_path(f"labels/{TT}/{BT}-g{GRID}/{{chapter}}")
    conda:
        ENV
    params:
        k=config["bins"]["k"],
        sigma=config["bins"]["sigma"],
    shell:
        "mangacolor labels --targets {input.targets} --bins {input.bins} --k {params.k} --sigma {params.sigma} "
        "--out {output} 2>&1 | tee {log}"


rule tone_lookup:
    input:
        tiles=expand(f"{WORK}/tiles/{TT}/{{chapter}}.h5", chapter=TRAIN_CHAPTERS),
        targets=expand(f"{TARGETS}/{{chapter}}.h5", chapter=TRAIN_CHAPTERS),
    output:
        TONE_LOOKUP,
    log:
        log_path(f"tone_lookup/{TT}-g{GRID}"),
    benchmark:
        bench_path(f"tone_lookup/{TT}-g{GRID}")
    conda:
        ENV
    params:
        seed=config["seed"],
        k=config["tone_lookup"]["k"],
        max_cells=config["tone_lookup"]["max_cells"],
    shell:
        "mangacolor tone-lookup --tiles {input.tiles} --targets {input.targets} --seed {params.seed} "
        "--max-cells {params.max_cells} --k {params.k} --out {output} > {log} 2>&1"
