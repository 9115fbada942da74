# Stage 4: the ab bin grid, its empirical prior over the training chapters and rebalancing weights; then the
# soft-encoded targets of each chapter. Paths carry the bin grid (BT): a bin change starts here.


rule bins:
    input:
        expand(f"{WORK}/tiles/{TT}/{{chapter}}.h5", chapter=TRAIN_CHAPTERS),
    output:
        f"{WORK}/bins/{TT}/{BT}/bins.npz",
    params:
        step=config["bins"]["step"],
        rule=config["bins"]["rule"],
        lam=config["bins"]["lambda"],
        train=TRAIN_CHAPTERS,
    log:
        log_path(f"bins/{TT}/{BT}"),
    benchmark:
        bench_path(f"bins/{TT}/{BT}")
    shell:
        "mangacolor bins --tiles {input} --step {params.step} --rule {params.rule} --lam {params.lam} "
        "--out {output} 2>&1 | tee {log}"


rule labels:
    input:
        tiles=f"{WORK}/tiles/{TT}/{{chapter}}.h5",
        bins=f"{WORK}/bins/{TT}/{BT}/bins.npz",
    output:
        f"{WORK}/labels/{TT}/{BT}-g{GRID}/{{chapter}}.h5",
    params:
        k=config["bins"]["k"],
        sigma=config["bins"]["sigma"],
        grid=GRID,
    log:
        log_path(f"labels/{TT}/{BT}-g{GRID}/{{chapter}}"),
    benchmark:
        bench_path(f"labels/{TT}/{BT}-g{GRID}/{{chapter}}")
    shell:
        "mangacolor labels --tiles {input.tiles} --bins {input.bins} --k {params.k} --sigma {params.sigma} "
        "--grid {params.grid} --out {output} 2>&1 | tee {log}"
