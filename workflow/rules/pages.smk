# Stage 1: a chapter's pages, generated (procedural series) or imported from a user's folders (read only).
from shlex import quote


def chapter_files(wildcards):
    """A user chapter's image files, so that editing a page reruns the chapter."""
    chapter = config["chapters"][wildcards.chapter]
    folders = [chapter[key] for key in ("color", "bw") if key in chapter]
    return [str(p) for folder in folders for p in sorted(Path(folder).glob("*")) if p.is_file()]


def chapter_source(wildcards):
    chapter = config["chapters"][wildcards.chapter]
    if chapter.get("source") == "synthetic":
        return f"--series-seed {config['series_seed']} --n-pages {chapter['pages']}"
    return f"--color {quote(chapter['color'])}" + (f" --bw {quote(chapter['bw'])}" if "bw" in chapter else "")


rule pages:
    input:
        chapter_files,
    output:
        directory(f"{WORK}/pages/{{chapter}}"),
    params:
        source=chapter_source,
    log:
        log_path("pages/{chapter}"),
    benchmark:
        bench_path("pages/{chapter}")
    shell:
        "mangacolor pages --chapter {wildcards.chapter} {params.source} --out {output} 2>&1 | tee {log}"
