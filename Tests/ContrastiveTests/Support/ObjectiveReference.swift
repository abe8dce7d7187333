import Foundation

/// Naive double-precision references of the objectives: the textbook formulas with full
/// similarity matrices, written independently of the engine's block-wise kernels.
enum ObjRef {
    static func row(_ x: [Double], _ i: Int, _ d: Int) -> [Double] { Array(x[(i * d)..<((i + 1) * d)]) }
    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
    static func normalize(_ a: [Double]) -> [Double] { let n = max(dot(a, a).squareRoot(), 1e-12); return a.map { $0 / n } }
    static func logSumExp(_ xs: [Double]) -> Double {
        let m = xs.max()!
        return m + log(xs.reduce(0) { $0 + exp($1 - m) })
    }

    /// sim(u, v)/τ for the contrastive losses.
    static func sim(_ u: [Double], _ v: [Double], euclid: Bool, tau: Double) -> Double {
        if euclid { return -zip(u, v).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / tau }
        return dot(normalize(u), normalize(v)) / tau
    }

    /// SupCon-style loss over rows `z` (M × D) with positives given by `label`; `extra` are
    /// additional negatives. NT-Xent is the case label(i) = i mod N.
    static func contrast(rows z: [[Double]], extra: [[Double]], label: [Int], tau: Double, euclid: Bool, decoupled: Bool) -> Double {
        let m = z.count
        var total = 0.0, anchors = 0
        for i in 0..<m {
            let pos = (0..<m).filter { $0 != i && label[$0] == label[i] }
            if pos.isEmpty { continue }
            var den: [Double] = []
            for j in 0..<m where j != i && !(decoupled && pos.contains(j)) { den.append(sim(z[i], z[j], euclid: euclid, tau: tau)) }
            for q in extra { den.append(sim(z[i], q, euclid: euclid, tau: tau)) }
            let lse = logSumExp(den)
            let ps = pos.map { sim(z[i], z[$0], euclid: euclid, tau: tau) }.reduce(0, +) / Double(pos.count)
            total += lse - ps
            anchors += 1
        }
        return total / Double(max(anchors, 1))
    }

    static func ntxent(_ z1: [Double], _ z2: [Double], queue: [Double], n: Int, d: Int, k: Int, tau: Double,
                       euclid: Bool = false, decoupled: Bool = false) -> Double {
        let rows = (0..<n).map { row(z1, $0, d) } + (0..<n).map { row(z2, $0, d) }
        let extra = (0..<k).map { row(queue, $0, d) }
        return contrast(rows: rows, extra: extra, label: (0..<(2 * n)).map { $0 % n }, tau: tau, euclid: euclid, decoupled: decoupled)
    }

    static func moco(_ q: [Double], _ k: [Double], queue: [Double], n: Int, d: Int, kq: Int, tau: Double) -> Double {
        var total = 0.0
        for i in 0..<n {
            let qi = normalize(row(q, i, d))
            var logits = [dot(qi, normalize(row(k, i, d))) / tau]
            for j in 0..<kq { logits.append(dot(qi, row(queue, j, d)) / tau) }
            total += logSumExp(logits) - logits[0]
        }
        return total / Double(n)
    }

    static func meanCos(_ a: [Double], _ b: [Double], n: Int, d: Int) -> Double {
        (0..<n).map { dot(normalize(row(a, $0, d)), normalize(row(b, $0, d))) }.reduce(0, +) / Double(n)
    }

    static func barlow(_ z1: [Double], _ z2: [Double], n: Int, d: Int, lambda: Double, scale: Double) -> Double {
        func bn(_ z: [Double]) -> [Double] {
            var out = z
            for j in 0..<d {
                let col = (0..<n).map { z[$0 * d + j] }
                let m = col.reduce(0, +) / Double(n)
                let v = col.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n)
                for i in 0..<n { out[i * d + j] = (z[i * d + j] - m) / (v + 1e-5).squareRoot() }
            }
            return out
        }
        let a = bn(z1), b = bn(z2)
        var loss = 0.0
        for i in 0..<d {
            for j in 0..<d {
                var c = 0.0
                for t in 0..<n { c += a[t * d + i] * b[t * d + j] }
                c /= Double(n)
                loss += i == j ? (c - 1) * (c - 1) : lambda * c * c
            }
        }
        return scale * loss
    }

    static func vicreg(_ z1: [Double], _ z2: [Double], n: Int, d: Int) -> Double {
        let inv = zip(z1, z2).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(n * d)
        var varLoss = 0.0, covLoss = 0.0
        for z in [z1, z2] {
            var means = [Double](repeating: 0, count: d)
            for t in 0..<n { for j in 0..<d { means[j] += z[t * d + j] / Double(n) } }
            var cov = [Double](repeating: 0, count: d * d)
            for i in 0..<d { for j in 0..<d { for t in 0..<n { cov[i * d + j] += (z[t * d + i] - means[i]) * (z[t * d + j] - means[j]) } } }
            cov = cov.map { $0 / Double(n - 1) }
            var v = 0.0
            for j in 0..<d {
                let std: Double = (cov[j * d + j] + 1e-4).squareRoot()
                v += max(1 - std, 0)
            }
            varLoss += v / Double(d) / 2
            for i in 0..<d { for j in 0..<d where i != j { covLoss += cov[i * d + j] * cov[i * d + j] / Double(d) } }
        }
        return 25 * inv + 25 * varLoss + covLoss
    }

    static func swav(scores: [[Double]], codes: [[Double]], b: Int, k: Int, tau: Double) -> Double {
        var losses: [Double] = []
        for (v1, q) in codes.enumerated() {
            for v2 in 0..<scores.count where v2 != v1 {
                var s = 0.0
                for i in 0..<b {
                    let x = row(scores[v2], i, k).map { $0 / tau }
                    let l = logSumExp(x)
                    for j in 0..<k { s += q[i * k + j] * (x[j] - l) }
                }
                losses.append(-s / Double(b))
            }
        }
        return losses.reduce(0, +) / Double(losses.count)
    }

    /// Sinkhorn-Knopp exactly as solo-learn writes it (on the K × B transpose).
    static func sinkhorn(_ s: [Double], b: Int, k: Int, eps: Double, iters: Int) -> [Double] {
        var q = [Double](repeating: 0, count: k * b)   // K × B
        for i in 0..<b { for j in 0..<k { q[j * b + i] = exp(s[i * k + j] / eps) } }
        let total = q.reduce(0, +)
        q = q.map { $0 / total }
        for _ in 0..<iters {
            for j in 0..<k { let r = (0..<b).reduce(0) { $0 + q[j * b + $1] }; for i in 0..<b { q[j * b + i] /= r * Double(k) } }
            for i in 0..<b { let c = (0..<k).reduce(0) { $0 + q[$1 * b + i] }; for j in 0..<k { q[j * b + i] /= c * Double(b) } }
        }
        var out = [Double](repeating: 0, count: b * k)
        for i in 0..<b { for j in 0..<k { out[i * k + j] = q[j * b + i] * Double(b) } }
        return out
    }
}
