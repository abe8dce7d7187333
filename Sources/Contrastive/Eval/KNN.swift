#if canImport(Glibc)
import Glibc
#endif

/// Weighted k-nearest-neighbour classification on frozen features — the online/offline kNN
/// monitor of self-supervised training (InstDisc, lightly, solo-learn).
///
/// Both splits are L2-normalised (row / max(‖row‖, 1e-12)); the similarity of a test row to a
/// training row is their cosine, computed block-wise with sgemm (256 test rows × 4096 training
/// rows at a time, so memory stays bounded whatever the split sizes). For every test row the k
/// most similar training rows are kept (higher similarity first; equal similarities keep the
/// lower training index), and each votes for its class with weight exp(s / T):
///
///     score(c) = Σ_{neighbours j with label c} exp(s_j / T)
///
/// The predicted class is the highest score (ties: lower class index); top-5 asks whether the
/// true class is among the min(5, C) best (a class no neighbour voted for has score 0 and
/// ranks by index after the voted ones). Results are bit-identical for a fixed thread count.
public enum KNN {
    /// Accuracies on the test split, as fractions in [0, 1].
    public struct Result: Sendable, Equatable {
        /// Fraction of test rows whose predicted class is their label.
        public var top1: Double
        /// Fraction of test rows whose label is among the 5 best-scored classes.
        public var top5: Double
        public init(top1: Double, top5: Double) { self.top1 = top1; self.top5 = top5 }
    }

    /// lightly / InstDisc protocol defaults (solo-learn uses k = 20, T = 0.07).
    public static let defaultK = 200
    /// Default temperature of the vote weights.
    public static let defaultTemperature: Float = 0.1

    /// Test rows per similarity block.
    static let testBlock = 256
    /// Training rows per similarity block.
    static let trainBlock = 4096

    /// Weighted kNN accuracy of `test` (testLabels.count × dim, row-major) against `train`
    /// (trainLabels.count × dim). Labels must be in 0..<numClasses; 1 ≤ k ≤ training rows;
    /// temperature finite and > 0. Throws INVALID_ARGUMENT / SHAPE_MISMATCH / NUMERIC (NaN or
    /// Inf feature) / OUT_OF_MEMORY. The entry point the trainer calls for online kNN.
    public static func evaluate(train: UnsafePointer<Float>, trainLabels: [Int32], test: UnsafePointer<Float>, testLabels: [Int32],
                                dim: Int, numClasses: Int, k: Int = 200, temperature: Float = 0.1) throws -> KNN.Result {
        try trainLabels.withUnsafeBufferPointer { tl in
            try testLabels.withUnsafeBufferPointer { sl in
                guard let tlp = tl.baseAddress, !tl.isEmpty else { throw ContrastiveError.invalid("the training split is empty") }
                guard let slp = sl.baseAddress, !sl.isEmpty else { throw ContrastiveError.invalid("the test split is empty") }
                return try classify(train: train, trainLabels: tlp, trainCount: tl.count, test: test, testLabels: slp,
                                    testCount: sl.count, dim: dim, numClasses: numClasses, k: k, temperature: temperature)
            }
        }
    }

