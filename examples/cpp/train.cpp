// train.cpp — MoCo v2 pre-training from C++ on the built-in procedural colour dataset: RAII
// handles, exceptions carrying the library's message, a lambda as the progress callback, and
// cancellation + exact resume.
//
//   make && build/bin/train_cpp
#include <contrastive.h>

#include <cmath>
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

struct DatasetDeleter { void operator()(ctr_dataset *d) const { ctr_dataset_free(d); } };
struct TrainerDeleter { void operator()(ctr_trainer *t) const { ctr_trainer_free(t); } };
using Dataset = std::unique_ptr<ctr_dataset, DatasetDeleter>;
using Trainer = std::unique_ptr<ctr_trainer, TrainerDeleter>;

/// Runs `on_step(step, epoch_or_null) -> bool` (false cancels) through the C callback.
template <class F> ctr_status fit(ctr_trainer *t, F &on_step) {
    auto trampoline = [](const ctr_step_metrics *s, const ctr_epoch_metrics *e, void *user) -> int32_t {
        return (*static_cast<F *>(user))(*s, e) ? 0 : 1;
    };
    return ctr_trainer_fit(t, trampoline, &on_step);
}

}  // namespace ctr

int main() try {
    ctr_dataset *raw = nullptr;
    ctr::check(ctr_dataset_procedural(512, 32, 3, &raw), "ctr_dataset_procedural");
    ctr::Dataset all(raw);
    ctr_dataset *tr = nullptr, *va = nullptr;
    ctr::check(ctr_dataset_split(all.get(), 0.25, 1, &tr, &va), "ctr_dataset_split");
    ctr::Dataset train(tr), val(va);

    ctr_trainer_options o;
    ctr_trainer_options_default(&o);
    o.method = CTR_METHOD_MOCOV2;              // SGD 0.3, T 0.2, EMA keys, queue
    o.model.arch = CTR_ARCH_CONVNET;
    o.model.convnet_stages = 3;
    o.model.convnet_channels[0] = 16; o.model.convnet_channels[1] = 32; o.model.convnet_channels[2] = 64;
    o.model.head_layers = 2; o.model.head_hidden = 128; o.model.head_out = 64;
    o.queue_size = 1024;
    o.epochs = 3;
    o.batch_size = 64;
    o.rank_samples = 128;
    auto make = [&] {
        ctr_trainer *t = nullptr;
        ctr::check(ctr_trainer_create(&o, train.get(), val.get(), &t), "ctr_trainer_create");
        return ctr::Trainer(t);
    };

    // Run 1: cancel after 7 steps, save. Run 2: resume from the file and finish.
    ctr::Trainer first = make();
    int seen = 0;
    auto cancel_early = [&](const ctr_step_metrics &s, const ctr_epoch_metrics *) {
        std::printf("step %lld loss %.4f tau %.5f\n", static_cast<long long>(s.step), s.loss, s.tau);
        return ++seen < 7;
    };
    ctr_status st = ctr::fit(first.get(), cancel_early);
    if (st != CTR_STATUS_CANCELLED) throw std::runtime_error("expected cancellation");
    ctr::check(ctr_trainer_save(first.get(), "build/train_cpp_state.safetensors"), "ctr_trainer_save");

    ctr::Trainer second = make();
    ctr::check(ctr_trainer_load(second.get(), "build/train_cpp_state.safetensors"), "ctr_trainer_load");
    std::vector<double> losses;
    auto report = [&](const ctr_step_metrics &, const ctr_epoch_metrics *e) {
        if (e) {
            std::printf("epoch %d: loss %.4f, kNN top-1 %.1f%%, rank %.1f\n", e->epoch + 1, e->mean_loss,
                        100 * e->knn_top1, e->effective_rank);
            losses.push_back(e->mean_loss);
        }
        return true;
    };
    ctr::check(ctr::fit(second.get(), report), "ctr_trainer_fit");
    for (double l : losses)
        if (!std::isfinite(l)) throw std::runtime_error("non-finite loss");
    std::printf("done: %zu epochs after resume\n", losses.size());
    return 0;
} catch (const std::exception &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
}
