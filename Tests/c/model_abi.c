/*
 * model_abi.c — the boundary of the model functions of include/contrastive.h, from plain C99.
 *
 * Every model function is given NULL handles, NULL out pointers, NULL or short options
 * structs, out-of-range enum values and sizes, too-small buffers, unwritable and missing
 * paths, garbage files and a checkpoint truncated at every byte. Each call must return the
 * documented status with a message naming the function, and must leave the caller's buffers
 * and the model as they were (the model is compared through its embeddings).
 *
 * Not covered: "a handle of another kind" — the header declares no other handle type yet.
 *
 * Built by the Makefile rule $(BUILD)/tests/%: Tests/c/%.c, i.e.
 *   gcc -std=c99 -Wall -Wextra -Werror -pedantic -O2 -Iinclude -D_POSIX_C_SOURCE=200809L \
 *       Tests/c/model_abi.c -o build/tests/model_abi -Lbuild/lib -lcontrastive \
 *       -Wl,-rpath,'$ORIGIN/../lib' -lm -lpthread
 * Prints one line per group and exits non-zero at the first failed check.
 */
#include "contrastive.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------ */
/* Check helpers                                                                               */
/* ------------------------------------------------------------------------------------------ */

static int checks_passed = 0;
static const char *expecting = ""; /* what the current check is about, for failure reports */

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "model_abi: FAILED at %s:%d: %s (%s)\n  ctr_last_error(): \"%s\"\n", \
                    __FILE__, __LINE__, #cond, expecting, ctr_last_error());                 \
            exit(1);                                                                         \
        }                                                                                    \
        checks_passed++;                                                                     \
    } while (0)

/* A call must return `expected` and leave a non-empty message naming the function. */
#define CHECK_FAILS(call, expected, fname)                                                   \
    do {                                                                                     \
        ctr_clear_error();                                                                   \
        CHECK((call) == (expected));                                                         \
        CHECK(ctr_last_error()[0] != '\0');                                                  \
        CHECK(strstr(ctr_last_error(), (fname)) != NULL);                                    \
    } while (0)

#define CHECK_OK(call)                                                                       \
    do {                                                                                     \
        ctr_status st_ = (call);                                                             \
        if (st_ != CTR_STATUS_OK) {                                                          \
            fprintf(stderr, "model_abi: FAILED at %s:%d: %s returned %s: %s\n", __FILE__,    \
                    __LINE__, #call, ctr_status_string(st_), ctr_last_error());              \
            exit(1);                                                                         \
        }                                                                                    \
        checks_passed++;                                                                     \
    } while (0)

static void group_done(const char *name, int first_check) {
    printf("model_abi: %-34s ok (%d checks)\n", name, checks_passed - first_check);
}

/* A non-NULL pointer value that is not a handle: the library must overwrite it with NULL. */
static ctr_model *const SENTINEL_HANDLE = (ctr_model *)(uintptr_t)0x5a5a5a50u;

/* ------------------------------------------------------------------------------------------ */
/* Fixtures: a tiny ConvNet, its images, a scratch folder                                      */
/* ------------------------------------------------------------------------------------------ */

enum { TN = 3, TH = 8, TW = 8, TC = 1, TDIM = 8 }; /* ConvNet {4, 8}, 1 channel, 8x8 images */

static uint8_t tiny_images[TN * TH * TW * TC];
static float tiny_images_f32[TN * TC * TH * TW];
static char scratch_dir[256];

static void make_images(void) {
    int i;
    for (i = 0; i < TN * TH * TW * TC; i++) tiny_images[i] = (uint8_t)((i * 37 + 11) & 255);
    for (i = 0; i < TN * TH * TW * TC; i++) tiny_images_f32[i] = (float)tiny_images[i] / 255.0f;
}

static void tiny_options(ctr_model_options *o, uint64_t seed) {
    ctr_model_options_default(o);
    o->arch = CTR_ARCH_CONVNET;
    o->in_channels = TC;
    o->convnet_stages = 2;
    o->convnet_channels[0] = 4;
    o->convnet_channels[1] = TDIM;
    o->seed = seed;
}

static ctr_model *tiny_model(uint64_t seed) {
    ctr_model_options o;
    ctr_model *m = NULL;
    tiny_options(&o, seed);
    CHECK_OK(ctr_model_create(&o, &m));
    CHECK(m != NULL);
    return m;
}

/* Embeddings of the tiny images (eval mode, backbone): the model's "fingerprint". */
static void tiny_embed(ctr_model *m, float out[TN * TDIM]) {
    CHECK_OK(ctr_model_embed_u8(m, tiny_images, TN, TH, TW, TC, NULL, out, TN * TDIM));
}

static void scratch_path(char *buf, size_t cap, const char *name) {
    int n = snprintf(buf, cap, "%s/%s", scratch_dir, name);
    CHECK(n > 0 && (size_t)n < cap);
}

static void write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(size == 0 || fwrite(data, 1, size, f) == size);
    CHECK(fclose(f) == 0);
}

