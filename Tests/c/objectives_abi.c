/* objectives_abi.c — the objective C API at its boundary: NULLs, bad sizes, bad options,
 * τ ≤ 0, NaN inputs, mismatched views, negative labels, too many prototypes, small buffers.
 * Every one comes back as the documented status with a message, outputs untouched; nothing
 * traps. Built and run by `make test`. */
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

#define EXPECT_TRUE(cond)                                                                    \
    do {                                                                                     \
        checks++;                                                                            \
        if (!(cond)) { failures++; fprintf(stderr, "%s:%d: %s is false\n", __FILE__, __LINE__, #cond); } \
    } while (0)

enum { N = 4, D = 3 };

int main(void) {
    float z1[N * D], z2[N * D], dz1[N * D], dz2[N * D], queue[5 * D], loss = -7.0f;
    int32_t labels[N] = {0, 1, 0, 1};
    for (int i = 0; i < N * D; i++) { z1[i] = (float)((i * 37) % 11) - 5.0f; z2[i] = (float)((i * 17) % 7) - 3.0f; }
    for (int i = 0; i < 5 * D; i++) queue[i] = (float)((i * 13) % 5) - 2.0f;

    ctr_ntxent_options o;
    ctr_ntxent_options_default(&o);
    EXPECT_TRUE(o.struct_size == sizeof o && o.temperature == 0.5f && o.queue == NULL && o.queue_size == 0);
    ctr_ntxent_options_default(NULL);                                   /* ignored */

    /* success, with and without gradients, NULL options = defaults */
    EXPECT(ctr_ntxent(z1, z2, N, N, D, &o, &loss, dz1, dz2), CTR_STATUS_OK);
    EXPECT_TRUE(isfinite(loss) && loss > 0);
    float l2 = 0;
    EXPECT(ctr_ntxent(z1, z2, N, N, D, NULL, &l2, NULL, NULL), CTR_STATUS_OK);
    EXPECT_TRUE(l2 == loss);

    /* NULLs and sizes */
    EXPECT(ctr_ntxent(NULL, z2, N, N, D, &o, &loss, dz1, dz2), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_ntxent(z1, NULL, N, N, D, &o, &loss, dz1, dz2), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_ntxent(z1, z2, N, N, D, &o, NULL, dz1, dz2), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_ntxent(z1, z2, 0, 0, D, &o, &loss, dz1, dz2), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_ntxent(z1, z2, -1, -1, D, &o, &loss, dz1, dz2), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_ntxent(z1, z2, N, N, 0, &o, &loss, dz1, dz2), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_ntxent(z1, z2, INT64_MAX, INT64_MAX, D, &o, &loss, dz1, dz2), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_ntxent(z1, z2, 1 << 30, 1 << 30, 1 << 30, &o, &loss, dz1, dz2), CTR_STATUS_OUT_OF_MEMORY);
    EXPECT(ctr_ntxent(z1, z2, N, N - 1, D, &o, &loss, dz1, dz2), CTR_STATUS_SHAPE_MISMATCH);

    /* options */
    float temps[] = {0.0f, -0.5f, (float)NAN, (float)INFINITY};
    for (size_t t = 0; t < sizeof temps / sizeof temps[0]; t++) {
        o.temperature = temps[t];
        EXPECT(ctr_ntxent(z1, z2, N, N, D, &o, &loss, dz1, dz2), CTR_STATUS_INVALID_ARGUMENT);
    }
    ctr_ntxent_options_default(&o);
    o.similarity = 2;
    EXPECT(ctr_ntxent(z1, z2, N, N, D, &o, &loss, dz1, dz2), CTR_STATUS_INVALID_ARGUMENT);
    o.similarity = CTR_SIMILARITY_NEG_SQUARED_EUCLIDEAN;
    EXPECT(ctr_ntxent(z1, z2, N, N, D, &o, &loss, dz1, dz2), CTR_STATUS_OK);
    o.similarity = CTR_SIMILARITY_COSINE;
    o.decoupled = 3;
    EXPECT(ctr_ntxent(z1, z2, N, N, D, &o, &loss, dz1, dz2), CTR_STATUS_INVALID_ARGUMENT);
    o.decoupled = 1;
    EXPECT(ctr_ntxent(z1, z2, 1, 1, D, &o, &loss, dz1, dz2), CTR_STATUS_INVALID_ARGUMENT);  /* no negative */
    EXPECT(ctr_ntxent(z1, z2, N, N, D, &o, &loss, dz1, dz2), CTR_STATUS_OK);
    o.decoupled = 0;
    o.queue_size = 5;
    EXPECT(ctr_ntxent(z1, z2, N, N, D, &o, &loss, dz1, dz2), CTR_STATUS_INVALID_ARGUMENT);  /* queue NULL */
    o.queue = queue;
    EXPECT(ctr_ntxent(z1, z2, N, N, D, &o, &loss, dz1, dz2), CTR_STATUS_OK);
    o.queue_size = -2;
    EXPECT(ctr_ntxent(z1, z2, N, N, D, &o, &loss, dz1, dz2), CTR_STATUS_INVALID_ARGUMENT);
    ctr_ntxent_options_default(&o);
    o.struct_size = 0;
    EXPECT(ctr_ntxent(z1, z2, N, N, D, &o, &loss, dz1, dz2), CTR_STATUS_INVALID_ARGUMENT);
    o.struct_size = (uint32_t)offsetof(ctr_ntxent_options, similarity);  /* older, shorter struct */
    o.temperature = 0.2f;
    EXPECT(ctr_ntxent(z1, z2, N, N, D, &o, &loss, dz1, dz2), CTR_STATUS_OK);

    /* NaN / Inf inputs: NUMERIC, outputs untouched */
    ctr_ntxent_options_default(&o);
    loss = -7.0f;
    dz1[0] = 123.0f;
    z2[5] = (float)NAN;
    EXPECT(ctr_ntxent(z1, z2, N, N, D, &o, &loss, dz1, dz2), CTR_STATUS_NUMERIC);
    EXPECT_TRUE(loss == -7.0f && dz1[0] == 123.0f);
    EXPECT_TRUE(strstr(ctr_last_error(), "z2[5]") != NULL);
    z2[5] = (float)INFINITY;
    EXPECT(ctr_ntxent(z1, z2, N, N, D, &o, &loss, dz1, dz2), CTR_STATUS_NUMERIC);
    z2[5] = 1.0f;
    o.queue = queue; o.queue_size = 5; queue[3] = (float)NAN;
    EXPECT(ctr_ntxent(z1, z2, N, N, D, &o, &loss, dz1, dz2), CTR_STATUS_NUMERIC);
    queue[3] = 0.5f;

    /* SupCon */
    ctr_supcon_options so;
    ctr_supcon_options_default(&so);
    EXPECT(ctr_supcon(z1, labels, N, D, &so, &loss, dz1), CTR_STATUS_OK);
    EXPECT(ctr_supcon(z1, NULL, N, D, &so, &loss, dz1), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_supcon(NULL, labels, N, D, &so, &loss, dz1), CTR_STATUS_INVALID_ARGUMENT);
    labels[2] = -1;
    EXPECT(ctr_supcon(z1, labels, N, D, &so, &loss, dz1), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT_TRUE(strstr(ctr_last_error(), "labels[2]") != NULL);
    labels[2] = 0;
    so.temperature = 0;
    EXPECT(ctr_supcon(z1, labels, N, D, &so, &loss, dz1), CTR_STATUS_INVALID_ARGUMENT);

    /* BYOL */
    EXPECT(ctr_byol_loss(z1, z2, N, N, D, &loss, dz1, NULL), CTR_STATUS_OK);
    EXPECT_TRUE(loss >= 0 && loss <= 4);
    EXPECT(ctr_byol_loss(z1, z2, N, N + 1, D, &loss, dz1, NULL), CTR_STATUS_SHAPE_MISMATCH);
    EXPECT(ctr_byol_loss(z1, NULL, N, N, D, &loss, dz1, NULL), CTR_STATUS_INVALID_ARGUMENT);
    z1[0] = (float)NAN;
    EXPECT(ctr_byol_loss(z1, z2, N, N, D, &loss, dz1, NULL), CTR_STATUS_NUMERIC);
    z1[0] = 1.0f;

    /* MoCo */
    EXPECT(ctr_moco_loss(z1, z2, N, N, D, queue, 5, 0.2f, &loss, dz1, dz2), CTR_STATUS_OK);
    EXPECT(ctr_moco_loss(z1, z2, N, N, D, NULL, 0, 0.2f, &loss, dz1, NULL), CTR_STATUS_OK);
    EXPECT_TRUE(fabsf(loss) < 1e-6f);                                  /* the positive alone */
    EXPECT(ctr_moco_loss(z1, z2, N, N, D, NULL, 5, 0.2f, &loss, dz1, NULL), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_moco_loss(z1, z2, N, N, D, queue, -1, 0.2f, &loss, dz1, NULL), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_moco_loss(z1, z2, N, N, D, queue, 5, -0.2f, &loss, dz1, NULL), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_moco_loss(z1, z2, N, N, D, queue, 5, (float)NAN, &loss, dz1, NULL), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_moco_loss(z1, z2, N, 3, D, queue, 5, 0.2f, &loss, dz1, NULL), CTR_STATUS_SHAPE_MISMATCH);
    queue[7] = (float)INFINITY;
    EXPECT(ctr_moco_loss(z1, z2, N, N, D, queue, 5, 0.2f, &loss, dz1, NULL), CTR_STATUS_NUMERIC);
    queue[7] = 0.0f;

    /* Barlow Twins, VICReg */
    ctr_barlow_twins_options bo;
    ctr_barlow_twins_options_default(&bo);
    EXPECT(ctr_barlow_twins(z1, z2, N, N, D, &bo, &loss, dz1, dz2), CTR_STATUS_OK);
    EXPECT(ctr_barlow_twins(z1, z2, 1, 1, D, &bo, &loss, dz1, dz2), CTR_STATUS_INVALID_ARGUMENT);
    bo.lambda = -1;
    EXPECT(ctr_barlow_twins(z1, z2, N, N, D, &bo, &loss, dz1, dz2), CTR_STATUS_INVALID_ARGUMENT);
    ctr_vicreg_options vo;
    ctr_vicreg_options_default(&vo);
    EXPECT_TRUE(vo.invariance == 25 && vo.variance == 25 && vo.covariance == 1);
    EXPECT(ctr_vicreg(z1, z2, N, N, D, &vo, &loss, dz1, dz2), CTR_STATUS_OK);
    vo.eps = 0;
    EXPECT(ctr_vicreg(z1, z2, N, N, D, &vo, &loss, dz1, dz2), CTR_STATUS_INVALID_ARGUMENT);
    ctr_vicreg_options_default(&vo);
    EXPECT(ctr_vicreg(z1, z2, N, 2, D, &vo, &loss, dz1, dz2), CTR_STATUS_SHAPE_MISMATCH);

    /* Sinkhorn */
    ctr_sinkhorn_options ko;
    ctr_sinkhorn_options_default(&ko);
    float codes[N * D];
    EXPECT(ctr_sinkhorn(z1, N, D, &ko, codes, N * D), CTR_STATUS_OK);
    float row = codes[0] + codes[1] + codes[2];
    EXPECT_TRUE(fabsf(row - 1.0f) < 1e-5f);
    EXPECT(ctr_sinkhorn(z1, N, D, &ko, codes, N * D - 1), CTR_STATUS_BUFFER_TOO_SMALL);
    EXPECT(ctr_sinkhorn(z1, N, D, &ko, NULL, N * D), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_sinkhorn(NULL, N, D, &ko, codes, N * D), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_sinkhorn(z1, 1, CTR_SINKHORN_MAX_PROTOTYPES + 1, &ko, codes, N * D), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_sinkhorn(z1, 0, D, &ko, codes, N * D), CTR_STATUS_INVALID_ARGUMENT);
    ko.epsilon = -1;
    EXPECT(ctr_sinkhorn(z1, N, D, &ko, codes, N * D), CTR_STATUS_INVALID_ARGUMENT);
    ko.epsilon = 0.05f; ko.iterations = 0;
    EXPECT(ctr_sinkhorn(z1, N, D, &ko, codes, N * D), CTR_STATUS_INVALID_ARGUMENT);
    ko.iterations = 3; ko.use_double = 2;
    EXPECT(ctr_sinkhorn(z1, N, D, &ko, codes, N * D), CTR_STATUS_INVALID_ARGUMENT);
    ko.use_double = 1;
    EXPECT(ctr_sinkhorn(z1, N, D, &ko, codes, N * D), CTR_STATUS_OK);
    codes[0] = 42.0f;
    z1[4] = (float)NAN;
    EXPECT(ctr_sinkhorn(z1, N, D, &ko, codes, N * D), CTR_STATUS_NUMERIC);
    EXPECT_TRUE(codes[0] == 42.0f);

    printf("objectives_abi: %d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
