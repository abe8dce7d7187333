/*
 * dataset_abi.c — the dataset C API end to end and at its boundary: Fashion-MNIST from
 * Debian's dataset-fashion-mnist (skipped if absent), memory datasets, copies, splits, and
 * NULL / out-of-range / wrong-kind arguments.
 */
#include "contrastive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks = 0, failures = 0;
#define CHECK(cond)                                                                    \
    do {                                                                               \
        checks++;                                                                      \
        if (!(cond)) {                                                                 \
            failures++;                                                                \
            fprintf(stderr, "dataset_abi:%d: check failed: %s (last error: %s)\n",     \
                    __LINE__, #cond, ctr_last_error());                                \
        }                                                                              \
    } while (0)

int main(void) {
    /* Fashion-MNIST, if installed. */
    const char *imgs = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
    const char *labs = "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz";
    FILE *probe = fopen(imgs, "rb");
    if (probe) {
        fclose(probe);
        ctr_dataset *fm = NULL;
        CHECK(ctr_dataset_load_idx(imgs, labs, &fm) == CTR_STATUS_OK && fm);
        ctr_dataset_info info;
        memset(&info, 0, sizeof info);
        info.struct_size = sizeof info;
        CHECK(ctr_dataset_get_info(fm, &info) == CTR_STATUS_OK);
        CHECK(info.count == 60000 && info.height == 28 && info.width == 28 && info.channels == 1);
        CHECK(info.has_labels == 1 && info.num_classes == 10);
        int32_t first[3];
        CHECK(ctr_dataset_copy_labels(fm, 0, 3, first, 3) == CTR_STATUS_OK);
        CHECK(first[0] == 9 && first[1] == 0 && first[2] == 0);
        static uint8_t px[784];
        CHECK(ctr_dataset_copy_images(fm, 0, 1, px, sizeof px) == CTR_STATUS_OK);
        long sum = 0;
        for (int i = 0; i < 784; i++) sum += px[i];
        CHECK(sum == 76247);
        ctr_dataset *tr = NULL, *va = NULL;
        CHECK(ctr_dataset_split(fm, 0.1, 42, &tr, &va) == CTR_STATUS_OK);
        ctr_dataset_info ti = {sizeof ti, 0, 0, 0, 0, 0, 0}, vi = {sizeof vi, 0, 0, 0, 0, 0, 0};
        CHECK(ctr_dataset_get_info(tr, &ti) == CTR_STATUS_OK && ctr_dataset_get_info(va, &vi) == CTR_STATUS_OK);
        CHECK(ti.count == 54000 && vi.count == 6000);
        /* A dataset is not a model: wrong-kind handles are refused. */
        CHECK(ctr_model_set_training((ctr_model *)(void *)fm, 1) == CTR_STATUS_INVALID_ARGUMENT);
        ctr_model_free((ctr_model *)(void *)fm); /* ignored (logged), fm stays valid */
        CHECK(ctr_dataset_get_info(fm, &info) == CTR_STATUS_OK);
        ctr_dataset_free(tr);
        ctr_dataset_free(va);
        ctr_dataset_free(fm);
        printf("dataset_abi: fashion-mnist ok\n");
    } else {
        printf("dataset_abi: fashion-mnist not installed, skipped\n");
    }

    /* Memory datasets. */
    uint8_t images[4 * 2 * 3 * 3];
    for (int i = 0; i < (int)sizeof images; i++) images[i] = (uint8_t)i;
    int32_t labels[4] = {3, 1, 0, 3};
    ctr_dataset *d = NULL;
    CHECK(ctr_dataset_from_memory(images, 4, 2, 3, 3, labels, &d) == CTR_STATUS_OK);
    ctr_dataset_info info = {sizeof info, 0, 0, 0, 0, 0, 0};
    CHECK(ctr_dataset_get_info(d, &info) == CTR_STATUS_OK && info.num_classes == 4 && info.count == 4);
    uint8_t back[18];
    CHECK(ctr_dataset_copy_images(d, 2, 1, back, sizeof back) == CTR_STATUS_OK && back[0] == 36 && back[17] == 53);
    CHECK(ctr_dataset_copy_images(d, 2, 1, back, 17) == CTR_STATUS_BUFFER_TOO_SMALL);
    CHECK(ctr_dataset_copy_images(d, 3, 2, back, sizeof back) == CTR_STATUS_INVALID_ARGUMENT);
    CHECK(ctr_dataset_copy_images(d, -1, 1, back, sizeof back) == CTR_STATUS_INVALID_ARGUMENT);
    CHECK(ctr_dataset_copy_images(d, 0, 1, NULL, sizeof back) == CTR_STATUS_INVALID_ARGUMENT);
    CHECK(ctr_dataset_copy_images(d, 0, 0, NULL, 0) == CTR_STATUS_OK);
    int32_t lb[4];
    CHECK(ctr_dataset_copy_labels(d, 0, 4, lb, 4) == CTR_STATUS_OK && lb[3] == 3);
    CHECK(ctr_dataset_copy_labels(d, 0, 4, lb, 3) == CTR_STATUS_BUFFER_TOO_SMALL);
    ctr_dataset *t = NULL, *v = NULL;
    CHECK(ctr_dataset_split(d, 1.5, 0, &t, &v) == CTR_STATUS_INVALID_ARGUMENT && !t && !v);
    CHECK(ctr_dataset_split(d, 0.0 / 0.0, 0, &t, &v) == CTR_STATUS_INVALID_ARGUMENT);
    CHECK(ctr_dataset_split(d, 0.5, 0, NULL, &v) == CTR_STATUS_INVALID_ARGUMENT);
    CHECK(ctr_dataset_split(d, 0.5, 0, &t, &v) == CTR_STATUS_OK && t && v);
    ctr_dataset_free(t);
    ctr_dataset_free(v);

    /* Unlabelled datasets have no labels to copy. */
    ctr_dataset *u = NULL;
    CHECK(ctr_dataset_from_memory(images, 4, 2, 3, 3, NULL, &u) == CTR_STATUS_OK);
    CHECK(ctr_dataset_copy_labels(u, 0, 1, lb, 4) == CTR_STATUS_INVALID_ARGUMENT);
    ctr_dataset_free(u);

    /* The procedural dataset: deterministic per (seed, index), labelled, bounded sizes. */
    ctr_dataset *p1 = NULL, *p2 = NULL;
    CHECK(ctr_dataset_procedural(12, 16, 5, &p1) == CTR_STATUS_OK && p1);
    CHECK(ctr_dataset_procedural(12, 16, 5, &p2) == CTR_STATUS_OK && p2);
    ctr_dataset_info pi = {sizeof pi, 0, 0, 0, 0, 0, 0};
    CHECK(ctr_dataset_get_info(p1, &pi) == CTR_STATUS_OK && pi.count == 12 && pi.height == 16 && pi.channels == 3 && pi.has_labels == 1);
    {
        static uint8_t a[12 * 16 * 16 * 3], b[12 * 16 * 16 * 3];
        CHECK(ctr_dataset_copy_images(p1, 0, 12, a, sizeof a) == CTR_STATUS_OK);
        CHECK(ctr_dataset_copy_images(p2, 0, 12, b, sizeof b) == CTR_STATUS_OK);
        CHECK(memcmp(a, b, sizeof a) == 0);
    }
    ctr_dataset_free(p1);
    ctr_dataset_free(p2);
    p1 = (ctr_dataset *)(void *)1;
    CHECK(ctr_dataset_procedural(0, 16, 0, &p1) == CTR_STATUS_INVALID_ARGUMENT && p1 == NULL);
    CHECK(ctr_dataset_procedural(-5, 16, 0, &p1) == CTR_STATUS_INVALID_ARGUMENT);
    CHECK(ctr_dataset_procedural(4, 7, 0, &p1) == CTR_STATUS_INVALID_ARGUMENT);
    CHECK(ctr_dataset_procedural(4, 2000, 0, &p1) == CTR_STATUS_INVALID_ARGUMENT);
    CHECK(ctr_dataset_procedural(4, 16, 0, NULL) == CTR_STATUS_INVALID_ARGUMENT);

    /* Boundary. */
    ctr_dataset *x = (ctr_dataset *)(void *)1;
    CHECK(ctr_dataset_from_memory(NULL, 4, 2, 3, 3, NULL, &x) == CTR_STATUS_INVALID_ARGUMENT && x == NULL);
    CHECK(ctr_dataset_from_memory(images, 0, 2, 3, 3, NULL, &x) == CTR_STATUS_INVALID_ARGUMENT);
    CHECK(ctr_dataset_from_memory(images, 4, 2, 0, 3, NULL, &x) == CTR_STATUS_INVALID_ARGUMENT);
    int32_t neg[4] = {0, -1, 0, 0};
    CHECK(ctr_dataset_from_memory(images, 4, 2, 3, 3, neg, &x) == CTR_STATUS_INVALID_ARGUMENT);
    CHECK(ctr_dataset_from_memory(images, 4, 2, 3, 3, NULL, NULL) == CTR_STATUS_INVALID_ARGUMENT);
    CHECK(ctr_dataset_load_idx(NULL, NULL, &x) == CTR_STATUS_INVALID_ARGUMENT);
    CHECK(ctr_dataset_load_idx("/nonexistent/images.idx", NULL, &x) == CTR_STATUS_IO);
    CHECK(ctr_dataset_load_idx("/etc/hostname", NULL, &x) == CTR_STATUS_FORMAT);
    CHECK(ctr_dataset_get_info(NULL, &info) == CTR_STATUS_INVALID_ARGUMENT);
    CHECK(ctr_dataset_get_info(d, NULL) == CTR_STATUS_INVALID_ARGUMENT);
    info.struct_size = 0;
    CHECK(ctr_dataset_get_info(d, &info) == CTR_STATUS_INVALID_ARGUMENT);
    info.struct_size = 8; /* an older, smaller struct: only its fields are written */
    info.count = -7;
    CHECK(ctr_dataset_get_info(d, &info) == CTR_STATUS_OK && info.height == 2 && info.count == -7);
    ctr_dataset_free(NULL);
    ctr_dataset_free(d);

    if (failures) {
        fprintf(stderr, "dataset_abi: %d of %d checks failed\n", failures, checks);
        return 1;
    }
    printf("dataset_abi: all %d checks passed\n", checks);
    return 0;
}
