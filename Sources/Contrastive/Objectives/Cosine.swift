#if canImport(Glibc)
import Glibc
#endif

/// Row-wise cosine similarity, the core of BYOL and SimSiam: c_i = û_i·v̂_i with
/// x̂ = x / max(‖x‖, ε) (ε = 1e-12, as `F.normalize`).
public enum RowCosine {
    public static let eps: Float = 1e-12

    /// c_i for each row; the norms are saved for backward.
    public static func forward(n: Int, d: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                               cos: UnsafeMutablePointer<Float>, normA: UnsafeMutablePointer<Float>, normB: UnsafeMutablePointer<Float>) {
        parallelFor(n, grain: max(1, 4096 / max(d, 1))) { rows in
            for i in rows {
                let ar = a + i * d, br = b + i * d
                let na = Vec.dot(ar, ar, d).squareRoot(), nb = Vec.dot(br, br, d).squareRoot()
                normA[i] = na; normB[i] = nb
                cos[i] = Vec.dot(ar, br, d) / (max(na, eps) * max(nb, eps))
            }
        }
    }

    /// da (+)= gc_i · ∂c_i/∂a_i  with ∂c/∂a = (b̂ − c·â·[‖a‖ > ε]) / max(‖a‖, ε); same for b.
    public static func backward(n: Int, d: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, cos: UnsafePointer<Float>,
                                normA: UnsafePointer<Float>, normB: UnsafePointer<Float>, gc: (Int) -> Float,
                                da: (UnsafeMutablePointer<Float>, Bool)?, db: (UnsafeMutablePointer<Float>, Bool)?) {
        parallelFor(n, grain: max(1, 4096 / max(d, 1))) { rows in
            for i in rows {
                let ar = a + i * d, br = b + i * d, g = gc(i), c = cos[i]
                let na = max(normA[i], eps), nb = max(normB[i], eps)
                let ka: Float = normA[i] > eps ? c / (na * na) : 0, kb: Float = normB[i] > eps ? c / (nb * nb) : 0
                let inv = 1 / (na * nb)
                if let (p, acc) = da {
                    let q = p + i * d
                    for t in 0..<d { let v = g * (br[t] * inv - ka * ar[t]); q[t] = acc ? q[t] + v : v }
                }
                if let (p, acc) = db {
                    let q = p + i * d
                    for t in 0..<d { let v = g * (ar[t] * inv - kb * br[t]); q[t] = acc ? q[t] + v : v }
                }
            }
        }
    }
}

extension Graph {
    /// loss = offset + scale · mean_i cos(a_i, b_i), fused (BYOL: 2, −2; SimSiam: 0, −1).
    func cosineLoss(_ a: Var, _ b: Var, offset: Float, scale: Float, op: String) throws -> Var {
        guard a.shape.count == 2, a.shape == b.shape, a.shape[0] >= 1, a.shape[1] >= 1 else {
            throw ContrastiveError.shape("\(op): inputs \(a.shape) and \(b.shape) must both be (N, D) with N, D ≥ 1")
        }
        let n = a.shape[0], d = a.shape[1]
        let cos = try workspace.tensor([n]), na = try workspace.tensor([n]), nb = try workspace.tensor([n])
        RowCosine.forward(n: n, d: d, a: a.value.data, b: b.value.data, cos: cos.data, normA: na.data, normB: nb.data)
        var s = 0.0
        for i in 0..<n { s += Double(cos.data[i]) }
        let y = try output([1])
        y.data[0] = offset + scale * Float(s / Double(n))
        let av = a.value, bv = b.value, asl = a.slot, bsl = b.slot
        return record(y, [a, b]) { [unowned self] dy in
            let k = dy.data[0] * scale / Float(n)
            let ta = try self.gradTarget(asl), tb = try self.gradTarget(bsl)
            RowCosine.backward(n: n, d: d, a: av.data, b: bv.data, cos: cos.data, normA: na.data, normB: nb.data, gc: { _ in k },
                               da: ta.map { ($0.0.data, $0.1) }, db: tb.map { ($0.0.data, $0.1) })
        }
    }

    /// BYOL: 2 − 2·mean_i cos(p_i, z_i) between the online prediction p and the target
    /// projection z (solo-learn's `byol_loss_func`). The target takes no gradient: pass it as a
    /// constant or through `stopGradient` (this op does not detach it for you, so the same op
    /// serves symmetric uses).
    public func byol(_ p: Var, _ z: Var) throws -> Var {
        try cosineLoss(p, z, offset: 2, scale: -2, op: "byol")
    }

    /// Symmetrised BYOL: byol(p1, z2) + byol(p2, z1) (the paper's sum over both view orders;
    /// the targets are detached).
    public func byolSymmetric(p1: Var, z1: Var, p2: Var, z2: Var) throws -> Var {
        try add(try byol(p1, stopGradient(z2)), try byol(p2, stopGradient(z1)))
    }

    /// SimSiam: −mean_i cos(p_i, stopgrad(z_i)).
    public func simsiam(_ p: Var, _ z: Var) throws -> Var {
        try cosineLoss(p, stopGradient(z), offset: 0, scale: -1, op: "simsiam")
    }

    /// Symmetrised SimSiam: simsiam(p1, z2)/2 + simsiam(p2, z1)/2.
    public func simsiamSymmetric(p1: Var, z1: Var, p2: Var, z2: Var) throws -> Var {
        try scale(try add(try simsiam(p1, z2), try simsiam(p2, z1)), 0.5)
    }
}
