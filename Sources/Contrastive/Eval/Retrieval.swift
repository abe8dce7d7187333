/// Retrieval by cosine similarity: every test row queries the training set; a training row is
/// relevant to a query when it has the query's label.
///
/// Both splits are L2-normalised; similarities come from sgemm in blocks of test rows (memory
/// ≈ block × n_train floats). Each query ranks all n_train training rows by similarity
/// (higher first, equal similarities by lower training index). With R the query's number of
/// relevant rows and rank_1 < rank_2 < … < rank_R the (1-based) ranks of the relevant rows:
///
///     AP      = (1/R)          Σ_{r=1..R}            r / rank_r        (= scikit-learn's
///                                                                      average_precision_score
///                                                                      when no scores tie)
///     AP@k    = (1/min(k, R))  Σ_{r : rank_r ≤ k}    r / rank_r        (precision at each hit in
///                                                                      the top k, normalised by
///                                                                      the best reachable count)
///     P@k     = #{r : rank_r ≤ k} / k
///     hit@k   = 1 if rank_1 ≤ k else 0  ("Recall@k" of metric learning; hit@1 = P@1)
///
/// The reported values are means over the queries with R ≥ 1; queries whose label no training
/// row has are left out (their number is `queriesWithoutRelevant`), and if every query is left
/// out all means are 0. Results are bit-identical for a fixed thread count.
public enum Retrieval {
    /// Means over the queries that have at least one relevant training row.
    public struct Result: Sendable, Equatable {
        /// Mean average precision over the whole ranking (mAP).
        public var meanAveragePrecision: Double
        /// Mean AP@k (see the type's comment).
        public var meanAveragePrecisionAtK: Double
        /// Mean precision in the top k.
        public var precisionAtK: Double
        /// Fraction of queries whose nearest training row is relevant.
        public var recallAt1: Double
        /// Fraction of queries with a relevant row in the top k.
        public var recallAtK: Double
        /// Queries the means are over.
        public var queries: Int
        /// Queries left out because no training row has their label.
        public var queriesWithoutRelevant: Int
    }

    /// Default cut-off of the @k metrics.
    public static let defaultK = 10

    /// Retrieval metrics of `test` (nTest × dim) against `train` (nTrain × dim). Labels are any
    /// Int32 values (only equality matters). `k` in 1...nTrain. `averagePrecision`, if given,
    /// receives each query's AP (nTest values; −1 for queries without a relevant row), written
    /// only on success. Throws INVALID_ARGUMENT / NUMERIC / OUT_OF_MEMORY.
    public static func evaluate(train: UnsafePointer<Float>, trainLabels: UnsafePointer<Int32>, trainCount nTrain: Int,
                                test: UnsafePointer<Float>, testLabels: UnsafePointer<Int32>, testCount nTest: Int,
                                dim d: Int, k: Int = 10, averagePrecision: UnsafeMutablePointer<Double>? = nil) throws -> Result {
        let trainCount = try EvalCheck.matrix(rows: nTrain, dim: d, "train")
        let testCount = try EvalCheck.matrix(rows: nTest, dim: d, "test")
        guard k >= 1 else { throw ContrastiveError.invalid("k = \(k) must be ≥ 1") }
        guard k <= nTrain else { throw ContrastiveError.invalid("k = \(k) is larger than the training set (\(nTrain) rows)") }
        try EvalCheck.finite(train, count: trainCount, dim: d, "train")
        try EvalCheck.finite(test, count: testCount, dim: d, "test")

        let trainN = try Storage(count: trainCount)
        EvalRows.l2Normalized(train, n: nTrain, d: d, into: trainN.base)
        let tb = max(1, min(256, nTest, (1 << 22) / nTrain))
        let testN = try Storage(count: tb * d)
        let sims = try EvalBuffer<Float>(try checkedCount([tb, nTrain], what: "similarities"), "retrieval similarities")
        let maxParts = max(1, ThreadPool.shared.threads)
        let keys = try EvalBuffer<UInt64>(try checkedCount([maxParts, nTrain], what: "ranking"), "retrieval ranking")
        // Per query: AP, AP@k, P@k, hit@1, hit@k (AP −1: no relevant row).
        let per = try EvalBuffer<Double>(nTest * 5, "retrieval metrics")

        var i0 = 0
        while i0 < nTest {
            let rows = min(tb, nTest - i0)
            EvalRows.l2Normalized(test + i0 * d, n: rows, d: d, into: testN.base)
            // sims[rows × nTrain] = testN · trainNᵀ
            BLAS.sgemm(transA: false, transB: true, m: rows, n: nTrain, k: d, alpha: 1, a: testN.base, lda: d,
                       b: trainN.base, ldb: d, beta: 0, c: sims.base, ldc: nTrain)
            let parts = min(maxParts, parallelParts(rows, grain: 1))
            let s = sims.base, kb = keys.base, out = per.base, first = i0
            ThreadPool.shared.run(parts: parts) { p in
                let key = kb + p * nTrain
                for r in partRange(p, of: parts, rows) {
                    let sr = s + r * nTrain
                    for j in 0..<nTrain { key[j] = EvalRows.rankKey(sr[j], j) }
                    var keyBuf = UnsafeMutableBufferPointer(start: key, count: nTrain); keyBuf.sort()
                    let y = testLabels[first + r]
                    var hits = 0, ap = 0.0, apk = 0.0, hitsK = 0, firstRank = 0
                    for rank in 1...nTrain where trainLabels[EvalRows.rankIndex(key[rank - 1])] == y {
                        hits += 1
                        let prec = Double(hits) / Double(rank)
                        ap += prec
                        if rank <= k { apk += prec; hitsK += 1 }
                        if hits == 1 { firstRank = rank }
                    }
                    let o = out + (first + r) * 5
                    if hits == 0 {
                        o[0] = -1; o[1] = 0; o[2] = 0; o[3] = 0; o[4] = 0
                    } else {
                        o[0] = ap / Double(hits)
                        o[1] = apk / Double(min(k, hits))
                        o[2] = Double(hitsK) / Double(k)
                        o[3] = firstRank == 1 ? 1 : 0
                        o[4] = firstRank <= k ? 1 : 0
                    }
                }
            }
            i0 += rows
        }
        var sums = [Double](repeating: 0, count: 5), q = 0
        for i in 0..<nTest where per[i * 5] >= 0 {
            q += 1
            for t in 0..<5 { sums[t] += per[i * 5 + t] }
        }
        if let averagePrecision { for i in 0..<nTest { averagePrecision[i] = per[i * 5] } }
        let m = q > 0 ? sums.map { $0 / Double(q) } : [0, 0, 0, 0, 0]
        return Result(meanAveragePrecision: m[0], meanAveragePrecisionAtK: m[1], precisionAtK: m[2],
                      recallAt1: m[3], recallAtK: m[4], queries: q, queriesWithoutRelevant: nTest - q)
    }
}
