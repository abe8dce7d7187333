#if canImport(Glibc)
import Glibc
#endif

/// How two embeddings are compared by the contrastive losses.
public enum SimilarityKind: Int32, Sendable {
    /// u·v with rows L2-normalised inside the loss (x / max(‖x‖, 1e-12), as `F.normalize`).
    case cosine = 0
    /// −‖u − v‖² on the raw embeddings.
    case negativeSquaredEuclidean = 1
}

/// The block-wise kernel behind NT-Xent / InfoNCE, DCL and SupCon.
///
/// M anchors (the rows of all views, stacked) are compared with M + K columns: the anchors
/// themselves and K extra negatives (a queue, no gradient). Logit s_ij = sim(i, j)/τ. For
/// anchor i with positives P(i) (NT-Xent: the other view of the same sample; SupCon: all other
/// rows with its label) and denominator D(i) = every column but i itself (decoupled: also
/// without P(i)):
///
///     ℓ_i = log Σ_{j∈D(i)} exp(s_ij) − (1/|P(i)|) Σ_{p∈P(i)} s_ip,   loss = mean over anchors with P(i) ≠ ∅.
///
/// Rows are processed in blocks of B (one GEMM per block into a B×(M+K) scratch), so memory is
/// O((M+K)·D + B·(M+K)) instead of O(M²); log-sum-exps subtract the maximum. The kernels are in
/// ContrastSymmetric.swift: they use s_ij = s_ji to compute each anchor pair once.
public enum Contrast {
    /// Prepared inputs: the column matrix and what backward needs.
    public struct Prepared {
        public let m: Int, k: Int, d: Int
        /// (M + K) × D: normalised rows (cosine) or the raw rows (Euclidean).
        public let cols: Tensor
        /// Anchor norms ‖z_i‖ (cosine) — for the normalisation's backward.
        public let norms: Tensor
        /// Squared norms of all M + K columns (Euclidean only; zeros otherwise).
        public let sq: Tensor
    }

    /// Positives of each anchor: the pairing of two views, or labels.
    public enum Positives {
        /// Anchor i's positive is (i + M/2) mod M (two views of M/2 samples).
        case pairs
        /// Anchors with the same label are positives of each other (labels ≥ 0, count M).
        case labels(UnsafePointer<Int32>)
    }

    public static let normEps: Float = 1e-12
    public static let defaultBlockRows = 256
    /// Most similarities held at once (64 MiB of floats): very wide problems use fewer rows
    /// per block, so the scratch never grows with N² even when 2N + K is in the millions.
    public static let maxBlockElements = 1 << 24

    /// Rows per block for `columns` columns: `requested`, capped by `maxBlockElements`.
    public static func blockRows(_ requested: Int, rows: Int, columns: Int) -> Int {
        max(1, min(requested, rows, maxBlockElements / max(columns, 1)))
    }

    /// Copy (and normalise) the views and the queue into the column matrix.
    public static func prepare(views: [(UnsafePointer<Float>, Int)], queue: UnsafePointer<Float>?, k: Int, d: Int,
                               similarity: SimilarityKind, workspace: Workspace) throws -> Prepared {
        let m = views.reduce(0) { $0 + $1.1 }
        let cols = try workspace.tensor([m + k, d])
        let norms = try workspace.tensor([max(m, 1)])
        let sq = try workspace.zeros([max(m + k, 1)])
        var row = 0
        for (p, n) in views {
            if similarity == .cosine {
                Rows.l2Normalize(n: n, d: d, x: p, eps: normEps, y: cols.data + row * d, norms: norms.data + row)
            } else {
                (cols.data + row * d).update(from: p, count: n * d)
            }
            row += n
        }
        if let queue, k > 0 {
            if similarity == .cosine {
                let qn = try workspace.tensor([k])
                Rows.l2Normalize(n: k, d: d, x: queue, eps: normEps, y: cols.data + m * d, norms: qn.data)
            } else {
                (cols.data + m * d).update(from: queue, count: k * d)
            }
        }
        if similarity == .negativeSquaredEuclidean {
            let c = cols.data, s = sq.data
            parallelFor(m + k, grain: 256) { r in for j in r { s[j] = Vec.dot(c + j * d, c + j * d, d) } }
        }
        return Prepared(m: m, k: k, d: d, cols: cols, norms: norms, sq: sq)
    }

    /// Number of positives of every anchor, into `count` (M values).
    public static func positiveCounts(_ pos: Positives, m: Int, count: UnsafeMutablePointer<Int32>) {
        switch pos {
        case .pairs:
            for i in 0..<m { count[i] = 1 }
        case .labels(let lab):
            var hist: [Int32: Int32] = [:]
            for i in 0..<m { hist[lab[i], default: 0] += 1 }
            for i in 0..<m { count[i] = hist[lab[i]]! - 1 }
        }
    }

}

// MARK: - Graph ops

