// embed.cpp — the C API from C++: RAII ownership of handles, exceptions carrying the library's
// message, std::vector buffers. Embeds float NCHW images with a small ConvNet.
//
//   make && build/bin/embed_cpp
#include <contrastive.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace ctr {

struct Error : std::runtime_error {
    ctr_status status;
    Error(ctr_status s, const std::string &where)
        : std::runtime_error(where + ": " + ctr_status_string(s) + ": " + ctr_last_error()), status(s) {}
};

inline void check(ctr_status s, const char *where) {
    if (s != CTR_STATUS_OK) throw Error(s, where);
}

struct ModelDeleter {
    void operator()(ctr_model *m) const { ctr_model_free(m); }
};
using ModelPtr = std::unique_ptr<ctr_model, ModelDeleter>;

inline ModelPtr make_model(const ctr_model_options &opts) {
    ctr_model *raw = nullptr;
    check(ctr_model_create(&opts, &raw), "ctr_model_create");
    return ModelPtr(raw);
}

inline std::vector<float> embed(ctr_model *m, const std::vector<float> &nchw, int64_t n, int32_t c, int32_t h, int32_t w,
                                bool normalize) {
    ctr_embed_options eo;
    ctr_embed_options_default(&eo);
    eo.normalize = normalize ? 1 : 0;
    int32_t dim = 0;
    check(ctr_model_output_dim(m, eo.output, &dim), "ctr_model_output_dim");
    std::vector<float> out(static_cast<size_t>(n) * static_cast<size_t>(dim));
    check(ctr_model_embed_f32(m, nchw.data(), n, c, h, w, &eo, out.data(), out.size()), "ctr_model_embed_f32");
    return out;
}

}  // namespace ctr

int main() {
    try {
        ctr_model_options mo;
        ctr_model_options_default(&mo);
        mo.arch = CTR_ARCH_CONVNET;
        mo.in_channels = 1;  // e.g. Fashion-MNIST
        mo.seed = 3;
        auto model = ctr::make_model(mo);

        const int64_t n = 6;
        const int32_t c = 1, h = 28, w = 28;
        std::vector<float> images(static_cast<size_t>(n * c * h * w));
        for (size_t i = 0; i < images.size(); i++) images[i] = static_cast<float>((i * 7919) % 255) / 255.0f - 0.5f;

        auto z = ctr::embed(model.get(), images, n, c, h, w, true);
        std::printf("convnet embedded %lld images into %zu floats; z[0..2] = %.5f %.5f %.5f\n",
                    static_cast<long long>(n), z.size(), z[0], z[1], z[2]);

        images[5] = 0.0f / 0.0f;  // NaN input is refused, not propagated
        try {
            ctr::embed(model.get(), images, n, c, h, w, true);
            std::fprintf(stderr, "NaN input was accepted\n");
            return 1;
        } catch (const ctr::Error &e) {
            std::printf("NaN input: %s\n", e.what());
            if (e.status != CTR_STATUS_NUMERIC) return 1;
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
