/// Collapse diagnostics (DESIGN §6): a representation has collapsed when every image maps to
/// (nearly) the same direction.
public enum Collapse {
    /// std over the batch of the L2-normalised rows, averaged over dimensions, × √D:
    /// ≈ 1 for well-spread embeddings, → 0 when they collapse to one point (SimSiam's measure).
    public static func normalizedStd(_ z: Tensor) throws -> Double {
        guard z.shape.count == 2, z.shape[0] >= 2, z.shape[1] >= 1 else {
            throw ContrastiveError.shape("collapse measure: needs (N ≥ 2, D) embeddings, got \(z.shape)")
        }
        let n = z.shape[0], d = z.shape[1]
        var rows = [Double](repeating: 0, count: n * d)
        for i in 0..<n {
            var s = 0.0
            for j in 0..<d { s += Double(z.data[i * d + j]) * Double(z.data[i * d + j]) }
            let inv = 1 / max(s.squareRoot(), 1e-12)
            for j in 0..<d { rows[i * d + j] = Double(z.data[i * d + j]) * inv }
        }
        var total = 0.0
        for j in 0..<d {
            var m = 0.0
            for i in 0..<n { m += rows[i * d + j] }
            m /= Double(n)
            var v = 0.0
            for i in 0..<n { let e = rows[i * d + j] - m; v += e * e }
            total += (v / Double(n - 1)).squareRoot()
        }
        return total / Double(d) * Double(d).squareRoot()
    }
}