static unsigned char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    long len;
    unsigned char *buf;
    CHECK(f != NULL);
    CHECK(fseek(f, 0, SEEK_END) == 0);
    len = ftell(f);
    CHECK(len > 0);
    CHECK(fseek(f, 0, SEEK_SET) == 0);
    buf = malloc((size_t)len);
    CHECK(buf != NULL);
    CHECK(fread(buf, 1, (size_t)len, f) == (size_t)len);
    fclose(f);
    *size = (size_t)len;
    return buf;
}

/* ------------------------------------------------------------------------------------------ */
/* Groups                                                                                      */
/* ------------------------------------------------------------------------------------------ */

static void check_option_defaults(void) {
    int first = checks_passed, i;
    ctr_model_options mo;
    ctr_embed_options eo;
    ctr_model_options_default(NULL); /* ignored */
    ctr_embed_options_default(NULL);
    memset(&mo, 0xab, sizeof mo);
    ctr_model_options_default(&mo);
    CHECK(mo.struct_size == sizeof(ctr_model_options));
    CHECK(mo.arch == CTR_ARCH_RESNET18 && mo.stem == CTR_STEM_IMAGENET && mo.in_channels == 3);
    CHECK(mo.width == 1.0f && mo.zero_init_residual == 0);
    CHECK(mo.convnet_stages == 4);
    CHECK(mo.convnet_channels[0] == 32 && mo.convnet_channels[1] == 64 &&
          mo.convnet_channels[2] == 128 && mo.convnet_channels[3] == 256);
    for (i = 4; i < CTR_CONVNET_MAX_STAGES; i++) CHECK(mo.convnet_channels[i] == 0);
    CHECK(mo.head_layers == 0 && mo.head_hidden == 2048 && mo.head_out == 128);
    CHECK(mo.head_batch_norm == 0 && mo.head_last_batch_norm == 0 && mo.seed == 0);
    memset(&eo, 0xab, sizeof eo);
    ctr_embed_options_default(&eo);
    CHECK(eo.struct_size == sizeof(ctr_embed_options));
    CHECK(eo.output == CTR_EMBED_BACKBONE && eo.normalize == 0 && eo.chunk == 128);
    CHECK(eo.mean == NULL && eo.std == NULL);
    group_done("option defaults", first);
}

/* Create with `o` must fail with INVALID_ARGUMENT, set *out to NULL and say `word`. */
static void expect_create_invalid(const ctr_model_options *o, const char *word) {
    ctr_model *m = SENTINEL_HANDLE;
    expecting = word;
    CHECK_FAILS(ctr_model_create(o, &m), CTR_STATUS_INVALID_ARGUMENT, "ctr_model_create");
    CHECK(m == NULL);
    expecting = "";
    if (strstr(ctr_last_error(), word) == NULL) {
        fprintf(stderr, "model_abi: message \"%s\" does not mention \"%s\"\n", ctr_last_error(), word);
        exit(1);
    }
}

