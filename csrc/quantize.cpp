// ab quantisation: nearest bin (hard) and k nearest bins with Gaussian weights (soft), through a lookup table.
//
// The ab plane [lo, lo + n*res)^2 is cut into n x n square cells. For each cell the table lists, in ascending bin
// order, every bin that can be among the k nearest of some point of the cell: bin j qualifies when its smallest
// distance to the cell is at most the k-th smallest of all bins' largest distances to the cell (any point of the
// cell has k bins at most that far). Per pixel the exact distances to the listed bins are compared, ties going to
// the lower bin index, so the result equals brute-force kNN; points outside the table fall back to brute force.
// For 2 <= k <= 8 each cell with at most 8 candidates also gets a padded 8-slot record (centres in bin order,
// far-away fillers), so that a pixel's 8 distances and their ranks are computed with vector instructions and no
// data-dependent branch; larger cells (a few percent) take the scalar path.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace mangacolor {
namespace {

constexpr int64_t kBlock = 256;
constexpr int kMaxK = 64;
constexpr int kLanes = 8;  // slots of the padded per-cell records

// exp(x) for x <= 0 in float: x = n ln2 + r with |r| <= ln2/2, degree-7 Taylor for e^r (relative error < 1e-8
// before rounding), 2^n through the exponent bits. Branch-free so that the weight loop vectorises.
inline float exp_nonpos(float x) {  // x in [-87, 0]
    const float t = x * 1.44269504f;
    const float nf = static_cast<float>(static_cast<int32_t>(t - 0.5f));  // round half down; x <= 0
    const float r = (x - nf * 0.693145752f) - nf * 1.42860677e-06f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
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
// For 2 <= k <= 8 also fills pad_j (n*n*8 bins, -1 filler; pad_j[8 * cell] = -2 when the cell has more than 8) and
// pad_ab (n*n*16: the 8 slots' a, then their b; fillers at (1e4, 1e4), farther than any listed bin).
void build_knn_lut(const float* centers, int64_t q, int k, double lo, double res, int64_t n,
                   std::vector<int32_t>& offsets, std::vector<int16_t>& cand, std::vector<int16_t>& pad_j,
                   std::vector<float>& pad_ab) {
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
            // Relative slack: encode compares float32 distances, which may round a near-tie either way.
            const double dk = tmp[static_cast<size_t>(k - 1)] * (1 + 1e-5);
            // Listed nearest-to-the-cell-centre first: the selection below then mostly finds them in order.
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
    pad_j.clear();
    pad_ab.clear();
    if (k < 2 || k > kLanes) return;
    pad_j.assign(static_cast<size_t>(n * n * kLanes), -1);
    pad_ab.assign(static_cast<size_t>(n * n * 2 * kLanes), 1e4f);
    std::vector<int16_t> sorted;
    for (int64_t cell = 0; cell < n * n; ++cell) {
        const int32_t o0 = offsets[static_cast<size_t>(cell)], o1 = offsets[static_cast<size_t>(cell + 1)];
        if (o1 - o0 > kLanes) {
            pad_j[static_cast<size_t>(cell * kLanes)] = -2;
            continue;
        }
        sorted.assign(cand.begin() + o0, cand.begin() + o1);
        std::sort(sorted.begin(), sorted.end());  // lane order = bin order: equal distances rank by lane
        for (size_t s = 0; s < sorted.size(); ++s) {
            pad_j[cell * kLanes + s] = sorted[s];
            pad_ab[cell * 2 * kLanes + s] = centers[2 * sorted[s]];
            pad_ab[cell * 2 * kLanes + kLanes + s] = centers[2 * sorted[s] + 1];
        }
    }
}

namespace {

// Adds key x to the ascending list t of the k smallest keys so far (keys are distinct), given t is full (k keys).
// Candidates arrive roughly nearest first, so x usually fails the first test or moves few places: the branches are
// well predicted, which beats branch-free selection here.
template <int K>
inline void insert_key(uint64_t x, uint64_t* t, int k) {
    const int n = K > 0 ? K : k;
    if (x >= t[n - 1]) return;
    int i = n - 1;
    for (; i > 0 && t[i - 1] > x; --i) t[i] = t[i - 1];
    t[i] = x;
}

inline uint32_t float_bits(float v) {
    uint32_t i;
    std::memcpy(&i, &v, 4);
    return i;
}

inline float bits_float(uint32_t i) {
    float v;
    std::memcpy(&v, &i, 4);
    return v;
}

inline float select(bool c, float a, float b) {  // branch-free c ? a : b, so that loops over it vectorise
    const int32_t m = -static_cast<int32_t>(c);
    int32_t ia, ib;
    std::memcpy(&ia, &a, 4);
    std::memcpy(&ib, &b, 4);
    const int32_t r = (ia & m) | (ib & ~m);
    float out;
    std::memcpy(&out, &r, 4);
    return out;
}

// Weights of m pixels from their exponents, stored planar (arg[i * kBlock + t] for neighbour i of pixel t, relative
// to the pixel's nearest bin): exp, sum over the k neighbours, normalise, then interleave into w (m, k). Planar
// loops vectorise; compiled for AVX2 and baseline, no FMA, so both give the same bits.
__attribute__((target_clones("avx2", "default"))) void weights_block(float* arg, int64_t m, int k, float* w) {
    float sum[kBlock];
    for (int64_t t = 0; t < m; ++t) sum[t] = 0.0f;
    for (int i = 0; i < k; ++i) {
        float* e = arg + i * kBlock;
        for (int64_t t = 0; t < m; ++t) {
            e[t] = exp_nonpos(select(e[t] > -87.0f, e[t], -87.0f));
            sum[t] += e[t];
        }
    }
    for (int64_t t = 0; t < m; ++t) sum[t] = 1.0f / sum[t];  // sum >= 1: the nearest bin's weight is exp(0)
    for (int i = 0; i < k; ++i) {
        const float* e = arg + i * kBlock;
        for (int64_t t = 0; t < m; ++t) w[t * k + i] = e[t] * sum[t];
    }
}

// Squared distance from (a, b) to bin j in float32, as the NumPy reference computes it (IEEE, no fused multiply-add
// in the default build), packed as a key (distance bits, bin) that orders by distance, then by the lower bin.
inline uint64_t knn_key(float a, float b, const float* centers, uint32_t j) {
    const float da = a - centers[2 * j], db = b - centers[2 * j + 1];
    return (uint64_t(float_bits(da * da + db * db)) << 32) | j;
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

template <int K>
int64_t encode(const uint8_t* src, int64_t rows, int64_t cols, int64_t rs, int64_t cs, int64_t chs,
               const float* centers, int64_t q, const int32_t* offsets, const int16_t* cand, double lo, double res,
               int64_t n, int k, double sigma, int16_t* idx, float* w) {
    const float flo = static_cast<float>(lo), inv_res = static_cast<float>(1.0 / res), fn = static_cast<float>(n);
    const float scale = static_cast<float>(-1.0 / (2.0 * sigma * sigma));
    std::vector<float> arg(static_cast<size_t>(kBlock * k));
    int64_t bad = 0, m = 0, p = 0;  // m pixels pending in the weight block, p the next pixel's index
    uint64_t t[kMaxK] = {};
    uint64_t prev = 0;  // bits of the previous pixel's (a, b): equal pixels (flat fills) reuse its result
    for (int64_t y = 0; y < rows; ++y) {
        for (int64_t x = 0; x < cols; ++x, ++p) {
            const uint8_t* px = src + y * rs + x * cs;
            float a, b;
            std::memcpy(&a, px, 4);
            std::memcpy(&b, px + chs, 4);
            const uint64_t here = (uint64_t(float_bits(a)) << 32) | float_bits(b);
            if (here != prev || p == 0) {
                prev = here;
                const float ua = (a - flo) * inv_res, ub = (b - flo) * inv_res;
                if (ua >= 0.0f && ub >= 0.0f && ua < fn && ub < fn) {
                    const int64_t cell = static_cast<int64_t>(ua) * n + static_cast<int64_t>(ub);
                    select_k<K>(a, b, centers, cand + offsets[cell], offsets[cell + 1] - offsets[cell], k, t);
                } else if (std::isfinite(a) && std::isfinite(b)) {
                    select_k<K>(a, b, centers, nullptr, q, k, t);  // outside the table: brute force
                } else {
                    ++bad;
                    for (int i = 0; i < k; ++i) t[i] = static_cast<uint64_t>(i);
                }
            }
            for (int i = 0; i < k; ++i) idx[p * k + i] = static_cast<int16_t>(t[i] & 0xffffffffu);
            if (!w) continue;
            const float d0 = bits_float(static_cast<uint32_t>(t[0] >> 32));
            for (int i = 0; i < k; ++i) arg[i * kBlock + m] = (bits_float(static_cast<uint32_t>(t[i] >> 32)) - d0) * scale;
            if (++m == kBlock) {
                weights_block(arg.data(), m, k, w + (p + 1 - m) * k);
                m = 0;
            }
        }
    }
    if (w && m) weights_block(arg.data(), m, k, w + (p - m) * k);
    return bad;
}

typedef float v8f __attribute__((vector_size(32)));  // GCC vector extensions: AVX2 or two SSE2 halves
typedef int32_t v8i __attribute__((vector_size(32)));

// The k nearest of the 8 slots of a padded cell record, nearest first: lane indices into sel, squared distances
// into dsel. rank(s) = #{u : D_u < D_s} + #{u < s : D_u == D_s}, all eight at once: slots are in bin order, so
// equal distances rank by the lower bin as in the scalar path; ranks are a permutation of 0..7.
inline void select_lanes(float a, float b, const float* pad_ab, int k, int32_t* sel, float* dsel) {
    v8f A, B;
    std::memcpy(&A, pad_ab, sizeof A);
    std::memcpy(&B, pad_ab + kLanes, sizeof B);
    const v8f da = a - A, db = b - B;
    const v8f D = da * da + db * db;  // same float operations as knn_key
    // Lane s against lane (s + r) mod 8 for r = 1..7, by rotating D (constant shuffles, no trips through memory).
    v8i neg_rank = {};
#define MC_RANK_STEP(r)                                                                                        \
    {                                                                                                          \
        const v8i rot = {(0 + r) % 8, (1 + r) % 8, (2 + r) % 8, (3 + r) % 8,                                  \
                         (4 + r) % 8, (5 + r) % 8, (6 + r) % 8, (7 + r) % 8};                                 \
        const v8i lower = {-((0 + r) % 8 < 0), -((1 + r) % 8 < 1), -((2 + r) % 8 < 2), -((3 + r) % 8 < 3),   \
                           -((4 + r) % 8 < 4), -((5 + r) % 8 < 5), -((6 + r) % 8 < 6), -((7 + r) % 8 < 7)};  \
        const v8f other = __builtin_shuffle(D, rot);                                                           \
        neg_rank += (other < D) | ((other == D) & lower); /* comparisons give -1 for true */                  \
    }
    MC_RANK_STEP(1) MC_RANK_STEP(2) MC_RANK_STEP(3) MC_RANK_STEP(4) MC_RANK_STEP(5) MC_RANK_STEP(6) MC_RANK_STEP(7)
#undef MC_RANK_STEP
    alignas(32) int32_t rank[kLanes];
    alignas(32) float dist[kLanes];
    std::memcpy(rank, &neg_rank, sizeof rank);
    std::memcpy(dist, &D, sizeof dist);
    int32_t slot[kLanes];
    for (int s = 0; s < kLanes; ++s) slot[-rank[s]] = s;
    for (int i = 0; i < k; ++i) {
        sel[i] = slot[i];
        dsel[i] = dist[slot[i]];
    }
}

// Encoding for 2 <= k <= 8 with padded records: as encode<0>, but cells with at most 8 candidates take
// select_lanes. Compiled for AVX2 and baseline (no FMA: the same bits).
__attribute__((target_clones("avx2", "default"))) int64_t encode_lanes(
    const uint8_t* src, int64_t rows, int64_t cols, int64_t rs, int64_t cs, int64_t chs, const float* centers,
    int64_t q, const int32_t* offsets, const int16_t* cand, const int16_t* pad_j, const float* pad_ab, double lo,
    double res, int64_t n, int k, double sigma, int16_t* idx, float* w) {
    const float flo = static_cast<float>(lo), inv_res = static_cast<float>(1.0 / res), fn = static_cast<float>(n);
    const float scale = static_cast<float>(-1.0 / (2.0 * sigma * sigma));
    std::vector<float> arg(static_cast<size_t>(kBlock * k));
    int64_t bad = 0, m = 0, p = 0;  // m pixels pending in the weight block, p the next pixel's index
    int16_t bins[kLanes] = {};
    float d2[kLanes] = {};
    uint64_t t[kLanes];
    uint64_t prev = 0;  // bits of the previous pixel's (a, b): equal pixels (flat fills) reuse its result
    for (int64_t y = 0; y < rows; ++y) {
        for (int64_t x = 0; x < cols; ++x, ++p) {
            const uint8_t* px = src + y * rs + x * cs;
            float a, b;
            std::memcpy(&a, px, 4);
            std::memcpy(&b, px + chs, 4);
            const uint64_t here = (uint64_t(float_bits(a)) << 32) | float_bits(b);
            if (here != prev || p == 0) {
                prev = here;
                const float ua = (a - flo) * inv_res, ub = (b - flo) * inv_res;
                const bool inside = ua >= 0.0f && ub >= 0.0f && ua < fn && ub < fn;
                const int64_t cell = inside ? static_cast<int64_t>(ua) * n + static_cast<int64_t>(ub) : 0;
                if (inside && pad_j[cell * kLanes] >= 0) {
                    int32_t sel[kLanes];
                    select_lanes(a, b, pad_ab + cell * 2 * kLanes, k, sel, d2);
                    for (int i = 0; i < k; ++i) bins[i] = pad_j[cell * kLanes + sel[i]];
                } else {
                    if (inside) {
                        select_k<0>(a, b, centers, cand + offsets[cell], offsets[cell + 1] - offsets[cell], k, t);
                    } else if (std::isfinite(a) && std::isfinite(b)) {
                        select_k<0>(a, b, centers, nullptr, q, k, t);  // outside the table: brute force
                    } else {
                        ++bad;
                        for (int i = 0; i < k; ++i) t[i] = static_cast<uint64_t>(i);
                    }
                    for (int i = 0; i < k; ++i) {
                        bins[i] = static_cast<int16_t>(t[i] & 0xffffffffu);
                        d2[i] = bits_float(static_cast<uint32_t>(t[i] >> 32));
                    }
                }
            }
            for (int i = 0; i < k; ++i) idx[p * k + i] = bins[i];
            for (int i = 0; i < k; ++i) arg[i * kBlock + m] = (d2[i] - d2[0]) * scale;
            if (++m == kBlock) {
                weights_block(arg.data(), m, k, w + (p + 1 - m) * k);
                m = 0;
            }
        }
    }
    if (m) weights_block(arg.data(), m, k, w + (p - m) * k);
    return bad;
}

}  // namespace

// k nearest bins of each ab pixel (float32 at src + y*rs + x*cs, b at + chs) -> idx (pixels, k) int16 and,
// when w is not null, Gaussian weights exp(-d^2 / 2 sigma^2) normalised to sum 1 (computed relative to the
// nearest bin: the same after normalisation, and it cannot underflow). Returns the number of non-finite pixels,
// which the caller reports as an error (their outputs are unspecified).
int64_t knn_encode(const uint8_t* src, int64_t rows, int64_t cols, int64_t rs, int64_t cs, int64_t chs,
                   const float* centers, int64_t q, const int32_t* offsets, const int16_t* cand,
                   const int16_t* pad_j, const float* pad_ab, double lo, double res, int64_t n, int k, double sigma,
                   int16_t* idx, float* w) {
    if (w && pad_j && k >= 2 && k <= kLanes)
        return encode_lanes(src, rows, cols, rs, cs, chs, centers, q, offsets, cand, pad_j, pad_ab, lo, res, n, k,
                            sigma, idx, w);
    // Unrolled insertion for the usual k (hard, Zhang's soft k = 5); any other k loops.
    if (k == 1) return encode<1>(src, rows, cols, rs, cs, chs, centers, q, offsets, cand, lo, res, n, k, sigma, idx, w);
    if (k == 5) return encode<5>(src, rows, cols, rs, cs, chs, centers, q, offsets, cand, lo, res, n, k, sigma, idx, w);
    return encode<0>(src, rows, cols, rs, cs, chs, centers, q, offsets, cand, lo, res, n, k, sigma, idx, w);
}

}  // namespace mangacolor
