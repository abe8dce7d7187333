#if canImport(Glibc)
import Glibc
#endif

/// Effective rank of an embedding matrix (Roy & Vetterli 2007; RankMe, Garrido et al. 2023,
/// uses it to detect dimensional collapse): with σ₁ ≥ … the singular values of X (n × d),
///
///     p_i = σ_i / Σ_j σ_j,      erank(X) = exp(−Σ_i p_i · log p_i)      (0 · log 0 = 0),
///
/// a number in [1, min(n, d)] — min(n, d) when every direction carries the same energy, 1 when
/// the rows span a line. The all-zero matrix has effective rank 0.
///
/// Computed from the eigenvalues λ_i = σ_i² of the smaller Gram matrix (XᵀX, d × d, or XXᵀ,
/// n × n) accumulated in Double (dsyrk on rows converted 1024 at a time) and LAPACK's dsyevd.
/// Eigenvalues below 1e-12 · λ_max (σ < 1e-6 · σ_max) are rounding noise of the Gram matrix and
/// count as 0. Single-threaded and deterministic.
public enum EffectiveRank {
    /// Rows converted to Double per dsyrk call.
    static let chunk = 1024

    /// Effective rank of `x` (n × d, row-major) as given (not centred) — the trainer reports it
    /// every epoch. Throws INVALID_ARGUMENT (n or d < 1), NUMERIC (NaN/Inf), OUT_OF_MEMORY.
    public static func effectiveRank(_ x: UnsafePointer<Float>, n: Int, d: Int) throws -> Double {
        try effectiveRank(x, n: n, d: d, centered: false)
    }

    /// Effective rank of `x`, or of x minus its column means when `centered` (the singular
    /// values of the centred matrix are √((n−1)·eigenvalues of the covariance)).
    public static func effectiveRank(_ x: UnsafePointer<Float>, n: Int, d: Int, centered: Bool) throws -> Double {
        let count = try EvalCheck.matrix(rows: n, dim: d, "x")
        try EvalCheck.finite(x, count: count, dim: d, "x")
        let ev = try eigenvalues(x, n: n, d: d, centered: centered)
        return fromEigenvalues(ev)
    }

    /// exp(entropy) of the normalised √λ (see the type's comment for the cut-off).
    public static func fromEigenvalues(_ ev: [Double]) -> Double {
        let top = ev.max() ?? 0
        guard top > 0 else { return 0 }
        let sig = ev.map { $0 > top * 1e-12 ? $0.squareRoot() : 0 }
        let total = sig.reduce(0, +)
        var h = 0.0
        for s in sig where s > 0 { let p = s / total; h -= p * log(p) }
        return exp(h)
    }

    /// Eigenvalues (ascending) of the min(n, d)-sided Gram matrix of x (optionally centred).
    public static func eigenvalues(_ x: UnsafePointer<Float>, n: Int, d: Int, centered: Bool) throws -> [Double] {
        let mean = try EvalBuffer<Double>(centered ? d : 0, "column means", repeating: 0)
        if centered {
            for i in 0..<n { for j in 0..<d { mean[j] += Double(x[i * d + j]) } }
            for j in 0..<d { mean[j] /= Double(n) }
        }
        let m = min(n, d)
        let gram = try EvalBuffer<Double>(try checkedCount([m, m], what: "Gram matrix"), "Gram matrix", repeating: 0)
        if d <= n {
            // XᵀX, d × d, accumulated over row chunks.
            let rowsPer = max(1, min(chunk, n))
            let buf = try EvalBuffer<Double>(rowsPer * d, "effective rank rows")
            var i0 = 0
            while i0 < n {
                let rows = min(rowsPer, n - i0)
                convert(x + i0 * d, rows: rows, d: d, mean: mean, into: buf.base)
                LAPACK.gramUpper(a: buf.base, k: rows, n: d, lda: d, c: gram.base, ldc: d, accumulate: i0 > 0)
                i0 += rows
            }
        } else {
            // XXᵀ, n × n (fewer rows than columns).
            let buf = try EvalBuffer<Double>(n * d, "effective rank rows")
            convert(x, rows: n, d: d, mean: mean, into: buf.base)
            LAPACK.outerGramUpper(a: buf.base, n: n, k: d, lda: d, c: gram.base, ldc: n)
        }
        let w = try EvalBuffer<Double>(m, "eigenvalues", repeating: 0)
        try LAPACK.symmetricEigenvalues(gram.base, n: m, into: w.base)
        return Array(UnsafeBufferPointer(start: w.base, count: m))
    }

    private static func convert(_ x: UnsafePointer<Float>, rows: Int, d: Int, mean: EvalBuffer<Double>, into y: UnsafeMutablePointer<Double>) {
        if mean.count == 0 {
            for t in 0..<(rows * d) { y[t] = Double(x[t]) }
        } else {
            for i in 0..<rows { for j in 0..<d { y[i * d + j] = Double(x[i * d + j]) - mean[j] } }
        }
    }
}