static void check_create(void) {
    int first = checks_passed;
    ctr_model_options o;
    ctr_model *m = SENTINEL_HANDLE;
    int32_t dim = 0;
    int64_t params = 0, buffers = 0;
    struct {
        ctr_model_options known;
        int32_t appended[8]; /* fields of a future header version */
    } newer;

    /* NULL out. */
    CHECK_FAILS(ctr_model_create(NULL, NULL), CTR_STATUS_INVALID_ARGUMENT, "ctr_model_create");
    tiny_options(&o, 0);
    CHECK_FAILS(ctr_model_create(&o, NULL), CTR_STATUS_INVALID_ARGUMENT, "ctr_model_create");

    /* NULL options = defaults: ResNet-18, ImageNet stem, 3 channels, no head. */
    CHECK_OK(ctr_model_create(NULL, &m));
    CHECK(m != NULL && m != SENTINEL_HANDLE);
    CHECK_OK(ctr_model_output_dim(m, CTR_EMBED_BACKBONE, &dim));
    CHECK(dim == 512);
    CHECK_OK(ctr_model_num_params(m, &params, &buffers));
    CHECK(params == 11176512 && buffers == 9620);
    ctr_model_free(m);

    /* struct_size 0 .. 3 cannot even hold struct_size. */
    tiny_options(&o, 0);
    o.struct_size = 0;
    expect_create_invalid(&o, "struct_size");
    o.struct_size = 3;
    expect_create_invalid(&o, "struct_size");

    /* An old caller: only struct_size and arch are read, the rest (including the garbage
     * below) are defaults — a 3-channel ResNet-18. */
    memset(&o, 0xff, sizeof o);
    o.struct_size = (uint32_t)offsetof(ctr_model_options, stem);
    o.arch = CTR_ARCH_RESNET18;
    m = SENTINEL_HANDLE;
    CHECK_OK(ctr_model_create(&o, &m));
    CHECK_OK(ctr_model_output_dim(m, CTR_EMBED_BACKBONE, &dim));
    CHECK(dim == 512);
    CHECK_OK(ctr_model_num_params(m, &params, NULL));
    CHECK(params == 11176512);
    CHECK(ctr_model_output_dim(m, CTR_EMBED_PROJECTOR, &dim) == CTR_STATUS_INVALID_ARGUMENT);
    ctr_model_free(m);

    /* Old caller cut before in_channels, as a ConvNet: garbage in_channels etc. not read. */
    memset(&o, 0xff, sizeof o);
    o.struct_size = (uint32_t)offsetof(ctr_model_options, in_channels);
    o.arch = CTR_ARCH_CONVNET;
    o.stem = CTR_STEM_CIFAR;
    m = SENTINEL_HANDLE;
    CHECK_OK(ctr_model_create(&o, &m));
    CHECK_OK(ctr_model_output_dim(m, CTR_EMBED_BACKBONE, &dim));
    CHECK(dim == 256); /* default ConvNet channels 32, 64, 128, 256 */
    ctr_model_free(m);

    /* Cut before the head fields: garbage there is not read, so no head. */
    tiny_options(&o, 0);
    memset(&o.head_layers, 0x7f, sizeof o - offsetof(ctr_model_options, head_layers));
    o.struct_size = (uint32_t)offsetof(ctr_model_options, head_layers);
    m = SENTINEL_HANDLE;
    CHECK_OK(ctr_model_create(&o, &m));
    CHECK(ctr_model_output_dim(m, CTR_EMBED_PROJECTOR, &dim) == CTR_STATUS_INVALID_ARGUMENT);
    CHECK_OK(ctr_model_output_dim(m, CTR_EMBED_BACKBONE, &dim));
    CHECK(dim == TDIM);
    ctr_model_free(m);

    /* A newer caller (larger struct): the library reads what it knows. */
    memset(&newer, 0x33, sizeof newer);
    tiny_options(&newer.known, 0);
    newer.known.struct_size = (uint32_t)sizeof newer;
    m = SENTINEL_HANDLE;
    CHECK_OK(ctr_model_create(&newer.known, &m));
    CHECK_OK(ctr_model_output_dim(m, CTR_EMBED_BACKBONE, &dim));
    CHECK(dim == TDIM);
    ctr_model_free(m);

    /* Every option out of range. */
    tiny_options(&o, 0); o.arch = 0;                  expect_create_invalid(&o, "arch 0");
    tiny_options(&o, 0); o.arch = 7;                  expect_create_invalid(&o, "arch 7");
    tiny_options(&o, 0); o.arch = -18;                expect_create_invalid(&o, "arch");
    tiny_options(&o, 0); o.arch = 19;                 expect_create_invalid(&o, "arch");
    tiny_options(&o, 0); o.arch = 18; o.stem = 2;     expect_create_invalid(&o, "stem 2");
    tiny_options(&o, 0); o.arch = 50; o.stem = -1;    expect_create_invalid(&o, "stem");
    tiny_options(&o, 0); o.arch = 18; o.zero_init_residual = 2; expect_create_invalid(&o, "zero_init_residual");
    tiny_options(&o, 0); o.arch = 18; o.in_channels = 0;    expect_create_invalid(&o, "channels");
    tiny_options(&o, 0); o.arch = 18; o.in_channels = 4097; expect_create_invalid(&o, "channels");
    tiny_options(&o, 0); o.in_channels = -3;                expect_create_invalid(&o, "channels");
    tiny_options(&o, 0); o.arch = 18; o.width = 0.0f;       expect_create_invalid(&o, "width");
    tiny_options(&o, 0); o.arch = 18; o.width = 16.5f;      expect_create_invalid(&o, "width");
    tiny_options(&o, 0); o.arch = 18; o.width = (float)NAN; expect_create_invalid(&o, "width");
    tiny_options(&o, 0); o.arch = 18; o.width = (float)INFINITY; expect_create_invalid(&o, "width");
    tiny_options(&o, 0); o.convnet_stages = 0;  expect_create_invalid(&o, "convnet_stages");
    tiny_options(&o, 0); o.convnet_stages = CTR_CONVNET_MAX_STAGES + 1; expect_create_invalid(&o, "convnet_stages");
    tiny_options(&o, 0); o.convnet_stages = -1; expect_create_invalid(&o, "convnet_stages");
    tiny_options(&o, 0); o.convnet_channels[1] = 0;    expect_create_invalid(&o, "convnet channels");
    tiny_options(&o, 0); o.convnet_channels[0] = -4;   expect_create_invalid(&o, "convnet channels");
    tiny_options(&o, 0); o.convnet_stages = 3; o.convnet_channels[2] = 0; expect_create_invalid(&o, "convnet channels");
    tiny_options(&o, 0); o.head_layers = -1;           expect_create_invalid(&o, "head_layers");
    tiny_options(&o, 0); o.head_layers = 9;            expect_create_invalid(&o, "layers");
    tiny_options(&o, 0); o.head_layers = 2; o.head_hidden = 0;  expect_create_invalid(&o, "hidden");
    tiny_options(&o, 0); o.head_layers = 2; o.head_out = 0;     expect_create_invalid(&o, "output");
    tiny_options(&o, 0); o.head_layers = 2; o.head_out = 70000; expect_create_invalid(&o, "output");
    tiny_options(&o, 0); o.head_layers = 2; o.head_batch_norm = 2;      expect_create_invalid(&o, "head_batch_norm");
    tiny_options(&o, 0); o.head_layers = 2; o.head_last_batch_norm = -1; expect_create_invalid(&o, "head_last_batch_norm");

    /* One Linear layer: hidden is unused, so 0 is fine. Head fields without a head are ignored. */
    tiny_options(&o, 0); o.head_layers = 1; o.head_hidden = 0; o.head_out = 5;
    m = SENTINEL_HANDLE;
    CHECK_OK(ctr_model_create(&o, &m));
    CHECK_OK(ctr_model_output_dim(m, CTR_EMBED_PROJECTOR, &dim));
    CHECK(dim == 5);
    ctr_model_free(m);
    tiny_options(&o, 0); o.head_layers = 0; o.head_hidden = -7; o.head_batch_norm = 9;
    m = SENTINEL_HANDLE;
    CHECK_OK(ctr_model_create(&o, &m));
    ctr_model_free(m);

    ctr_model_free(NULL); /* no-op */
    group_done("create / free", first);
}

