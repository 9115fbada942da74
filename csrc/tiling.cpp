// Pad-and-tile and stitch kernels: a page centred on a square black canvas, cut into square tiles, and back.
//
// Kernels take raw pointers, shapes and byte strides; they know nothing of Python. Every output byte is written
// exactly once, in output order, so the cost is close to that of copying the output.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

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

// Places (count, tile, tile, c) tiles of T at their (row, col) grid positions on a zeroed canvas x canvas x c image.
// Canvas cells without a tile stay zero; when two tiles share a position the later one wins. Tile strides in bytes
// (s0 tile, s1 row, s2 column, s3 channel); positions are contiguous int32 pairs already checked to be in range.
template <typename T>
void stitch(const uint8_t* tiles, int64_t count, int64_t tile, int64_t c, int64_t s0, int64_t s1, int64_t s2,
            int64_t s3, const int32_t* positions, int64_t canvas, T* out) {
    const int64_t n = canvas / tile;
    std::vector<int64_t> owner(static_cast<size_t>(n * n), -1);
    for (int64_t i = 0; i < count; ++i) owner[positions[2 * i] * n + positions[2 * i + 1]] = i;
    const int64_t row = tile * c;
    const bool packed = s3 == static_cast<int64_t>(sizeof(T)) && s2 == c * s3;
    // Canvas rows are written in order, each tile-wide segment either copied from its tile or zeroed.
    for (int64_t y = 0; y < canvas; ++y) {
        const int64_t r = y / tile, i = y % tile;
        for (int64_t q = 0; q < n; ++q) {
            T* dst = out + y * canvas * c + q * row;
            const int64_t k = owner[r * n + q];
            if (k < 0) {
                std::memset(dst, 0, static_cast<size_t>(row) * sizeof(T));
                continue;
            }
            const uint8_t* src = tiles + k * s0 + i * s1;
            if (packed) {
                std::memcpy(dst, src, static_cast<size_t>(row) * sizeof(T));
            } else {
                for (int64_t x = 0; x < tile; ++x)
                    for (int64_t ch = 0; ch < c; ++ch)
                        std::memcpy(dst + x * c + ch, src + x * s2 + ch * s3, sizeof(T));
            }
        }
    }
}

template void stitch<uint8_t>(const uint8_t*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                              const int32_t*, int64_t, uint8_t*);
template void stitch<float>(const uint8_t*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                            const int32_t*, int64_t, float*);

}  // namespace mangacolor
