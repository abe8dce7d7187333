import Testing
import Contrastive

/// The per-thread GEMM kernels (`BLAS.Kernel`) against a Double reference, on shapes that cross
/// every blocking edge of the AVX-512 kernel (MR 8, NR 48, KC 192, MC 256, NC 3072), all four
/// transpose cases, strided sub-matrices, alpha/beta, and the BLAS rule that beta 0 ignores C.
@Suite("GEMM kernels", .serialized)
struct GEMMTests {
    /// Kernels runnable on this CPU (the AVX-512 one only where the CPU has it).
    static let kernels: [BLAS.Kernel] = BLAS.avx512Available ? [.openblas, .avx512] : [.openblas]

    static func withKernel<T>(_ k: BLAS.Kernel, _ body: () throws -> T) rethrows -> T {
        let saved = BLAS.kernel
        BLAS.kernel = k
        defer { BLAS.kernel = saved }
        return try body()
    }

    /// C = alpha·op(A)·op(B) + beta·C in Double; returns the max error relative to max |C|.
    static func check(kernel: BLAS.Kernel, m: Int, n: Int, k: Int, ta: Bool, tb: Bool,
                      alpha: Float, beta: Float, pad: Int = 0, seed: UInt64 = 1) -> Double {
        var rng = SeededRNG(seed)
        let rowsA = ta ? k : m, colsA = ta ? m : k, rowsB = tb ? n : k, colsB = tb ? k : n
        let lda = colsA + pad, ldb = colsB + pad, ldc = n + pad
        let a = (0..<(rowsA * lda)).map { _ in Float(rng.normal()) }
        let b = (0..<(rowsB * ldb)).map { _ in Float(rng.normal()) }
        var c = (0..<(m * ldc)).map { _ in beta == 0 ? Float.nan : Float(rng.normal()) }
        let c0 = c
        withKernel(kernel) {
            BLAS.serial(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                        b: b, ldb: ldb, beta: beta, c: &c, ldc: ldc)
        }
        var worst = 0.0, scale = 1e-30
        for i in 0..<m {
            for j in 0..<ldc {
                if j >= n { if c[i * ldc + j].bitPattern != c0[i * ldc + j].bitPattern { return .infinity }; continue }
                var s = 0.0
                for p in 0..<k {
                    let av = ta ? a[p * lda + i] : a[i * lda + p]
                    let bv = tb ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(av) * Double(bv)
                }
                let want = Double(alpha) * s + (beta == 0 ? 0 : Double(beta) * Double(c0[i * ldc + j]))
                let got = Double(c[i * ldc + j])
                if !got.isFinite { return .infinity }
                worst = max(worst, abs(got - want)); scale = max(scale, abs(want))
            }
        }
        return worst / scale
    }

    @Test("matches the Double reference across blocking edges and transposes",
          arguments: [(1, 1, 1), (7, 47, 5), (8, 48, 192), (9, 49, 193), (17, 100, 400), (64, 2048, 27),
                      (257, 97, 385), (3, 3100, 20), (33, 5, 700)])
    func shapes(_ s: (Int, Int, Int)) {
        for kernel in Self.kernels {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let err = Self.check(kernel: kernel, m: s.0, n: s.1, k: s.2, ta: ta, tb: tb, alpha: 1, beta: 0)
                #expect(err < 1e-5, "\(kernel) \(s) tA \(ta) tB \(tb): error \(err)")
            }
        }
    }

    @Test("alpha, beta and strided sub-matrices; beta 0 never reads C (NaN there stays out)")
    func alphaBetaStrides() {
        for kernel in Self.kernels {
            for (alpha, beta) in [(Float(1.5), Float(0.5)), (-2, 1), (0.25, 0)] {
                for (ta, tb) in [(false, false), (true, true), (false, true)] {
                    let err = Self.check(kernel: kernel, m: 21, n: 53, k: 211, ta: ta, tb: tb, alpha: alpha, beta: beta, pad: 5, seed: 9)
                    #expect(err < 1e-5, "\(kernel) alpha \(alpha) beta \(beta) tA \(ta) tB \(tb): error \(err)")
                }
            }
        }
    }

    @Test("AVX-512: each column block computed alone is bit-identical to the whole product")
    func splitInvariance() throws {
        try #require(BLAS.avx512Available, "this CPU has no AVX-512; the kernel is not used here")
        let m = 40, n = 300, k = 450
        var rng = SeededRNG(4)
        let a = (0..<(m * k)).map { _ in Float(rng.normal()) }, b = (0..<(k * n)).map { _ in Float(rng.normal()) }
        var whole = [Float](repeating: 0, count: m * n), parts = whole
        Self.withKernel(.avx512) {
            BLAS.serial(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n, beta: 0, c: &whole, ldc: n)
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in parts.withUnsafeMutableBufferPointer { cp in
                for (lo, hi) in [(0, 112), (112, 113), (113, 300)] {
                    for (r0, r1) in [(0, 16), (16, 40)] {
                        BLAS.serial(transA: false, transB: false, m: r1 - r0, n: hi - lo, k: k, alpha: 1,
                                    a: ap.baseAddress! + r0 * k, lda: k, b: bp.baseAddress! + lo, ldb: n,
                                    beta: 0, c: cp.baseAddress! + r0 * n + lo, ldc: n)
                    }
                }
            } } }
        }
        #expect(zip(whole, parts).allSatisfy { $0.bitPattern == $1.bitPattern })
    }
}
