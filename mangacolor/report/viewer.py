"""``viewer.html``: page through a chapter's B&W and coloured pages (and the truth, where known) side by side.

A single static file with inline CSS and script, opened from the file system (``file://``: no server, no network).
Each page shows two images in one frame, split by a vertical slider: the left image left of the slider, the right
image right of it. Three comparisons (modes): ``bw-color`` (B&W | colour), ``color-truth`` and ``bw-truth``; the
truth modes only where a page has a truth image.

Keys: Left / PageUp and Right / PageDown turn the page, Home / End go to the first / last page, ``a`` / ``d`` move
the slider left / right by a twentieth (with Shift by a hundredth), ``t`` cycles the modes and ``1`` ``2`` ``3``
pick one. The mouse drags the slider. The state is kept in the URL fragment, ``viewer.html#page=2&slider=0.2&
mode=bw-color`` (page counted from 1, slider in 0..1 from left to right), which the page also reads on load: a
link or a reload shows the same view.
"""
from __future__ import annotations

import html
import json
import os
import urllib.parse
from pathlib import Path
from typing import Mapping, Sequence

from ..io import atomic_path

PAGE_KEYS = ("name", "bw", "color", "truth")

CSS = """
:root { color-scheme: dark; }
* { box-sizing: border-box; }
body { margin: 0; background: #2b2b2b; color: #eee; font: 16px/1.4 system-ui, sans-serif;
       display: flex; flex-direction: column; height: 100vh; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4em 1.2em; padding: 0.5em 1em;
         background: #1c1c1c; border-bottom: 1px solid #444; }
h1 { font-size: 1.15em; margin: 0; font-weight: 600; }
#counter { font-variant-numeric: tabular-nums; }
#pagename { color: #bbb; }
button { font: inherit; color: #eee; background: #3a3a3a; border: 1px solid #555; border-radius: 4px;
         padding: 0.15em 0.7em; cursor: pointer; }
button:hover:not(:disabled) { background: #4a4a4a; }
button:disabled { opacity: 0.4; cursor: default; }
button[aria-pressed=true] { background: #2d5b8a; border-color: #4b84bd; }
.group { display: flex; gap: 0.3em; align-items: center; }
main { flex: 1; min-height: 0; overflow: hidden; display: flex; flex-direction: column; align-items: center;
       justify-content: center; padding: 0.6em; gap: 0.5em; }
#stage { position: relative; line-height: 0; user-select: none; touch-action: none; cursor: ew-resize;
         box-shadow: 0 0 0 1px #555; }
#stage img { display: block; }
#stage #left { position: absolute; top: 0; left: 0; width: 100%; height: 100%; }
#handle { position: absolute; top: 0; bottom: 0; width: 2px; margin-left: -1px; background: #ffcc33;
          box-shadow: 0 0 0 1px rgba(0, 0, 0, 0.5); pointer-events: none; }
#handle::after { content: ""; position: absolute; top: 50%; left: 50%; width: 12px; height: 44px;
                 transform: translate(-50%, -50%); background: #ffcc33; border-radius: 6px;
                 box-shadow: 0 0 0 1px rgba(0, 0, 0, 0.6); }
.label { position: absolute; top: 0.5em; padding: 0.1em 0.5em; line-height: 1.4; background: rgba(0, 0, 0, 0.65);
         border-radius: 3px; font-size: 0.9em; pointer-events: none; }
#label-left { left: 0.5em; }
#label-right { right: 0.5em; }
#missing { line-height: 1.4; color: #ff8f8f; }
#slider { width: min(40em, 90vw); }
footer { padding: 0.3em 1em 0.5em; color: #aaa; font-size: 0.85em; text-align: center; }
kbd { border: 1px solid #666; border-radius: 3px; padding: 0 0.3em; background: #333; font: inherit; }
"""

