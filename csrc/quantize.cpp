// ab quantisation: nearest bin (hard) and k nearest bins with Gaussian weights (soft), through a lookup table.
//
// The ab plane [lo, lo + n*res)^2 is cut into n x n square cells. For each cell the table lists every bin that can be
// among the k nearest of some point of the cell: bin j qualifies when its smallest distance to the cell is at most
// the k-th smallest of all bins' largest distances to the cell (any point of the cell has k bins at most that far).
// Per pixel the exact float32 squared distances to listed bins are compared, ties going to the lower bin index, so
// the result equals brute-force kNN; points outside the table fall back to brute force. Candidates are listed
// nearest-to-the-cell-centre first, so the insertion into the short sorted list of the k best mostly finds them in
// order (well-predicted branches; branch-free selection and vectorising across pixels measured slower); a pixel equal
// to its left neighbour (flat fills, paper, ink) reuses its result. Weights are computed in vectorised blocks.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "bits.hpp"
#include "kernels.hpp"

namespace mangacolor {
namespace {

constexpr int64_t kBlock = 256;  // pixels per weight block
constexpr int kMaxK = 64;

// exp(x) for x in [-87, 0] in float: x = n ln2 + r with |r| <= ln2/2, degree-6 Taylor for e^r (relative error
// < 2e-7), 2^n through the exponent bits. Branch-free so that the weight loop vectorises.
inline float exp_nonpos(float x) {
    const float t = x * 1.44269504f;
    const float nf = static_cast<float>(static_cast<int32_t>(t - 0.5f));  // round half down; x <= 0
    const float r = (x - nf * 0.693145752f) - nf * 1.42860677e-06f;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const int32_t bits = (static_cast<int32_t>(nf) + 127) << 23;
    float s;
    std::memcpy(&s, &bits, 4);
    return p * s;
}

inline double sq(double v) { return v * v; }  // used by the table builder

}  // namespace

// Builds the candidate table for k nearest bins: offsets (n*n + 1) into cand; cell (ia, ib) covers
// a in [lo + ia*res, lo + (ia+1)*res], b likewise, and is stored at ia * n + ib.
void build_knn_lut(const float* centers, int64_t q, int k, double lo, double res, int64_t n,
                   std::vector<int32_t>& offsets, std::vector<int16_t>& cand) {
    offsets.assign(static_cast<size_t>(n * n + 1), 0);
    cand.clear();
    std::vector<double> dmin(static_cast<size_t>(q)), dmax(static_cast<size_t>(q)), tmp(static_cast<size_t>(q));
    const double slack = 1e-3 * res;  // cover pixels whose cell index rounding put them just outside the cell
    for (int64_t ia = 0; ia < n; ++ia) {
        const double a0 = lo + ia * res - slack, a1 = lo + (ia + 1) * res + slack;
        for (int64_t ib = 0; ib < n; ++ib) {
            const double b0 = lo + ib * res - slack, b1 = lo + (ib + 1) * res + slack;
            for (int64_t j = 0; j < q; ++j) {
                const double ca = centers[2 * j], cb = centers[2 * j + 1];
                dmin[j] = sq(std::max({0.0, a0 - ca, ca - a1})) + sq(std::max({0.0, b0 - cb, cb - b1}));
                dmax[j] = sq(std::max(std::abs(ca - a0), std::abs(ca - a1))) +
                          sq(std::max(std::abs(cb - b0), std::abs(cb - b1)));
            }
            tmp = dmax;
            std::nth_element(tmp.begin(), tmp.begin() + (k - 1), tmp.end());
            // Relative slack: encoding compares float32 distances, which may round a near-tie either way.
            const double dk = tmp[static_cast<size_t>(k - 1)] * (1 + 1e-5);
            // Listed nearest-to-the-cell-centre first: the scalar selection then mostly finds them in order.
            const double ma = lo + (ia + 0.5) * res, mb = lo + (ib + 0.5) * res;
            const size_t first = cand.size();
            for (int64_t j = 0; j < q; ++j)
                if (dmin[j] <= dk) cand.push_back(static_cast<int16_t>(j));
            std::stable_sort(cand.begin() + first, cand.end(), [&](int16_t i, int16_t j) {
                return sq(centers[2 * i] - ma) + sq(centers[2 * i + 1] - mb) <
                       sq(centers[2 * j] - ma) + sq(centers[2 * j + 1] - mb);
            });
            offsets[static_cast<size_t>(ia * n + ib + 1)] = static_cast<int32_t>(cand.size());
        }
    }
}

namespace {

// Squared distance from (a, b) to bin j in float32, as the NumPy reference computes it (IEEE, no fused multiply-add
// in the default build), packed as a key (distance bits, bin) that orders by distance, then by the lower bin.
inline uint64_t knn_key(float a, float b, const float* centers, uint32_t j) {
    const float da = a - centers[2 * j], db = b - centers[2 * j + 1];
    return (uint64_t(float_bits(da * da + db * db)) << 32) | j;
}

// Adds key x to the full ascending list t of the k smallest keys so far (keys are distinct).
template <int K>
inline void insert_key(uint64_t x, uint64_t* t, int k) {
    const int n = K > 0 ? K : k;
    if (x >= t[n - 1]) return;
    int i = n - 1;
    for (; i > 0 && t[i - 1] > x; --i) t[i] = t[i - 1];
    t[i] = x;
}

// The k smallest keys of bins list[0 .. len) (or of all bins 0 .. len when list is null) into t, ascending.
template <int K>
inline void select_k(float a, float b, const float* centers, const int16_t* list, int64_t len, int k, uint64_t* t) {
    const int n = K > 0 ? K : k;
    for (int64_t s = 0; s < n; ++s) {  // fill: every table cell lists at least k bins, and Q >= k
        const uint64_t x = knn_key(a, b, centers, list ? static_cast<uint16_t>(list[s]) : static_cast<uint32_t>(s));
        int64_t i = s;
        for (; i > 0 && t[i - 1] > x; --i) t[i] = t[i - 1];
        t[i] = x;
    }
    if (list) {
        for (int64_t s = n; s < len; ++s) insert_key<K>(knn_key(a, b, centers, static_cast<uint16_t>(list[s])), t, k);
    } else {
        for (int64_t s = n; s < len; ++s) insert_key<K>(knn_key(a, b, centers, static_cast<uint32_t>(s)), t, k);
    }
}

// The inputs and outputs of one encoding pass, and how to find a pixel and its table cell.
struct Encoder {
    const uint8_t* src;
    int64_t rows, cols, rs, cs, chs;
    const float* centers;
    int64_t q;
    const int32_t* offsets;
    const int16_t* cand;
    float lo, inv_res, fn;
    int64_t n;
    int k;
    float scale;  // -1 / (2 sigma^2)
    int16_t* idx;
    float* w;
    int64_t bad = 0;

