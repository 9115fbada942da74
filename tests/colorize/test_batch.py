"""Batch colourising of chapters: archives and folders in and out, names that never collide, pages already in
colour, resume after Ctrl-C, and every kind of broken or unusual page a user's chapter holds. No model: the
colourising function is a fixed map from grey to RGB."""
import io
import struct
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from mangacolor.colorize import batch
from mangacolor.colorize.batch import (CBZ_COMMENT, TRANSPARENT_NOTE, BatchInterrupted, collect_pages, decode_page,
                                       is_color_page, open_sink, run_batch)
from mangacolor.data.pages import PageError, read_page
from mangacolor.data.synth import render_page

H, W = 80, 64


def tint(gray):
    """The test's 'colouriser': a fixed, invertible map from grey (H, W) to RGB (H, W, 3)."""
    return np.stack([gray, 255 - gray, np.full_like(gray, 128)], axis=-1)


def encode(array, fmt="PNG", mode=None, **kw) -> bytes:
    buf = io.BytesIO()
    image = Image.fromarray(array) if mode is None else Image.fromarray(array).convert(mode)
    image.save(buf, format=fmt, **kw)
    return buf.getvalue()


def grey_page(value) -> bytes:
    """A B&W page: a grey field with black ink lines, its paper at grey level ``value``."""
    page = np.full((H, W), value, np.uint8)
    page[10::9, 5:-5] = 0
    return encode(page)


def colour_page(seed=0) -> np.ndarray:
    color, _ = render_page(3, "c", seed, size=(240, 160))
    return color


