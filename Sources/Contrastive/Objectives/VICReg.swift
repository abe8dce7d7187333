#if canImport(Glibc)
import Glibc
#endif

extension Graph {
    /// VICReg (Bardes et al.; solo-learn's `vicreg_loss_func`):
    ///     invariance  = mean((z1 − z2)²)
    ///     variance    = ½ Σ_v mean_j relu(γ − sqrt(Var_j(z_v) + ε))      (unbiased variance)
    ///     covariance  = Σ_v Σ_{i≠j} Cov_ij(z_v)² / D                      (Cov = z̄ᵀz̄/(N−1))
    ///     loss = λ_inv·invariance + λ_var·variance + λ_cov·covariance
    /// Defaults 25 / 25 / 1, ε = 1e-4, γ = 1.
    public func vicreg(_ z1: Var, _ z2: Var, invariance: Float = 25, variance: Float = 25, covariance: Float = 1,
                       eps: Float = 1e-4, gamma: Float = 1) throws -> Var {
        guard z1.shape.count == 2, z1.shape == z2.shape else {
            throw ContrastiveError.shape("vicreg: views \(z1.shape) and \(z2.shape) must both be (N, D)")
        }
        let n = z1.shape[0], d = z1.shape[1]
        guard n >= 2, d >= 1 else { throw ContrastiveError.invalid("vicreg: needs N ≥ 2 rows (batch statistics), got \(z1.shape)") }
        for (name, v) in [("invariance", invariance), ("variance", variance), ("covariance", covariance), ("gamma", gamma)] {
            guard v.isFinite, v >= 0 else { throw ContrastiveError.invalid("vicreg: \(name) weight \(v) must be ≥ 0") }
        }
        guard eps.isFinite, eps > 0 else { throw ContrastiveError.invalid("vicreg: ε \(eps) must be > 0") }
        _ = try checkedCount([d, d], what: "vicreg covariance")
        let nd = Double(n) * Double(d)
        // Invariance.
        var inv = 0.0
        for i in 0..<(n * d) { let v = Double(z1.value.data[i]) - Double(z2.value.data[i]); inv += v * v }
        inv /= nd
        // Per view: centred values, std, covariance.
        struct View { let centred: Tensor; let std: [Double]; let cov: Tensor }
        func stats(_ z: Var) throws -> View {
            let m = ColumnStats.mean(n: n, d: d, x: z.value.data)
            let ss = ColumnStats.sumSquares(n: n, d: d, x: z.value.data, mean: m)
            let c = try workspace.tensor([n, d])
            ColumnStats.center(n: n, d: d, x: z.value.data, mean: m, scale: [Double](repeating: 1, count: d), y: c.data)
            let cov = try workspace.tensor([d, d])
            BLAS.sgemm(transA: true, transB: false, m: d, n: d, k: n, alpha: 1 / Float(n - 1), a: c.data, lda: d,
                       b: c.data, ldb: d, beta: 0, c: cov.data, ldc: d)
            return View(centred: c, std: ss.map { ($0 / Double(n - 1) + Double(eps)).squareRoot() }, cov: cov)
        }
        let v1 = try stats(z1), v2 = try stats(z2)
        var varLoss = 0.0, covLoss = 0.0
        for v in [v1, v2] {
            var s = 0.0
            for j in 0..<d { s += max(Double(gamma) - v.std[j], 0) }
            varLoss += s / Double(d) / 2
            var c = 0.0
            for i in 0..<d { let r = v.cov.data + i * d; for j in 0..<d where j != i { c += Double(r[j]) * Double(r[j]) } }
            covLoss += c / Double(d)
        }
        let y = try output([1])
        y.data[0] = Float(Double(invariance) * inv + Double(variance) * varLoss + Double(covariance) * covLoss)
        let z1v = z1.value, z2v = z2.value, slots = [z1.slot, z2.slot]
        return record(y, [z1, z2]) { [unowned self] dy in
            let g = dy.data[0]
            for (idx, v) in [v1, v2].enumerated() {
                guard let (dz, acc) = try self.gradTarget(slots[idx]) else { continue }
                // covariance: ∂/∂z̄ = (4·λ_cov·g / (D (N−1))) · z̄ · Cov_offdiag (centring passes it through:
                // the columns of z̄·Cov have zero mean).
                let w = v.cov
                for i in 0..<d { w.data[i * d + i] = 0 }
                let kc = 4 * covariance * g / (Float(d) * Float(n - 1))
                BLAS.sgemm(transA: false, transB: false, m: n, n: d, k: d, alpha: kc, a: v.centred.data, lda: d,
                           b: w.data, ldb: d, beta: acc ? 1 : 0, c: dz.data, ldc: d)
                // variance: −λ_var·g/(2D) · z̄_ij / ((N−1)·std_j) where std_j < γ.
                let kv = v.std.map { s -> Float in s < Double(gamma) ? Float(-Double(variance) * Double(g) / (2 * Double(d) * Double(n - 1) * s)) : 0 }
                // invariance: ±2·λ_inv·g·(z1 − z2)/(N·D).
                let ki = Float(2 * Double(invariance) * Double(g) / nd) * (idx == 0 ? 1 : -1)
                let c = v.centred.data, a = z1v.data, b = z2v.data, o = dz.data
                for i in 0..<n {
                    for j in 0..<d {
                        let t = i * d + j
                        o[t] += kv[j] * c[t] + ki * (a[t] - b[t])
                    }
                }
            }
        }
    }
}