SCRIPT = """
"use strict";
const PAGES = JSON.parse(document.getElementById("pages").textContent);
const MODES = {"bw-color": ["bw", "color"], "color-truth": ["color", "truth"], "bw-truth": ["bw", "truth"]};
const MODE_NAMES = Object.keys(MODES);
const LABELS = {"bw": "B&W", "color": "colour", "truth": "truth"};
const state = {page: 0, slider: 0.5, mode: "bw-color"};
const $ = (id) => document.getElementById(id);
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));

function effectiveMode() {
  return PAGES[state.page].truth ? state.mode : "bw-color";
}

function fit() {  // the largest size at which the page fits the space between header and footer
  const image = $("right");
  if (!image.naturalWidth) return;
  const main = document.querySelector("main");
  const style = getComputedStyle(main);
  const width = main.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const height = main.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom)
    - $("slider").offsetHeight - $("missing").offsetHeight - 2 * parseFloat(style.rowGap);
  const scale = Math.max(0, Math.min(width / image.naturalWidth, height / image.naturalHeight));
  image.style.width = `${Math.floor(image.naturalWidth * scale)}px`;
  image.style.height = `${Math.floor(image.naturalHeight * scale)}px`;
}

function showSlider() {
  const x = state.slider * 100;
  $("left").style.clipPath = `inset(0 ${100 - x}% 0 0)`;
  $("handle").style.left = `${x}%`;
  $("slider").value = Math.round(state.slider * 1000);
}

function show() {
  const page = PAGES[state.page];
  const [left, right] = MODES[effectiveMode()];
  $("missing").textContent = "";
  $("left").src = page[left];
  $("right").src = page[right];
  $("left").alt = `${LABELS[left]}: ${page.name}`;
  $("right").alt = `${LABELS[right]}: ${page.name}`;
  $("label-left").textContent = LABELS[left];
  $("label-right").textContent = LABELS[right];
  $("counter").textContent = `Page ${state.page + 1} / ${PAGES.length}`;
  $("pagename").textContent = page.name;
  $("prev").disabled = state.page === 0;
  $("next").disabled = state.page === PAGES.length - 1;
  for (const name of MODE_NAMES) {
    const button = $(`mode-${name}`);
    button.disabled = MODES[name].includes("truth") && !page.truth;
    button.setAttribute("aria-pressed", String(name === effectiveMode()));
  }
  showSlider();
  for (const other of [PAGES[state.page - 1], PAGES[state.page + 1]]) {  // preload the neighbours
    if (other) for (const key of [left, right]) if (other[key]) new Image().src = other[key];
  }
  remember();
}

function remember() {
  const hash = `#page=${state.page + 1}&slider=${state.slider.toFixed(3)}&mode=${state.mode}`;
  try { history.replaceState(null, "", hash); } catch (e) { /* some browsers refuse on file:// */ }
}

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const page = parseInt(params.get("page"), 10);
  const slider = parseFloat(params.get("slider"));
  if (Number.isFinite(page)) state.page = clamp(page - 1, 0, PAGES.length - 1);
  if (Number.isFinite(slider)) state.slider = clamp(slider, 0, 1);
  if (MODE_NAMES.includes(params.get("mode"))) state.mode = params.get("mode");
}

function turn(to) { state.page = clamp(to, 0, PAGES.length - 1); show(); }
function slide(to) { state.slider = clamp(to, 0, 1); showSlider(); remember(); }
function setMode(name) { state.mode = name; show(); }

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const step = event.shiftKey ? 0.01 : 0.05;
  const actions = {
    "ArrowLeft": () => turn(state.page - 1), "PageUp": () => turn(state.page - 1),
    "ArrowRight": () => turn(state.page + 1), "PageDown": () => turn(state.page + 1),
    "Home": () => turn(0), "End": () => turn(PAGES.length - 1),
    "a": () => slide(state.slider - step), "d": () => slide(state.slider + step),
    "t": () => {
      const usable = MODE_NAMES.filter((name) => !$(`mode-${name}`).disabled);
      setMode(usable[(usable.indexOf(effectiveMode()) + 1) % usable.length]);
    },
    "1": () => setMode(MODE_NAMES[0]), "2": () => setMode(MODE_NAMES[1]), "3": () => setMode(MODE_NAMES[2]),
  };
  const action = actions[event.key.length === 1 ? event.key.toLowerCase() : event.key];
  if (action) { event.preventDefault(); action(); }
});

const stage = $("stage");
function dragTo(event) {
  const box = stage.getBoundingClientRect();
  slide((event.clientX - box.left) / box.width);
}
stage.addEventListener("pointerdown", (event) => { stage.setPointerCapture(event.pointerId); dragTo(event); });
stage.addEventListener("pointermove", (event) => { if (stage.hasPointerCapture(event.pointerId)) dragTo(event); });
$("slider").addEventListener("input", (event) => slide(event.target.value / 1000));
$("prev").addEventListener("click", () => turn(state.page - 1));
$("next").addEventListener("click", () => turn(state.page + 1));
for (const name of MODE_NAMES) $(`mode-${name}`).addEventListener("click", () => setMode(name));
for (const side of ["left", "right"]) {
  $(side).addEventListener("error", (event) => {
    $("missing").textContent = `cannot load ${decodeURIComponent(event.target.getAttribute("src"))}`;
  });
}
$("right").addEventListener("load", fit);
window.addEventListener("resize", fit);
window.addEventListener("hashchange", () => { readHash(); show(); });
readHash();
show();
"""


