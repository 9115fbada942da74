// sRGB <-> CIE Lab (D65, 2 degree observer) with the constants and branch points of skimage.color, in float32.
//
// Forward (uint8 in): a 256-entry table linearises sRGB, a 3x3 matrix (reference white folded in) gives XYZ / white,
// and f(t) uses an exact cube root (to one float ulp, Newton steps without division) written so the compiler
// vectorises it; pixels are gathered into planar blocks for the same reason.
// Inverse: f^-1 is a cube; the sRGB gamma t^(1/2.4) = c * c^(1/4) with c = cbrt(t) avoids pow().
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "bits.hpp"
#include "kernels.hpp"

namespace mangacolor {
namespace {

constexpr int kBlock = 64;

// skimage.color.colorconv: xyz_from_rgb (sRGB primaries), rgb_from_xyz = its inverse, D65 2-degree white.
constexpr double kXyzFromRgb[3][3] = {{0.412453, 0.357580, 0.180423},
                                      {0.212671, 0.715160, 0.072169},
                                      {0.019334, 0.119193, 0.950227}};
constexpr double kRgbFromXyz[3][3] = {{3.2404813432005266, -1.5371515162713185, -0.4985363261688878},
                                      {-0.9692549499965682, 1.8759900014898907, 0.04155592655829284},
                                      {0.05564663913517716, -0.20404133836651123, 1.0573110696453443}};
constexpr double kWhite[3] = {0.95047, 1.0, 1.08883};

struct Tables {
    float lin[256];   // sRGB byte -> linear light
    float fwd[3][3];  // linear RGB -> XYZ / white
    float inv[3][3];  // XYZ / white -> linear RGB
    Tables() {
        for (int v = 0; v < 256; ++v) {
            const double s = v / 255.0;
            lin[v] = static_cast<float>(s > 0.04045 ? std::pow((s + 0.055) / 1.055, 2.4) : s / 12.92);
        }
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j) {
                fwd[i][j] = static_cast<float>(kXyzFromRgb[i][j] / kWhite[i]);
                inv[i][j] = static_cast<float>(kRgbFromXyz[i][j] * kWhite[j]);
            }
    }
};

const Tables& tables() {
    static const Tables t;
    return t;
}

// Cube root of a positive normal float without division: a bit-trick estimate of x^(-1/3) (within 3.5%), two
// Newton steps for it (2e-5), then r = x y^2 and one Newton step for r using y^2 in place of 1 / r^2. Within one
// float ulp of the exact cube root over [1e-6, 1.2]; branch-free, so loops over it vectorise.
inline float cbrt_pos(float x) {
    int32_t i;
    std::memcpy(&i, &x, 4);
    i = 1419915264 - static_cast<int32_t>(static_cast<float>(i) * (1.0f / 3.0f));
    float y;
    std::memcpy(&y, &i, 4);
    y = y * (4.0f - x * y * y * y) * (1.0f / 3.0f);
    y = y * (4.0f - x * y * y * y) * (1.0f / 3.0f);
    const float y2 = y * y;
    const float r = x * y2;
    return r + (x - r * r * r) * (y2 * (1.0f / 3.0f));
}

// Fourth root of a positive normal float: bit-trick estimate of x^(-1/4) (within ~3%), three Newton steps,
// then x^(1/4) = x * y^3 (relative error ~5e-7). Avoids sqrt, which the compiler will not vectorise under errno.
inline float root4_pos(float x) {
    int32_t i;
    std::memcpy(&i, &x, 4);
    i = 1331183616 - static_cast<int32_t>(static_cast<float>(i) * 0.25f);
    float y;
    std::memcpy(&y, &i, 4);
    for (int k = 0; k < 3; ++k) y = y * (5.0f - x * (y * y) * (y * y)) * 0.25f;
    return x * y * y * y;
}

// CIE f(t) with skimage's threshold and linear segment.
inline float lab_f(float t) {
    const float c = cbrt_pos(t);
    const float l = 7.787f * t + 16.0f / 116.0f;
    return select(t > 0.008856f, c, l);
}

inline float lab_finv(float t) {
    const float c = t * t * t;
    const float l = (t - 16.0f / 116.0f) * (1.0f / 7.787f);
    return select(t > 0.2068966f, c, l);
}

// Linear light -> gamma-encoded sRGB in [0, 1] (clipped as skimage does; NaN becomes 0).
inline float srgb_gamma(float v) {
    const float c = cbrt_pos(v);
    const float p = 1.055f * c * root4_pos(c) - 0.055f;
    const float s = select(v > 0.0031308f, p, 12.92f * v);
    return select(s > 0.0f, select(s < 1.0f, s, 1.0f), 0.0f);
}

// n uint8 RGB pixels (byte strides cs between pixels, chs between channels) -> n interleaved float32 Lab pixels.
// Gathered through the linearisation table into planar arrays, converted there (vectorised), then interleaved.
// Compiled for AVX2 and baseline, picked at load time; no FMA, so both produce the same bits.
__attribute__((target_clones("avx2", "default"))) void lab_block(const uint8_t* src, int64_t cs, int64_t chs, int n,
                                                                 float* out) {
    const Tables& t = tables();
    alignas(64) float r[kBlock], g[kBlock], b[kBlock], L[kBlock], A[kBlock], B[kBlock];
    for (int i = 0; i < n; ++i) {
        const uint8_t* p = src + i * cs;
        r[i] = t.lin[p[0]];
        g[i] = t.lin[p[chs]];
        b[i] = t.lin[p[2 * chs]];
    }
    const float m00 = t.fwd[0][0], m01 = t.fwd[0][1], m02 = t.fwd[0][2], m10 = t.fwd[1][0], m11 = t.fwd[1][1],
                m12 = t.fwd[1][2], m20 = t.fwd[2][0], m21 = t.fwd[2][1], m22 = t.fwd[2][2];
    for (int i = 0; i < n; ++i) {
        const float fx = lab_f(m00 * r[i] + m01 * g[i] + m02 * b[i]);
        const float fy = lab_f(m10 * r[i] + m11 * g[i] + m12 * b[i]);
        const float fz = lab_f(m20 * r[i] + m21 * g[i] + m22 * b[i]);
        L[i] = 116.0f * fy - 16.0f;
        A[i] = 500.0f * (fx - fy);
        B[i] = 200.0f * (fy - fz);
    }
    for (int i = 0; i < n; ++i) {
        out[3 * i] = L[i];
        out[3 * i + 1] = A[i];
        out[3 * i + 2] = B[i];
    }
}

// Planar Lab -> planar gamma-encoded RGB in [0, 1] (AVX2 and baseline clones, as lab_block).
__attribute__((target_clones("avx2", "default"))) void rgb_block(const float* __restrict L,
                                                                 const float* __restrict A,
                                                                 const float* __restrict B, int n,
                                                                 float* __restrict r, float* __restrict g,
                                                                 float* __restrict b) {
    const Tables& t = tables();
    const float m00 = t.inv[0][0], m01 = t.inv[0][1], m02 = t.inv[0][2], m10 = t.inv[1][0], m11 = t.inv[1][1],
                m12 = t.inv[1][2], m20 = t.inv[2][0], m21 = t.inv[2][1], m22 = t.inv[2][2];
    for (int i = 0; i < n; ++i) {
        const float fy = (L[i] + 16.0f) * (1.0f / 116.0f);
        const float fx = fy + A[i] * (1.0f / 500.0f);
        float fz = fy - B[i] * (1.0f / 200.0f);
        fz = select(fz > 0.0f, fz, 0.0f);  // skimage clips negative z to 0 before the inverse
        const float x = lab_finv(fx), y = lab_finv(fy), z = lab_finv(fz);
        r[i] = srgb_gamma(m00 * x + m01 * y + m02 * z);
        g[i] = srgb_gamma(m10 * x + m11 * y + m12 * z);
        b[i] = srgb_gamma(m20 * x + m21 * y + m22 * z);
    }
}

}  // namespace

