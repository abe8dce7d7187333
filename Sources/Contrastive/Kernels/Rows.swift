#if canImport(Glibc)
import Glibc
#endif

/// Row-wise kernels on (N, D) matrices: L2 normalisation, log-softmax, cross-entropy.
public enum Rows {
    /// y = x / max(‖x‖₂, ε) per row (as `F.normalize(x, dim=1, eps=ε)`); norms saved for backward.
    public static func l2Normalize(n: Int, d: Int, x: UnsafePointer<Float>, eps: Float, y: UnsafeMutablePointer<Float>, norms: UnsafeMutablePointer<Float>) {
        parallelFor(n, grain: max(1, 4096 / max(d, 1))) { rows in
            for i in rows {
                let xr = x + i * d, yr = y + i * d
                let nrm = Vec.dot(xr, xr, d).squareRoot()
                norms[i] = nrm
                let inv = 1 / max(nrm, eps)
                for j in 0..<d { yr[j] = xr[j] * inv }
            }
        }
    }

    /// dx (+)= (g − y·(y·g)) / ‖x‖ where ‖x‖ > ε, else g/ε (the clamp is constant there).
    public static func l2NormalizeBackward(n: Int, d: Int, y: UnsafePointer<Float>, norms: UnsafePointer<Float>, eps: Float,
                                           dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, accumulate: Bool) {
        parallelFor(n, grain: max(1, 4096 / max(d, 1))) { rows in
            for i in rows {
                let yr = y + i * d, gr = dy + i * d, dr = dx + i * d
                let nrm = norms[i]
                if nrm > eps {
                    let yg = Vec.dot(yr, gr, d), inv = 1 / nrm
                    for j in 0..<d { let v = (gr[j] - yr[j] * yg) * inv; dr[j] = accumulate ? dr[j] + v : v }
                } else {
                    let inv = 1 / eps
                    for j in 0..<d { let v = gr[j] * inv; dr[j] = accumulate ? dr[j] + v : v }
                }
            }
        }
    }

    /// log Σ exp(x) of one row, with max subtraction (−∞ rows give −∞, NaN propagates).
    @inlinable
    public static func logSumExp(_ x: UnsafePointer<Float>, _ d: Int) -> Float {
        var m = -Float.infinity
        for j in 0..<d { if x[j] > m || x[j].isNaN { m = x[j] } }
        if m.isNaN { return .nan }
        if m == -.infinity { return -.infinity }
        if m == .infinity { return .infinity }
        var s: Float = 0
        for j in 0..<d { s += expf(x[j] - m) }
        return m + logf(s)
    }

    /// y = x − logΣexp(x) per row.
    public static func logSoftmax(n: Int, d: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        parallelFor(n, grain: max(1, 2048 / max(d, 1))) { rows in
            for i in rows {
                let xr = x + i * d, yr = y + i * d
                let l = logSumExp(xr, d)
                for j in 0..<d { yr[j] = xr[j] - l }
            }
        }
    }

    /// dx (+)= g − softmax·Σg per row, from the log-softmax output y.
    public static func logSoftmaxBackward(n: Int, d: Int, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, accumulate: Bool) {
        parallelFor(n, grain: max(1, 2048 / max(d, 1))) { rows in
            for i in rows {
                let yr = y + i * d, gr = dy + i * d, dr = dx + i * d
                let sg = Vec.sum(gr, d)
                for j in 0..<d { let v = gr[j] - expf(yr[j]) * sg; dr[j] = accumulate ? dr[j] + v : v }
            }
        }
    }

    /// Mean over rows of −log softmax(x)[target]. Targets must be in [0, d) (checked by the op).
    /// Per-row losses go to `rowLoss`; the mean is summed in a fixed order in Double.
    public static func crossEntropy(n: Int, d: Int, x: UnsafePointer<Float>, targets: UnsafePointer<Int32>, rowLoss: UnsafeMutablePointer<Float>) -> Float {
        parallelFor(n, grain: max(1, 2048 / max(d, 1))) { rows in
            for i in rows {
                let xr = x + i * d
                rowLoss[i] = logSumExp(xr, d) - xr[Int(targets[i])]
            }
        }
        var s = 0.0
        for i in 0..<n { s += Double(rowLoss[i]) }
        return Float(s / Double(max(n, 1)))
    }

    /// dx (+)= g/N · (softmax(x) − onehot(target)).
    public static func crossEntropyBackward(n: Int, d: Int, x: UnsafePointer<Float>, targets: UnsafePointer<Int32>, g: Float,
                                            dx: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let s = g / Float(max(n, 1))
        parallelFor(n, grain: max(1, 2048 / max(d, 1))) { rows in
            for i in rows {
                let xr = x + i * d, dr = dx + i * d
                let l = logSumExp(xr, d), t = Int(targets[i])
                for j in 0..<d {
                    let v = s * (expf(xr[j] - l) - (j == t ? 1 : 0))
                    dr[j] = accumulate ? dr[j] + v : v
                }
            }
        }
    }
}