def make_cbz(path, entries: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def cbz_pages(path) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(path) as zf:
        assert zf.comment == CBZ_COMMENT
        return {name: np.asarray(Image.open(io.BytesIO(zf.read(name)))) for name in zf.namelist()}


def bomb_png(width=10000, height=10000) -> bytes:
    """A real decompression bomb: a few kB of PNG that decodes to width x height 1-bit pixels."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def run(paths, out, fn=tint, **kw):
    sources = collect_pages(paths)
    return run_batch(sources, open_sink(out, sources), fn, progress=False, **kw)


# ---------------------------------------------------------------- archives, folders, names
def test_archive_in_and_out_in_natural_order(tmp_path):
    values = {"10.png": 100, "2.png": 20, "1.png": 10, "ch 3/1.jpg": 30}
    entries = {name: grey_page(v) if name.endswith(".png") else encode(np.full((H, W), v, np.uint8), "JPEG",
                                                                         quality=100)
               for name, v in values.items()}
    src = make_cbz(tmp_path / "chapter.cbz", entries)
    sources = collect_pages([src])
    assert [s.name for s in sources] == ["1.png", "2.png", "10.png", "ch 3/1.png"]
    assert sources[1].origin == f"{src}:2.png"
    result = run_batch(sources, open_sink(tmp_path / "out.cbz", sources), tint, progress=False)
    assert result.written == ["1.png", "2.png", "10.png", "ch 3/1.png"] and not result.failed
    with zipfile.ZipFile(tmp_path / "out.cbz") as zf:
        assert zf.namelist() == ["1.png", "2.png", "10.png", "ch 3/1.png"]
    pages = cbz_pages(tmp_path / "out.cbz")
    assert pages["10.png"].shape == (H, W, 3)
    assert np.array_equal(pages["10.png"], tint(np.asarray(Image.open(io.BytesIO(entries["10.png"])))))
    assert abs(int(pages["ch 3/1.png"][0, 0, 0]) - 30) <= 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chapter.cbz", "out.cbz"]  # no parts folder left


def test_nested_folders_and_entries_that_are_not_pages(tmp_path):
    src = make_cbz(tmp_path / "ch.zip", {
        "A/001.png": grey_page(50), "B/001.png": grey_page(150), "ComicInfo.xml": b"<ComicInfo/>",
        "__MACOSX/A/._001.png": b"mac", ".DS_Store": b"ds", "A/.hidden.png": grey_page(0),
        "../evil.png": grey_page(0), "B\\002.png": grey_page(200)})
    sources = collect_pages([src])
    assert [s.name for s in sources] == ["A/001.png", "B/001.png", "B/002.png"]
    assert sources.not_pages == [f"{src}:ComicInfo.xml (not a page image)",
                                 f"{src}:../evil.png (unsafe path outside the archive)"]
    out = tmp_path / "work" / "out"
    result = run_batch(sources, open_sink(out, sources), tint, progress=False)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.png")) == ["A/001.png", "B/001.png", "B/002.png"]
    assert np.asarray(Image.open(out / "A" / "001.png"))[0, 0, 0] == 50
    assert np.asarray(Image.open(out / "B" / "001.png"))[0, 0, 0] == 150
    assert not (tmp_path / "work" / "evil.png").exists()
    assert "not page images, skipped" in result.summary() and "ComicInfo.xml" in result.summary()


def test_colliding_names_never_overwrite(tmp_path):
    folder = tmp_path / "ch"
    folder.mkdir()
    (folder / "001.png").write_bytes(grey_page(40))
    (folder / "001.jpg").write_bytes(encode(np.full((H, W), 200, np.uint8), "JPEG", quality=100))
    (folder / "002.png").write_bytes(grey_page(90))
    out = tmp_path / "out"
    result = run([folder], out)
    assert result.written == ["001.jpg.png", "001.png.png", "002.png"]
    assert np.asarray(Image.open(out / "001.png.png"))[0, 0, 0] == 40
    assert abs(int(np.asarray(Image.open(out / "001.jpg.png"))[0, 0, 0]) - 200) <= 2

    for name in ("A", "B"):  # two input folders with the same page names: one subfolder each
        (tmp_path / name).mkdir()
        (tmp_path / name / "001.png").write_bytes(grey_page(10 if name == "A" else 20))
    assert [s.name for s in collect_pages([tmp_path / "A", tmp_path / "B"])] == ["A/001.png", "B/001.png"]

    for parent in ("x", "y"):  # two inputs of the same name, and names equal but for case: refused
        (tmp_path / parent / "ch").mkdir(parents=True)
        (tmp_path / parent / "ch" / "001.png").write_bytes(grey_page(10))
    with pytest.raises(PageError, match=r"overwrite each other(.|\n)*ch/001.png <- .*x/ch/001.png, .*y/ch/001.png"):
        collect_pages([tmp_path / "x" / "ch", tmp_path / "y" / "ch"])
    cased = make_cbz(tmp_path / "cased.cbz", {"P1.png": grey_page(10), "p1.png": grey_page(20)})
    with pytest.raises(PageError, match="ignoring case"):
        collect_pages([cased])


def test_folders_are_read_recursively_in_natural_order(tmp_path):
    folder = tmp_path / "ch"
    (folder / "part 10").mkdir(parents=True)
    (folder / "part 9").mkdir()
    for rel in ("part 10/1.png", "part 9/12.png", "part 9/3.png", "cover.png"):
        (folder / rel).write_bytes(grey_page(30))
    (folder / "notes.txt").write_text("credits")
    (folder / ".thumbs").mkdir()
    (folder / ".thumbs" / "1.png").write_bytes(grey_page(30))
    sources = collect_pages([folder])
    assert [s.name for s in sources] == ["cover.png", "part 9/3.png", "part 9/12.png", "part 10/1.png"]
    assert sources.not_pages == [f"{folder / 'notes.txt'} (not a page image)"]


# ---------------------------------------------------------------- pages already in colour
def test_colour_pages_are_copied_not_colourised(tmp_path):
    folder = tmp_path / "ch"
    folder.mkdir()
    (folder / "01.png").write_bytes(grey_page(120))
    colour_png = encode(colour_page(0))
    (folder / "02.png").write_bytes(colour_png)
    (folder / "03.jpg").write_bytes(encode(colour_page(1), "JPEG", quality=85))
    calls = []

    def counting(gray):
        calls.append(gray.shape)
        return tint(gray)

    out = tmp_path / "out"
    result = run([folder], out, counting)
    assert calls == [(H, W)]
    assert result.written == ["01.png"] and result.copied == ["02.png", "03.png"]
    assert (out / "02.png").read_bytes() == colour_png  # a PNG byte for byte
    jpeg_pixels = np.asarray(Image.open(folder / "03.jpg").convert("RGB"))
    assert np.array_equal(np.asarray(Image.open(out / "03.png")), jpeg_pixels)  # other formats: same pixels
    assert "2 already in colour (copied)" in result.summary() and "02.png, 03.png" in result.summary()

    forced = run([folder], tmp_path / "forced", counting, force=True)
    assert forced.written == ["01.png", "02.png", "03.png"] and not forced.copied and len(calls) == 4


def test_is_color_page_tells_colour_from_tinted_and_noisy_bw():
    color, bw = render_page(3, "c", 2, size=(300, 200))
    grey = np.repeat(bw[..., None], 3, axis=2)
    yellowed = (grey * np.array([1.0, 0.93, 0.76])).astype(np.uint8)  # old paper, b* about 24
    pink = (grey * np.array([1.0, 0.85, 0.88])).astype(np.uint8)  # coloured newsprint
    noisy = np.clip(yellowed + np.random.default_rng(0).normal(0, 4, grey.shape), 0, 255).astype(np.uint8)

    def jpeg(rgb, quality):
        return np.asarray(Image.open(io.BytesIO(encode(rgb, "JPEG", quality=quality))).convert("RGB"))

    assert is_color_page(color) and is_color_page(jpeg(color, 40))
    for page in (grey, jpeg(grey, 30), yellowed, jpeg(yellowed, 40), jpeg(pink, 30), jpeg(noisy, 50)):
        assert not is_color_page(page)
    small_spot = grey.copy()
    small_spot[:10, :20] = (230, 30, 30)  # a red title covering 0.3 % of the page is not a colour page
    assert not is_color_page(small_spot)
    naive_share = np.mean(np.hypot(*batch.rgb_to_lab(yellowed)[..., 1:].transpose(2, 0, 1)) > batch.COLOR_CHROMA)
    assert naive_share > batch.COLOR_SHARE  # chroma alone would call the yellowed page colour


# ---------------------------------------------------------------- resume
def test_resume_after_interrupt_redoes_nothing(tmp_path):
    src = make_cbz(tmp_path / "ch.cbz", {f"{i + 1}.png": grey_page(5 * i) for i in range(30)})
    out = tmp_path / "out.cbz"
    calls = []

    def interrupted_after_10(gray):
        if len(calls) == 10:
            raise KeyboardInterrupt
        calls.append(int(gray[0, 0]))
        return tint(gray)

    sources = collect_pages([src])
    with pytest.raises(BatchInterrupted, match="10 page.* kept in .*out.cbz.parts; rerun") as caught:
        run_batch(sources, open_sink(out, sources), interrupted_after_10, progress=False)
    assert isinstance(caught.value, KeyboardInterrupt)
    parts = tmp_path / "out.cbz.parts"
    assert not out.exists()
    assert sorted(p.name for p in parts.iterdir()) == sorted(f"{i + 1}.png" for i in range(10))  # no temp files

    calls.clear()
    result = run([src], out, lambda g: calls.append(int(g[0, 0])) or tint(g))
    assert len(calls) == 20 and calls == [5 * i for i in range(10, 30)]
    assert len(result.skipped) == 10 and len(result.written) == 20
    assert "20 written, 10 skipped (already done)" in result.summary()
    pages = cbz_pages(out)
    assert list(pages) == [f"{i + 1}.png" for i in range(30)]
    with zipfile.ZipFile(out) as zf:
        assert all(info.external_attr >> 16 == 0o644 for info in zf.infolist())
    assert all(pages[f"{i + 1}.png"][0, 0, 0] == 5 * i for i in range(30))
    assert not parts.exists()

    calls.clear()
    before = out.read_bytes()
    again = run([src], out, lambda g: calls.append(1) or tint(g))  # the finished CBZ: everything is done
    assert calls == [] and len(again.skipped) == 30 and out.read_bytes() == before


def test_interrupt_leaves_no_partial_page_in_a_folder(tmp_path, monkeypatch):
    folder = tmp_path / "ch"
    (folder / "sub").mkdir(parents=True)
    for i in range(4):
        (folder / f"{i}.png").write_bytes(grey_page(10 * i))
    (folder / "sub" / "9.png").write_bytes(grey_page(90))
    out = tmp_path / "out"
    written = []

    def ctrl_c_in_the_third_write(path, rgb):
        path.write_bytes(b"half a PNG")
        if len(written) == 2:
            raise KeyboardInterrupt
        written.append(path)
        write_png(path, rgb)

    write_png = batch._write_png
    monkeypatch.setattr(batch, "_write_png", ctrl_c_in_the_third_write)
    with pytest.raises(KeyboardInterrupt):
        run([folder], out)
    assert sorted(p.name for p in out.iterdir()) == ["0.png", "1.png"]  # no dot-temp file, no half page
    monkeypatch.setattr(batch, "_write_png", write_png)
    result = run([folder], out)
    assert result.written == ["2.png", "3.png", "sub/9.png"] and result.skipped == ["0.png", "1.png"]


def test_failed_writes_leave_no_empty_folders(tmp_path, monkeypatch):
    folder = tmp_path / "ch"
    (folder / "a" / "b").mkdir(parents=True)
    (folder / "a" / "b" / "1.png").write_bytes(grey_page(10))

    def disk_full(path, rgb):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(batch, "_write_png", disk_full)
    result = run([folder], tmp_path / "out")
    assert result.failed == [f"{folder / 'a' / 'b' / '1.png'}: OSError: [Errno 28] No space left on device"]
    assert not (tmp_path / "out").exists()

    def ctrl_c(path, rgb):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "_write_png", ctrl_c)
    with pytest.raises(BatchInterrupted, match="interrupted before any page was finished"):
        run([folder], tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- broken and unusual pages
def test_corrupt_archive_and_corrupt_entry(tmp_path):
    bad = tmp_path / "bad.cbz"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip" * 10)
    with pytest.raises(PageError, match=f"{bad}: not a readable ZIP/CBZ archive"):
        collect_pages([bad])

    src = make_cbz(tmp_path / "ch.cbz", {"1.png": grey_page(10), "2.png": grey_page(20), "3.png": grey_page(30)})
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo("2.png")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 20] ^= 0xFF  # damage the compressed bytes of 2.png
    src.write_bytes(bytes(data))
    result = run([src], tmp_path / "out")
    assert result.written == ["1.png", "3.png"]
    assert len(result.failed) == 1 and result.failed[0].startswith(f"{src}:2.png: ")
    assert "2 written, 0 skipped (already done), 0 already in colour (copied), 1 failed:" in result.summary()


def test_bomb_pages_in_an_archive_are_refused_before_decoding(tmp_path, monkeypatch):
    src = make_cbz(tmp_path / "ch.cbz", {"1.png": grey_page(10), "2.png": bomb_png(), "3.png": grey_page(30)})
    assert (tmp_path / "ch.cbz").stat().st_size < 100_000
    result = run([src], tmp_path / "out")
    assert result.written == ["1.png", "3.png"]
    assert result.failed == [f"{src}:2.png: 10000x10000 pixels is larger than the 40,000,000-pixel limit (a "
                             "decompression bomb or a scan at far too high a resolution)"]
    monkeypatch.setattr(batch, "MAX_PAGE_BYTES", 4096)  # an entry that unpacks to more than any page
    big = make_cbz(tmp_path / "big.cbz", {"1.png": encode(np.random.default_rng(0).integers(0, 255, (H, W), np.uint8))})
    with pytest.raises(PageError, match=r"big.cbz:1.png: entry unpacks to [\d,]+ bytes, more than any page"):
        collect_pages([big])[0].read()


def test_truncated_page_fails_alone_and_nothing_empty_is_left(tmp_path):
    folder = tmp_path / "ch"
    folder.mkdir()
    (folder / "1.png").write_bytes(grey_page(10)[:66])  # cut inside the image data
    (folder / "2.jpg").write_bytes(encode(np.full((H, W), 9, np.uint8), "JPEG")[:200])
    out = tmp_path / "out"
    result = run([folder], out)
    assert not out.exists()  # nothing written: no empty output folder
    assert [msg.split(": ")[0] for msg in result.failed] == [str(folder / "1.png"), str(folder / "2.jpg")]
    assert all("truncated" in msg or "not a readable" in msg for msg in result.failed)
    assert result.summary().startswith(f"{out}: 0 written, 0 skipped (already done), 0 already in colour "
                                       "(copied), 2 failed:")
    assert "were written" not in result.summary()
    assert not (tmp_path / "out.cbz.parts").exists()
    run([folder], tmp_path / "out.cbz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ch"]  # no CBZ, no parts folder


def test_rgba_page_with_transparent_black_is_composited_on_white(tmp_path, capsys):
    rgba = np.zeros((H, W, 4), np.uint8)  # transparent areas store black
    rgba[20:30, 10:50, 3] = 255  # an opaque black stroke
    rgba[40:50, 10:50] = (255, 255, 255, 128)  # half-transparent white: still white
    page = decode_page(encode(rgba), "rgba.png")
    assert page.gray[0, 0] == 255 and page.gray[25, 20] == 0 and page.gray[45, 20] == 255
    assert page.notes == (TRANSPARENT_NOTE,) and not page.is_color
    grey_alpha = np.stack([np.zeros((H, W), np.uint8), np.zeros((H, W), np.uint8)], -1)  # LA, fully transparent
    assert decode_page(encode(grey_alpha, mode="LA"), "la.png").gray.min() == 255

    folder = tmp_path / "ch"
    folder.mkdir()
    for name in ("1.png", "2.png"):
        (folder / name).write_bytes(encode(rgba))
    (folder / "3.png").write_bytes(grey_page(10))
    sources = collect_pages([folder])
    result = run_batch(sources, open_sink(tmp_path / "out", sources), tint, progress=True)
    assert capsys.readouterr().err.count("composited onto white") == 1  # warned once
    assert result.notes == {TRANSPARENT_NOTE: [str(folder / "1.png"), str(folder / "2.png")]}
    assert np.asarray(Image.open(tmp_path / "out" / "1.png"))[0, 0].tolist() == [255, 0, 128]  # tint of white


def test_16bit_palette_and_odd_mode_pages_are_read(tmp_path):
    levels = np.tile(np.linspace(0, 255, W).round().astype(np.uint8), (H, 1))
    sixteen = Image.fromarray((levels.astype(np.uint16) * 257))
    assert sixteen.mode == "I;16"
    buf = io.BytesIO()
    sixteen.save(buf, format="PNG")
    assert np.array_equal(decode_page(buf.getvalue(), "16.png").gray, levels)

    palette_bw = decode_page(encode(levels, mode="P"), "p.png")
    assert not palette_bw.is_color and np.abs(palette_bw.gray.astype(int) - levels).max() <= 1
    palette_colour = Image.fromarray(colour_page(0)).quantize(64)
    buf = io.BytesIO()
    palette_colour.save(buf, format="PNG")
    assert decode_page(buf.getvalue(), "pc.png").is_color

    cmyk = decode_page(encode(np.repeat(levels[..., None], 3, 2), "JPEG", mode="CMYK", quality=95), "cmyk.jpg")
    assert np.abs(cmyk.gray.astype(int) - levels).max() <= 8
    bilevel = decode_page(encode((levels > 127).astype(np.uint8) * 255, mode="1"), "1.png")
    assert set(np.unique(bilevel.gray)) == {0, 255}

    plain = tmp_path / "plain.png"  # an ordinary RGB page reads to the same grey as data.pages.read_page
    plain.write_bytes(encode(np.stack([levels, levels[:, ::-1], levels], -1)))
    assert np.array_equal(collect_pages([plain])[0].read().gray, read_page(plain, "bw"))
    with pytest.raises(PageError, match="tiny.png: 10x10 is too small"):
        decode_page(encode(np.zeros((10, 10), np.uint8)), "tiny.png")
    with pytest.raises(PageError, match="notes.png: not a readable page image"):
        decode_page(b"not an image", "notes.png")


# ---------------------------------------------------------------- where outputs may go
def test_outputs_inside_inputs_are_refused(tmp_path):
    folder = tmp_path / "ch"
    folder.mkdir()
    (folder / "1.png").write_bytes(grey_page(10))
    sources = collect_pages([folder])
    for out in (folder, folder / "colour", folder / "colour.cbz"):
        with pytest.raises(PageError, match="inside the input folder"):
            open_sink(out, sources)
    archive = make_cbz(tmp_path / "ch.cbz", {"1.png": grey_page(10)})
    with pytest.raises(PageError, match="is an input"):
        open_sink(archive, collect_pages([archive]))

    (tmp_path / "A").mkdir()
    (tmp_path / "A" / "1.png").write_bytes(grey_page(10))
    two = collect_pages([tmp_path / "A", archive])  # -o the folder above: A/1.png would land in the input A
    with pytest.raises(PageError, match="would write inside an input"):
        open_sink(tmp_path, two)

    lone = tmp_path / "lone" / "p.png"  # an image given alone: not into its folder, but a CBZ beside it is fine
    lone.parent.mkdir()
    lone.write_bytes(grey_page(10))
    with pytest.raises(PageError, match="is inside .*lone, the folder of the input"):
        open_sink(lone.parent / "colour", collect_pages([lone]))
    assert open_sink(lone.parent / "p-colour.cbz", collect_pages([lone])).where.endswith("p-colour.cbz")

    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    users = make_cbz(tmp_path / "users.cbz", {"1.png": grey_page(10)})
    for existing in (notes, users):
        with pytest.raises(PageError, match="exists and is a file") as caught:
            open_sink(existing, sources)
        assert "\n" not in str(caught.value)
    assert notes.read_text() == "mine"
    assert sorted(p.name for p in folder.iterdir()) == ["1.png"]

    run([folder], tmp_path / "mine.cbz")  # a CBZ this tool wrote may be given again
    assert open_sink(tmp_path / "mine.cbz", sources).done("1.png")
    beside = open_sink(tmp_path / "ch-colour.cbz", collect_pages([archive]))  # beside the input archive: fine
    assert beside.where == str(tmp_path / "ch-colour.cbz")


def test_missing_and_unsupported_inputs_are_named(tmp_path):
    with pytest.raises(PageError, match="nothere: no such file or folder"):
        collect_pages([tmp_path / "nothere"])
    (tmp_path / "ch.cbr").write_bytes(b"Rar!")
    with pytest.raises(PageError, match="ch.cbr: .cbr files are not supported; repack"):
        collect_pages([tmp_path / "ch.cbr"])
    (tmp_path / "series").mkdir()
    make_cbz(tmp_path / "series" / "ch1.cbz", {"1.png": grey_page(1)})
    with pytest.raises(PageError, match="folder has no page images .it holds 1 archive"):
        collect_pages([tmp_path / "series"])
