// The C++ kernels of mangacolor._core, declared once for the kernels (tiling.cpp, color.cpp, quantize.cpp) and
// the bindings (bindings.cpp): a signature changed here fails at compile time on both sides.
// Kernels take raw pointers, shapes and byte strides and know nothing of Python; the bindings check arrays.
#pragma once

#include <cstdint>
#include <vector>

namespace mangacolor {

// tiling.cpp: a uint8 page (h, w, c; byte strides sy, sx, sc) placed at (y0, x0) on a black canvas x canvas square
// and cut into (canvas / tile)^2 tiles of tile x tile x c, row-major, into `tiles`; blank[i]: tile i is all zero.
void pad_and_tile_u8(const uint8_t* page, int64_t h, int64_t w, int64_t c, int64_t sy, int64_t sx, int64_t sc,
                     int64_t canvas, int64_t tile, int64_t y0, int64_t x0, uint8_t* tiles, bool* blank);

// color.cpp: uint8 sRGB pixels (rows x cols, byte strides rs, cs, chs) -> float32 Lab (D65), packed.
void rgb_to_lab_u8(const uint8_t* src, int64_t rows, int64_t cols, int64_t rs, int64_t cs, int64_t chs,
                   float* dst);
// color.cpp: float32 Lab pixels -> sRGB, uint8 (rounded) or float in [0, 1], packed.
template <typename T>
void lab_to_rgb(const uint8_t* src, int64_t rows, int64_t cols, int64_t rs, int64_t cs, int64_t chs, T* dst);

// quantize.cpp: the candidate-bin table of k-nearest-bin lookups over the ab plane [lo, lo + n * res)^2.
void build_knn_lut(const float* centers, int64_t q, int k, double lo, double res, int64_t n,
                   std::vector<int32_t>& offsets, std::vector<int16_t>& cand);
// quantize.cpp: float32 ab pixels -> the k nearest bins (idx) and, when w is not null, their Gaussian weights;
// returns the number of non-finite pixels (their outputs are left unset).
int64_t knn_encode(const uint8_t* src, int64_t rows, int64_t cols, int64_t rs, int64_t cs, int64_t chs,
                   const float* centers, int64_t q, const int32_t* offsets, const int16_t* cand, double lo,
                   double res, int64_t n, int k, double sigma, int16_t* idx, float* w);

}  // namespace mangacolor
