// mangacolor._core: converts NumPy arrays, checks ndim/shape/dtype (ValueError naming expected and actual), and calls
// the kernels of tiling.cpp, color.cpp and quantize.cpp with the GIL released. No arithmetic lives here.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "kernels.hpp"

#define MANGACOLOR_STRINGIFY_(x) #x
#define MANGACOLOR_STRINGIFY(x) MANGACOLOR_STRINGIFY_(x)

namespace py = pybind11;


namespace {

using Shape = std::vector<py::ssize_t>;

std::string shape_str(const py::array& a) {
    std::ostringstream s;
    s << "(";
    for (py::ssize_t i = 0; i < a.ndim(); ++i) s << (i ? ", " : "") << a.shape(i);
    s << (a.ndim() == 1 ? ",)" : ")");
    return s.str();
}

[[noreturn]] void fail(const std::string& msg) { throw py::value_error(msg); }

template <typename T>
void require_dtype(const py::array& a, const char* name, const char* expected) {
    if (!py::isinstance<py::array_t<T>>(a))
        fail(std::string(name) + " must have dtype " + expected + ", got " +
             py::str(a.dtype()).cast<std::string>());
}

// A (..., channels) array seen as rows x cols pixels with byte strides: leading axes are merged where the memory
// layout allows, so views (crops, steps, flips) need no copy; anything else is copied to C order first.
struct Pixels {
    py::array keep;
    const uint8_t* data;
    int64_t rows, cols, rs, cs, chs;
};

Pixels as_pixels(py::array a, py::ssize_t channels, const char* name, const char* layout) {
    if (a.ndim() < 1 || a.shape(a.ndim() - 1) != channels)
        fail(std::string(name) + " must have shape " + layout + ", got " + shape_str(a));
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::vector<std::pair<int64_t, int64_t>> dims;  // (size, byte stride), size-1 axes dropped
        bool empty = false;
        for (py::ssize_t i = 0; i + 1 < a.ndim(); ++i) {
            if (a.shape(i) == 0) empty = true;
            if (a.shape(i) == 1) continue;
            if (!dims.empty() && dims.back().second == a.shape(i) * a.strides(i))
                dims.back() = {dims.back().first * a.shape(i), a.strides(i)};
            else
                dims.emplace_back(a.shape(i), a.strides(i));
        }
        const auto* data = static_cast<const uint8_t*>(a.data());
        const int64_t chs = a.strides(a.ndim() - 1);
        if (empty) return {a, data, 0, 0, 0, 0, chs};
        if (dims.empty()) return {a, data, 1, 1, 0, 0, chs};
        if (dims.size() == 1) return {a, data, 1, dims[0].first, 0, dims[0].second, chs};
        if (dims.size() == 2) return {a, data, dims[0].first, dims[1].first, dims[0].second, dims[1].second, chs};
        a = py::array::ensure(a, py::array::c_style);
    }
    fail(std::string(name) + ": could not lay out as pixels");
}

Shape with_last(const py::array& a, py::ssize_t last) {
    Shape s(a.shape(), a.shape() + a.ndim());
    s.back() = last;
    return s;
}

py::tuple pad_and_tile(py::array page, int64_t canvas, int64_t tile, int64_t y0, int64_t x0) {
    require_dtype<uint8_t>(page, "page", "uint8");
    if (page.ndim() != 2 && page.ndim() != 3)
        fail("page must have shape (H, W) or (H, W, C), got " + shape_str(page));
    if (tile <= 0 || canvas <= 0 || canvas % tile)
        fail("tile " + std::to_string(tile) + " must be positive and divide canvas " + std::to_string(canvas));
    const int64_t h = page.shape(0), w = page.shape(1), c = page.ndim() == 3 ? page.shape(2) : 1;
    if (c < 1) fail("page must have at least one channel, got " + shape_str(page));
    if (y0 < 0 || x0 < 0 || y0 + h > canvas || x0 + w > canvas)
        fail("page " + shape_str(page) + " at offset (" + std::to_string(y0) + ", " + std::to_string(x0) +
             ") does not fit on a " + std::to_string(canvas) + "x" + std::to_string(canvas) + " canvas");
    const int64_t n = canvas / tile;
    Shape shape{n * n, tile, tile};
    if (page.ndim() == 3) shape.push_back(c);
    py::array_t<uint8_t> tiles(shape);
    py::array_t<bool> blank(Shape{n * n});
    const auto* src = static_cast<const uint8_t*>(page.data());
    const int64_t sy = page.strides(0), sx = page.strides(1), sc = page.ndim() == 3 ? page.strides(2) : 1;
    uint8_t* out = tiles.mutable_data();
    bool* bl = blank.mutable_data();
    {
        py::gil_scoped_release nogil;
        mangacolor::pad_and_tile_u8(src, h, w, c, sy, sx, sc, canvas, tile, y0, x0, out, bl);
    }
    return py::make_tuple(tiles, blank);
}

py::array rgb_to_lab(py::array rgb) {
    require_dtype<uint8_t>(rgb, "rgb", "uint8");
    Pixels px = as_pixels(rgb, 3, "rgb", "(..., 3)");
    py::array_t<float> out(with_last(rgb, 3));
    float* dst = out.mutable_data();
    {
        py::gil_scoped_release nogil;
        mangacolor::rgb_to_lab_u8(px.data, px.rows, px.cols, px.rs, px.cs, px.chs, dst);
    }
    return std::move(out);
}