    /// The full kNN call: as `evaluate`, on explicit row counts, and optionally writing each
    /// test row's predicted class (`predictions`, testCount values) and its class scores
    /// normalised to sum to 1 (`scores`, testCount × numClasses: score(c) / Σ score — the same
    /// ranking as the raw scores, without their overflow at small T). The outputs are written
    /// only when the call succeeds.
    public static func classify(train: UnsafePointer<Float>, trainLabels: UnsafePointer<Int32>, trainCount nTrain: Int,
                                test: UnsafePointer<Float>, testLabels: UnsafePointer<Int32>, testCount nTest: Int,
                                dim d: Int, numClasses: Int, k: Int = 200, temperature: Float = 0.1,
                                predictions: UnsafeMutablePointer<Int32>? = nil,
                                scores: UnsafeMutablePointer<Float>? = nil) throws -> KNN.Result {
        // MARK: validation
        try EvalCheck.positive(numClasses, "num_classes")
        let trainCount = try EvalCheck.matrix(rows: nTrain, dim: d, "train")
        let testCount = try EvalCheck.matrix(rows: nTest, dim: d, "test")
        guard k >= 1 else { throw ContrastiveError.invalid("k = \(k) must be ≥ 1") }
        guard k <= nTrain else { throw ContrastiveError.invalid("k = \(k) is larger than the training set (\(nTrain) rows)") }
        guard temperature.isFinite, temperature > 0 else {
            throw ContrastiveError.invalid("temperature \(temperature) must be a positive finite number")
        }
        if scores != nil { _ = try checkedCount([nTest, numClasses], what: "class scores") }
        try EvalCheck.labels(trainLabels, count: nTrain, numClasses: numClasses, "train_labels")
        try EvalCheck.labels(testLabels, count: nTest, numClasses: numClasses, "test_labels")
        try EvalCheck.finite(train, count: trainCount, dim: d, "train")
        try EvalCheck.finite(test, count: testCount, dim: d, "test")

        // MARK: scratch
        // (nTrain, d) normalised training rows; per test block: (tb, d) normalised test rows,
        // (tb, trainBlock) similarities, (tb, k) neighbour heaps, per part a (C) vote buffer.
        let trainN = try Storage(count: trainCount)
        EvalRows.l2Normalized(train, n: nTrain, d: d, into: trainN.base)
        let tb = max(1, min(testBlock, nTest, (1 << 22) / k))
        let jb = min(trainBlock, nTrain)
        let testN = try Storage(count: tb * d)
        let sims = try Storage(count: tb * jb)
        let heaps = try EvalBuffer<UInt64>(tb * k, "kNN neighbour lists")
        let maxParts = max(1, ThreadPool.shared.threads)
        let votes = try EvalBuffer<Double>(try checkedCount([maxParts, numClasses], what: "kNN votes"), "kNN votes")
        let predOut = try EvalBuffer<Int32>(nTest, "kNN predictions")
        let hit1 = try EvalBuffer<UInt8>(nTest, "kNN hits", repeating: 0)
        let hit5 = try EvalBuffer<UInt8>(nTest, "kNN hits", repeating: 0)
        let scoreTmp: EvalBuffer<Float>? = scores == nil ? nil : try EvalBuffer<Float>(nTest * numClasses, "kNN class scores")
        let invT = 1 / Double(temperature)
        let top = min(5, numClasses)

        var i0 = 0
        while i0 < nTest {
            let rows = min(tb, nTest - i0)
            EvalRows.l2Normalized(test + i0 * d, n: rows, d: d, into: testN.base)
            heaps.base.update(repeating: UInt64.max, count: rows * k)   // sentinel: worse than any real key
            var j0 = 0
            while j0 < nTrain {
                let cols = min(jb, nTrain - j0)
                // sims[rows × cols] = testN[rows × d] · trainN[j0..<j0+cols]ᵀ
                BLAS.sgemm(transA: false, transB: true, m: rows, n: cols, k: d, alpha: 1, a: testN.base, lda: d,
                           b: trainN.base + j0 * d, ldb: d, beta: 0, c: sims.base, ldc: cols)
                let s = sims.base, h = heaps.base, base = j0
                parallelFor(rows, grain: 8) { range in
                    for r in range {
                        let hr = h + r * k, sr = s + r * cols
                        // Similarities strictly below the current k-th best cannot enter:
                        // a float compare skips them without building a key.
                        var floor = hr[0] == UInt64.max ? -Float.infinity : EvalRows.rankSimilarity(hr[0])
                        for j in 0..<cols where sr[j] >= floor {
                            let key = EvalRows.rankKey(sr[j], base + j)
                            if key < hr[0] {
                                EvalRows.heapReplaceTop(hr, k, key)
                                floor = hr[0] == UInt64.max ? -Float.infinity : EvalRows.rankSimilarity(hr[0])
                            }
                        }
                    }
                }
                j0 += cols
            }
            // Votes: each part owns one (C) buffer; every row is handled by exactly one part.
            let parts = min(maxParts, parallelParts(rows, grain: 4))
            let h = heaps.base, v = votes.base, first = i0
            ThreadPool.shared.run(parts: parts) { p in
                let vp = v + p * numClasses
                for r in partRange(p, of: parts, rows) {
                    let hr = h + r * k
                    // The best neighbour is the smallest key; shifting by its similarity keeps
                    // every weight ≤ 1 (no overflow at small T) and changes no ranking.
                    var best = hr[0]
                    for t in 1..<max(k, 1) where hr[t] < best { best = hr[t] }
                    let sTop = Double(EvalRows.rankSimilarity(best))
                    vp.update(repeating: 0, count: numClasses)
                    for t in 0..<k {
                        let key = hr[t]
                        let w = exp((Double(EvalRows.rankSimilarity(key)) - sTop) * invT)
                        vp[Int(trainLabels[EvalRows.rankIndex(key)])] += w
                    }
                    let i = first + r
                    let y = Int(testLabels[i])
                    let ahead = EvalRows.rankAhead(UnsafePointer(vp), numClasses, y)
                    hit1[i] = ahead == 0 ? 1 : 0
                    hit5[i] = ahead < top ? 1 : 0
                    predOut[i] = Int32(truncatingIfNeeded: EvalRows.argmax(UnsafePointer(vp), numClasses))
                    if let st = scoreTmp {
                        var total = 0.0
                        for c in 0..<numClasses { total += vp[c] }
                        let o = st.base + i * numClasses
                        for c in 0..<numClasses { o[c] = Float(vp[c] / total) }
                    }
                }
            }
            i0 += rows
        }
        var c1 = 0, c5 = 0
        for i in 0..<nTest { c1 += Int(hit1.base[i]); c5 += Int(hit5.base[i]) }
        if let predictions { predictions.update(from: predOut.base, count: nTest) }
        if let scores, let st = scoreTmp { scores.update(from: st.base, count: nTest * numClasses) }
        return Result(top1: Double(c1) / Double(nTest), top5: Double(c5) / Double(nTest))
    }
}
