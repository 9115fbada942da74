"""Page import: users' images are validated with errors that name the file, and input folders are never written."""
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from mangacolor.data.pages import (PageError, folder_pages, gray_from_color, load_page_folder, read_page,
                              write_page_folder)


def _rgb(h=120, w=80, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def test_reads_rgb_and_gray(tmp_path):
    rgb = _rgb()
    Image.fromarray(rgb).save(tmp_path / "p.png")
    assert np.array_equal(read_page(tmp_path / "p.png", "color"), rgb)
    bw = read_page(tmp_path / "p.png", "bw")
    assert bw.shape == rgb.shape[:2] and bw.dtype == np.uint8


def test_truncated_png_names_the_file(tmp_path):
    Image.fromarray(_rgb()).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(PageError, match="cut.png.*(truncated|unreadable)"):
        read_page(tmp_path / "cut.png")


def test_sixteen_bit_colour_png_is_rejected(tmp_path):
    img = (np.random.default_rng(1).integers(0, 65535, (100, 90, 3))).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "deep.png"), img)
    with pytest.raises(PageError, match="deep.png.*16-bit"):
        read_page(tmp_path / "deep.png")


def test_sixteen_bit_grey_and_palette_bw_pages_are_converted(tmp_path):
    grey = np.random.default_rng(2).integers(0, 256, (100, 90)).astype(np.uint8)
    Image.fromarray(grey.astype(np.uint16) * 257).save(tmp_path / "deep.png")  # 16-bit grey PNG
    assert np.array_equal(read_page(tmp_path / "deep.png", "bw"), grey)
    indexed = Image.fromarray(255 - grey, "P")  # index i shows grey 255 - i
    indexed.putpalette([v for i in range(256) for v in (255 - i,) * 3])
    indexed.save(tmp_path / "pal.png")
    assert np.array_equal(read_page(tmp_path / "pal.png", "bw"), grey)
    rgb = _rgb()
    Image.fromarray(rgb).quantize(64).save(tmp_path / "pal_colour.png")
    assert read_page(tmp_path / "pal_colour.png", "color").shape == rgb.shape
    with pytest.raises(PageError, match="deep.png.*grey-only"):
        read_page(tmp_path / "deep.png", "color")


def test_transparent_pages_are_composited_on_white(tmp_path):
    rgba = np.zeros((100, 90, 4), np.uint8)  # transparent black, as exported line art stores it
    rgba[40:45, :, 3] = 255
    Image.fromarray(rgba).save(tmp_path / "lineart.png")
    page = read_page(tmp_path / "lineart.png", "bw")
    assert page[:40].min() == 255 and page[40:45].max() == 0


def test_grey_only_colour_page_is_rejected_but_fine_as_bw(tmp_path):
    Image.fromarray(_rgb()[..., 0]).save(tmp_path / "grey.png")
    with pytest.raises(PageError, match="grey.png.*grey-only"):
        read_page(tmp_path / "grey.png", "color")
    assert read_page(tmp_path / "grey.png", "bw").ndim == 2


def test_decompression_bomb_header_is_rejected_before_decoding(tmp_path):
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) \
        + _png_chunk(b"IEND", b"")
    (tmp_path / "bomb.png").write_bytes(data)
    with pytest.raises(PageError, match="bomb.png.*100000x100000"):
        read_page(tmp_path / "bomb.png")


def test_tiny_page_is_rejected(tmp_path):
    Image.fromarray(_rgb(10, 10)).save(tmp_path / "tiny.png")
    with pytest.raises(PageError, match="tiny.png.*too small"):
        read_page(tmp_path / "tiny.png")


def test_not_an_image(tmp_path):
    (tmp_path / "notes.png").write_text("hello")
    with pytest.raises(PageError, match="notes.png"):
        read_page(tmp_path / "notes.png")


def test_empty_folder_names_the_config_key(tmp_path):
    with pytest.raises(PageError, match=r"chapters\.mine\.color.*no PNG/JPEG"):
        list(folder_pages(tmp_path, None, "mine", "lightness"))


def _series_pair(index=0):
    from mangacolor.data.synth import render_print

    return render_print(2016, "ch2", index, "screentone")


def _user_chapter(tmp_path, pairs):
    """Colour and B&W folders of a user's chapter from {stem: (colour or None, bw or None)}."""
    (tmp_path / "c").mkdir()
    (tmp_path / "b").mkdir()
    for stem, (color, bw) in pairs.items():
        if color is not None:
            Image.fromarray(color).save(tmp_path / "c" / f"{stem}.png")
        if bw is not None:
            Image.fromarray(bw).save(tmp_path / "b" / f"{stem}.png")
    return tmp_path / "c", tmp_path / "b"


def test_bad_pairs_are_named_and_left_out_and_the_rest_is_kept(tmp_path):
    """No partner either way, a grey colour page, a scan of another size by more than 2x, a scan of another page:
    each is named, left out, and the good pair (a shifted, scaled, slightly turned scan) is registered."""
    import cv2

    color, bw = _series_pair(0)
    other_color, other_bw = _series_pair(1)
    turn = cv2.getRotationMatrix2D((390, 600), 0.5, 0.97)
    turn[:, 2] += (13, -9)
    scan = cv2.warpAffine(bw, turn, (800, 1230), borderValue=255)
    grey = np.repeat(bw[..., None], 3, axis=2)
    c, b = _user_chapter(tmp_path, {"good": (color, scan), "nobw": (color, None), "nocolor": (None, bw),
                                    "grey": (grey, bw), "small": (color, cv2.resize(bw, (300, 460))),
                                    "wrong": (color, other_bw)})
    messages = []
    pages = list(folder_pages(c, b, "mine", "screentone", report=messages.append))
    assert [p.name for p in pages] == ["good"]
    assert pages[0].alignment > 0.5 and pages[0].bw.shape == color.shape[:2]
    # the registered scan lies on the colour page's line art
    ink = bw < 64
    assert (pages[0].bw[ink] < 128).mean() > 0.8
    text = "\n".join(messages)
    for stem in ("nobw", "nocolor", "grey", "small", "wrong"):
        assert f"{stem}.png" in text, (stem, text)
    assert all(m.startswith("left out: ") for m in messages) and len(messages) == 5


