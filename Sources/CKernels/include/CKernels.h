/*
 * CKernels — hand-vectorised compute kernels the Swift engine calls where the system BLAS is
 * not the fastest tool on the running CPU. Internal to libcontrastive (the .so exports ctr_*
 * only); every kernel has a runtime CPU check and a portable fallback in the caller.
 */
#ifndef CKERNELS_H
#define CKERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/** 1 when the CPU and the OS support AVX-512F (ZMM state enabled in XCR0), else 0. */
int ck_have_avx512(void);

/**
 * Row-major single-precision GEMM on the calling thread:
 *   C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C
 * op(X) = X, or Xᵀ when transX is non-zero; lda/ldb/ldc are row strides in floats.
 * With beta == 0, C is not read (NaN or garbage in C does not propagate), as in BLAS.
 * Each element of C is summed over k in a fixed order that does not depend on how the
 * caller splits C into blocks, so results are deterministic for any thread split.
 * Requires ck_have_avx512(); returns 0, or -1 when a packing buffer cannot be allocated
 * (C is then unchanged).
 */
int ck_sgemm_avx512(int transA, int transB, long m, long n, long k,
                    float alpha, const float *A, long lda,
                    const float *B, long ldb,
                    float beta, float *C, long ldc);

/** A convolution's geometry: input planes cin×h×w, kernel kh×kw, stride sh/sw, zero padding
 *  ph/pw, output planes ho×wo (= (h + 2ph − kh)/sh + 1 by (w + 2pw − kw)/sw + 1). */
typedef struct ck_conv_shape {
    long cin, h, w;
    long kh, kw, sh, sw, ph, pw;
    long ho, wo;
} ck_conv_shape;

/**
 * Convolution of nb images on the calling thread, as one GEMM whose B operand is the
 * im2col matrix packed straight from x (never materialised):
 *   y[b][co][p] = Σ_k w[co][k] · im2col(x)[k][b·P₁ + p] + beta · y[b][co][p]
 * x: nb images NCHW (cin×h×w each); w: cout × (cin·kh·kw) row-major; y: output channel co of
 * image b at y + b·y_image_stride + co·P₁ (P₁ = ho·wo), so a caller may compute a range of
 * output channels. beta 0 does not read y. Same summation-order guarantee as ck_sgemm_avx512.
 * pack: the caller's packing buffer, ck_pack_floats() floats, 64-byte aligned (so nothing
 * here allocates or can fail once the arguments are valid).
 * Returns 0, or -1 for a bad argument (shape, alignment, more than 2³¹ input floats; y unchanged).
 */
int ck_conv_forward_avx512(const ck_conv_shape *s, const float *x, long nb, long cout,
                           const float *w, float beta, float *y, long y_image_stride, float *pack);

/**
 * ck_conv_forward_avx512 with an epilogue applied as each output tile is stored:
 *   y = relu?(conv + beta·y + bias[co] + add[b][co][p])
 * bias: cout floats (the call's first output channel at bias[0]) or NULL; add: a tensor laid
 * out like y (same image stride, may not alias y) or NULL; relu: non-zero for max(·, 0)
 * (a NaN becomes 0). Same return values and guarantees as ck_conv_forward_avx512.
 */
int ck_conv_forward_ep_avx512(const ck_conv_shape *s, const float *x, long nb, long cout,
                              const float *w, float beta, float *y, long y_image_stride,
                              const float *bias, const float *add, int relu, float *pack);

/**
 * Weight gradient of a convolution of nb images on the calling thread, as one GEMM whose B
 * operand is the transposed im2col matrix packed straight from x:
 *   dw[co][k] = Σ_p dy[co][p] · im2col(x)[k][p] + beta · dw[co][k]
 * dy: cout rows of nb·P₁ columns (the images' output planes side by side), row stride lddy;
 * dw: cout × (cin·kh·kw) row-major. Same summation-order guarantee and return values as
 * ck_conv_forward_avx512; pack as there.
 */
int ck_conv_weight_grad_avx512(const ck_conv_shape *s, const float *x, long nb, long cout,
                               const float *dy, long lddy, float beta, float *dw, float *pack);

/** Floats of packing buffer one ck_conv_forward_avx512 call needs (0 without AVX-512 support). */
long ck_pack_floats(void);

/**
 * 3×3, stride-1, pad-1 convolution of nb images by Winograd F(2×2, 3×3), fused: input
 * transform, 16 GEMMs on the AVX-512 micro-kernel and output transform run per panel of 48
 * output tiles, so nothing beyond one panel is materialised. Same contract as
 * ck_conv_forward_ep_avx512 — y = relu?(conv + beta·y + bias[co] + add) at
 * y + b·y_image_stride + co·H·W — with the weights given pre-transformed:
 * U: ck_winograd_weight_floats(cin, cout) floats from ck_winograd_weights;
 * scratch: ck_winograd_scratch_floats(cin, cout) floats, 64-byte aligned.
 * Rounding differs from the direct sum by a few ulps (the transforms add, subtract, halve).
 * Returns 0, or -1 for a bad argument (another kernel geometry, alignment, more than 2³¹
 * input floats; y unchanged).
 */
int ck_winograd_forward_avx512(const ck_conv_shape *s, const float *x, long nb, long cout, const float *U,
                               float beta, float *y, long y_image_stride,
                               const float *bias, const float *add, int relu, float *scratch);

/**
 * Winograd-domain weights U = G g Gᵀ for output-channel blocks blk0 … blk1 − 1 (8 channels
 * each; channels ≥ cout zero), laid out U[blk][ξ][ci][8]; w: cout × cin × 3 × 3.
 */
void ck_winograd_weights(const float *w, long cout, long cin, long blk0, long blk1, float *U);

/**
 * Weight gradient of a 3×3, stride-1, pad-1 convolution of nb images by Winograd F(2×2, 3×3):
 *   dw[co][ci][ky][kx] = Σ_b Σ_(oy, ox) dy[b][co][oy][ox] · x[b][ci][oy + ky − 1][ox + kx − 1] + beta · dw
 * as dw = Gᵀ [Σ_tiles (A dY Aᵀ) ⊙ (Bᵀ d B)] G: 16 GEMMs over tiles on the AVX-512
 * micro-kernel, fed chunk by chunk. dy: image b at dy + b·dy_image_stride (cout planes);
 * scratch: ck_winograd_wgrad_scratch_floats(cin, cout) floats, 64-byte aligned. Each tile's
 * contribution is summed in tile order, so the result depends only on nb's images.
 * Returns 0, or -1 for a bad argument (dw unchanged).
 */
int ck_winograd_weight_grad_avx512(const ck_conv_shape *s, const float *x, long nb, long cout,
                                   const float *dy, long dy_image_stride, float beta, float *dw, float *scratch);

/** Floats of scratch for ck_winograd_weight_grad_avx512 (0 without AVX-512 support). */
long ck_winograd_wgrad_scratch_floats(long cin, long cout);

/** Floats of U for ck_winograd_forward_avx512 (0 for non-positive sizes). */
long ck_winograd_weight_floats(long cin, long cout);

/** Floats of per-call scratch for ck_winograd_forward_avx512 (0 without AVX-512 support). */
long ck_winograd_scratch_floats(long cin, long cout);

#ifdef __cplusplus
}
#endif
#endif
