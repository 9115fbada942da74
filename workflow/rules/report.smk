# Stage 9: assemble results/{chapter}: figures, metrics and index.html (config, captions, metrics, timings).


rule report:
    input:
        unpack(chapter_figures),
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
    shell:
        "mangacolor report --chapter {wildcards.chapter} --figure {params.figures} --panels {input.panels} "
        "--metrics {input.metrics_json} {input.metrics_csv} --colorized {input.colorized} --scores {input.scores} "
        "--config-json {params.config:q} --benchmarks {params.benchmarks} --out {output} 2>&1 | tee {log}"
