/*
 * train_simclr.c — self-supervised SimCLR pre-training on Fashion-MNIST from C: load the IDX
 * files, hold out a labelled validation split (online kNN), train a small ConvNet with a
 * progress callback, save the full training state, resume it in a fresh trainer, export the
 * encoder and embed the validation images with it.
 *
 *   make && build/bin/train_simclr [images.gz labels.gz] [--images N] [--epochs E]
 *   (default: Debian's dataset-fashion-mnist, the first 2048 images, 2 epochs)
 */
#include <contrastive.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                                        \
    do {                                                                                   \
        ctr_status st_ = (call);                                                           \
        if (st_ != CTR_STATUS_OK) {                                                        \
            fprintf(stderr, "%s failed: %s: %s\n", #call, ctr_status_string(st_),          \
                    ctr_last_error());                                                     \
            return 1;                                                                      \
        }                                                                                  \
    } while (0)

/* Called after every step; epoch != NULL at the end of an epoch. Return non-zero to cancel. */
static int32_t on_progress(const ctr_step_metrics *s, const ctr_epoch_metrics *e, void *user) {
    double *first_loss = user;
    if (s->step == 0) *first_loss = s->loss;
    if (e)
        printf("epoch %d: mean loss %.4f, kNN top-1 %.1f%%, effective rank %.1f, %.1f s\n", e->epoch + 1,
               e->mean_loss, 100 * e->knn_top1, e->effective_rank, e->seconds);
    else if (s->step % 8 == 0)
        printf("  step %lld/%lld loss %.4f lr %.3f grad %.3f std %.3f %.0f img/s\n", (long long)s->step + 1,
               (long long)s->total_steps, s->loss, s->learning_rate, s->grad_norm, s->embedding_std,
               s->images_per_second);
    return 0;
}

int main(int argc, char **argv) {
    const char *images = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
    const char *labels = "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz";
    long limit = 2048, epochs = 2;
    int positional = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--images") && i + 1 < argc) limit = atol(argv[++i]);
        else if (!strcmp(argv[i], "--epochs") && i + 1 < argc) epochs = atol(argv[++i]);
        else if (positional == 0) { images = argv[i]; positional++; }
        else labels = argv[i];
    }

    ctr_dataset *all = NULL, *some = NULL, *train = NULL, *val = NULL;
    CHECK(ctr_dataset_load_idx(images, labels, &all));
    ctr_dataset_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    CHECK(ctr_dataset_get_info(all, &info));
    if (limit > info.count) limit = (long)info.count;
    CHECK(ctr_dataset_slice(all, 0, limit, &some));
    CHECK(ctr_dataset_split(some, 0.125, 7, &train, &val));   /* 1/8 held out for online kNN */
    ctr_dataset_free(all);
    ctr_dataset_free(some);
    printf("Fashion-MNIST: %ld images of %dx%dx%d, %d classes\n", limit, info.height, info.width, info.channels,
           info.num_classes);

    ctr_trainer_options to;
    ctr_trainer_options_default(&to);          /* SimCLR, LARS, warm-up cosine, NT-Xent T 0.2 */
    to.method = CTR_METHOD_SIMCLR;
    to.model.arch = CTR_ARCH_CONVNET;          /* conv-BN-ReLU-maxpool stages 32-64-128-256 */
    to.model.in_channels = 1;
    to.model.head_layers = 2;                  /* projector 256 -> 512 -> 128 */
    to.model.head_hidden = 512;
    to.model.head_out = 128;
    to.epochs = (int32_t)epochs;
    to.batch_size = 128;
    to.seed = 1;
    to.rank_samples = 512;
    ctr_trainer *trainer = NULL;
    CHECK(ctr_trainer_create(&to, train, val, &trainer));

    double first_loss = 0;
    ctr_train_state state;
    memset(&state, 0, sizeof state);
    state.struct_size = sizeof state;
    CHECK(ctr_trainer_get_state(trainer, &state));
    printf("training %lld steps of %d images (%dx%d crops)\n", (long long)state.total_steps, to.batch_size,
           state.crop_height, state.crop_width);
    CHECK(ctr_trainer_fit(trainer, on_progress, &first_loss));

    ctr_epoch_metrics hist[64];
    size_t n_epochs = 0;
    CHECK(ctr_trainer_history(trainer, hist, 64, &n_epochs));
    double last = hist[n_epochs - 1].mean_loss;
    printf("loss %.4f (first step) -> %.4f (last epoch mean)\n", first_loss, last);
    if (!(last < first_loss) || !isfinite(last)) { fprintf(stderr, "loss did not go down\n"); return 1; }

    /* Full training state, atomically; a fresh trainer resumes from it exactly. */
    const char *ckpt = "build/train_simclr_state.safetensors";
    CHECK(ctr_trainer_save(trainer, ckpt));
    ctr_trainer *resumed = NULL;
    CHECK(ctr_trainer_create(&to, train, val, &resumed));
    CHECK(ctr_trainer_load(resumed, ckpt));
    CHECK(ctr_trainer_get_state(resumed, &state));
    printf("resumed: epoch %d/%d, step %lld, finished %d\n", state.epoch, state.epochs, (long long)state.global_step,
           state.finished);

    /* Export the backbone (torchvision naming) and embed the validation set with it. */
    CHECK(ctr_trainer_export_encoder(resumed, "build/train_simclr_encoder.safetensors", 0));
    ctr_model *model = NULL;
    CHECK(ctr_trainer_get_model(resumed, &model));
    int32_t dim = 0;
    CHECK(ctr_model_output_dim(model, CTR_EMBED_BACKBONE, &dim));
    ctr_dataset_info vi;
    memset(&vi, 0, sizeof vi);
    vi.struct_size = sizeof vi;
    CHECK(ctr_dataset_get_info(val, &vi));
    float *feats = malloc((size_t)vi.count * (size_t)dim * sizeof *feats);
    if (!feats) return 1;
    CHECK(ctr_trainer_embed_dataset(resumed, val, CTR_EMBED_BACKBONE, 1, feats, (size_t)vi.count * (size_t)dim));
    printf("embedded %lld validation images into %d-d unit vectors (first: %.3f %.3f %.3f)\n", (long long)vi.count, dim,
           feats[0], feats[1], feats[2]);

    free(feats);
    ctr_model_free(model);
    ctr_trainer_free(resumed);
    ctr_trainer_free(trainer);
    ctr_dataset_free(train);
    ctr_dataset_free(val);
    return 0;
}
