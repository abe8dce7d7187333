#if canImport(Glibc)
import Glibc
#endif

/// Agreement of a clustering with the true labels (both n values ≥ 0; ids need not be
/// contiguous — only equality matters), as scikit-learn defines it:
///
/// - NMI = MI(U, V) / ((H(U) + H(V)) / 2) — `normalized_mutual_info_score` with its default
///   arithmetic-mean normalisation, natural logs. Both labelings with a single class give 1;
///   otherwise MI = 0 gives 0.
/// - ARI = 2(tp·tn − fn·fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn)) over the pair-confusion
///   counts — `adjusted_rand_score`; 1 when fn = fp = 0 (e.g. identical partitions).
/// - purity = (1/n) Σ_clusters max_class n_{class, cluster}.
/// Computed from the sparse contingency table (a sort of the n (label, cluster) pairs), in
/// Double; deterministic.
public enum ClusteringScores {
    /// The three scores plus the number of distinct labels and clusters.
    public struct Result: Sendable, Equatable {
        /// Normalised mutual information (arithmetic mean), in [0, 1].
        public var nmi: Double
        /// Adjusted Rand index, in [−0.5, 1].
        public var ari: Double
        /// Purity, in (0, 1].
        public var purity: Double
        /// Distinct values in `labels`.
        public var numClasses: Int
        /// Distinct values in `assignments`.
        public var numClusters: Int
    }

    /// Scores of `assignments` (predicted clusters) against `labels` (true classes), n ≥ 1
    /// values each, all ≥ 0. Throws INVALID_ARGUMENT (n < 1, a negative value).
    public static func evaluate(labels: UnsafePointer<Int32>, assignments: UnsafePointer<Int32>, n: Int) throws -> Result {
        guard n >= 1 else { throw ContrastiveError.invalid("n = \(n) must be ≥ 1 (the split must not be empty)") }
        for i in 0..<n where labels[i] < 0 { throw ContrastiveError.invalid("labels[\(i)] = \(labels[i]) is negative") }
        for i in 0..<n where assignments[i] < 0 { throw ContrastiveError.invalid("assignments[\(i)] = \(assignments[i]) is negative") }
        let keys = try EvalBuffer<UInt64>(n, "contingency pairs")
        let lab = try EvalBuffer<UInt32>(n, "label counts")
        let cl = try EvalBuffer<UInt32>(n, "cluster counts")
        for i in 0..<n {
            // Sorted by (cluster, label): each cluster's cells are contiguous (for purity).
            keys[i] = UInt64(UInt32(assignments[i])) << 32 | UInt64(UInt32(labels[i]))
            lab[i] = UInt32(labels[i]); cl[i] = UInt32(assignments[i])
        }
        var keysBuf = UnsafeMutableBufferPointer(start: keys.base, count: n); keysBuf.sort()
        var labBuf = UnsafeMutableBufferPointer(start: lab.base, count: n); labBuf.sort()
        var clBuf = UnsafeMutableBufferPointer(start: cl.base, count: n); clBuf.sort()

        let nd = Double(n)
        // Marginals: run lengths of the sorted ids (a_i classes, b_j clusters).
        func runs(_ v: EvalBuffer<UInt32>) -> (count: Int, entropy: Double, sumSquares: Double, map: [UInt32: Double]) {
            var h = 0.0, sq = 0.0, c = 0, i = 0
            var m: [UInt32: Double] = [:]
            while i < n {
                var j = i
                while j < n && v[j] == v[i] { j += 1 }
                let a = Double(j - i)
                h -= a / nd * log(a / nd)
                sq += a * a
                m[v[i]] = a
                c += 1
                i = j
            }
            return (c, max(h, 0), sq, m)
        }
        let u = runs(lab), v = runs(cl)

        var mi = 0.0, cellSquares = 0.0, purityHits = 0
        var i = 0
        var clusterMax = 0, currentCluster = UInt32.max
        while i < n {
            var j = i
            while j < n && keys[j] == keys[i] { j += 1 }
            let nij = Double(j - i)
            let cluster = UInt32(truncatingIfNeeded: keys[i] >> 32), label = UInt32(truncatingIfNeeded: keys[i])
            let ai = u.map[label] ?? 1, bj = v.map[cluster] ?? 1
            mi += nij / nd * log(nd * nij / (ai * bj))
            cellSquares += nij * nij
            if cluster != currentCluster { purityHits += clusterMax; clusterMax = 0; currentCluster = cluster }
            clusterMax = max(clusterMax, j - i)
            i = j
        }
        purityHits += clusterMax

        let nmi: Double
        if u.count == 1 && v.count == 1 {
            nmi = 1
        } else {
            let mic = max(mi, 0)
            let norm = (u.entropy + v.entropy) / 2
            nmi = mic == 0 || norm <= 0 ? 0 : min(mic / norm, 1)
        }
        // Pair confusion (scikit-learn's pair_confusion_matrix, ordered pairs).
        let tp = cellSquares - nd
        let fp = v.sumSquares - cellSquares      // same cluster, different class
        let fn = u.sumSquares - cellSquares      // same class, different cluster
        let tn = nd * nd - fp - fn - cellSquares
        let ari: Double
        if fn == 0 && fp == 0 {
            ari = 1
        } else {
            ari = 2 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))
        }
        return Result(nmi: nmi, ari: ari, purity: Double(purityHits) / nd, numClasses: u.count, numClusters: v.count)
    }
}
