import COpenBLAS

/// Single-precision matrix products — the only user of OpenBLAS in the engine.
///
/// OpenBLAS itself always runs single-threaded (see `ThreadPool.setThreads`): the engine
/// splits large products across its own pool, one OpenBLAS call per thread on a disjoint block
/// of C. Keeping every thread the engine's own avoids OpenBLAS's idle workers spinning on
/// `sched_yield` while the engine's loops run (measured: ~12 % of a convolution benchmark), lets
/// convolutions give each thread whole images (im2col, GEMM and scatter in one thread's cache),
/// and keeps results deterministic: each element of C is computed by exactly one call, whose
/// value does not depend on how C was split.
public enum BLAS {
    /// Multiply-adds below which a product is not worth splitting.
    public static let splitThreshold = 1 << 20

    /// `C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C`, row-major, explicit leading dims.
    @inlinable
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // op(A)·op(B) is empty: C = beta·C.
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        let work = m.multipliedReportingOverflow(by: n).partialValue.multipliedReportingOverflow(by: k)
        let threads = ThreadPool.shared.threads
        guard threads > 1, !work.overflow, work.partialValue >= splitThreshold, max(m, n) >= 32 else {
            serial(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        // Split the larger side of C into blocks that are multiples of 16.
        let splitCols = n >= m
        let side = splitCols ? n : m
        let parts = min(threads, side / 16)
        let blocks = (side + 15) / 16
        ThreadPool.shared.run(parts: parts) { p in
            let lo = min(side, p * blocks / parts * 16), hi = min(side, (p + 1) * blocks / parts * 16)
            guard hi > lo else { return }
            if splitCols {
                let bp = transB ? b + lo * ldb : b + lo
                serial(transA: transA, transB: transB, m: m, n: hi - lo, k: k, alpha: alpha, a: a, lda: lda,
                       b: bp, ldb: ldb, beta: beta, c: c + lo, ldc: ldc)
            } else {
                let ap = transA ? a + lo : a + lo * lda
                serial(transA: transA, transB: transB, m: hi - lo, n: n, k: k, alpha: alpha, a: ap, lda: lda,
                       b: b, ldb: ldb, beta: beta, c: c + lo * ldc, ldc: ldc)
            }
        }
    }

    /// One OpenBLAS call on the calling thread. Sizes fit Int32 (tensors hold < 2³¹ elements).
    @inlinable
    public static func serial(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }
}