def _page_entry(i: int, page: Mapping, folder: Path) -> dict:
    """One page of the viewer's data: its name and its images' URLs relative to ``folder`` (percent-encoded)."""
    unknown = sorted(set(page) - set(PAGE_KEYS))
    if unknown:
        raise ValueError(f"viewer page {i}: unknown key(s) {', '.join(map(repr, unknown))} (keys are "
                         f"{', '.join(PAGE_KEYS)})")
    for key in ("name", "bw", "color"):
        if page.get(key) is None:
            raise ValueError(f"viewer page {i}: missing {key!r}")
    entry = {"name": str(page["name"])}
    for key in ("bw", "color", "truth"):
        if page.get(key) is None:
            entry[key] = None
            continue
        path = Path(page[key])
        file = path if path.is_absolute() else folder / path
        if not file.is_file():
            raise FileNotFoundError(f"viewer page {i} ({entry['name']}): {key} image {file} does not exist")
        relative = Path(os.path.relpath(file, folder)) if path.is_absolute() else path
        entry[key] = urllib.parse.quote(relative.as_posix())
    return entry


def viewer_html(pages: Sequence[dict], title: str) -> str:
    """The viewer's HTML for page entries as `_page_entry` gives them."""
    data = json.dumps(pages, ensure_ascii=False).replace("</", "<\\/")  # no "</script>" inside the data
    buttons = "".join(f"<button id='mode-{name}' type=button>{html.escape(label)}</button>"
                      for name, label in (("bw-color", "B&W | colour"), ("color-truth", "colour | truth"),
                                          ("bw-truth", "B&W | truth")))
    return f"""<!DOCTYPE html>
<html lang=en><head><meta charset=utf-8><meta name=viewport content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{CSS}</style></head><body>
<header>
<h1>{html.escape(title)}</h1>
<div class=group><button id=prev type=button title="previous page (Left, PageUp)">&#9664;</button>
<span id=counter></span><button id=next type=button title="next page (Right, PageDown)">&#9654;</button></div>
<span id=pagename></span>
<div class=group title="comparison (t, 1, 2, 3)">{buttons}</div>
</header>
<main>
<div id=stage><img id=right alt=""><img id=left alt=""><div id=handle></div>
<span class=label id=label-left></span><span class=label id=label-right></span></div>
<div id=missing></div>
<input id=slider type=range min=0 max=1000 aria-label="slider position">
</main>
<footer><kbd>&larr;</kbd> <kbd>&rarr;</kbd> or <kbd>PgUp</kbd> <kbd>PgDn</kbd> turn the page &middot;
<kbd>a</kbd> <kbd>d</kbd> move the slider (with <kbd>Shift</kbd>: finely) &middot; <kbd>t</kbd> or <kbd>1</kbd>
<kbd>2</kbd> <kbd>3</kbd> change the comparison &middot; drag the image to move the slider</footer>
<script id=pages type="application/json">{data}</script>
<script>{SCRIPT}</script>
</body></html>
"""


def write_viewer(out_html: str | Path, pages: Sequence[Mapping], title: str) -> Path:
    """Write the before/after viewer ``out_html``, atomically; returns its path.

    ``pages``: one mapping per page, in reading order, with ``name`` (shown), ``bw`` and ``color`` (image paths)
    and optionally ``truth`` (an image path, or None). Relative paths are relative to the folder of ``out_html``
    (absolute ones are made relative to it); every image must exist. Errors name the page entry and the key.
    """
    out_html = Path(out_html)
    if not pages:
        raise ValueError(f"{out_html}: no pages for the viewer")
    folder = out_html.parent
    entries = [_page_entry(i, page, folder) for i, page in enumerate(pages)]
    with atomic_path(out_html) as tmp:
        tmp.write_text(viewer_html(entries, title), encoding="utf-8")
    return out_html
