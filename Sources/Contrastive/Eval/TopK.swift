/// Top-K accuracy from a score matrix (logits, probabilities, kNN votes — any "higher is
/// better" scores).
///
/// Row i is correct when its label is among the K best-scored classes. Ties are broken by the
/// lower class index (as `argmax` and a stable descending sort): class c ranks ahead of the
/// label y when score[c] > score[y], or score[c] == score[y] and c < y; the row is correct when
/// fewer than K classes rank ahead. (scikit-learn's `top_k_accuracy_score` breaks ties toward
/// the higher index instead; without ties the two agree.) K ≥ C makes every row correct, as in
/// scikit-learn. Deterministic and independent of the thread count.
public enum TopK {
    /// Fraction of rows (n × c scores, row-major) whose label (0..<c) is in the top `k` (k ≥ 1).
    /// Throws INVALID_ARGUMENT (sizes < 1, k < 1, a label out of range) or NUMERIC (a NaN or
    /// Inf score).
    public static func accuracy(scores: UnsafePointer<Float>, labels: UnsafePointer<Int32>, n: Int, numClasses c: Int, k: Int) throws -> Double {
        try accuracies(scores: scores, labels: labels, n: n, numClasses: c, ks: [k])[0]
    }

    /// Top-K accuracy for each K of `ks` in one pass over the scores.
    public static func accuracies(scores: UnsafePointer<Float>, labels: UnsafePointer<Int32>, n: Int, numClasses c: Int, ks: [Int]) throws -> [Double] {
        let count = try EvalCheck.matrix(rows: n, dim: c, "scores")
        for k in ks where k < 1 { throw ContrastiveError.invalid("k = \(k) must be ≥ 1") }
        try EvalCheck.labels(labels, count: n, numClasses: c, "labels")
        try EvalCheck.finite(scores, count: count, dim: c, "scores")
        let ahead = try EvalBuffer<Int32>(n, "top-k ranks")
        parallelFor(n, grain: max(1, 16384 / c)) { rows in
            for i in rows {
                ahead[i] = Int32(truncatingIfNeeded: EvalRows.rankAhead(scores + i * c, c, Int(labels[i])))
            }
        }
        return ks.map { k in
            var hits = 0
            for i in 0..<n where Int(ahead[i]) < k { hits += 1 }
            return Double(hits) / Double(n)
        }
    }
}
