// Pad-and-tile kernel: a page centred on a square black canvas, cut into square tiles.
//
// Kernels take raw pointers, shapes and byte strides; they know nothing of Python. Every output byte is written
// exactly once, in output order, so the cost is close to that of copying the output.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels.hpp"

namespace mangacolor {
namespace {

// Copies `n` pixels of `c` bytes from a strided source into contiguous `dst`.
void copy_pixels(const uint8_t* src, int64_t n, int64_t c, int64_t sx, int64_t sc, uint8_t* dst) {
    if (sc == 1 && sx == c) {
        std::memcpy(dst, src, static_cast<size_t>(n * c));
    } else if (c == 1) {
        for (int64_t i = 0; i < n; ++i) dst[i] = src[i * sx];
    } else {
        for (int64_t i = 0; i < n; ++i)
            for (int64_t k = 0; k < c; ++k) dst[i * c + k] = src[i * sx + k * sc];
    }
}

bool any_nonzero(const uint8_t* p, int64_t n) {
    // Word-wise OR, vectorised by the compiler; callers stop asking once a tile is known to be non-blank.
    uint64_t acc = 0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        std::memcpy(&v, p + i, 8);
        acc |= v;
    }
    for (; i < n; ++i) acc |= p[i];
    return acc != 0;
}

}  // namespace

// Centres an (h, w, c) uint8 page at (y0, x0) on a black canvas x canvas image and writes its tiles, row-major,
// into `tiles` (n*n, tile, tile, c) with n = canvas / tile; blank[i] says whether tile i is all zero.
// Strides are in bytes; the page must lie inside the canvas.
void pad_and_tile_u8(const uint8_t* page, int64_t h, int64_t w, int64_t c, int64_t sy, int64_t sx, int64_t sc,
                     int64_t canvas, int64_t tile, int64_t y0, int64_t x0, uint8_t* tiles, bool* blank) {
    const int64_t n = canvas / tile;
    const int64_t row_bytes = tile * c;
    for (int64_t r = 0; r < n; ++r) {
        for (int64_t q = 0; q < n; ++q) {
            uint8_t* out = tiles + (r * n + q) * tile * row_bytes;
            // Columns of this tile covered by the page, in canvas coordinates [xa, xb).
            const int64_t xa = std::max(q * tile, x0), xb = std::min((q + 1) * tile, x0 + w);
            bool seen = false;
            for (int64_t i = 0; i < tile; ++i, out += row_bytes) {
                const int64_t py = r * tile + i - y0;
                if (py < 0 || py >= h || xa >= xb) {
                    std::memset(out, 0, static_cast<size_t>(row_bytes));
                    continue;
                }
                const int64_t left = (xa - q * tile) * c, mid = (xb - xa) * c;
                std::memset(out, 0, static_cast<size_t>(left));
                copy_pixels(page + py * sy + (xa - x0) * sx, xb - xa, c, sx, sc, out + left);
                std::memset(out + left + mid, 0, static_cast<size_t>(row_bytes - left - mid));
                if (!seen) seen = any_nonzero(out + left, mid);
            }
            blank[r * n + q] = !seen;
        }
    }
}

}  // namespace mangacolor