static void check_mode_dims_counts(void) {
    int first = checks_passed;
    ctr_model *m = tiny_model(1);
    ctr_model_options o;
    ctr_model *h = NULL;
    int32_t dim = -1;
    int64_t params = -1, buffers = -1;

    /* set_training */
    CHECK_FAILS(ctr_model_set_training(NULL, 0), CTR_STATUS_INVALID_ARGUMENT, "ctr_model_set_training");
    CHECK_FAILS(ctr_model_set_training(m, 2), CTR_STATUS_INVALID_ARGUMENT, "ctr_model_set_training");
    CHECK_FAILS(ctr_model_set_training(m, -1), CTR_STATUS_INVALID_ARGUMENT, "ctr_model_set_training");
    CHECK_OK(ctr_model_set_training(m, 1));
    CHECK_OK(ctr_model_set_training(m, 1));
    CHECK_OK(ctr_model_set_training(m, 0));

    /* output_dim: failures leave *dim alone. */
    CHECK_FAILS(ctr_model_output_dim(NULL, CTR_EMBED_BACKBONE, &dim), CTR_STATUS_INVALID_ARGUMENT, "ctr_model_output_dim");
    CHECK_FAILS(ctr_model_output_dim(m, CTR_EMBED_BACKBONE, NULL), CTR_STATUS_INVALID_ARGUMENT, "ctr_model_output_dim");
    CHECK_FAILS(ctr_model_output_dim(m, 2, &dim), CTR_STATUS_INVALID_ARGUMENT, "ctr_model_output_dim");
    CHECK_FAILS(ctr_model_output_dim(m, -1, &dim), CTR_STATUS_INVALID_ARGUMENT, "ctr_model_output_dim");
    CHECK_FAILS(ctr_model_output_dim(m, CTR_EMBED_PROJECTOR, &dim), CTR_STATUS_INVALID_ARGUMENT, "ctr_model_output_dim");
    CHECK(strstr(ctr_last_error(), "head") != NULL);
    CHECK(dim == -1);
    CHECK_OK(ctr_model_output_dim(m, CTR_EMBED_BACKBONE, &dim));
    CHECK(dim == TDIM);

    tiny_options(&o, 0);
    o.head_layers = 2;
    o.head_hidden = 16;
    o.head_out = 6;
    CHECK_OK(ctr_model_create(&o, &h));
    CHECK_OK(ctr_model_output_dim(h, CTR_EMBED_PROJECTOR, &dim));
    CHECK(dim == 6);

    /* num_params: either pointer may be NULL. conv(1->4,3x3)+BN(4), conv(4->8)+BN(8), no bias. */
    CHECK_FAILS(ctr_model_num_params(NULL, &params, &buffers), CTR_STATUS_INVALID_ARGUMENT, "ctr_model_num_params");
    CHECK(params == -1 && buffers == -1);
    CHECK_OK(ctr_model_num_params(m, NULL, NULL));
    CHECK_OK(ctr_model_num_params(m, &params, NULL));
    CHECK_OK(ctr_model_num_params(m, NULL, &buffers));
    CHECK(params > 0 && buffers == 2 * (4 + 8) + 2);
    {
        int64_t hp = 0;
        CHECK_OK(ctr_model_num_params(h, &hp, NULL));
        CHECK(hp - params == TDIM * 16 + 16 + 16 * 6 + 6);
    }
    ctr_model_free(h);
    ctr_model_free(m);
    group_done("set_training / output_dim / counts", first);
}

/* Every failing embed call below must leave out[] as it was. */
#define OUT_CAP (TN * TDIM)
static float out_buf[OUT_CAP + 4];

static void fill_sentinel(void) {
    int i;
    for (i = 0; i < OUT_CAP + 4; i++) out_buf[i] = -12345.0f;
}

