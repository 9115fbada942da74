# Stage 3: VGG16 hypercolumns of the B&W tiles. Bin-independent and the most expensive step: its paths carry
# only backbone, weights, layers, grid and the sample, so a bin change never recomputes it. With features.sample
# N > 0 each tile keeps N cells, stratified on their colour (the chapter's targets), with their positions.
FEATURE_ARGS = (
    f"--weights {config['features']['weights']} --layers {','.join(map(str, config['features']['layers']))} "
    f"--grid {GRID} --precision {config['features']['precision']} --batch-size {config['features']['batch_size']} "
    f"--device {config['features']['device']} --compression {config['features']['compression']} "
    f"--seed {config['seed']}"
)


rule hypercolumns:
    input:
        tiles=f"{WORK}/tiles/{TT}/{{chapter}}.h5",
        targets=[f"{TARGETS}/{{chapter}}.h5"] if SAMPLE else [],
    output:
        f"{FEAT}/{{chapter}}.h5",
    log:
        log_path(f"hypercolumns/{TT}/{FT}/{{chapter}}"),
    benchmark:
        bench_path(f"hypercolumns/{TT}/{FT}/{{chapter}}")
    conda:
        ENV
    threads: HEAVY_THREADS
    resources:
        mem_mb=4000,
        gpu=1,
    params:
        args=FEATURE_ARGS,
        sample=SAMPLE,
        targets=lambda wc, input: f"--targets {input.targets}" if SAMPLE else "",
    shell:
        "mangacolor hypercolumns --tiles {input.tiles} --out {output} {params.args} --sample {params.sample} "
        "{params.targets} --threads {threads} 2>&1 | tee {log}"


rule backbone_edges:
    input:
        f"{WORK}/pages/{config['test'][0]}",
    output:
        report(f"{WORK}/figures/hed/backbone_edges.png", caption="../report/backbone_edges.rst", category="Backbone"),
    log:
        log_path("backbone_edges"),
    conda:
        ENV
    params:
        max_side=config["figures"]["edges_max_side"],
    shell:
        "mangacolor edges --pages {input} --max-side {params.max_side} --out {output} 2>&1 | tee {log}"
