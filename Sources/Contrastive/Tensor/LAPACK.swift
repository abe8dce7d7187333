import COpenBLAS

/// Double-precision dense linear algebra from OpenBLAS (its bundled LAPACK), for the
/// evaluation diagnostics that need eigenvalues (effective rank). Like `BLAS`, the only other
/// place that talks to OpenBLAS; runs on the calling thread.
public enum LAPACK {
    /// C[n×n] (+)= Aᵀ·A for row-major A (k × n), upper triangle of C (row-major) written.
    public static func gramUpper(a: UnsafePointer<Double>, k: Int, n: Int, lda: Int, c: UnsafeMutablePointer<Double>, ldc: Int, accumulate: Bool) {
        guard n > 0, k > 0 else { return }
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(n), Int32(k), 1, a, Int32(lda), accumulate ? 1 : 0, c, Int32(ldc))
    }

    /// C[n×n] = A·Aᵀ for row-major A (n × k), upper triangle of C (row-major) written.
    public static func outerGramUpper(a: UnsafePointer<Double>, n: Int, k: Int, lda: Int, c: UnsafeMutablePointer<Double>, ldc: Int) {
        guard n > 0, k > 0 else { return }
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(n), Int32(k), 1, a, Int32(lda), 0, c, Int32(ldc))
    }

    /// Eigenvalues (ascending) of the symmetric n × n matrix whose upper triangle (row-major)
    /// is in `a` (overwritten), by LAPACK's dsyevd. Throws NUMERIC if it does not converge.
    public static func symmetricEigenvalues(_ a: UnsafeMutablePointer<Double>, n: Int, into w: UnsafeMutablePointer<Double>) throws {
        guard n > 0 else { return }
        guard n <= Int(Int32.max) / 4 else { throw ContrastiveError(.outOfMemory, "eigenvalues of a \(n) × \(n) matrix") }
        // Row-major upper triangle == column-major lower triangle.
        var jobz = CChar(UInt8(ascii: "N")), uplo = CChar(UInt8(ascii: "L"))
        var nn = Int32(n), lda = Int32(n), info: Int32 = 0
        var lwork = Int32(2 * n + 1), liwork: Int32 = 1
        let work = UnsafeMutablePointer<Double>.allocate(capacity: Int(lwork))
        let iwork = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        defer { work.deallocate(); iwork.deallocate() }
        dsyevd_(&jobz, &uplo, &nn, a, &lda, w, work, &lwork, iwork, &liwork, &info, 1, 1)
        guard info == 0 else {
            throw ContrastiveError(.numeric, "dsyevd did not converge (info \(info))")
        }
    }
}