    const uint8_t* pixel(int64_t p) const {
        const int64_t y = p / cols;
        return src + y * rs + (p - y * cols) * cs;
    }

    void load(const uint8_t* px, float& a, float& b) const {
        std::memcpy(&a, px, 4);
        std::memcpy(&b, px + chs, 4);
    }

    // Table cell of (a, b), or -1 outside the table (or not finite).
    int64_t cell(float a, float b) const {
        const float ua = (a - lo) * inv_res, ub = (b - lo) * inv_res;
        if (ua >= 0.0f && ub >= 0.0f && ua < fn && ub < fn)
            return static_cast<int64_t>(ua) * n + static_cast<int64_t>(ub);
        return -1;
    }

    // k nearest keys of one pixel into t (bins 0..k-1 for a non-finite pixel, which is counted in bad).
    template <int K>
    void nearest(float a, float b, uint64_t* t) {
        const int64_t c = cell(a, b);
        if (c >= 0) {
            select_k<K>(a, b, centers, cand + offsets[c], offsets[c + 1] - offsets[c], k, t);
        } else if (std::isfinite(a) && std::isfinite(b)) {
            select_k<K>(a, b, centers, nullptr, q, k, t);  // outside the table: brute force
        } else {
            ++bad;
            for (int i = 0; i < k; ++i) t[i] = static_cast<uint64_t>(i);
        }
    }
};

// Weights of m pixels from their exponents, stored planar (arg[i * kBlock + t] for neighbour i of pixel t, relative
// to the pixel's nearest bin, so neighbour 0's weight is exp(0) = 1): exp, sum over the k neighbours, normalise,
// interleave into w (m, k). Compiled for AVX2 and baseline, no FMA, so both give the same bits.
__attribute__((target_clones("avx2", "default"))) void weights_block(float* arg, int64_t m, int k, float* w) {
    float sum[kBlock];
    for (int64_t t = 0; t < m; ++t) sum[t] = 1.0f;
    for (int i = 1; i < k; ++i) {
        float* e = arg + i * kBlock;
        for (int64_t t = 0; t < m; ++t) {
            e[t] = exp_nonpos(select(e[t] > -87.0f, e[t], -87.0f));
            sum[t] += e[t];
        }
    }
    for (int64_t t = 0; t < m; ++t) sum[t] = 1.0f / sum[t];
    for (int64_t t = 0; t < m; ++t) w[t * k] = sum[t];
    for (int i = 1; i < k; ++i) {
        const float* e = arg + i * kBlock;
        for (int64_t t = 0; t < m; ++t) w[t * k + i] = e[t] * sum[t];
    }
}

// Per-pixel pass over pixels [p0, p1) (p1 - p0 <= kBlock), exponents into arg from column 0.
template <int K>
inline void encode_pixels(Encoder& e, int64_t p0, int64_t p1, float* arg) {
    const int k = K > 0 ? K : e.k;
    uint64_t t[kMaxK] = {};
    uint64_t prev = 0;  // bits of the previous pixel's (a, b): equal pixels (flat fills) reuse its result
    int64_t x = p0 % e.cols;
    const uint8_t* px = e.pixel(p0);
    for (int64_t p = p0; p < p1; ++p, ++x, px += e.cs) {
        if (x == e.cols) {  // next row
            x = 0;
            px = e.pixel(p);
        }
        float a, b;
        e.load(px, a, b);
        const uint64_t here = (uint64_t(float_bits(a)) << 32) | float_bits(b);
        if (here != prev || p == p0) {
            prev = here;
            e.nearest<K>(a, b, t);
        }
        for (int i = 0; i < k; ++i) e.idx[p * k + i] = static_cast<int16_t>(t[i] & 0xffffffffu);
        if (!arg) continue;
        const float d0 = bits_float(static_cast<uint32_t>(t[0] >> 32));
        for (int i = 0; i < k; ++i)
            arg[i * kBlock + p - p0] = (bits_float(static_cast<uint32_t>(t[i] >> 32)) - d0) * e.scale;
    }
}

// Per-pixel encoding (any k; weights when e.w is set).
template <int K>
void encode_per_pixel(Encoder& e) {
    std::vector<float> arg(e.w ? static_cast<size_t>(kBlock * e.k) : 0);
    const int64_t total = e.rows * e.cols;
    for (int64_t p0 = 0; p0 < total; p0 += kBlock) {
        const int64_t p1 = std::min(p0 + kBlock, total);
        encode_pixels<K>(e, p0, p1, e.w ? arg.data() : nullptr);
        if (e.w) weights_block(arg.data(), p1 - p0, e.k, e.w + p0 * e.k);
    }
}

}  // namespace

// k nearest bins of each ab pixel (float32 at src + y*rs + x*cs, b at + chs) -> idx (pixels, k) int16, nearest
// first, and, when w is not null, Gaussian weights exp(-d^2 / 2 sigma^2) normalised to sum 1 (computed relative to
// the nearest bin: the same after normalisation, and it cannot underflow). Returns the number of non-finite pixels,
// which the caller reports as an error (their outputs are unspecified).
int64_t knn_encode(const uint8_t* src, int64_t rows, int64_t cols, int64_t rs, int64_t cs, int64_t chs,
                   const float* centers, int64_t q, const int32_t* offsets, const int16_t* cand, double lo,
                   double res, int64_t n, int k, double sigma, int16_t* idx, float* w) {
    Encoder e{src, rows, cols, rs, cs, chs, centers, q, offsets, cand, static_cast<float>(lo),
              static_cast<float>(1.0 / res), static_cast<float>(n), n, k,
              static_cast<float>(-1.0 / (2.0 * sigma * sigma)), idx, w};
    if (k == 1) {
        encode_per_pixel<1>(e);
    } else if (k == 5) {
        encode_per_pixel<5>(e);
    } else {
        encode_per_pixel<0>(e);
    }
    if (e.bad) {  // repeated pixels share one count: count every pixel for the error message
        e.bad = 0;
        for (int64_t p = 0; p < rows * cols; ++p) {
            float a, b;
            e.load(e.pixel(p), a, b);
            e.bad += !(std::isfinite(a) && std::isfinite(b));
        }
    }
    return e.bad;
}

}  // namespace mangacolor
