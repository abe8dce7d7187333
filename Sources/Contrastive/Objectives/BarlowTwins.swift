#if canImport(Glibc)
import Glibc
#endif

/// Column statistics of an (N, D) matrix, accumulated in Double in row order (deterministic).
enum ColumnStats {
    /// Means of each column.
    static func mean(n: Int, d: Int, x: UnsafePointer<Float>) -> [Double] {
        var m = [Double](repeating: 0, count: d)
        for i in 0..<n { let r = x + i * d; for j in 0..<d { m[j] += Double(r[j]) } }
        for j in 0..<d { m[j] /= Double(n) }
        return m
    }

    /// Σ_i (x_ij − m_j)² of each column.
    static func sumSquares(n: Int, d: Int, x: UnsafePointer<Float>, mean m: [Double]) -> [Double] {
        var s = [Double](repeating: 0, count: d)
        for i in 0..<n { let r = x + i * d; for j in 0..<d { let v = Double(r[j]) - m[j]; s[j] += v * v } }
        return s
    }

    /// y = (x − mean) · scale per column; returns nothing (y may alias nothing).
    static func center(n: Int, d: Int, x: UnsafePointer<Float>, mean: [Double], scale: [Double], y: UnsafeMutablePointer<Float>) {
        let mf = mean.map { Float($0) }, sf = scale.map { Float($0) }
        mf.withUnsafeBufferPointer { mp in
            sf.withUnsafeBufferPointer { sp in
                let mp = mp.baseAddress!, sp = sp.baseAddress!
                parallelFor(n, grain: max(1, 8192 / max(d, 1))) { rows in
                    for i in rows { let r = x + i * d, o = y + i * d; for j in 0..<d { o[j] = (r[j] - mp[j]) * sp[j] } }
                }
            }
        }
    }
}

extension Graph {
    /// Barlow Twins (solo-learn's `barlow_loss_func`): each view is standardised per feature
    /// over the batch (BatchNorm1d without affine, training mode: biased variance, ε = 1e-5),
    /// C = aᵀb / N (D × D) and
    ///     loss = scale · ( Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij² ).
    /// Defaults: λ = 5e-3 (the paper's 0.0051 rounded, as asked), scale 0.025 (solo-learn's
    /// function default; its CIFAR configs use 0.1).
    public func barlowTwins(_ z1: Var, _ z2: Var, lambda: Float = 5e-3, scale: Float = 0.025, eps: Float = 1e-5) throws -> Var {
        guard z1.shape.count == 2, z1.shape == z2.shape else {
            throw ContrastiveError.shape("barlow_twins: views \(z1.shape) and \(z2.shape) must both be (N, D)")
        }
        let n = z1.shape[0], d = z1.shape[1]
        guard n >= 2, d >= 1 else { throw ContrastiveError.invalid("barlow_twins: needs N ≥ 2 rows (batch statistics), got \(z1.shape)") }
        guard lambda.isFinite, lambda >= 0, scale.isFinite, scale > 0, eps.isFinite, eps > 0 else {
            throw ContrastiveError.invalid("barlow_twins: λ \(lambda) must be ≥ 0, scale \(scale) and ε \(eps) > 0")
        }
        _ = try checkedCount([d, d], what: "barlow_twins correlation")
        func standardise(_ z: Var) throws -> (Tensor, [Double]) {
            let m = ColumnStats.mean(n: n, d: d, x: z.value.data)
            let ss = ColumnStats.sumSquares(n: n, d: d, x: z.value.data, mean: m)
            let inv = ss.map { 1 / ($0 / Double(n) + Double(eps)).squareRoot() }
            let a = try workspace.tensor([n, d])
            ColumnStats.center(n: n, d: d, x: z.value.data, mean: m, scale: inv, y: a.data)
            return (a, inv)
        }
        let (a, ia) = try standardise(z1), (b, ib) = try standardise(z2)
        let c = try workspace.tensor([d, d])
        BLAS.sgemm(transA: true, transB: false, m: d, n: d, k: n, alpha: 1 / Float(n), a: a.data, lda: d,
                   b: b.data, ldb: d, beta: 0, c: c.data, ldc: d)
        var on = 0.0, off = 0.0
        for i in 0..<d {
            let r = c.data + i * d
            for j in 0..<d { let v = Double(r[j]); if i == j { on += (1 - v) * (1 - v) } else { off += v * v } }
        }
        let y = try output([1])
        y.data[0] = Float(Double(scale) * (on + Double(lambda) * off))
        let s1 = z1.slot, s2 = z2.slot
        return record(y, [z1, z2]) { [unowned self] dy in
            // W = ∂loss/∂C: 2·scale·λ·C off the diagonal, 2·scale·(C_ii − 1) on it (in place in c).
            let k = 2 * scale * dy.data[0]
            for i in 0..<d {
                let r = c.data + i * d
                for j in 0..<d { r[j] = i == j ? k * (r[j] - 1) : k * lambda * r[j] }
            }
            // ∂/∂a = b·Wᵀ/N, ∂/∂b = a·W/N, then through the standardisation.
            let ga = try self.workspace.tensor([n, d])
            for (slot, other, wT, std, inv) in [(s1, b, true, a, ia), (s2, a, false, b, ib)] {
                guard let (dz, acc) = try self.gradTarget(slot) else { continue }
                BLAS.sgemm(transA: false, transB: wT, m: n, n: d, k: d, alpha: 1 / Float(n), a: other.data, lda: d,
                           b: c.data, ldb: d, beta: 0, c: ga.data, ldc: d)
                Graph.standardiseBackward(n: n, d: d, xhat: std.data, invStd: inv, g: ga.data, dx: dz.data, accumulate: acc)
            }
        }
    }

    /// Backward of x̂ = (x − μ)/σ (biased σ over the N rows): dx = (g − mean(g) − x̂·mean(g ⊙ x̂)) / σ.
    static func standardiseBackward(n: Int, d: Int, xhat: UnsafePointer<Float>, invStd: [Double], g: UnsafePointer<Float>,
                                    dx: UnsafeMutablePointer<Float>, accumulate: Bool) {
        var mg = [Double](repeating: 0, count: d), mgx = [Double](repeating: 0, count: d)
        for i in 0..<n {
            let gr = g + i * d, xr = xhat + i * d
            for j in 0..<d { mg[j] += Double(gr[j]); mgx[j] += Double(gr[j]) * Double(xr[j]) }
        }
        let a = mg.map { Float($0 / Double(n)) }, b = mgx.map { Float($0 / Double(n)) }, s = invStd.map { Float($0) }
        for i in 0..<n {
            let gr = g + i * d, xr = xhat + i * d, o = dx + i * d
            for j in 0..<d {
                let v = (gr[j] - a[j] - xr[j] * b[j]) * s[j]
                o[j] = accumulate ? o[j] + v : v
            }
        }
    }
}
