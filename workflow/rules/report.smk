# Stage 9: assemble results/{chapter}: figures, metrics and index.html (config, captions, metrics, timings).
import json



def chapter_figures(wildcards):
    area = config["colorize"]["contour_min_area"]
    return {
        "edges": f"{WORK}/figures/hed/backbone_edges.png",
        "bins": f"{RUN}/figures/bin_usage.png",
        "loss": f"{RUN}/figures/loss_curves.png",
        "stages": [f"{model_root(m)}/figures/stages_{m}.png" for m in MODELS],
        "collapse": f"{RUN}/figures/{wildcards.chapter}/collapse.png",
        "panels": f"{RUN}/figures/{wildcards.chapter}/panels",
        "seams": f"{RUN}/figures/{wildcards.chapter}/seams.png",
        "aspect": f"{WORK}/figures/contours-a{area}/contour_aspect.png",
        "overlay": f"{WORK}/figures/contours-a{area}/{wildcards.chapter}_overlay.png",
        "metrics_json": f"{RUN}/metrics/{wildcards.chapter}.json",
        "metrics_csv": f"{RUN}/metrics/{wildcards.chapter}.csv",
        "colorized": colorized(COLORIZE_MODEL).format(chapter=wildcards.chapter),
        "scores": f"{RUN}/scores/{wildcards.chapter}.csv",
    }


rule report:
    input:
        unpack(chapter_figures),
    output:
        directory("results/{chapter}"),
    params:
        config=lambda wc: json.dumps(config, sort_keys=True),
        benchmarks=f"{WORK}/benchmarks",
    log:
        log_path("report/{chapter}"),
    shell:
        "mangacolor report --chapter {wildcards.chapter} --figures-from {input.edges} {input.bins} {input.loss} "
        "{input.stages} {input.collapse} {input.seams} {input.aspect} {input.overlay} --panels {input.panels} "
        "--metrics {input.metrics_json} {input.metrics_csv} --colorized {input.colorized} --scores {input.scores} "
        "--config-json {params.config:q} --benchmarks {params.benchmarks} --out {output} 2>&1 | tee {log}"
