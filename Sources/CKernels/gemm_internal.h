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

#endif
