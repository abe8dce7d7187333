/*
 * dataset_abi.c — the dataset C API end to end and at its boundary: Fashion-MNIST from
 * Debian's dataset-fashion-mnist (skipped if absent), memory datasets, copies, splits, and
 * NULL / out-of-range / wrong-kind arguments; CIFAR, NPY and image-folder loaders with good,
 * truncated, hostile and missing files (every call returns a status and a message).
 */
#include "contrastive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(2); }
    if (n && fwrite(data, 1, n, f) != n) { perror(path); exit(2); }
    fclose(f);
}

static int mkdir_p(const char *path) { return mkdir(path, 0755); }

/* A whole file into a malloc'd buffer (*n bytes); NULL if it cannot be read. */
static unsigned char *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static unsigned char buf[1 << 16];
    *n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    unsigned char *out = malloc(*n ? *n : 1);
    if (out) memcpy(out, buf, *n);
    return out;
}

/* An NPY v1.0 file: header dict padded to a 64-byte boundary, then the data. */
static size_t npy_file(unsigned char *out, const char *dict, const void *data, size_t n) {
    size_t len = strlen(dict), total = (10 + len + 1 + 63) / 64 * 64, hl = total - 10;
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (unsigned char)(hl & 0xFF);
    out[9] = (unsigned char)(hl >> 8);
    memcpy(out + 10, dict, len);
    memset(out + 10 + len, ' ', hl - len - 1);
    out[total - 1] = '\n';
    memcpy(out + total, data, n);
    return total + n;
}

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
    {   /* the largest label is accepted (num_classes saturates instead of overflowing) */
        int32_t big[4] = {0, INT32_MAX, 0, 0};
        ctr_dataset *b = NULL;
        ctr_dataset_info bi = {sizeof bi, 0, 0, 0, 0, 0, 0};
        CHECK(ctr_dataset_from_memory(images, 4, 2, 3, 3, big, &b) == CTR_STATUS_OK);
        CHECK(ctr_dataset_get_info(b, &bi) == CTR_STATUS_OK && bi.num_classes == INT32_MAX);
        ctr_dataset_free(b);
    }
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

    /* ---------------------------------------------------------------- CIFAR, NPY, folders */
    {
        char dir[] = "/tmp/ctr-dataset-abi-XXXXXX";
        CHECK(mkdtemp(dir) != NULL);
        char p1[256], p2[256], p3[256];
        snprintf(p1, sizeof p1, "%s/data_batch_1.bin", dir);
        snprintf(p2, sizeof p2, "%s/cut.bin", dir);
        snprintf(p3, sizeof p3, "%s/badlabel.bin", dir);
        static unsigned char rec[2 * 3073];
        for (int r = 0; r < 2; r++) {
            rec[r * 3073] = (unsigned char)(r == 0 ? 3 : 7);
            for (int i = 0; i < 3072; i++) rec[r * 3073 + 1 + i] = (unsigned char)(i / 1024 * 100 + r); /* plane c = 100c + r */
        }
        write_file(p1, rec, sizeof rec);
        write_file(p2, rec, 3073 + 5);
        rec[3073] = 10;
        write_file(p3, rec, sizeof rec);
        rec[3073] = 7;
        const char *paths[2] = {p1, p1};
        ctr_dataset *c = NULL;
        CHECK(ctr_dataset_load_cifar(paths, 2, CTR_CIFAR10, &c) == CTR_STATUS_OK && c);
        ctr_dataset_info ci = {sizeof ci, 0, 0, 0, 0, 0, 0};
        CHECK(ctr_dataset_get_info(c, &ci) == CTR_STATUS_OK && ci.count == 4 && ci.height == 32 && ci.width == 32 &&
              ci.channels == 3 && ci.num_classes == 10);
        int32_t cl[4];
        CHECK(ctr_dataset_copy_labels(c, 0, 4, cl, 4) == CTR_STATUS_OK && cl[0] == 3 && cl[1] == 7 && cl[2] == 3);
        static uint8_t cp[3072];
        CHECK(ctr_dataset_copy_images(c, 1, 1, cp, sizeof cp) == CTR_STATUS_OK);
        CHECK(cp[0] == 1 && cp[1] == 101 && cp[2] == 201 && cp[3] == 1); /* planar -> interleaved */
        char name[32];
        size_t need = 0;
        CHECK(ctr_dataset_class_name(c, 3, name, sizeof name, &need) == CTR_STATUS_OK && strcmp(name, "cat") == 0 && need == 4);
        CHECK(ctr_dataset_class_name(c, 3, NULL, 0, &need) == CTR_STATUS_BUFFER_TOO_SMALL && need == 4);
        CHECK(ctr_dataset_class_name(c, 3, name, 3, NULL) == CTR_STATUS_BUFFER_TOO_SMALL);
        CHECK(ctr_dataset_class_name(c, 10, name, sizeof name, NULL) == CTR_STATUS_INVALID_ARGUMENT);
        CHECK(ctr_dataset_class_name(c, -1, name, sizeof name, NULL) == CTR_STATUS_INVALID_ARGUMENT);
        CHECK(ctr_dataset_class_name(c, 0, NULL, 8, NULL) == CTR_STATUS_INVALID_ARGUMENT);
        CHECK(ctr_dataset_class_name(NULL, 0, name, sizeof name, NULL) == CTR_STATUS_INVALID_ARGUMENT);
        ctr_dataset_free(c);
        ctr_dataset *x = (ctr_dataset *)(void *)1;
        CHECK(ctr_dataset_load_cifar(paths, 2, CTR_CIFAR100_FINE, &x) == CTR_STATUS_FORMAT && x == NULL);
        const char *cut[1] = {p2}, *badl[1] = {p3}, *missing[1] = {"/nonexistent/data_batch_1.bin"}, *nul[1] = {NULL};
        CHECK(ctr_dataset_load_cifar(cut, 1, CTR_CIFAR10, &x) == CTR_STATUS_FORMAT && strstr(ctr_last_error(), "cut.bin"));
        CHECK(ctr_dataset_load_cifar(badl, 1, CTR_CIFAR10, &x) == CTR_STATUS_FORMAT && strstr(ctr_last_error(), "record 1"));
        CHECK(ctr_dataset_load_cifar(missing, 1, CTR_CIFAR10, &x) == CTR_STATUS_IO);
        CHECK(ctr_dataset_load_cifar(nul, 1, CTR_CIFAR10, &x) == CTR_STATUS_INVALID_ARGUMENT);
        CHECK(ctr_dataset_load_cifar(NULL, 1, CTR_CIFAR10, &x) == CTR_STATUS_INVALID_ARGUMENT);
        CHECK(ctr_dataset_load_cifar(paths, 0, CTR_CIFAR10, &x) == CTR_STATUS_INVALID_ARGUMENT);
        CHECK(ctr_dataset_load_cifar(paths, -3, CTR_CIFAR10, &x) == CTR_STATUS_INVALID_ARGUMENT);
        CHECK(ctr_dataset_load_cifar(paths, 1, 3, &x) == CTR_STATUS_INVALID_ARGUMENT);
        CHECK(ctr_dataset_load_cifar(paths, 1, CTR_CIFAR10, NULL) == CTR_STATUS_INVALID_ARGUMENT);

        /* NPY */
        char ni[256], nl[256], nb[256];
        snprintf(ni, sizeof ni, "%s/images.npy", dir);
        snprintf(nl, sizeof nl, "%s/labels.npy", dir);
        snprintf(nb, sizeof nb, "%s/bad.npy", dir);
        static unsigned char npy[4096];
        unsigned char px[24];
        for (int i = 0; i < 24; i++) px[i] = (unsigned char)(i * 3);
        size_t n = npy_file(npy, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3, 4), }", px, sizeof px);
        write_file(ni, npy, n);
        int64_t lab64[2] = {4, 1};
        size_t nlab = npy_file(npy + 2048, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", lab64, sizeof lab64);
        write_file(nl, npy + 2048, nlab);
        ctr_dataset *np_ = NULL;
        CHECK(ctr_dataset_load_npy(ni, nl, &np_) == CTR_STATUS_OK && np_);
        ctr_dataset_info ni_ = {sizeof ni_, 0, 0, 0, 0, 0, 0};
        CHECK(ctr_dataset_get_info(np_, &ni_) == CTR_STATUS_OK && ni_.count == 2 && ni_.height == 3 && ni_.width == 4 &&
              ni_.channels == 1 && ni_.num_classes == 5);
        CHECK(ctr_dataset_class_name(np_, 0, name, sizeof name, NULL) == CTR_STATUS_INVALID_ARGUMENT);
        ctr_dataset_free(np_);
        CHECK(ctr_dataset_load_npy(ni, NULL, &np_) == CTR_STATUS_OK);
        ctr_dataset_free(np_);
        for (size_t k = 0; k < n; k += 7) { /* truncated images */
            write_file(nb, npy, k);
            CHECK(ctr_dataset_load_npy(nb, NULL, &x) == CTR_STATUS_FORMAT && x == NULL);
        }
        CHECK(ctr_dataset_load_npy(ni, ni, &x) == CTR_STATUS_FORMAT); /* images as labels */
        n = npy_file(npy, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "\x80\x02N.", 4);
        write_file(nb, npy, n);
        CHECK(ctr_dataset_load_npy(nb, NULL, &x) == CTR_STATUS_FORMAT && strstr(ctr_last_error(), "pickle"));
        n = npy_file(npy, "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3, 4), }", px, sizeof px);
        write_file(nb, npy, n);
        CHECK(ctr_dataset_load_npy(nb, NULL, &x) == CTR_STATUS_FORMAT);
        n = npy_file(npy, "{'descr': '|u1', 'fortran_order': False, 'shape': (4611686018427387904, 4, 4), }", px, sizeof px);
        write_file(nb, npy, n);
        CHECK(ctr_dataset_load_npy(nb, NULL, &x) == CTR_STATUS_FORMAT);
        CHECK(ctr_dataset_load_npy("/nonexistent/x.npy", NULL, &x) == CTR_STATUS_IO);
        CHECK(ctr_dataset_load_npy(NULL, NULL, &x) == CTR_STATUS_INVALID_ARGUMENT);
        CHECK(ctr_dataset_load_npy(ni, NULL, NULL) == CTR_STATUS_INVALID_ARGUMENT);
        CHECK(ctr_dataset_load_npy("", NULL, &x) == CTR_STATUS_INVALID_ARGUMENT);

        /* Image folders: the committed fixtures (classes grey/, red/), run from the repo root. */
        const char *fx = "Tests/ContrastiveTests/Fixtures/images/classes";
        ctr_folder_options fo;
        memset(&fo, 0xAB, sizeof fo);
        ctr_folder_options_default(&fo);
        ctr_folder_options_default(NULL);
        CHECK(fo.struct_size == sizeof fo && fo.height == 0 && fo.width == 0 && fo.channels == 3 && fo.layout == CTR_FOLDER_AUTO);
        fo.height = 8;
        fo.width = 10;
        ctr_dataset *fd = NULL;
        CHECK(ctr_dataset_load_folder(fx, &fo, &fd) == CTR_STATUS_OK && fd);
        ctr_dataset_info fi = {sizeof fi, 0, 0, 0, 0, 0, 0};
        CHECK(ctr_dataset_get_info(fd, &fi) == CTR_STATUS_OK && fi.count == 3 && fi.height == 8 && fi.width == 10 &&
              fi.channels == 3 && fi.num_classes == 2);
        CHECK(ctr_dataset_class_name(fd, 0, name, sizeof name, NULL) == CTR_STATUS_OK && strcmp(name, "grey") == 0);
        CHECK(ctr_dataset_class_name(fd, 1, name, sizeof name, NULL) == CTR_STATUS_OK && strcmp(name, "red") == 0);
        ctr_dataset_free(fd);
        CHECK(ctr_dataset_load_folder(fx, NULL, &fd) == CTR_STATUS_OK); /* defaults: all 12x16, kept */
        CHECK(ctr_dataset_get_info(fd, &fi) == CTR_STATUS_OK && fi.height == 12 && fi.width == 16);
        ctr_dataset_free(fd);
        ctr_folder_options old = fo;
        old.struct_size = 12; /* an older caller: height and width only; channels/layout default */
        old.channels = 99;
        CHECK(ctr_dataset_load_folder(fx, &old, &fd) == CTR_STATUS_OK);
        ctr_dataset_free(fd);
        ctr_folder_options bad = fo;
        bad.struct_size = 0;
        CHECK(ctr_dataset_load_folder(fx, &bad, &x) == CTR_STATUS_INVALID_ARGUMENT);
        bad = fo;
        bad.channels = 2;
        CHECK(ctr_dataset_load_folder(fx, &bad, &x) == CTR_STATUS_INVALID_ARGUMENT);
        bad = fo;
        bad.layout = 9;
        CHECK(ctr_dataset_load_folder(fx, &bad, &x) == CTR_STATUS_INVALID_ARGUMENT);
        bad = fo;
        bad.height = -1;
        CHECK(ctr_dataset_load_folder(fx, &bad, &x) == CTR_STATUS_INVALID_ARGUMENT);
        bad = fo;
        bad.width = 0;
        CHECK(ctr_dataset_load_folder(fx, &bad, &x) == CTR_STATUS_INVALID_ARGUMENT);
        CHECK(ctr_dataset_load_folder(NULL, &fo, &x) == CTR_STATUS_INVALID_ARGUMENT);
        CHECK(ctr_dataset_load_folder(fx, &fo, NULL) == CTR_STATUS_INVALID_ARGUMENT);
        CHECK(ctr_dataset_load_folder("/nonexistent/folder", &fo, &x) == CTR_STATUS_IO);
        CHECK(ctr_dataset_load_folder(p1, &fo, &x) == CTR_STATUS_IO); /* a file, not a folder */
        /* A flat folder with a truncated PNG (every 5th cut) and a corrupt JPEG. */
        char sub[256], img[300];
        snprintf(sub, sizeof sub, "%s/flat", dir);
        CHECK(mkdir_p(sub) == 0);
        CHECK(ctr_dataset_load_folder(sub, &fo, &x) == CTR_STATUS_FORMAT); /* no images */
        size_t pn = 0, jn = 0;
        unsigned char *png = read_file("Tests/ContrastiveTests/Fixtures/images/classes/red/rgb.png", &pn);
        unsigned char *jpg = read_file("Tests/ContrastiveTests/Fixtures/images/classes/red/rgb.jpg", &jn);
        CHECK(png && jpg && pn > 60 && jn > 60);
        if (png && jpg) {
            snprintf(img, sizeof img, "%s/a.png", sub);
            write_file(img, png, pn);
            CHECK(ctr_dataset_load_folder(sub, &fo, &fd) == CTR_STATUS_OK);
            ctr_dataset_free(fd);
            for (size_t k = 0; k < pn; k += 5) {
                write_file(img, png, k);
                CHECK(ctr_dataset_load_folder(sub, &fo, &x) == CTR_STATUS_FORMAT && x == NULL && strstr(ctr_last_error(), "a.png"));
            }
            write_file(img, png, pn);
            snprintf(img, sizeof img, "%s/b.jpg", sub);
            for (size_t k = 0; k < jn; k += 9) {
                write_file(img, jpg, k);
                CHECK(ctr_dataset_load_folder(sub, &fo, &x) == CTR_STATUS_FORMAT && strstr(ctr_last_error(), "b.jpg"));
            }
            jpg[jn / 2] ^= 0xFF;
            jpg[jn / 2 + 1] ^= 0x5A;
            write_file(img, jpg, jn);
            ctr_status st = ctr_dataset_load_folder(sub, &fo, &x); /* decodes or FORMAT, never a crash */
            CHECK(st == CTR_STATUS_OK || st == CTR_STATUS_FORMAT);
            if (st == CTR_STATUS_OK) ctr_dataset_free(x);
            unlink(img);
            snprintf(img, sizeof img, "%s/a.png", sub);
            unlink(img);
        }
        free(png);
        free(jpg);
        rmdir(sub);
        unlink(p1);
        unlink(p2);
        unlink(p3);
        unlink(ni);
        unlink(nl);
        unlink(nb);
        rmdir(dir);
    }

    if (failures) {
        fprintf(stderr, "dataset_abi: %d of %d checks failed\n", failures, checks);
        return 1;
    }
    printf("dataset_abi: all %d checks passed\n", checks);
    return 0;
}
