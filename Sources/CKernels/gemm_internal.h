/* Internal to CKernels: the GEMM micro-kernel and its blocking, shared by the kernels built
 * on it (gemm_avx512.c, winograd_avx512.c). Not part of the library's interface. */
#ifndef CK_GEMM_INTERNAL_H
#define CK_GEMM_INTERNAL_H

#include "CKernels.h"

#ifndef CK_KC
#define CK_KC 192
#endif
#ifndef CK_NC
#define CK_NC (48 * 64)
#endif
enum { MR = 8, NR = 48, KC = CK_KC, MC = 256, NC = CK_NC };

/* Where the NR columns of a strip live in C: column j of the strip is at c + off[j] (row 0).
 * Plain matrices have off[j] = j; a convolution's batched columns jump at image boundaries.
 * scattered: some 16-column group is not contiguous, so stores go lane by lane. */
typedef struct { long off[NR]; int scattered; } strip_out;

/* What the last k-block adds to a tile before it is stored: a per-row bias (bias[i] for tile
 * row i), a tensor laid out like C (add + i·ldc + off[j]), then max(·, 0). NULL/0: none. */
typedef struct { const float *bias; const float *add; int relu; } epilogue;

/* C[mr×nr] = epilogue(alpha·(Ap·Bp) + beta·C) over one MR×NR tile (beta 0: C not read).
 * a: kc·MR floats (k-major), b: kc·NR floats (k-major, 64-byte aligned). */
__attribute__((visibility("hidden")))
void ck_micro_8x48(long kc, const float *restrict a, const float *restrict b,
                   float *c, const strip_out *out, long ldc, long mr, long nr, float alpha, float beta,
                   const epilogue *ep);

/* A consistent geometry, positive counts and an aligned scratch buffer (the x86 entry points'
 * only refusals, checked before anything is read or written). */
__attribute__((visibility("hidden")))
int ck_conv_args_ok(const ck_conv_shape *s, long nb, long cout, const float *pack);

/* In-register transpose of a 16×16 block: afterwards r[c] holds column c of the rows given. */
__attribute__((target("avx512f")))
static inline void ck_transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {                 /* pairs of rows, interleaved per 128-bit lane */
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {                 /* r[i + q], lane k: column 4k + q of rows i … i + 3 */
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int q = 0; q < 4; q++) {                     /* gather lane k of the four row groups */
        t[q] = _mm512_shuffle_f32x4(r[q], r[4 + q], 0x88);
        t[4 + q] = _mm512_shuffle_f32x4(r[q], r[4 + q], 0xDD);
        t[8 + q] = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0x88);
        t[12 + q] = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0xDD);
    }
    for (int q = 0; q < 4; q++) {
        r[q] = _mm512_shuffle_f32x4(t[q], t[8 + q], 0x88);
        r[8 + q] = _mm512_shuffle_f32x4(t[q], t[8 + q], 0xDD);
        r[4 + q] = _mm512_shuffle_f32x4(t[4 + q], t[12 + q], 0x88);
        r[12 + q] = _mm512_shuffle_f32x4(t[4 + q], t[12 + q], 0xDD);
    }
}

#endif
