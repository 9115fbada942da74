# Stage 2: pad each page on the black canvas and cut it into tiles (C++ core), B&W and colour, with positions.


rule tiles:
    input:
        f"{WORK}/pages/{{chapter}}",
    output:
        f"{WORK}/tiles/{TT}/{{chapter}}.h5",
    log:
        log_path(f"tiles/{TT}/{{chapter}}"),
    benchmark:
        bench_path(f"tiles/{TT}/{{chapter}}")
    conda:
        ENV
    params:
        canvas=config["tiling"]["canvas"],
        tile=config["tiling"]["tile"],
        drop_blank=str(config["tiling"]["drop_blank"]).lower(),
    shell:
        "mangacolor tiles --pages {input} --out {output} --canvas {params.canvas} --tile {params.tile} "
        "--drop-blank {params.drop_blank} 2>&1 | tee {log}"
