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

#ifdef __cplusplus
}
#endif
#endif
