/*
 * embed.c — create a ResNet-18 (CIFAR stem) with a projection head, embed a batch of uint8
 * images, save the weights as safetensors, load them into a second model and check that it
 * embeds identically.
 *
 *   make && build/bin/embed [checkpoint-path]
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

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "build/embed_example.safetensors";
    enum { N = 10, H = 32, W = 32, C = 3 };

    /* A ResNet-18 for 32x32 images with a SimCLR projection head (512 -> 2048 -> 128). */
    ctr_model_options mo;
    ctr_model_options_default(&mo);
    mo.arch = CTR_ARCH_RESNET18;
    mo.stem = CTR_STEM_CIFAR;
    mo.head_layers = 2;
    mo.head_hidden = 2048;
    mo.head_out = 128;
    mo.seed = 42;
    ctr_model *model = NULL;
    CHECK(ctr_model_create(&mo, &model));

    int32_t dim = 0;
    int64_t params = 0;
    CHECK(ctr_model_output_dim(model, CTR_EMBED_BACKBONE, &dim));
    CHECK(ctr_model_num_params(model, &params, NULL));
    printf("resnet18/cifar + head: %lld parameters, backbone features %d\n", (long long)params, dim);

    /* Procedural images: coloured gradients, one per sample. */
    static uint8_t images[N * H * W * C];
    for (int n = 0; n < N; n++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int c = 0; c < C; c++)
                    images[((n * H + y) * W + x) * C + c] = (uint8_t)((x * (c + 1) * 8 + y * 4 + n * 23) & 255);

    /* Embed from the projector, L2-normalised, with CIFAR-10 mean/std normalisation. */
    const float mean[C] = {0.4914f, 0.4822f, 0.4465f}, std[C] = {0.2470f, 0.2435f, 0.2616f};
    ctr_embed_options eo;
    ctr_embed_options_default(&eo);
    eo.output = CTR_EMBED_PROJECTOR;
    eo.normalize = 1;
    eo.mean = mean;
    eo.std = std;
    CHECK(ctr_model_output_dim(model, CTR_EMBED_PROJECTOR, &dim));
    float *z = malloc(sizeof(float) * N * (size_t)dim), *z2 = malloc(sizeof(float) * N * (size_t)dim);
    if (!z || !z2) return 1;
    CHECK(ctr_model_embed_u8(model, images, N, H, W, C, &eo, z, (size_t)N * dim));
    double norm = 0;
    for (int j = 0; j < dim; j++) norm += z[j] * z[j];
    printf("embedded %d images -> %d-d, first row norm %.6f, z[0][0..2] = %.5f %.5f %.5f\n",
           N, dim, sqrt(norm), z[0], z[1], z[2]);

    /* Save, load into a differently seeded model, embed again: identical. */
    CHECK(ctr_model_save(model, path));
    mo.seed = 7;
    ctr_model *copy = NULL;
    CHECK(ctr_model_create(&mo, &copy));
    CHECK(ctr_model_load(copy, path, 1));
    CHECK(ctr_model_embed_u8(copy, images, N, H, W, C, &eo, z2, (size_t)N * dim));
    if (memcmp(z, z2, sizeof(float) * N * (size_t)dim) != 0) {
        fprintf(stderr, "reloaded model embeds differently\n");
        return 1;
    }
    printf("saved %s and reloaded it: identical embeddings\n", path);

    /* Errors come back as statuses with a message; nothing is written. */
    ctr_status st = ctr_model_embed_u8(model, images, N, H, W, 1, &eo, z, (size_t)N * dim);
    printf("1-channel images into a 3-channel model: %s (%s)\n", ctr_status_string(st), ctr_last_error());
    if (st != CTR_STATUS_SHAPE_MISMATCH) return 1;

    free(z);
    free(z2);
    ctr_model_free(copy);
    ctr_model_free(model);
    return 0;
}