py::array lab_to_rgb(py::array lab, bool as_float) {
    require_dtype<float>(lab, "lab", "float32");
    Pixels px = as_pixels(lab, 3, "lab", "(..., 3)");
    if (as_float) {
        py::array_t<float> out(with_last(lab, 3));
        float* dst = out.mutable_data();
        {
            py::gil_scoped_release nogil;
            mangacolor::lab_to_rgb<float>(px.data, px.rows, px.cols, px.rs, px.cs, px.chs, dst);
        }
        return std::move(out);
    }
    py::array_t<uint8_t> out(with_last(lab, 3));
    uint8_t* dst = out.mutable_data();
    {
        py::gil_scoped_release nogil;
        mangacolor::lab_to_rgb<uint8_t>(px.data, px.rows, px.cols, px.rs, px.cs, px.chs, dst);
    }
    return std::move(out);
}

using Centers = py::array_t<float, py::array::c_style | py::array::forcecast>;

Centers check_centers(py::array centers) {
    if (centers.ndim() != 2 || centers.shape(1) != 2 || centers.shape(0) < 1)
        fail("centers must have shape (Q, 2) with Q >= 1, got " + shape_str(centers));
    if (centers.shape(0) > 32767) fail("at most 32767 bins fit int16 indices, got " + std::to_string(centers.shape(0)));
    return Centers::ensure(centers);  // small copy when needed
}

template <typename T>
py::array_t<T> to_array(const std::vector<T>& v) {
    py::array_t<T> a(Shape{static_cast<py::ssize_t>(v.size())});
    std::copy(v.begin(), v.end(), a.mutable_data());
    return a;
}

void check_k(int k, const Centers& c) {
    if (k < 1 || k > c.shape(0) || k > 64)
        fail("k must be in [1, min(Q, 64)] = [1, " + std::to_string(std::min<int64_t>(c.shape(0), 64)) +
             "], got " + std::to_string(k));
}

py::tuple build_knn_lut(py::array centers, int k, double lo, double res, int64_t n) {
    Centers c = check_centers(centers);
    check_k(k, c);
    if (!(res > 0) || n < 1) fail("lookup table needs res > 0 and n >= 1");
    std::vector<int32_t> offsets;
    std::vector<int16_t> cand;
    {
        py::gil_scoped_release nogil;
        mangacolor::build_knn_lut(c.data(), c.shape(0), k, lo, res, n, offsets, cand);
    }
    return py::make_tuple(to_array(offsets), to_array(cand));
}

// lut = build_knn_lut(centers, k, lo, res, n) for the same centers, k, lo, res and n.
py::object knn_encode(py::array ab, py::array centers, py::tuple lut, double lo, double res, int64_t n, int k,
                      double sigma, bool weights) {
    require_dtype<float>(ab, "ab", "float32");
    Pixels px = as_pixels(ab, 2, "ab", "(..., 2)");
    Centers c = check_centers(centers);
    check_k(k, c);
    if (weights && !(sigma > 0)) fail("sigma must be positive, got " + std::to_string(sigma));
    if (lut.size() != 2) fail("lut must be the (offsets, cand) pair from build_knn_lut");
    auto offsets = lut[0].cast<py::array_t<int32_t, py::array::c_style>>();
    auto cand = lut[1].cast<py::array_t<int16_t, py::array::c_style>>();
    if (offsets.ndim() != 1 || offsets.shape(0) != n * n + 1 || offsets.data()[n * n] != cand.size())
        fail("lut does not match n = " + std::to_string(n));
    Shape shape(ab.shape(), ab.shape() + ab.ndim());
    shape.back() = k;
    py::array_t<int16_t> idx(shape);
    py::array_t<float> w(weights ? shape : Shape{0});
    int16_t* pi = idx.mutable_data();
    float* pw = weights ? w.mutable_data() : nullptr;
    const float* pc = c.data();
    const int32_t* po = offsets.data();
    const int16_t* pd = cand.data();
    int64_t bad;
    {
        py::gil_scoped_release nogil;
        bad = mangacolor::knn_encode(px.data, px.rows, px.cols, px.rs, px.cs, px.chs, pc, c.shape(0), po, pd, lo,
                                     res, n, k, sigma, pi, pw);
    }
    if (bad) fail("ab must be finite, got " + std::to_string(bad) + " pixel(s) with NaN or inf");
    if (weights) return py::make_tuple(idx, w);
    return std::move(idx);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "mangacolor C++ preprocessing kernels; use the wrappers in mangacolor.kernels (tiling, lab, bins).";
    m.attr("__version__") = MANGACOLOR_STRINGIFY(VERSION_INFO);
    m.def("pad_and_tile", &pad_and_tile, py::arg("page"), py::arg("canvas"), py::arg("tile"), py::arg("y0"),
          py::arg("x0"), "uint8 page (H, W[, C]) placed at (y0, x0) on a black canvas -> (tiles, blank).");
    m.def("rgb_to_lab", &rgb_to_lab, py::arg("rgb"), "uint8 sRGB (..., 3) -> float32 Lab (D65).");
    m.def("lab_to_rgb", &lab_to_rgb, py::arg("lab"), py::arg("as_float") = false,
          "float32 Lab (..., 3) -> uint8 sRGB (rounded), or float32 in [0, 1] when as_float.");
    m.def("build_knn_lut", &build_knn_lut, py::arg("centers"), py::arg("k"), py::arg("lo"), py::arg("res"),
          py::arg("n"), "Candidate-bin table for k-nearest-bin lookups -> (offsets int32, cand int16).");
    m.def("knn_encode", &knn_encode, py::arg("ab"), py::arg("centers"), py::arg("lut"), py::arg("lo"),
          py::arg("res"), py::arg("n"), py::arg("k"), py::arg("sigma"), py::arg("weights"),
          "float32 ab (..., 2) -> k nearest bins int16 (..., k) [and normalised Gaussian weights float32].");
}
