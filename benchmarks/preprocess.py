"""Time the C++ preprocessing kernels against their references on 1200x780 pages; the last line printed is JSON.

    python benchmarks/preprocess.py [--pages 4] [--seed 0]

Per page, medians over pages and repeats, single-threaded kernels:
- pad_tile: ``pad_and_tile`` (C++) vs ``pad_and_tile_ref`` (NumPy) on the RGB page; ``copy_s`` is the time to copy
  as many bytes as the tiles hold (into a preallocated buffer), from which ``memcpy_gbps``.
- rgb_to_lab: ``rgb_to_lab`` vs ``skimage.color.rgb2lab`` on the same uint8 page (max error in ``max_err``); a
  line compares OpenCV's float path (``cv2.cvtColor`` on float32 RGB / 255, its own threads).
- soft_encode: ``ABQuantizer.soft`` (k=5, sigma=5, 313 bins) on the page's full-resolution ab vs scikit-learn
  ``NearestNeighbors(n_neighbors=5)`` plus the same Gaussian weights; ``noise_page_s`` is ours on uniform RGB noise
  (no repeated pixels, scattered table cells: the worst case).
Pages are synthetic: smooth colour fields (upsampled noise), flat panels, white gutters and black ink strokes.
"""
from __future__ import annotations

import argparse
import json
import time

import cv2
import numpy as np
from skimage.color import rgb2lab
from sklearn.neighbors import NearestNeighbors

from mangacolor.kernels.bins import ABQuantizer
from mangacolor.kernels.lab import rgb_to_lab
from mangacolor.kernels.tiling import pad_and_tile, pad_and_tile_ref


def make_page(rng: np.random.Generator, h: int = 1200, w: int = 780) -> np.ndarray:
    """A colour manga-like page: smooth colour fields in panels, white gutters, black ink lines."""
    field = cv2.resize(rng.uniform(0, 255, (12, 8, 3)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    page = np.clip(field, 0, 255).astype(np.uint8)
    for _ in range(4):  # flat-coloured areas (skies, clothes)
        y, x = rng.integers(0, h - 200), rng.integers(0, w - 200)
        page[y:y + rng.integers(50, 200), x:x + rng.integers(50, 200)] = rng.integers(0, 256, 3)
    for y in (h // 3, 2 * h // 3):  # white gutters between panels, black panel borders
        page[y - 12:y + 12] = 255
        page[y - 14:y - 12] = page[y + 12:y + 14] = 0
    page[:, w // 2 - 10:w // 2 + 10] = 255
    for _ in range(300):  # ink strokes
        p, q = rng.integers(0, (w, h), 2), rng.integers(0, (w, h), 2)
        cv2.line(page, tuple(map(int, p)), tuple(map(int, q)), (0, 0, 0), int(rng.integers(1, 4)), cv2.LINE_AA)
    return page


def timed(fn, *args, repeats: int = 1) -> tuple[list[float], object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - t0)
    return times, out


def entry(cpp: list[float], ref: list[float], **extra) -> dict:
    c, r = float(np.median(cpp)), float(np.median(ref))
    return {"cpp_s": c, "ref_s": r, "speedup": r / c, **extra}


def sklearn_soft(nn: NearestNeighbors, ab: np.ndarray, sigma: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    dist, idx = nn.kneighbors(ab.reshape(-1, 2))
    w = np.exp(-dist ** 2 / (2 * sigma ** 2))
    return idx, w / w.sum(1, keepdims=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    pages = [make_page(rng) for _ in range(args.pages)]
    quantizer = ABQuantizer()
    quantizer.soft(np.zeros((1, 2), np.float32))  # build the lookup table outside the timings
    nn = NearestNeighbors(n_neighbors=5).fit(quantizer.centers)

    t = {k: [] for k in ("tile", "tile_ref", "copy", "lab", "lab_ref", "cv", "soft", "soft_ref")}
    lab_err = cv_err = 0.0
    for i, page in enumerate(pages):
        pad_and_tile(page), pad_and_tile_ref(page)  # warm the allocator
        t["tile"] += timed(pad_and_tile, page, repeats=20)[0]
        ref_t, ref = timed(pad_and_tile_ref, page, repeats=10)
        t["tile_ref"] += ref_t
        tiles = pad_and_tile(page)
        assert np.array_equal(tiles.tiles, ref.tiles) and np.array_equal(tiles.blank, ref.blank)
        src, dst = np.ascontiguousarray(tiles.tiles), np.empty_like(tiles.tiles)
        t["copy"] += timed(np.copyto, dst, src, repeats=20)[0]

        lab_t, lab = timed(rgb_to_lab, page, repeats=10)
        t["lab"] += lab_t
        sk_t, sk = timed(rgb2lab, page, repeats=1 if i else 2)
        t["lab_ref"] += sk_t
        lab_err = max(lab_err, float(np.abs(lab - sk).max()))
        f32 = page.astype(np.float32) / 255
        cv_t, cv = timed(cv2.cvtColor, f32, cv2.COLOR_RGB2Lab, repeats=10)
        t["cv"] += cv_t
        cv_err = max(cv_err, float(np.abs(cv - sk).max()))

        ab = lab[..., 1:]
        soft_t, (idx, w) = timed(quantizer.soft, ab, repeats=5)
        t["soft"] += soft_t
        if i < 2:  # scikit-learn takes about a second a page
            sk_t, (sidx, sw) = timed(sklearn_soft, nn, ab)
            t["soft_ref"] += sk_t
            d_mine = np.linalg.norm(ab[..., None, :] - quantizer.centers[idx], axis=-1).reshape(-1, 5)
            d_sk = np.linalg.norm(ab.reshape(-1, 1, 2) - quantizer.centers[sidx], axis=-1)
            assert np.abs(d_mine - d_sk).max() < 1e-3, "soft encoding disagrees with scikit-learn"

    noise = rgb_to_lab(rng.integers(0, 256, pages[0].shape, dtype=np.uint8))[..., 1:]  # worst case: no two alike
    noise_s = float(np.median(timed(quantizer.soft, noise, repeats=3)[0]))
    nbytes = pad_and_tile(pages[0]).tiles.nbytes
    copy_s = float(np.median(t["copy"]))
    result = {
        "pad_tile": entry(t["tile"], t["tile_ref"], copy_s=copy_s, vs_copy=float(np.median(t["tile"])) / copy_s),
        "rgb_to_lab": entry(t["lab"], t["lab_ref"], max_err=lab_err, opencv_s=float(np.median(t["cv"]))),
        "soft_encode": entry(t["soft"], t["soft_ref"], pixels=int(pages[0].shape[0] * pages[0].shape[1]),
                             noise_page_s=noise_s),
        "memcpy_gbps": nbytes / copy_s / 1e9,
    }
    lab_s, cv_s = result["rgb_to_lab"]["cpp_s"], result["rgb_to_lab"]["opencv_s"]
    print(f"pages: {len(pages)} x {pages[0].shape}; output of pad_and_tile {nbytes / 1e6:.1f} MB")
    print(f"opencv float Lab (cv2.cvtColor, {cv2.getNumThreads()} threads): {cv_s * 1e3:.2f} ms/page, max error vs "
          f"skimage {cv_err:.4f}; rgb_to_lab (1 thread): {lab_s * 1e3:.2f} ms/page, max error {lab_err:.5f}; "
          f"opencv/ours = {cv_s / lab_s:.2f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
