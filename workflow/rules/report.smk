# Stage 9: assemble results/{chapter}: figures, metrics and index.html (config, captions, metrics, timings), viewer.html
# (B&W | colour of colorize.user_strategy | truth) and model.pt, the colourising model with the defaults
# `mangacolor colorize` takes from it (strategy, decode, temperature, overlap stride).


rule report:
    input:
        unpack(chapter_figures),
        pages=f"{WORK}/pages/{{chapter}}",
        model=f"{model_root(COLORIZE_MODEL)}/models/{COLORIZE_MODEL}/model.pt",
        held_out=expand(f"{RUN}/metrics/{{chapter}}.json", chapter=config["test"]),
    output:
        directory("results/{chapter}"),
    log:
        log_path("report/{chapter}"),
    conda:
        ENV
    params:
        config=lambda wc: json.dumps(config, sort_keys=True),
        benchmarks=f"{WORK}/benchmarks",
        figures=figure_pairs,
        strategy=config["colorize"]["user_strategy"],
        decode=config["colorize"]["decode"],
        temperature=config["colorize"]["temperature"],
        stride=config["colorize"]["overlap_stride"],
        abstain=str(config["colorize"]["abstain"]).lower(),
        output=config["output"],
        held_out=lambda wc, input: " ".join(f"{c}={p}" for c, p in zip(config["test"], input.held_out)),
    shell:
        "mangacolor report --chapter {wildcards.chapter} --figure {params.figures} --panels {input.panels} "
        "--metrics {input.metrics_json} {input.metrics_csv} --colorized {input.colorized} --scores {input.scores} "
        "--config-json {params.config:q} --benchmarks {params.benchmarks} --pages {input.pages} --model {input.model} "
        "--user-strategy {params.strategy} --decode {params.decode} --temperature {params.temperature} "
        "--overlap-stride {params.stride} --abstain {params.abstain} --output {params.output} "
        "--held-out {params.held_out} --out {output} "
        "2>&1 | tee {log}"