static int out_untouched(void) {
    int i;
    for (i = 0; i < OUT_CAP + 4; i++)
        if (out_buf[i] != -12345.0f) return 0;
    return 1;
}

#define EMBED_U8_FAILS(expected, model, images, n, h, w, c, opts, out, cap)                  \
    do {                                                                                     \
        fill_sentinel();                                                                     \
        CHECK_FAILS(ctr_model_embed_u8((model), (images), (n), (h), (w), (c), (opts), (out), (cap)), \
                    (expected), "ctr_model_embed_u8");                                       \
        CHECK(out_untouched());                                                              \
    } while (0)

#define EMBED_F32_FAILS(expected, model, images, n, c, h, w, opts, out, cap)                 \
    do {                                                                                     \
        fill_sentinel();                                                                     \
        CHECK_FAILS(ctr_model_embed_f32((model), (images), (n), (c), (h), (w), (opts), (out), (cap)), \
                    (expected), "ctr_model_embed_f32");                                      \
        CHECK(out_untouched());                                                              \
    } while (0)

static void check_embed(void) {
    int first = checks_passed, i;
    ctr_model *m = tiny_model(2);
    ctr_embed_options eo, bad;
    float ref[OUT_CAP], again[OUT_CAP];
    const float mean1[1] = {0.5f}, std0[1] = {0.0f}, stdnan[1] = {(float)NAN}, meaninf[1] = {(float)INFINITY};
    float *nan_images;
    struct {
        ctr_embed_options known;
        int32_t appended[4];
    } newer;

    ctr_embed_options_default(&eo);
    tiny_embed(m, ref);

    /* NULL handle / images / out; NULL opts is fine (defaults). */
    EMBED_U8_FAILS(CTR_STATUS_INVALID_ARGUMENT, NULL, tiny_images, TN, TH, TW, TC, &eo, out_buf, OUT_CAP);
    EMBED_U8_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, NULL, TN, TH, TW, TC, &eo, out_buf, OUT_CAP);
    CHECK_FAILS(ctr_model_embed_u8(m, tiny_images, TN, TH, TW, TC, &eo, NULL, OUT_CAP),
                CTR_STATUS_INVALID_ARGUMENT, "ctr_model_embed_u8");
    EMBED_F32_FAILS(CTR_STATUS_INVALID_ARGUMENT, NULL, tiny_images_f32, TN, TC, TH, TW, &eo, out_buf, OUT_CAP);
    EMBED_F32_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, NULL, TN, TC, TH, TW, &eo, out_buf, OUT_CAP);
    CHECK_FAILS(ctr_model_embed_f32(m, tiny_images_f32, TN, TC, TH, TW, &eo, NULL, OUT_CAP),
                CTR_STATUS_INVALID_ARGUMENT, "ctr_model_embed_f32");

    /* Batch and image sizes. */
    EMBED_U8_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images, 0, TH, TW, TC, &eo, out_buf, OUT_CAP);
    EMBED_U8_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images, -1, TH, TW, TC, &eo, out_buf, OUT_CAP);
    EMBED_U8_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images, INT64_MIN, TH, TW, TC, &eo, out_buf, OUT_CAP);
    EMBED_U8_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images, TN, 0, TW, TC, &eo, out_buf, OUT_CAP);
    EMBED_U8_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images, TN, TH, 0, TC, &eo, out_buf, OUT_CAP);
    EMBED_U8_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images, TN, -8, TW, TC, &eo, out_buf, OUT_CAP);
    EMBED_U8_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images, TN, TH, TW, 0, &eo, out_buf, OUT_CAP);
    EMBED_U8_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images, 1, 9000, 1, TC, &eo, out_buf, OUT_CAP);
    EMBED_F32_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images_f32, 0, TC, TH, TW, &eo, out_buf, OUT_CAP);
    EMBED_F32_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images_f32, -5, TC, TH, TW, &eo, out_buf, OUT_CAP);
    EMBED_F32_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images_f32, TN, TC, 0, TW, &eo, out_buf, OUT_CAP);
    EMBED_F32_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images_f32, TN, TC, TH, -1, &eo, out_buf, OUT_CAP);

    /* Channels that differ from the model's. */
    EMBED_U8_FAILS(CTR_STATUS_SHAPE_MISMATCH, m, tiny_images, 1, TH, TW, 3, &eo, out_buf, OUT_CAP);
    CHECK(strstr(ctr_last_error(), "channels") != NULL);
    EMBED_F32_FAILS(CTR_STATUS_SHAPE_MISMATCH, m, tiny_images_f32, 1, 2, TH, TW, &eo, out_buf, OUT_CAP);
    /* Images too small for two stages (a 2x2 max-pool needs at least 2x2): checked in the
     * forward pass, before anything is written for the first chunk. */
    EMBED_U8_FAILS(CTR_STATUS_SHAPE_MISMATCH, m, tiny_images, 1, 1, 1, TC, &eo, out_buf, OUT_CAP);

    /* out_capacity: too small → BUFFER_TOO_SMALL, nothing written. */
    EMBED_U8_FAILS(CTR_STATUS_BUFFER_TOO_SMALL, m, tiny_images, TN, TH, TW, TC, &eo, out_buf, 0);
    EMBED_U8_FAILS(CTR_STATUS_BUFFER_TOO_SMALL, m, tiny_images, TN, TH, TW, TC, &eo, out_buf, OUT_CAP - 1);
    EMBED_F32_FAILS(CTR_STATUS_BUFFER_TOO_SMALL, m, tiny_images_f32, TN, TC, TH, TW, &eo, out_buf, OUT_CAP - 1);
    /* A huge n is refused by its size alone; the images are never read. */
    EMBED_U8_FAILS(CTR_STATUS_BUFFER_TOO_SMALL, m, tiny_images, (int64_t)1 << 40, TH, TW, TC, &eo, out_buf, OUT_CAP);
    EMBED_U8_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images, INT64_MAX / 2, TH, TW, TC, &eo, out_buf, OUT_CAP);
    CHECK(strstr(ctr_last_error(), "overflow") != NULL);

    /* Options: struct_size 0, chunk, normalize, output, PROJECTOR without a head, mean/std. */
    bad = eo; bad.struct_size = 0;
    EMBED_U8_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images, TN, TH, TW, TC, &bad, out_buf, OUT_CAP);
    EMBED_F32_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images_f32, TN, TC, TH, TW, &bad, out_buf, OUT_CAP);
    bad = eo; bad.chunk = 0;
    EMBED_U8_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images, TN, TH, TW, TC, &bad, out_buf, OUT_CAP);
    CHECK(strstr(ctr_last_error(), "chunk") != NULL);
    bad.chunk = -1;
    EMBED_F32_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images_f32, TN, TC, TH, TW, &bad, out_buf, OUT_CAP);
    bad.chunk = 65537;
    EMBED_U8_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images, TN, TH, TW, TC, &bad, out_buf, OUT_CAP);
    bad = eo; bad.normalize = 2;
    EMBED_U8_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images, TN, TH, TW, TC, &bad, out_buf, OUT_CAP);
    CHECK(strstr(ctr_last_error(), "normalize") != NULL);
    bad.normalize = -1;
    EMBED_F32_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images_f32, TN, TC, TH, TW, &bad, out_buf, OUT_CAP);
    bad = eo; bad.output = 2;
    EMBED_U8_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images, TN, TH, TW, TC, &bad, out_buf, OUT_CAP);
    bad = eo; bad.output = CTR_EMBED_PROJECTOR;
    EMBED_U8_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images, TN, TH, TW, TC, &bad, out_buf, OUT_CAP);
    CHECK(strstr(ctr_last_error(), "head") != NULL);
    EMBED_F32_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images_f32, TN, TC, TH, TW, &bad, out_buf, OUT_CAP);
    bad = eo; bad.std = std0;
    EMBED_U8_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images, TN, TH, TW, TC, &bad, out_buf, OUT_CAP);
    bad.std = stdnan;
    EMBED_U8_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images, TN, TH, TW, TC, &bad, out_buf, OUT_CAP);
    bad = eo; bad.mean = meaninf;
    EMBED_U8_FAILS(CTR_STATUS_INVALID_ARGUMENT, m, tiny_images, TN, TH, TW, TC, &bad, out_buf, OUT_CAP);

    /* NaN / Inf in float input: NUMERIC before anything runs. */
    nan_images = malloc(sizeof tiny_images_f32);
    CHECK(nan_images != NULL);
    memcpy(nan_images, tiny_images_f32, sizeof tiny_images_f32);
    nan_images[TC * TH * TW * (TN - 1) + 5] = (float)NAN; /* in the last image */
    EMBED_F32_FAILS(CTR_STATUS_NUMERIC, m, nan_images, TN, TC, TH, TW, &eo, out_buf, OUT_CAP);
    nan_images[TC * TH * TW * (TN - 1) + 5] = -(float)INFINITY;
    EMBED_F32_FAILS(CTR_STATUS_NUMERIC, m, nan_images, TN, TC, TH, TW, &eo, out_buf, OUT_CAP);
    free(nan_images);

    /* None of that changed the model. */
    tiny_embed(m, again);
    CHECK(memcmp(ref, again, sizeof ref) == 0);

    /* Successful variants: NULL opts, exact capacity, larger capacity (the tail untouched),
     * u8 = f32 with x/255, mean/std, normalize, an old caller's embed options. */
    fill_sentinel();
    CHECK_OK(ctr_model_embed_u8(m, tiny_images, TN, TH, TW, TC, NULL, out_buf, OUT_CAP + 4));
    CHECK(memcmp(out_buf, ref, sizeof ref) == 0);
    for (i = OUT_CAP; i < OUT_CAP + 4; i++) CHECK(out_buf[i] == -12345.0f);
    CHECK_OK(ctr_model_embed_f32(m, tiny_images_f32, TN, TC, TH, TW, NULL, out_buf, OUT_CAP));
    for (i = 0; i < OUT_CAP; i++) CHECK(fabsf(out_buf[i] - ref[i]) <= 1e-4f);
    bad = eo; bad.mean = mean1; bad.std = NULL; bad.normalize = 1; bad.chunk = 1;
    CHECK_OK(ctr_model_embed_u8(m, tiny_images, TN, TH, TW, TC, &bad, out_buf, OUT_CAP));
    for (i = 0; i < TN; i++) {
        double s = 0;
        int j;
        for (j = 0; j < TDIM; j++) s += (double)out_buf[i * TDIM + j] * out_buf[i * TDIM + j];
        CHECK(fabs(sqrt(s) - 1.0) < 1e-5);
    }
    memset(&bad, 0x7f, sizeof bad); /* garbage in every field past `output` */
    bad.struct_size = (uint32_t)offsetof(ctr_embed_options, normalize);
    bad.output = CTR_EMBED_BACKBONE;
    CHECK_OK(ctr_model_embed_u8(m, tiny_images, TN, TH, TW, TC, &bad, out_buf, OUT_CAP));
    CHECK(memcmp(out_buf, ref, sizeof ref) == 0);
    memset(&newer, 0x7f, sizeof newer);
    ctr_embed_options_default(&newer.known);
    newer.known.struct_size = (uint32_t)sizeof newer;
    CHECK_OK(ctr_model_embed_u8(m, tiny_images, TN, TH, TW, TC, &newer.known, out_buf, OUT_CAP));
    CHECK(memcmp(out_buf, ref, sizeof ref) == 0);

    /* Training mode: batch statistics (different output) and running statistics updated. */
    CHECK_OK(ctr_model_set_training(m, 1));
    CHECK_OK(ctr_model_embed_u8(m, tiny_images, TN, TH, TW, TC, NULL, out_buf, OUT_CAP));
    CHECK(memcmp(out_buf, ref, sizeof ref) != 0);
    CHECK_OK(ctr_model_set_training(m, 0));
    tiny_embed(m, again);
    CHECK(memcmp(ref, again, sizeof ref) != 0);
    ctr_model_free(m);
    group_done("embed u8 / f32", first);
}