def test_a_chapter_without_a_usable_pair_names_the_chapter(tmp_path):
    color, bw = _series_pair(0)
    c, b = _user_chapter(tmp_path, {"a": (color, None), "b": (None, bw)})
    with pytest.raises(PageError, match=r"chapters\.mine: no usable page pair.*a\.png"):
        list(folder_pages(c, b, "mine", "screentone", report=lambda m: None))


@pytest.mark.parametrize("style", ["screentone", "lightness"])
def test_colour_only_chapters_are_printed_by_the_configured_style(tmp_path, style):
    color, _ = _series_pair(0)
    c, _ = _user_chapter(tmp_path, {"p": (color, None)})
    (page,) = folder_pages(c, None, "mine", style, n_prints=3)
    assert page.bw.shape == color.shape[:2] and len(page.prints) == 2
    if style == "lightness":
        assert np.array_equal(page.bw, gray_from_color(color))
    else:  # a print: paper and ink, not one grey level per colour; every print differs, each reproducible
        assert ((page.bw < 40) | (page.bw > 215)).mean() > 0.9
        assert not np.array_equal(page.prints[0], page.prints[1])
        (again,) = folder_pages(c, None, "mine", style, n_prints=3)
        assert np.array_equal(again.bw, page.bw) and np.array_equal(again.prints[1], page.prints[1])


def test_fixed_print_is_refused_for_a_users_colour_pages(tmp_path):
    color, _ = _series_pair(0)
    c, _ = _user_chapter(tmp_path, {"p": (color, None)})
    with pytest.raises(PageError, match="config print.*fixed"):
        list(folder_pages(c, None, "mine", "fixed", report=lambda m: None))


def test_prints_are_written_and_tiled_with_their_page_index(tmp_path):
    from mangacolor.data.pages import synthetic_pages
    from mangacolor.data.tiles import read_prints, write_tiles
    import h5py

    out = tmp_path / "pages"
    write_page_folder(synthetic_pages(2016, "ch2", 2, "screentone", n_prints=2, arc="series"), out, progress=False)
    assert sorted(p.name for p in (out / "prints" / "1").iterdir()) == ["000.png", "001.png"]
    rows, it = load_page_folder(out, all_prints=True)
    assert [r["prints"] for r in rows] == ["2", "2"] and len(list(it)) == 4
    write_tiles(out, tmp_path / "tiles.h5", 1344, 224, True)
    with h5py.File(tmp_path / "tiles.h5") as f:
        page = f["page"][()]
        gray = f["gray"][()]
    assert sorted(set(page.tolist())) == [0, 1]
    first = gray[page == 0]
    half = len(first) // 2  # both prints of page 0: the same tiles of the same colour page, printed differently
    assert len(first) % 2 == 0 and not np.array_equal(first[:half], first[half:])
    prints = list(it_prints(out))
    back = read_prints(tmp_path / "tiles.h5", 10)  # the prints reassembled from their tiles, canvas dropped
    assert len(back) == 4
    for got, want in zip(back, prints):
        assert np.array_equal(got, want)
    assert len(read_prints(tmp_path / "tiles.h5", 3)) == 3


def it_prints(folder):
    """Every print of a page folder, in order, grey (H, W) uint8 (pages that have a black frame are cropped alike)."""
    _, pages = load_page_folder(folder, all_prints=True)
    for _, bw in pages:
        rows, cols = np.flatnonzero(bw.any(1)), np.flatnonzero(bw.any(0))
        yield bw[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def test_gray_from_color_keeps_lightness():
    from skimage.color import rgb2lab

    rgb = _rgb(64, 64, 3)
    g = gray_from_color(rgb)
    l_color = rgb2lab(rgb)[..., 0]
    l_gray = rgb2lab(np.repeat(g[..., None], 3, axis=2))[..., 0]
    assert np.abs(l_color - l_gray).max() < 0.5


def test_user_folder_round_trip_leaves_inputs_untouched(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    pages = [_rgb(150, 100, s) for s in range(3)]
    for i, p in enumerate(pages):
        Image.fromarray(p).save(src / f"p{i}.png")
    before = sorted((p.name, p.stat().st_mtime_ns) for p in src.iterdir())
    out = tmp_path / "work" / "mine"
    assert write_page_folder(folder_pages(src, None, "mine", "lightness"), out, progress=False) == 3
    assert sorted((p.name, p.stat().st_mtime_ns) for p in src.iterdir()) == before
    rows, it = load_page_folder(out)
    assert [r["name"] for r in rows] == ["p0", "p1", "p2"]
    for (color, bw), page in zip(it, pages):
        assert np.array_equal(color, page) and bw.shape == page.shape[:2]
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp left behind


def test_interrupted_write_leaves_nothing(tmp_path):
    def broken():
        yield from folder_pages_fake()
        raise RuntimeError("interrupted")

    def folder_pages_fake():
        from mangacolor.data.pages import Page
        yield Page("a", _rgb(), _rgb()[..., 0], "test")

    out = tmp_path / "ch"
    with pytest.raises(RuntimeError):
        write_page_folder(broken(), out, progress=False)
    assert not out.exists() and list(tmp_path.iterdir()) == []
