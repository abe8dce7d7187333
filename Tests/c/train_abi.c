/*
 * train_abi.c — the training C API end to end and at its boundary: SimCLR, MoCo v2, BYOL and
 * SwAV each pre-train on Fashion-MNIST (a 1024-image slice) with the loss going down and no
 * NaN; exact resume through ctr_trainer_save/load; cancellation; own batches; and NULL /
 * wrong-kind / out-of-range / impossible arguments, each a status with a message.
 */
#include "contrastive.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks = 0, failures = 0;
#define CHECK(cond)                                                                    \
    do {                                                                               \
        checks++;                                                                      \
        if (!(cond)) {                                                                 \
            failures++;                                                                \
            fprintf(stderr, "train_abi:%d: check failed: %s (last error: %s)\n",       \
                    __LINE__, #cond, ctr_last_error());                                \
        }                                                                              \
    } while (0)
/* A failing call must leave a message. */
#define FAILS(call, status) CHECK((call) == (status) && ctr_last_error()[0] != 0)

static void small(ctr_trainer_options *o, int32_t method, int32_t channels) {
    ctr_trainer_options_default(o);
    o->method = method;
    o->model.arch = CTR_ARCH_CONVNET;
    o->model.in_channels = channels;
    o->model.convnet_stages = 3;
    o->model.convnet_channels[0] = 16;
    o->model.convnet_channels[1] = 32;
    o->model.convnet_channels[2] = 64;
    o->model.head_layers = 2;
    o->model.head_hidden = 128;
    o->model.head_out = 64;
    o->epochs = 4;
    o->batch_size = 128;
    o->seed = 9;
    o->queue_size = 512;
    o->prototypes = 64;
    o->freeze_prototypes_epochs = 0;
    o->rank_samples = 256;
}

typedef struct { int steps, nonfinite, epochs; double first, last, epoch2; int cancel_after; } run_log;

static int32_t on_step(const ctr_step_metrics *s, const ctr_epoch_metrics *e, void *user) {
    run_log *r = user;
    /* Every step is reported once: with epoch == NULL, or together with its epoch's metrics
     * when it ends one. */
    r->steps++;
    if (!isfinite(s->loss) || s->skipped) r->nonfinite++;
    if (e) {
        if (r->epochs == 0) r->first = e->mean_loss;
        if (r->epochs == 1) r->epoch2 = e->mean_loss;
        r->last = e->mean_loss;
        r->epochs++;
    }
    return r->cancel_after > 0 && r->steps >= r->cancel_after;
}

int main(void) {
    const char *imgs = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
    const char *labs = "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz";
    ctr_dataset *fm = NULL, *some = NULL, *train = NULL, *val = NULL;
    if (ctr_dataset_load_idx(imgs, labs, &fm) != CTR_STATUS_OK) {
        printf("train_abi: fashion-mnist not installed (%s); using the procedural set\n", ctr_last_error());
        CHECK(ctr_dataset_procedural(1024, 28, 1, &fm) == CTR_STATUS_OK);
    }
    CHECK(ctr_dataset_slice(fm, 0, 1280, &some) == CTR_STATUS_OK);
    CHECK(ctr_dataset_split(some, 0.2, 3, &train, &val) == CTR_STATUS_OK);
    ctr_dataset_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    CHECK(ctr_dataset_get_info(train, &info) == CTR_STATUS_OK);
    int32_t ch = info.channels;

    /* The four anchor methods learn. */
    const int32_t methods[4] = {CTR_METHOD_SIMCLR, CTR_METHOD_MOCOV2, CTR_METHOD_BYOL, CTR_METHOD_SWAV};
    const char *names[4] = {"simclr", "mocov2", "byol", "swav"};
    for (int m = 0; m < 4; m++) {
        ctr_trainer_options o;
        small(&o, methods[m], ch);
        ctr_trainer *t = NULL;
        CHECK(ctr_trainer_create(&o, train, val, &t) == CTR_STATUS_OK && t);
        run_log r;
        memset(&r, 0, sizeof r);
        CHECK(ctr_trainer_fit(t, on_step, &r) == CTR_STATUS_OK);
        ctr_epoch_metrics hist[8];
        size_t n = 0;
        CHECK(ctr_trainer_history(t, hist, 8, &n) == CTR_STATUS_OK && n == 4);
        /* MoCo: the queue starts as random unit vectors, so compare with epoch 2. */
        double ref = methods[m] == CTR_METHOD_MOCOV2 ? r.epoch2 : r.first;
        CHECK(r.epochs == 4 && r.steps == 32 && r.nonfinite == 0);
        CHECK(isfinite(r.last) && r.last < ref);
        CHECK(hist[3].knn_top1 > 0.3 && hist[3].knn_top1 <= 1.0);
        printf("train_abi: %s loss %.4f -> %.4f, kNN top-1 %.1f%%, rank %.1f\n", names[m], r.first, r.last,
               100 * hist[3].knn_top1, hist[3].effective_rank);
        ctr_trainer_free(t);
    }

    /* Exact resume: cancel mid-epoch, save, load into a fresh trainer, finish == uninterrupted. */
    {
        ctr_trainer_options o;
        small(&o, CTR_METHOD_BYOL, ch);
        o.epochs = 2;
        o.knn_every = 0;
        ctr_trainer *full = NULL, *part = NULL, *resumed = NULL;
        CHECK(ctr_trainer_create(&o, train, NULL, &full) == CTR_STATUS_OK);
        CHECK(ctr_trainer_fit(full, NULL, NULL) == CTR_STATUS_OK);
        CHECK(ctr_trainer_create(&o, train, NULL, &part) == CTR_STATUS_OK);
        run_log r;
        memset(&r, 0, sizeof r);
        r.cancel_after = 5;
        CHECK(ctr_trainer_fit(part, on_step, &r) == CTR_STATUS_CANCELLED);
        ctr_train_state st;
        memset(&st, 0, sizeof st);
        st.struct_size = sizeof st;
        CHECK(ctr_trainer_get_state(part, &st) == CTR_STATUS_OK && st.global_step == 5 && st.step_in_epoch == 5);
        const char *path = "build/train_abi_state.safetensors";
        CHECK(ctr_trainer_save(part, path) == CTR_STATUS_OK);
        CHECK(ctr_trainer_create(&o, train, NULL, &resumed) == CTR_STATUS_OK);
        CHECK(ctr_trainer_load(resumed, path) == CTR_STATUS_OK);
        CHECK(ctr_trainer_fit(resumed, NULL, NULL) == CTR_STATUS_OK);
        size_t cnt = (size_t)info.count * 64;
        float *a = malloc(cnt * sizeof *a), *b = malloc(cnt * sizeof *b);
        CHECK(a && b);
        CHECK(ctr_trainer_embed_dataset(full, train, CTR_EMBED_BACKBONE, 0, a, cnt) == CTR_STATUS_OK);
        CHECK(ctr_trainer_embed_dataset(resumed, train, CTR_EMBED_BACKBONE, 0, b, cnt) == CTR_STATUS_OK);
        CHECK(memcmp(a, b, cnt * sizeof *a) == 0);
        FAILS(ctr_trainer_embed_dataset(full, train, CTR_EMBED_BACKBONE, 0, a, cnt - 1), CTR_STATUS_BUFFER_TOO_SMALL);
        FAILS(ctr_trainer_embed_dataset(full, train, 7, 0, a, cnt), CTR_STATUS_INVALID_ARGUMENT);
        FAILS(ctr_trainer_embed_dataset(full, NULL, 0, 0, a, cnt), CTR_STATUS_INVALID_ARGUMENT);
        FAILS(ctr_trainer_step(full, NULL), CTR_STATUS_INVALID_ARGUMENT);   /* already finished */
        /* A checkpoint of another method; a model checkpoint; a missing file. */
        ctr_trainer_options so;
        small(&so, CTR_METHOD_SIMCLR, ch);
        ctr_trainer *simclr = NULL;
        CHECK(ctr_trainer_create(&so, train, NULL, &simclr) == CTR_STATUS_OK);
        FAILS(ctr_trainer_load(simclr, path), CTR_STATUS_FORMAT);
        CHECK(strstr(ctr_last_error(), "method byol") != NULL);
        CHECK(ctr_trainer_export_encoder(simclr, "build/train_abi_encoder.safetensors", 1) == CTR_STATUS_OK);
        FAILS(ctr_trainer_load(simclr, "build/train_abi_encoder.safetensors"), CTR_STATUS_FORMAT);
        FAILS(ctr_trainer_load(simclr, "build/no/such/file.safetensors"), CTR_STATUS_IO);
        FAILS(ctr_trainer_save(simclr, "build/no/such/dir/state.safetensors"), CTR_STATUS_IO);
        FAILS(ctr_trainer_export_encoder(simclr, "build/x.safetensors", 2), CTR_STATUS_INVALID_ARGUMENT);
        ctr_model *model = NULL;
        CHECK(ctr_trainer_get_model(simclr, &model) == CTR_STATUS_OK && model);
        CHECK(ctr_model_load(model, "build/train_abi_encoder.safetensors", 0) == CTR_STATUS_OK);
        ctr_model_free(model);
        /* Fine-tuning a trained encoder with labels: beats chance clearly. */
        CHECK(ctr_trainer_get_model(full, &model) == CTR_STATUS_OK);
        ctr_finetune_options fo;
        ctr_finetune_options_default(&fo);
        fo.epochs = 3;
        fo.batch_size = 128;
        ctr_finetune_result fr;
        memset(&fr, 0, sizeof fr);
        fr.struct_size = sizeof fr;
        CHECK(ctr_model_finetune(model, train, val, &fo, &fr) == CTR_STATUS_OK);
        CHECK(fr.top1 > 0.25 && fr.top5 >= fr.top1 && fr.steps == 24);   /* 10 classes: chance is 0.1 */
        printf("train_abi: fine-tuned BYOL encoder: top-1 %.1f%%\n", 100 * fr.top1);
        FAILS(ctr_model_finetune(model, train, NULL, &fo, &fr), CTR_STATUS_INVALID_ARGUMENT);
        FAILS(ctr_model_finetune(model, train, val, &fo, NULL), CTR_STATUS_INVALID_ARGUMENT);
        fo.learning_rate = -1;
        FAILS(ctr_model_finetune(model, train, val, &fo, &fr), CTR_STATUS_INVALID_ARGUMENT);
        ctr_finetune_options_default(&fo);
        fo.freeze_backbone = 3;
        FAILS(ctr_model_finetune(model, train, val, &fo, &fr), CTR_STATUS_INVALID_ARGUMENT);
        ctr_model_free(model);
        /* Own batches. */
        static uint8_t px[16 * 28 * 28];
        CHECK(ctr_dataset_copy_images(train, 0, 16, px, sizeof px) == CTR_STATUS_OK);
        ctr_step_metrics sm;
        memset(&sm, 0, sizeof sm);
        sm.struct_size = sizeof sm;
        CHECK(ctr_trainer_step_batch(simclr, px, 16, 28, 28, 1, NULL, &sm) == CTR_STATUS_OK && isfinite(sm.loss));
        FAILS(ctr_trainer_step_batch(simclr, px, 1, 28, 28, 1, NULL, &sm), CTR_STATUS_INVALID_ARGUMENT);
        FAILS(ctr_trainer_step_batch(simclr, NULL, 16, 28, 28, 1, NULL, &sm), CTR_STATUS_INVALID_ARGUMENT);
        FAILS(ctr_trainer_step_batch(simclr, px, 4, 28, 28, 3, NULL, &sm), CTR_STATUS_SHAPE_MISMATCH);
        FAILS(ctr_trainer_step_batch(simclr, px, 16, 0, 28, 1, NULL, &sm), CTR_STATUS_INVALID_ARGUMENT);
        sm.struct_size = 3;
        FAILS(ctr_trainer_step_batch(simclr, px, 16, 28, 28, 1, NULL, &sm), CTR_STATUS_INVALID_ARGUMENT);
        /* History size query. */
        size_t n = 99;
        CHECK(ctr_trainer_history(full, NULL, 0, &n) == CTR_STATUS_BUFFER_TOO_SMALL && n == 2);
        free(a);
        free(b);
        ctr_trainer_free(simclr);
        ctr_trainer_free(full);
        ctr_trainer_free(part);
        ctr_trainer_free(resumed);
    }

    /* Boundary: NULLs, wrong kinds, impossible options. */
    {
        ctr_trainer *t = (ctr_trainer *)(void *)0x1;
        ctr_trainer_options o;
        small(&o, CTR_METHOD_SIMCLR, ch);
        FAILS(ctr_trainer_create(&o, train, NULL, NULL), CTR_STATUS_INVALID_ARGUMENT);
        o.batch_size = 100000;
        FAILS(ctr_trainer_create(&o, train, NULL, &t), CTR_STATUS_INVALID_ARGUMENT);
        CHECK(t == NULL);
        small(&o, CTR_METHOD_SIMCLR, ch);
        o.method = 42;
        FAILS(ctr_trainer_create(&o, train, NULL, &t), CTR_STATUS_INVALID_ARGUMENT);
        small(&o, CTR_METHOD_SIMCLR, ch);
        o.temperature = NAN;
        FAILS(ctr_trainer_create(&o, train, NULL, &t), CTR_STATUS_INVALID_ARGUMENT);
        small(&o, CTR_METHOD_SIMCLR, ch);
        o.accumulation = 3;
        FAILS(ctr_trainer_create(&o, train, NULL, &t), CTR_STATUS_INVALID_ARGUMENT);
        small(&o, CTR_METHOD_SIMCLR, ch);
        o.epochs = 0;
        FAILS(ctr_trainer_create(&o, train, NULL, &t), CTR_STATUS_INVALID_ARGUMENT);
        small(&o, CTR_METHOD_SIMCLR, ch);
        o.model.in_channels = ch + 2;
        FAILS(ctr_trainer_create(&o, train, NULL, &t), CTR_STATUS_SHAPE_MISMATCH);
        small(&o, CTR_METHOD_SIMCLR, ch);
        o.augment_preset = "no-such-preset";
        FAILS(ctr_trainer_create(&o, train, NULL, &t), CTR_STATUS_INVALID_ARGUMENT);
        small(&o, CTR_METHOD_SIMCLR, ch);
        o.augment_description = "view x2: rrc size=28 | bogus";
        FAILS(ctr_trainer_create(&o, train, NULL, &t), CTR_STATUS_FORMAT);
        small(&o, CTR_METHOD_SIMCLR, ch);
        o.struct_size = 2;
        FAILS(ctr_trainer_create(&o, train, NULL, &t), CTR_STATUS_INVALID_ARGUMENT);
        small(&o, CTR_METHOD_SUPCON, ch);
        ctr_dataset *unlabelled = NULL;
        static uint8_t zeros[64 * 28 * 28];
        CHECK(ctr_dataset_from_memory(zeros, 64, 28, 28, 1, NULL, &unlabelled) == CTR_STATUS_OK);
        FAILS(ctr_trainer_create(&o, unlabelled, NULL, &t), CTR_STATUS_INVALID_ARGUMENT);
        small(&o, CTR_METHOD_SIMCLR, ch);
        FAILS(ctr_trainer_create(&o, train, unlabelled, &t), CTR_STATUS_INVALID_ARGUMENT);  /* validation unlabelled */
        ctr_dataset_free(unlabelled);
        /* Wrong-kind handle: a dataset passed as a trainer. */
        FAILS(ctr_trainer_fit((ctr_trainer *)(void *)train, NULL, NULL), CTR_STATUS_INVALID_ARGUMENT);
        FAILS(ctr_trainer_fit(NULL, NULL, NULL), CTR_STATUS_INVALID_ARGUMENT);
        FAILS(ctr_trainer_step(NULL, NULL), CTR_STATUS_INVALID_ARGUMENT);
        FAILS(ctr_trainer_save(NULL, "x"), CTR_STATUS_INVALID_ARGUMENT);
        FAILS(ctr_trainer_load(NULL, "x"), CTR_STATUS_INVALID_ARGUMENT);
        FAILS(ctr_trainer_get_state(NULL, NULL), CTR_STATUS_INVALID_ARGUMENT);
        FAILS(ctr_trainer_get_model(NULL, NULL), CTR_STATUS_INVALID_ARGUMENT);
        ctr_trainer_free(NULL);
        ctr_trainer_options_default(NULL);      /* ignored */
        ctr_finetune_options_default(NULL);
        /* Slices: out of range, empty, NULLs, wrong kind. */
        ctr_dataset *sl = (ctr_dataset *)(void *)0x1;
        FAILS(ctr_dataset_slice(train, 0, 0, &sl), CTR_STATUS_INVALID_ARGUMENT);
        CHECK(sl == NULL);
        FAILS(ctr_dataset_slice(train, -1, 4, &sl), CTR_STATUS_INVALID_ARGUMENT);
        FAILS(ctr_dataset_slice(train, info.count - 2, 4, &sl), CTR_STATUS_INVALID_ARGUMENT);
        FAILS(ctr_dataset_slice(train, INT64_MAX, INT64_MAX, &sl), CTR_STATUS_INVALID_ARGUMENT);
        FAILS(ctr_dataset_slice(train, 0, 4, NULL), CTR_STATUS_INVALID_ARGUMENT);
        FAILS(ctr_dataset_slice(NULL, 0, 4, &sl), CTR_STATUS_INVALID_ARGUMENT);
        CHECK(ctr_dataset_slice(train, info.count - 4, 4, &sl) == CTR_STATUS_OK && sl);
        ctr_dataset_info si;
        memset(&si, 0, sizeof si);
        si.struct_size = sizeof si;
        CHECK(ctr_dataset_get_info(sl, &si) == CTR_STATUS_OK && si.count == 4 && si.has_labels == 1);
        ctr_dataset_free(sl);
        /* State / history / embed arguments on a live trainer. */
        small(&o, CTR_METHOD_SIMCLR, ch);
        CHECK(ctr_trainer_create(&o, train, NULL, &t) == CTR_STATUS_OK);
        ctr_train_state bad;
        memset(&bad, 0, sizeof bad);
        bad.struct_size = 2;
        FAILS(ctr_trainer_get_state(t, &bad), CTR_STATUS_INVALID_ARGUMENT);
        FAILS(ctr_trainer_history(t, NULL, 5, NULL), CTR_STATUS_INVALID_ARGUMENT);   /* NULL out with capacity */
        FAILS(ctr_trainer_get_model(t, NULL), CTR_STATUS_INVALID_ARGUMENT);
        FAILS(ctr_trainer_save(t, NULL), CTR_STATUS_INVALID_ARGUMENT);
        FAILS(ctr_trainer_load(t, ""), CTR_STATUS_INVALID_ARGUMENT);
        ctr_trainer_free(t);
        t = NULL;
        /* Divergence: NUMERIC, encoder still loadable (finite). */
        small(&o, CTR_METHOD_SIMCLR, ch);
        o.optimizer = CTR_OPTIMIZER_SGD;
        o.learning_rate = 3e38f;
        o.lr_scaling = CTR_LR_SCALING_NONE;
        o.schedule = CTR_SCHEDULE_CONSTANT;
        o.max_skipped_steps = 2;
        o.knn_every = 0;
        CHECK(ctr_trainer_create(&o, train, NULL, &t) == CTR_STATUS_OK);
        FAILS(ctr_trainer_fit(t, NULL, NULL), CTR_STATUS_NUMERIC);
        CHECK(ctr_trainer_export_encoder(t, "build/train_abi_diverged.safetensors", 1) == CTR_STATUS_OK);
        ctr_model *mm = NULL;
        CHECK(ctr_trainer_get_model(t, &mm) == CTR_STATUS_OK);
        CHECK(ctr_model_load(mm, "build/train_abi_diverged.safetensors", 1) == CTR_STATUS_OK);
        ctr_model_free(mm);
        ctr_trainer_free(t);
    }

    ctr_dataset_free(fm);
    ctr_dataset_free(some);
    ctr_dataset_free(train);
    ctr_dataset_free(val);
    printf("train_abi: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