static void check_save_load_paths(void) {
    int first = checks_passed;
    ctr_model *m = tiny_model(3), *other = tiny_model(4);
    float ref[OUT_CAP], now[OUT_CAP], theirs[OUT_CAP];
    char path[512], missing_dir[512], garbage[512], empty[512];
    static const char junk[] = "this is not a safetensors file, just some text of a decent length";

    tiny_embed(m, ref);
    tiny_embed(other, theirs);
    CHECK(memcmp(ref, theirs, sizeof ref) != 0);
    scratch_path(path, sizeof path, "tiny.safetensors");
    scratch_path(missing_dir, sizeof missing_dir, "no/such/dir/tiny.safetensors");
    scratch_path(garbage, sizeof garbage, "garbage.safetensors");
    scratch_path(empty, sizeof empty, "empty.safetensors");

    /* save */
    CHECK_FAILS(ctr_model_save(NULL, path), CTR_STATUS_INVALID_ARGUMENT, "ctr_model_save");
    CHECK_FAILS(ctr_model_save(m, NULL), CTR_STATUS_INVALID_ARGUMENT, "ctr_model_save");
    CHECK_FAILS(ctr_model_save(m, ""), CTR_STATUS_INVALID_ARGUMENT, "ctr_model_save");
    CHECK_FAILS(ctr_model_save(m, missing_dir), CTR_STATUS_IO, "ctr_model_save");
    CHECK(access(missing_dir, F_OK) != 0);
    CHECK_FAILS(ctr_model_save(m, scratch_dir), CTR_STATUS_IO, "ctr_model_save"); /* a directory */
    CHECK_OK(ctr_model_save(m, path));

    /* load: arguments and I/O */
    CHECK_FAILS(ctr_model_load(NULL, path, 1), CTR_STATUS_INVALID_ARGUMENT, "ctr_model_load");
    CHECK_FAILS(ctr_model_load(other, NULL, 1), CTR_STATUS_INVALID_ARGUMENT, "ctr_model_load");
    CHECK_FAILS(ctr_model_load(other, "", 1), CTR_STATUS_INVALID_ARGUMENT, "ctr_model_load");
    CHECK_FAILS(ctr_model_load(other, path, 2), CTR_STATUS_INVALID_ARGUMENT, "ctr_model_load");
    CHECK_FAILS(ctr_model_load(other, path, -1), CTR_STATUS_INVALID_ARGUMENT, "ctr_model_load");
    CHECK_FAILS(ctr_model_load(other, missing_dir, 1), CTR_STATUS_IO, "ctr_model_load");
    CHECK_FAILS(ctr_model_load(other, scratch_dir, 1), CTR_STATUS_IO, "ctr_model_load");
    write_file(garbage, junk, sizeof junk);
    CHECK_FAILS(ctr_model_load(other, garbage, 1), CTR_STATUS_FORMAT, "ctr_model_load");
    CHECK_FAILS(ctr_model_load(other, garbage, 0), CTR_STATUS_FORMAT, "ctr_model_load");
    write_file(empty, "", 0);
    CHECK_FAILS(ctr_model_load(other, empty, 1), CTR_STATUS_FORMAT, "ctr_model_load");
    tiny_embed(other, now);
    CHECK(memcmp(now, theirs, sizeof now) == 0);

    /* A checkpoint of another model does not fit. */
    {
        ctr_model_options o;
        ctr_model *wide = NULL;
        char wide_path[512];
        tiny_options(&o, 5);
        o.convnet_channels[1] = 16;
        CHECK_OK(ctr_model_create(&o, &wide));
        scratch_path(wide_path, sizeof wide_path, "wide.safetensors");
        CHECK_OK(ctr_model_save(wide, wide_path));
        CHECK_FAILS(ctr_model_load(other, wide_path, 0), CTR_STATUS_FORMAT, "ctr_model_load");
        CHECK(strstr(ctr_last_error(), "features.1.conv.weight") != NULL);
        CHECK_FAILS(ctr_model_load(wide, path, 1), CTR_STATUS_FORMAT, "ctr_model_load");
        ctr_model_free(wide);
        CHECK(unlink(wide_path) == 0);
        tiny_embed(other, now);
        CHECK(memcmp(now, theirs, sizeof now) == 0);
    }

    /* The real thing loads, in both modes, and then embeds like the source. */
    CHECK_OK(ctr_model_load(other, path, 1));
    tiny_embed(other, now);
    CHECK(memcmp(now, ref, sizeof now) == 0);
    CHECK_OK(ctr_model_load(other, path, 0));

    CHECK(unlink(garbage) == 0 && unlink(empty) == 0 && unlink(path) == 0);
    ctr_model_free(other);
    ctr_model_free(m);
    group_done("save / load arguments and files", first);
}