extension Graph {
    /// NT-Xent / InfoNCE over 2N views (SimCLR; solo-learn's `simclr_loss_func`, lightly's
    /// `NTXentLoss`): z1, z2 (N, D) are two views of N samples; each of the 2N rows has the
    /// other view of its sample as positive and the other 2N − 2 rows (plus the K `queue` rows,
    /// which receive no gradient) as negatives; the loss is the mean over the 2N anchors.
    /// `decoupled`: DCL — the positive is left out of the denominator.
    public func ntxent(_ z1: Var, _ z2: Var, queue: Tensor? = nil, temperature: Float = 0.5,
                       similarity: SimilarityKind = .cosine, decoupled: Bool = false,
                       blockRows: Int = Contrast.defaultBlockRows) throws -> Var {
        guard z1.shape.count == 2, z1.shape == z2.shape else {
            throw ContrastiveError.shape("ntxent: views \(z1.shape) and \(z2.shape) must both be (N, D)")
        }
        guard z1.shape[0] >= 1, z1.shape[1] >= 1 else { throw ContrastiveError.invalid("ntxent: empty views \(z1.shape)") }
        let k = try queueRows(queue, d: z1.shape[1], op: "ntxent")
        if decoupled && 2 * z1.shape[0] - 2 + k < 1 {
            throw ContrastiveError.invalid("ntxent: the decoupled loss needs at least one negative (N ≥ 2 or a queue)")
        }
        return try contrast([z1, z2], positives: nil, queue: queue, k: k, temperature: temperature,
                            similarity: similarity, decoupled: decoupled, blockRows: blockRows, op: "ntxent")
    }

    /// Supervised contrastive loss (SupCon, Khosla et al.; solo-learn's `manual_supcon_loss`
    /// form): z (M, D) holds all views stacked, `labels` (M, each ≥ 0) say which rows are
    /// positives of each other. ℓ_i = −mean_{p∈P(i)} log softmax_{j≠i}(s_ij/τ)_p; the loss is
    /// the mean over anchors that have at least one positive.
    public func supcon(_ z: Var, labels: [Int32], temperature: Float = 0.1, similarity: SimilarityKind = .cosine,
                       blockRows: Int = Contrast.defaultBlockRows) throws -> Var {
        guard z.shape.count == 2, z.shape[0] >= 1, z.shape[1] >= 1 else {
            throw ContrastiveError.shape("supcon: embeddings must be (M, D) with M, D ≥ 1, got \(z.shape)")
        }
        guard labels.count == z.shape[0] else {
            throw ContrastiveError.shape("supcon: \(labels.count) labels for \(z.shape[0]) rows")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 }) {
            throw ContrastiveError.invalid("supcon: label \(labels[bad]) of row \(bad) is negative")
        }
        return try contrast([z], positives: labels, queue: nil, k: 0, temperature: temperature,
                            similarity: similarity, decoupled: false, blockRows: blockRows, op: "supcon")
    }

    func queueRows(_ queue: Tensor?, d: Int, op: String) throws -> Int {
        guard let queue else { return 0 }
        guard queue.shape.count == 2, queue.shape[1] == d else {
            throw ContrastiveError.shape("\(op): queue \(queue.shape) must be (K, \(d))")
        }
        return queue.shape[0]
    }

    private func contrast(_ views: [Var], positives: [Int32]?, queue: Tensor?, k: Int, temperature: Float,
                          similarity: SimilarityKind, decoupled: Bool, blockRows: Int, op: String) throws -> Var {
        guard temperature.isFinite, temperature > 0 else {
            throw ContrastiveError.invalid("\(op): temperature \(temperature) must be a positive number")
        }
        guard blockRows >= 1 else { throw ContrastiveError.invalid("\(op): blockRows must be ≥ 1") }
        let d = views[0].shape[1]
        let m = views.reduce(0) { $0 + $1.shape[0] }
        _ = try checkedCount([m + k, d], what: op)
        let prep = try Contrast.prepare(views: views.map { (UnsafePointer($0.value.data), $0.shape[0]) },
                                        queue: queue.map { UnsafePointer($0.data) }, k: k, d: d,
                                        similarity: similarity, workspace: workspace)
        let labels = try workspace.scratch(Int32.self, count: m)
        if let positives { for i in 0..<m { labels.pointer[i] = positives[i] } }
        let count = try workspace.scratch(Int32.self, count: m)
        let pos: Contrast.Positives = positives == nil ? .pairs : .labels(UnsafePointer(labels.pointer))
        Contrast.positiveCounts(pos, m: m, count: count.pointer)
        let lse = try workspace.tensor([m])
        let y = try output([1])
        y.data[0] = try Contrast.forward(prep, positives: pos, count: count.pointer, temperature: temperature,
                                         similarity: similarity, decoupled: decoupled, blockRows: blockRows,
                                         lse: lse.data, workspace: workspace)
        var offsets: [Int] = []
        var o = 0
        for v in views { offsets.append(o); o += v.shape[0] }
        let slots = views.map { $0.slot }, shapes = views.map { $0.shape }
        return record(y, views) { [unowned self] dy in
            // Views that take no gradient still need a destination: a scratch row block.
            var targets: [(Tensor, Bool)] = []
            for (v, s) in slots.enumerated() {
                if let t = try self.gradTarget(s) { targets.append(t) }
                else { targets.append((try self.workspace.tensor(shapes[v]), false)) }
            }
            try Contrast.backward(prep, positives: pos, count: count.pointer, temperature: temperature,
                                  similarity: similarity, decoupled: decoupled, blockRows: blockRows,
                                  lse: lse.data, g: dy.data[0], workspace: self.workspace) { i in
                var v = offsets.count - 1
                while offsets[v] > i { v -= 1 }
                return (targets[v].0.data + (i - offsets[v]) * d, targets[v].1)
            }
            withExtendedLifetime((labels, count)) {}
        }
    }
}
