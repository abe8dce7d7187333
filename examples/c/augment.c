/* augment.c — augment a procedurally generated colourful batch with the SimCLR CIFAR recipe,
 * check the output shape and determinism, print the pipeline, and write a preview PNG to
 * build/augment_preview.png (or argv[1]).
 * build: gcc -std=c99 augment.c -Iinclude -Lbuild/lib -lcontrastive -lm \
 *        -Wl,-rpath,$PWD/build/lib -o augment */
#include <contrastive.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 8
#define H 64
#define W 64
#define C 3

static int check(ctr_status st, const char *what) {
    if (st != CTR_STATUS_OK) {
        fprintf(stderr, "%s: %s: %s\n", what, ctr_status_string(st), ctr_last_error());
        return 1;
    }
    return 0;
}

/* Colourful test images: rings and stripes whose hue depends on the image index. */
static void make_images(uint8_t *img) {
    for (int n = 0; n < N; n++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                double dx = x - W / 2.0 + 2 * n, dy = y - H / 2.0, r = sqrt(dx * dx + dy * dy);
                uint8_t *p = img + ((n * H + y) * W + x) * C;
                p[0] = (uint8_t)(127.5 + 127.5 * sin(r * 0.35 + n));
                p[1] = (uint8_t)(127.5 + 127.5 * sin(x * 0.15 + n * 0.7));
                p[2] = (uint8_t)(((x / 16 + y / 16 + n) % 2) ? 220 : 30);
            }
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "build/augment_preview.png";
    static uint8_t images[N * H * W * C];
    make_images(images);

    ctr_augment_options opts;
    ctr_augment_options_default(&opts);
    opts.preset = "simclr-cifar";
    opts.size = 64;                          /* CIFAR recipe, 64×64 crops of 64×64 images */
    ctr_augmenter *aug = NULL;
    if (check(ctr_augmenter_create(&opts, &aug), "create")) return 1;

    int32_t views = ctr_augmenter_view_count(aug), shape[3];
    if (check(ctr_augmenter_view_shape(aug, 0, H, W, C, shape), "view_shape")) return 1;
    size_t floats = 0;
    if (check(ctr_augmenter_output_size(aug, N, H, W, C, &floats), "output_size")) return 1;
    printf("%d views of %dx%dx%d per image, %zu floats per batch\n", views, shape[0], shape[1], shape[2], floats);

    size_t need = 0;
    ctr_augmenter_describe(aug, NULL, 0, &need);
    char *text = malloc(need);
    if (!text || check(ctr_augmenter_describe(aug, text, need, NULL), "describe")) return 1;
    printf("pipeline:\n%s", text);

    float *a = malloc(floats * sizeof(float)), *b = malloc(floats * sizeof(float));
    int64_t idx[N], rev[N];
    for (int i = 0; i < N; i++) { idx[i] = 100 + i; rev[i] = 100 + N - 1 - i; }
    static uint8_t reversed[N * H * W * C];
    for (int i = 0; i < N; i++) memcpy(reversed + i * H * W * C, images + (N - 1 - i) * H * W * C, H * W * C);
    if (!a || !b) return 1;
    if (check(ctr_augmenter_apply(aug, images, N, H, W, C, 7, 0, idx, a, floats), "apply")) return 1;
    ctr_set_num_threads(1);
    if (check(ctr_augmenter_apply(aug, reversed, N, H, W, C, 7, 0, rev, b, floats), "apply")) return 1;
    ctr_set_num_threads(0);
    /* Same (seed, epoch, index) → same view, whatever the order and thread count. */
    size_t per = (size_t)shape[0] * shape[1] * shape[2];
    for (int v = 0; v < views; v++)
        for (int i = 0; i < N; i++)
            if (memcmp(a + (v * N + i) * per, b + (v * N + N - 1 - i) * per, per * sizeof(float)) != 0) {
                fprintf(stderr, "view %d of image %d differs\n", v, i);
                return 1;
            }
    printf("determinism: same views for reversed order on 1 thread\n");

    /* Errors are statuses with a message, never crashes. */
    ctr_status st = ctr_augmenter_apply(aug, images, N, H, W, C, 7, 0, NULL, a, 10);
    printf("small buffer -> %s: %s\n", ctr_status_string(st), ctr_last_error());
    ctr_augmenter *bad = NULL;
    opts.preset = NULL;
    opts.description = "view: rrc size=32 | jitter p=0.8 hue=0.7";
    st = ctr_augmenter_create(&opts, &bad);
    printf("hue 0.7 -> %s: %s\n", ctr_status_string(st), ctr_last_error());
    if (st == CTR_STATUS_OK) return 1;

    if (check(ctr_augment_preview_png(aug, path, images, N, H, W, C, 7, 0), "preview")) return 1;
    printf("wrote %s\n", path);
    free(a); free(b); free(text);
    ctr_augmenter_free(aug);
    return 0;
}
