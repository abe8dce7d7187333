import CKernels
import COpenBLAS
#if canImport(Glibc)
import Glibc
#endif

/// Single-precision matrix products — the engine's only entry to OpenBLAS's sgemm.
///
/// Each per-thread product runs one of two kernels (`BLAS.kernel`): OpenBLAS, or on CPUs with
/// AVX-512 the engine's own packed GEMM (`ck_sgemm_avx512` in Sources/CKernels). Measured here,
/// OpenBLAS 0.3.21 runs its AVX2 kernels (the machine pins `OPENBLAS_CORETYPE=Haswell`, as
/// older builds' AVX-512 kernels are wrong on some CPUs) at ~118 GFLOP/s per core on the
/// convolution shapes, the AVX-512 kernel at ~210. The AVX-512 kernel also makes results
/// independent of which kernel family OpenBLAS picks on a given machine.
/// `CTR_GEMM=openblas` in the environment forces OpenBLAS (an A/B aid).
///
/// OpenBLAS itself always runs single-threaded (see `ThreadPool.setThreads`): the engine
/// splits large products across its own pool, one OpenBLAS call per thread on a disjoint block
/// of C. Keeping every thread the engine's own avoids OpenBLAS's idle workers spinning on
/// `sched_yield` while the engine's loops run (measured: ~12 % of a convolution benchmark), lets
/// convolutions give each thread whole images (im2col, GEMM and scatter in one thread's cache),
/// and keeps results deterministic: each element of C is computed by exactly one call, whose
/// value does not depend on how C was split.
public enum BLAS {
    /// The per-thread GEMM implementation.
    public enum Kernel: String, Sendable {
        /// cblas_sgemm from the system OpenBLAS (any CPU).
        case openblas
        /// The engine's AVX-512 micro-kernel (CPUs with AVX-512F only).
        case avx512
    }

    /// Whether this CPU (and OS) can run the AVX-512 kernel.
    public static let avx512Available = ck_have_avx512() != 0

    /// The kernel in use: AVX-512 where available unless `CTR_GEMM=openblas`. Tests switch it
    /// to compare the two; setting `.avx512` on a CPU without it falls back to OpenBLAS.
    nonisolated(unsafe) public static var kernel: Kernel = {
        if let e = getenv("CTR_GEMM"), String(cString: e) == "openblas" { return .openblas }
        return avx512Available ? .avx512 : .openblas
    }()

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

    /// One product on the calling thread, by `kernel`. Sizes fit Int32 (tensors hold < 2³¹
    /// elements). If the AVX-512 kernel cannot allocate its packing buffers, OpenBLAS runs.
    @inlinable
    public static func serial(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if kernel == .avx512 && avx512Available && k > 0,
           ck_sgemm_avx512(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) == 0 {
            return
        }
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }
}
