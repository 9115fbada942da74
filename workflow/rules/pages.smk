# Stage 1: a chapter's pages, generated (procedural series) or imported from a user's folders (read only).


rule pages:
    input:
        chapter_files,
    output:
        directory(f"{WORK}/pages/{{chapter}}"),
    log:
        log_path("pages/{chapter}"),
    benchmark:
        bench_path("pages/{chapter}")
    conda:
        ENV
    params:
        source=chapter_source,
    shell:
        "mangacolor pages --chapter {wildcards.chapter} {params.source} --out {output} 2>&1 | tee {log}"
