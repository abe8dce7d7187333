/*
 * ntxent.c — use libcontrastive's NT-Xent (SimCLR) loss on your own embeddings: compute the
 * loss and its gradient for two views held in plain C arrays, then check the gradient by
 * central finite differences. Exits 0 when every component agrees.
 *
 *   make && build/bin/ntxent
 */
#include <contrastive.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { N = 6, D = 8 };

#define CHECK(call)                                                                        \
    do {                                                                                   \
        ctr_status st_ = (call);                                                           \
        if (st_ != CTR_STATUS_OK) {                                                        \
            fprintf(stderr, "%s failed: %s: %s\n", #call, ctr_status_string(st_),          \
                    ctr_last_error());                                                     \
            return 1;                                                                      \
        }                                                                                  \
    } while (0)

/* A small deterministic generator (uniform in [-1, 1)). */
static float uniform(uint64_t *s) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((*s >> 40) * (1.0 / 8388608.0)) - 1.0f;
}

int main(void) {
    float z1[N * D], z2[N * D], dz1[N * D], dz2[N * D];
    uint64_t seed = 7;
    for (int i = 0; i < N * D; i++) { z1[i] = uniform(&seed); z2[i] = z1[i] + 0.3f * uniform(&seed); }

    ctr_ntxent_options opts;
    ctr_ntxent_options_default(&opts);
    opts.temperature = 0.5f;                    /* cosine similarity is the default */

    float loss = 0;
    CHECK(ctr_ntxent(z1, z2, N, N, D, &opts, &loss, dz1, dz2));
    printf("NT-Xent over %d pairs of %d-d embeddings: loss %.6f\n", N, D, loss);

    /* Central differences in float32: h = 1e-2 keeps the rounding error (~1e-7·loss/h) far
     * below the tolerance; the truncation error is O(h²·third derivative) ≈ 1e-5. */
    const float h = 1e-2f;
    double worst = 0;
    int bad = 0;
    for (int v = 0; v < 2; v++) {
        float *z = v == 0 ? z1 : z2;
        const float *g = v == 0 ? dz1 : dz2;
        for (int i = 0; i < N * D; i++) {
            float keep = z[i], lp = 0, lm = 0;
            z[i] = keep + h;
            CHECK(ctr_ntxent(z1, z2, N, N, D, &opts, &lp, NULL, NULL));
            z[i] = keep - h;
            CHECK(ctr_ntxent(z1, z2, N, N, D, &opts, &lm, NULL, NULL));
            z[i] = keep;
            double fd = ((double)lp - (double)lm) / (2.0 * h);
            double err = fabs(fd - g[i]);
            if (err > worst) worst = err;
            if (err > 1e-3 + 2e-2 * fabs(fd)) {
                bad++;
                fprintf(stderr, "dz%d[%d]: analytic %.6f, finite difference %.6f\n", v + 1, i, g[i], fd);
            }
        }
    }
    printf("gradient check: %d of %d components off, worst |analytic - finite difference| = %.2e\n",
           bad, 2 * N * D, worst);
    return bad == 0 ? 0 : 1;
}
