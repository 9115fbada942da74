# Stage 5: train each model (kind x optimiser) on the training chapters' hypercolumns. The classifiers learn the
# soft-encoded labels (bin-dependent, under RUN); the regression baseline learns the grid ab alone, so its runs
# live under REG and a bin change never retrains it. A checkpoint every epoch: an interrupted job resumes when
# rerun (snakemake --rerun-incomplete).
TRAINING = config["training"]
# training.processes > 1: one job runs that many processes of the loop (DistributedDataParallel) under torchrun.
LAUNCH = "mangacolor"
if TRAIN_PROCESSES > 1:
    LAUNCH = f"torchrun --standalone --nproc_per_node {TRAIN_PROCESSES} -m mangacolor"
TRAIN_SHELL = LAUNCH + (
    " train --features {input.features} --labels {input.labels} --tiles {input.tiles} {params.bins} "
    "--kind {wildcards.kind} --optimizer {wildcards.opt} --epochs {params.epochs} --lr {params.lr} "
    "--batch-size {params.batch_size} --val-fraction {params.val_fraction} {params.rebalance} "
    "--temperature {params.temperature} --abstain-levels {params.abstain_levels} "
    "--lightness-weight {params.lightness_weight} "
    "--widths {params.widths} --kernel {params.kernel} --context {params.context} --cell-fraction {params.cell_fraction} --device {params.device} --seed {params.seed} "
    "--processes {params.processes} --threads {threads} --out {output.model} 2>&1 | tee {log}"
)

# The optimisers a train job runs (the ensemble is joined from their models, never trained itself).
TRAINED_OPTIMIZERS = "sgd|adadelta|adam"
# The classifiers' training data: what they learn from, and what the ensemble calibrates its abstention on.
CLASSIFIER_DATA = dict(
    features=expand(f"{FEAT}/{{chapter}}.h5", chapter=TRAIN_CHAPTERS),
    labels=expand(f"{WORK}/labels/{TT}/{BT}-g{GRID}/{{chapter}}.h5", chapter=TRAIN_CHAPTERS),
)

TRAIN_PARAMS = dict(
    epochs=TRAINING["epochs"],
    lr=lambda wc: TRAINING["lr"][wc.opt],
    batch_size=TRAINING["batch_size"],
    val_fraction=TRAINING["val_fraction"],
    widths=",".join(str(w) for w in TRAINING["widths"]),
    kernel=TRAINING["kernel"],
    context=TRAINING["context"],
    cell_fraction=TRAINING["cell_fraction"],
    device=TRAINING["device"],
    seed=config["seed"],
    temperature=config["colorize"]["temperature"],
    processes=TRAIN_PROCESSES,
    abstain_levels=config["colorize"]["abstain_levels"],
)


rule train:
    input:
        **CLASSIFIER_DATA,
        tiles=expand(f"{WORK}/tiles/{TT}/{{chapter}}.h5", chapter=TRAIN_CHAPTERS),
        bins=BINS,
    output:
        model=f"{RUN}/models/{{kind}}-{{opt}}/model.pt",
        history=f"{RUN}/models/{{kind}}-{{opt}}/history.csv",
        samples=f"{RUN}/models/{{kind}}-{{opt}}/samples.npz",
    log:
        log_path(f"train/{TT}/{FT}/{BT}/{{kind}}-{{opt}}"),
    benchmark:
        bench_path(f"train/{TT}/{FT}/{BT}/{{kind}}-{{opt}}")
    wildcard_constraints:
        kind="classification",
        opt=TRAINED_OPTIMIZERS,
    conda:
        ENV
    threads: TRAIN_THREADS
    resources:
        mem_mb=6000,
        gpu=TRAIN_PROCESSES,
    params:
        **TRAIN_PARAMS,
        bins=lambda wc, input: f"--bins {input.bins}",
        rebalance=f"--rebalance {str(TRAINING['rebalance']).lower()}",
        lightness_weight=TRAINING["lightness_weight"],
    shell:
        TRAIN_SHELL


use rule train as train_regression with:
    input:
        features=expand(f"{FEAT}/{{chapter}}.h5", chapter=TRAIN_CHAPTERS),
        labels=expand(f"{TARGETS}/{{chapter}}.h5", chapter=TRAIN_CHAPTERS),
        tiles=expand(f"{WORK}/tiles/{TT}/{{chapter}}.h5", chapter=TRAIN_CHAPTERS),
    output:
        model=f"{REG}/models/{{kind}}-{{opt}}/model.pt",
        history=f"{REG}/models/{{kind}}-{{opt}}/history.csv",
        samples=f"{REG}/models/{{kind}}-{{opt}}/samples.npz",
    log:
        log_path(f"train/{TT}/{FT}/regression/{{kind}}-{{opt}}"),
    benchmark:
        bench_path(f"train/{TT}/{FT}/regression/{{kind}}-{{opt}}")
    wildcard_constraints:
        kind="regression",
        opt=TRAINED_OPTIMIZERS,
    params:
        **TRAIN_PARAMS,
        bins="",
        rebalance="--rebalance false",
        lightness_weight=0.0,


# The run's classifiers joined into one model (colorize.model: classification-ensemble): the geometric mean of
# their bin distributions, its abstention calibrated on the same validation pages as theirs.
rule ensemble:
    input:
        **CLASSIFIER_DATA,
        models=[f"{RUN}/models/{m}/model.pt" for m in CLASSIFIERS],
    output:
        f"{RUN}/models/{ENSEMBLE}/model.pt",
    log:
        log_path(f"train/{TT}/{FT}/{BT}/{ENSEMBLE}"),
    benchmark:
        bench_path(f"train/{TT}/{FT}/{BT}/{ENSEMBLE}")
    conda:
        ENV
    threads: HEAVY_THREADS
    params:
        **{k: TRAIN_PARAMS[k] for k in ("val_fraction", "seed", "temperature", "abstain_levels")},
    shell:
        "mangacolor ensemble --models {input.models} --features {input.features} --labels {input.labels} "
        "--val-fraction {params.val_fraction} --seed {params.seed} "
        "--temperature {params.temperature} --abstain-levels {params.abstain_levels} --threads {threads} "
        "--out {output} 2>&1 | tee {log}"
