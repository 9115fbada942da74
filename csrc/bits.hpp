// Float bit helpers shared by the kernels: reinterpretation without undefined behaviour, and a branch-free select
// that the compiler turns into a SIMD blend (it may not if-convert a plain ?: whose sides might trap).
#pragma once

#include <cstdint>
#include <cstring>

namespace mangacolor {

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

// c ? a : b through bit masks: both sides are always computed.
inline float select(bool c, float a, float b) {
    const uint32_t m = -static_cast<uint32_t>(c);
    return bits_float((float_bits(a) & m) | (float_bits(b) & ~m));
}

}  // namespace mangacolor