static void check_truncation(void) {
    int first = checks_passed;
    ctr_model *src = tiny_model(6), *dst = tiny_model(7);
    float before[OUT_CAP], now[OUT_CAP], want[OUT_CAP];
    char path[512], cut_path[512];
    unsigned char *bytes;
    size_t size, cut;
    int io = 0, format = 0;

    scratch_path(path, sizeof path, "src.safetensors");
    scratch_path(cut_path, sizeof cut_path, "cut.safetensors");
    CHECK_OK(ctr_model_set_training(src, 1)); /* non-default running statistics */
    CHECK_OK(ctr_model_embed_u8(src, tiny_images, TN, TH, TW, TC, NULL, now, OUT_CAP));
    CHECK_OK(ctr_model_set_training(src, 0));
    CHECK_OK(ctr_model_save(src, path));
    tiny_embed(src, want);
    bytes = read_file(path, &size);
    CHECK(size > 64);
    tiny_embed(dst, before);

    /* Every proper prefix, in both strict modes: never OK, model unchanged. */
    for (cut = 0; cut < size; cut++) {
        ctr_status st;
        write_file(cut_path, bytes, cut);
        st = ctr_model_load(dst, cut_path, (int32_t)(cut & 1));
        if (st == CTR_STATUS_FORMAT) format++;
        else if (st == CTR_STATUS_IO) io++;
        else {
            fprintf(stderr, "model_abi: truncation at %zu of %zu gave %s (%s)\n", cut, size,
                    ctr_status_string(st), ctr_last_error());
            CHECK(0);
        }
        checks_passed++;
        if (cut % 256 == 0) {
            tiny_embed(dst, now);
            CHECK(memcmp(now, before, sizeof now) == 0);
        }
    }
    tiny_embed(dst, now);
    CHECK(memcmp(now, before, sizeof now) == 0);
    CHECK(format + io == (int)size);

    /* The whole file loads. */
    write_file(cut_path, bytes, size);
    CHECK_OK(ctr_model_load(dst, cut_path, 1));
    tiny_embed(dst, now);
    CHECK(memcmp(now, want, sizeof now) == 0);

    printf("model_abi: (checkpoint of %zu bytes: %d prefixes FORMAT, %d IO)\n", size, format, io);
    free(bytes);
    CHECK(unlink(cut_path) == 0 && unlink(path) == 0);
    ctr_model_free(dst);
    ctr_model_free(src);
    group_done("load of truncated checkpoints", first);
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(scratch_dir, sizeof scratch_dir, "%s/model_abi.XXXXXX",
                     tmp && tmp[0] && strlen(tmp) < 200 ? tmp : "/tmp");
    if (n <= 0 || (size_t)n >= sizeof scratch_dir || mkdtemp(scratch_dir) == NULL) {
        perror("model_abi: mkdtemp");
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    make_images();
    check_option_defaults();
    check_create();
    check_mode_dims_counts();
    check_embed();
    check_save_load_paths();
    check_truncation();
    CHECK(rmdir(scratch_dir) == 0);
    printf("model_abi: all %d checks passed\n", checks_passed);
    return 0;
}
