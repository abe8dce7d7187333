/* augment_abi.c — the augmentation C API at its boundary: every bad pointer, count, enum and
 * float comes back as a status with a message; nothing traps. Built and run by `make test`. */
#include <contrastive.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int failures = 0, checks = 0;

#define EXPECT(expr, status)                                                                 \
    do {                                                                                     \
        ctr_status got_ = (expr);                                                            \
        checks++;                                                                            \
        if (got_ != (status)) {                                                              \
            failures++;                                                                      \
            fprintf(stderr, "%s:%d: %s -> %d (%s), expected %d; last error: %s\n", __FILE__, \
                    __LINE__, #expr, got_, ctr_status_string(got_), (status), ctr_last_error()); \
        } else if (got_ != CTR_STATUS_OK && ctr_last_error()[0] == '\0') {                   \
            failures++;                                                                      \
            fprintf(stderr, "%s:%d: %s failed without a message\n", __FILE__, __LINE__, #expr); \
        }                                                                                    \
    } while (0)

int main(void) {
    static uint8_t img[4 * 16 * 16 * 3];
    static float out[4 * 2 * 3 * 16 * 16];
    int32_t shape[3];
    size_t n = 0;
    char buf[16];
    ctr_augmenter *aug = NULL, *tmp = NULL;
    ctr_augment_options o;
    float mean[3] = {0.5f, 0.5f, 0.5f}, std[3] = {0.25f, 0.25f, 0.25f};
    for (size_t i = 0; i < sizeof img; i++) img[i] = (uint8_t)(i * 31);

    /* create */
    EXPECT(ctr_augmenter_create(NULL, NULL), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_augmenter_create(NULL, &tmp), CTR_STATUS_OK);          /* NULL options = defaults */
    ctr_augmenter_free(tmp);
    ctr_augment_options_default(&o);
    o.struct_size = 0;
    EXPECT(ctr_augmenter_create(&o, &tmp), CTR_STATUS_INVALID_ARGUMENT);
    if (tmp != NULL) { failures++; fprintf(stderr, "out not NULL after a failure\n"); }
    ctr_augment_options_default(&o);
    o.struct_size = (uint32_t)offsetof(ctr_augment_options, description); /* an older, shorter struct */
    o.preset = "simclr-cifar";
    EXPECT(ctr_augmenter_create(&o, &tmp), CTR_STATUS_OK);
    ctr_augmenter_free(tmp);
    ctr_augment_options_default(&o);
    o.preset = "simclr-tiny";
    EXPECT(ctr_augmenter_create(&o, &tmp), CTR_STATUS_INVALID_ARGUMENT);
    o.preset = NULL;
    EXPECT(ctr_augmenter_create(&o, &tmp), CTR_STATUS_INVALID_ARGUMENT);
    o.preset = "simclr-cifar";
    o.precision = 7;
    EXPECT(ctr_augmenter_create(&o, &tmp), CTR_STATUS_INVALID_ARGUMENT);
    o.precision = CTR_AUGMENT_PRECISION_FLOAT;
    o.num_norm = 3;
    EXPECT(ctr_augmenter_create(&o, &tmp), CTR_STATUS_INVALID_ARGUMENT); /* mean NULL */
    o.mean = mean; o.std = std;
    std[1] = 0.0f;
    EXPECT(ctr_augmenter_create(&o, &tmp), CTR_STATUS_INVALID_ARGUMENT);
    std[1] = 0.25f; mean[0] = (float)NAN;
    EXPECT(ctr_augmenter_create(&o, &tmp), CTR_STATUS_INVALID_ARGUMENT);
    mean[0] = 0.5f;
    o.num_norm = -2;
    EXPECT(ctr_augmenter_create(&o, &tmp), CTR_STATUS_INVALID_ARGUMENT);
    o.num_norm = 0; o.size = -3;
    EXPECT(ctr_augmenter_create(&o, &tmp), CTR_STATUS_INVALID_ARGUMENT);
    o.size = 0; o.num_local = -7;
    EXPECT(ctr_augmenter_create(&o, &tmp), CTR_STATUS_INVALID_ARGUMENT);
    o.num_local = -1;
    o.description = "view: rrc size=16 | hflip p=0.5 |";
    EXPECT(ctr_augmenter_create(&o, &tmp), CTR_STATUS_FORMAT);
    o.description = "view: rrc size=16 \xff\xfe";
    EXPECT(ctr_augmenter_create(&o, &tmp), CTR_STATUS_FORMAT);
    o.description = "view: blur sigma=-0.5,1";
    EXPECT(ctr_augmenter_create(&o, &tmp), CTR_STATUS_INVALID_ARGUMENT);
    o.description = "view: rrc size=16x16 scale=0.08,1 | hflip p=0.5 ; view: crop size=12 | vflip p=1";
    o.num_norm = 3;
    EXPECT(ctr_augmenter_create(&o, &aug), CTR_STATUS_OK);

    /* queries */
    if (ctr_augmenter_view_count(aug) != 2 || ctr_augmenter_view_count(NULL) != 0) { failures++; fprintf(stderr, "view_count\n"); }
    EXPECT(ctr_augmenter_view_shape(NULL, 0, 16, 16, 3, shape), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_augmenter_view_shape(aug, -1, 16, 16, 3, shape), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_augmenter_view_shape(aug, 2, 16, 16, 3, shape), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_augmenter_view_shape(aug, 0, 16, 16, 3, NULL), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_augmenter_view_shape(aug, 0, 0, 16, 3, shape), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_augmenter_view_shape(aug, 0, 16, -4, 3, shape), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_augmenter_view_shape(aug, 0, 16, 16, 0, shape), CTR_STATUS_UNSUPPORTED);
    EXPECT(ctr_augmenter_view_shape(aug, 0, 16, 16, 65, shape), CTR_STATUS_UNSUPPORTED);
    EXPECT(ctr_augmenter_view_shape(aug, 0, 16, 16, 2, shape), CTR_STATUS_SHAPE_MISMATCH); /* 3 mean values */
    EXPECT(ctr_augmenter_view_shape(aug, 1, 10, 16, 3, shape), CTR_STATUS_INVALID_ARGUMENT); /* crop 12 > 10 */
    EXPECT(ctr_augmenter_view_shape(aug, 1, 16, 16, 3, shape), CTR_STATUS_OK);
    if (shape[0] != 3 || shape[1] != 12 || shape[2] != 12) { failures++; fprintf(stderr, "shape\n"); }
    EXPECT(ctr_augmenter_output_size(aug, 4, 16, 16, 3, NULL), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_augmenter_output_size(aug, SIZE_MAX, 16, 16, 3, &n), CTR_STATUS_OUT_OF_MEMORY);
    EXPECT(ctr_augmenter_output_size(aug, 4, 16, 16, 3, &n), CTR_STATUS_OK);
    if (n != 4 * 3 * (16 * 16 + 12 * 12)) { failures++; fprintf(stderr, "output_size %zu\n", n); }

    /* describe */
    EXPECT(ctr_augmenter_describe(aug, NULL, 5, &n), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_augmenter_describe(aug, buf, sizeof buf, &n), CTR_STATUS_BUFFER_TOO_SMALL);
    if (n <= sizeof buf) { failures++; fprintf(stderr, "describe needed %zu\n", n); }
    EXPECT(ctr_augmenter_describe(NULL, NULL, 0, &n), CTR_STATUS_INVALID_ARGUMENT);

    /* apply */
    EXPECT(ctr_augmenter_apply(aug, NULL, 0, 16, 16, 3, 1, 0, NULL, NULL, 0), CTR_STATUS_OK);
    EXPECT(ctr_augmenter_apply(aug, NULL, 4, 16, 16, 3, 1, 0, NULL, out, 100000), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_augmenter_apply(aug, img, 4, 16, 16, 3, 1, 0, NULL, NULL, 100000), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_augmenter_apply(aug, img, 4, 16, 16, 3, 1, 0, NULL, out, 10), CTR_STATUS_BUFFER_TOO_SMALL);
    EXPECT(ctr_augmenter_apply(aug, img, 4, -16, 16, 3, 1, 0, NULL, out, 100000), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_augmenter_apply(aug, img, SIZE_MAX, 16, 16, 3, 1, 0, NULL, out, SIZE_MAX), CTR_STATUS_OUT_OF_MEMORY);
    EXPECT(ctr_augmenter_apply(NULL, img, 4, 16, 16, 3, 1, 0, NULL, out, 100000), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_augmenter_apply(aug, img, 4, 16, 16, 3, 1, 0, NULL, out, sizeof out / sizeof *out), CTR_STATUS_OK);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(out[i])) { failures++; fprintf(stderr, "non-finite output\n"); break; }

    /* preview */
    EXPECT(ctr_augment_preview_png(aug, NULL, img, 4, 16, 16, 3, 1, 0), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_augment_preview_png(aug, "build/x.png", img, 0, 16, 16, 3, 1, 0), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_augment_preview_png(aug, "build/x.png", NULL, 4, 16, 16, 3, 1, 0), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_augment_preview_png(aug, "/nonexistent-dir/x.png", img, 4, 16, 16, 3, 1, 0), CTR_STATUS_IO);

    ctr_augmenter_free(aug);
    ctr_augmenter_free(NULL);
    if (failures) { fprintf(stderr, "augment_abi: %d of %d checks failed\n", failures, checks); return 1; }
    printf("augment_abi: all %d checks passed\n", checks);
    return 0;
}
