# Stage 5: train each model (kind x optimiser) on the training chapters' hypercolumns and soft targets.
# A checkpoint every epoch: an interrupted job resumes when rerun (snakemake --rerun-incomplete).
TRAINING = config["training"]


rule train:
    input:
        features=expand(f"{FEAT}/{{chapter}}.h5", chapter=TRAIN_CHAPTERS),
        labels=expand(f"{WORK}/labels/{TT}/{BT}-g{GRID}/{{chapter}}.h5", chapter=TRAIN_CHAPTERS),
        tiles=expand(f"{WORK}/tiles/{TT}/{{chapter}}.h5", chapter=TRAIN_CHAPTERS),
        bins=f"{WORK}/bins/{TT}/{BT}/bins.npz",
    output:
        model=f"{RUN}/models/{{kind}}-{{opt}}/model.pt",
        history=f"{RUN}/models/{{kind}}-{{opt}}/history.csv",
        samples=f"{RUN}/models/{{kind}}-{{opt}}/samples.npz",
    params:
        epochs=TRAINING["epochs"],
        lr=lambda wc: TRAINING["lr"][wc.opt],
        batch_size=TRAINING["batch_size"],
        val_fraction=TRAINING["val_fraction"],
        rebalance="--rebalance" if TRAINING["rebalance"] else "--no-rebalance",
        widths=",".join(str(w) for w in TRAINING["widths"]),
        device=TRAINING["device"],
        seed=config["seed"],
    threads: HEAVY_THREADS
    resources:
        mem_mb=6000,
        gpu=1,
    log:
        log_path(f"train/{TT}/{FT}/{BT}/{{kind}}-{{opt}}"),
    benchmark:
        bench_path(f"train/{TT}/{FT}/{BT}/{{kind}}-{{opt}}")
    shell:
        "mangacolor train --features {input.features} --labels {input.labels} --tiles {input.tiles} --bins {input.bins} "
        "--kind {wildcards.kind} --optimizer {wildcards.opt} --epochs {params.epochs} --lr {params.lr} "
        "--batch-size {params.batch_size} --val-fraction {params.val_fraction} {params.rebalance} "
        "--widths {params.widths} --device {params.device} --seed {params.seed} --threads {threads} "
        "--out {output.model} 2>&1 | tee {log}"