// uint8 RGB pixels at src + y*rs + x*cs (+ k*chs for channel k), rows x cols, -> contiguous float32 Lab.
void rgb_to_lab_u8(const uint8_t* src, int64_t rows, int64_t cols, int64_t rs, int64_t cs, int64_t chs,
                   float* dst) {
    tables();  // build the tables before the (cloned) block function reads them
    for (int64_t y = 0; y < rows; ++y)
        for (int64_t x0 = 0; x0 < cols; x0 += kBlock)
            lab_block(src + y * rs + x0 * cs, cs, chs, static_cast<int>(std::min<int64_t>(kBlock, cols - x0)),
                      dst + (y * cols + x0) * 3);
}

// float32 Lab pixels (byte strides as above) -> contiguous RGB, uint8 (rounded) or float32 in [0, 1].
template <typename T>
void lab_to_rgb(const uint8_t* src, int64_t rows, int64_t cols, int64_t rs, int64_t cs, int64_t chs, T* dst) {
    alignas(64) float L[kBlock], A[kBlock], B[kBlock], r[kBlock], g[kBlock], b[kBlock];
    for (int64_t y = 0; y < rows; ++y) {
        const uint8_t* row = src + y * rs;
        for (int64_t x0 = 0; x0 < cols; x0 += kBlock) {
            const int n = static_cast<int>(std::min<int64_t>(kBlock, cols - x0));
            for (int i = 0; i < n; ++i) {
                const uint8_t* p = row + (x0 + i) * cs;
                std::memcpy(&L[i], p, 4);
                std::memcpy(&A[i], p + chs, 4);
                std::memcpy(&B[i], p + 2 * chs, 4);
            }
            rgb_block(L, A, B, n, r, g, b);
            T* out = dst + (y * cols + x0) * 3;
            for (int i = 0; i < n; ++i) {
                if constexpr (sizeof(T) == 1) {
                    out[3 * i] = static_cast<T>(r[i] * 255.0f + 0.5f);
                    out[3 * i + 1] = static_cast<T>(g[i] * 255.0f + 0.5f);
                    out[3 * i + 2] = static_cast<T>(b[i] * 255.0f + 0.5f);
                } else {
                    out[3 * i] = r[i];
                    out[3 * i + 1] = g[i];
                    out[3 * i + 2] = b[i];
                }
            }
        }
    }
}

template void lab_to_rgb<uint8_t>(const uint8_t*, int64_t, int64_t, int64_t, int64_t, int64_t, uint8_t*);
template void lab_to_rgb<float>(const uint8_t*, int64_t, int64_t, int64_t, int64_t, int64_t, float*);

}  // namespace mangacolor
