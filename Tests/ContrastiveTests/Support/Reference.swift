import Foundation
import Contrastive

/// Naive double-precision references for the ops, used by the finite-difference checks.
/// Written for clarity, not speed; shapes as in the engine (row-major, NCHW).
enum Ref {
    static func linear(_ x: [Double], _ w: [Double], _ b: [Double]?, n: Int, din: Int, dout: Int) -> [Double] {
        var y = [Double](repeating: 0, count: n * dout)
        for i in 0..<n { for o in 0..<dout {
            var s = b?[o] ?? 0
            for k in 0..<din { s += x[i * din + k] * w[o * din + k] }
            y[i * dout + o] = s
        } }
        return y
    }

    /// a (n×k) · b (k×m), or a · bᵀ with b (m×k).
    static func matmul(_ a: [Double], _ b: [Double], n: Int, k: Int, m: Int, transposeB: Bool) -> [Double] {
        var y = [Double](repeating: 0, count: n * m)
        for i in 0..<n { for j in 0..<m {
            var s = 0.0
            for t in 0..<k { s += a[i * k + t] * (transposeB ? b[j * k + t] : b[t * m + j]) }
            y[i * m + j] = s
        } }
        return y
    }

    static func batchNormEval(_ x: [Double], gamma: [Double], beta: [Double], mean: [Double], variance: [Double], n: Int, c: Int, s: Int, eps: Double) -> [Double] {
        var y = x
        for b in 0..<n { for ch in 0..<c { for i in 0..<s {
            let j = (b * c + ch) * s + i
            y[j] = (x[j] - mean[ch]) / (variance[ch] + eps).squareRoot() * gamma[ch] + beta[ch]
        } } }
        return y
    }

    static func maxPool(_ x: [Double], n: Int, c: Int, h: Int, w: Int, k: Int, stride: Int, pad: Int) -> [Double] {
        let ho = (h + 2 * pad - k) / stride + 1, wo = (w + 2 * pad - k) / stride + 1
        var y = [Double](repeating: 0, count: n * c * ho * wo)
        for p in 0..<(n * c) { for oy in 0..<ho { for ox in 0..<wo {
            var best = -Double.infinity
            for ky in 0..<k { for kx in 0..<k {
                let iy = oy * stride - pad + ky, ix = ox * stride - pad + kx
                if iy >= 0 && iy < h && ix >= 0 && ix < w { best = max(best, x[(p * h + iy) * w + ix]) }
            } }
            y[(p * ho + oy) * wo + ox] = best
        } } }
        return y
    }

    static func avgPool(_ x: [Double], planes: Int, size: Int) -> [Double] {
        (0..<planes).map { p in (0..<size).reduce(0.0) { $0 + x[p * size + $1] } / Double(size) }
    }

    static func l2Normalize(_ x: [Double], n: Int, d: Int, eps: Double) -> [Double] {
        var y = x
        for i in 0..<n {
            let nrm = (0..<d).reduce(0.0) { $0 + x[i * d + $1] * x[i * d + $1] }.squareRoot()
            for j in 0..<d { y[i * d + j] = x[i * d + j] / max(nrm, eps) }
        }
        return y
    }

    static func logSoftmax(_ x: [Double], n: Int, d: Int) -> [Double] {
        var y = x
        for i in 0..<n {
            let row = Array(x[(i * d)..<((i + 1) * d)])
            let m = row.max()!
            let l = m + log(row.reduce(0.0) { $0 + exp($1 - m) })
            for j in 0..<d { y[i * d + j] = x[i * d + j] - l }
        }
        return y
    }

    static func crossEntropy(_ x: [Double], targets: [Int32], n: Int, d: Int) -> Double {
        let ls = logSoftmax(x, n: n, d: d)
        return -(0..<n).reduce(0.0) { $0 + ls[$1 * d + Int(targets[$1])] } / Double(n)
    }
}
