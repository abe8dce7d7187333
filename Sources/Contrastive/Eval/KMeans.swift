/// k-means clustering of feature rows: seeded k-means++ initialisation and Lloyd iterations.
///
/// - Initialisation (k-means++, Arthur & Vassilvitskii 2007): the first centroid is a row
///   drawn uniformly, each further one a row drawn with probability ∝ D(x)², the squared
///   distance to the nearest centroid so far (one candidate per step — scikit-learn's "greedy"
///   variant tries 2 + log k, so its centroids differ). Draws come from `CounterRNG(seed,
///   restart)`.
/// - Lloyd: assign every row to its nearest centroid (‖c‖² − 2·x·c from sgemm in blocks of
///   4096 rows; ties to the lower centroid index), move each centroid to the mean of its rows
///   (Double sums per thread part, added in part order). A centroid left without rows moves to
///   the row farthest from its own centroid (ties: lower row index). Stops when no assignment
///   changes, when Σ_c ‖c_new − c_old‖² ≤ tolerance · mean_j Var(x_j) (scikit-learn's rule), or
///   after `maxIterations` iterations.
/// - The result is the final centroids, the assignment to them (one more assignment step) and
///   the inertia Σ_i ‖x_i − c_{a_i}‖², computed directly in Double. With `restarts` > 1 the
///   run of lowest inertia wins (the first on ties).
/// Bit-identical for a fixed seed and thread count.
public enum KMeans {
    /// Outcome of a fit (the assignments and centroids go to caller buffers).
    public struct Result: Sendable, Equatable {
        /// Σ_i ‖x_i − c_{a_i}‖² of the returned clustering.
        public var inertia: Double
        /// Lloyd iterations run by the winning restart.
        public var iterations: Int
        /// Whether the winning restart stopped by convergence (not by `maxIterations`).
        public var converged: Bool
    }

    /// Rows per distance block.
    static let block = 4096

    /// Cluster `x` (n × d, row-major) into `k` clusters (1 ≤ k ≤ n). `assignments` (n values in
    /// 0..<k) and `centroids` (k × d) are optional outputs, written only on success.
    /// Throws INVALID_ARGUMENT (sizes, k, maxIterations < 1, tolerance < 0 or not finite,
    /// restarts < 1), NUMERIC (NaN/Inf feature), OUT_OF_MEMORY.
    public static func fit(_ x: UnsafePointer<Float>, n: Int, d: Int, k: Int, maxIterations: Int = 300, tolerance: Double = 1e-4,
                           seed: UInt64 = 0, restarts: Int = 1,
                           assignments: UnsafeMutablePointer<Int32>? = nil, centroids: UnsafeMutablePointer<Float>? = nil) throws -> Result {
        let count = try EvalCheck.matrix(rows: n, dim: d, "x")
        guard k >= 1 else { throw ContrastiveError.invalid("k = \(k) must be ≥ 1") }
        guard k <= n else { throw ContrastiveError.invalid("k = \(k) is larger than the number of rows (\(n))") }
        guard maxIterations >= 1 else { throw ContrastiveError.invalid("max_iterations = \(maxIterations) must be ≥ 1") }
        guard tolerance.isFinite, tolerance >= 0 else { throw ContrastiveError.invalid("tolerance \(tolerance) must be a finite number ≥ 0") }
        guard restarts >= 1 else { throw ContrastiveError.invalid("restarts = \(restarts) must be ≥ 1") }
        try EvalCheck.finite(x, count: count, dim: d, "x")
        let kd = try checkedCount([k, d], what: "centroids")

        // Row norms and the absolute tolerance (scikit-learn: tol · mean of the column variances).
        let norms = try EvalBuffer<Double>(n, "row norms")
        parallelFor(n, grain: 256) { rows in
            for i in rows { var s = 0.0; for j in 0..<d { let v = Double(x[i * d + j]); s += v * v }; norms[i] = s }
        }
        let mean = try EvalBuffer<Double>(d, "column means", repeating: 0), sq = try EvalBuffer<Double>(d, "column squares", repeating: 0)
        for i in 0..<n { for j in 0..<d { let v = Double(x[i * d + j]); mean[j] += v; sq[j] += v * v } }
        var varSum = 0.0
        for j in 0..<d { let m = mean[j] / Double(n); varSum += max(sq[j] / Double(n) - m * m, 0) }
        let tolAbs = tolerance * varSum / Double(d)

        let state = try State(n: n, d: d, k: k, kd: kd)
        let bestAssign = try EvalBuffer<Int32>(n, "k-means assignments")
        let bestCent = try EvalBuffer<Float>(kd, "k-means centroids")
        var best: Result? = nil
        for restart in 0..<restarts {
            initialise(x, n: n, d: d, k: k, norms: norms, seed: seed, stream: UInt64(restart), state: state)
            var iterations = 0, converged = false
            assign(x, n: n, d: d, k: k, norms: norms, state: state)
            while iterations < maxIterations {
                iterations += 1
                let shift = update(x, n: n, d: d, k: k, state: state)
                let changed = assign(x, n: n, d: d, k: k, norms: norms, state: state)
                if changed == 0 || shift <= tolAbs { converged = true; break }
            }
            let inertia = exactInertia(x, n: n, d: d, state: state)
            if let b = best, inertia >= b.inertia {
                // an earlier restart stays the winner
            } else {
                best = Result(inertia: inertia, iterations: iterations, converged: converged)
                bestAssign.base.update(from: state.assign.base, count: n)
                bestCent.base.update(from: state.centroids.base, count: kd)
            }
        }
        if let assignments { assignments.update(from: bestAssign.base, count: n) }
        if let centroids { centroids.update(from: bestCent.base, count: kd) }
        return best ?? Result(inertia: 0, iterations: 0, converged: false)
    }

    /// Scratch of one fit.
    final class State {
        let centroids: Storage          // (k, d)
        let cnorm: EvalBuffer<Double>   // (k) ‖c‖²
        let assign: EvalBuffer<Int32>   // (n)
        let dist: EvalBuffer<Double>    // (n) ‖x − c_a‖² from the expansion (for empty clusters)
        let dots: Storage               // (block, k)
        let sums: EvalBuffer<Double>    // (parts, k, d)
        let counts: EvalBuffer<Int>     // (parts, k)
        let parts: Int
        init(n: Int, d: Int, k: Int, kd: Int) throws {
            centroids = try Storage(count: kd)
            cnorm = try EvalBuffer(k, "centroid norms")
            assign = try EvalBuffer(n, "k-means assignments", repeating: -1)
            dist = try EvalBuffer(n, "k-means distances")
            dots = try Storage(count: try checkedCount([min(KMeans.block, n), k], what: "k-means distances"))
            parts = max(1, ThreadPool.shared.threads)
            sums = try EvalBuffer(try checkedCount([parts, kd], what: "k-means sums"), "k-means sums")
            counts = try EvalBuffer(parts * k, "k-means counts")
        }
    }

    /// k-means++ seeding into state.centroids.
    static func initialise(_ x: UnsafePointer<Float>, n: Int, d: Int, k: Int, norms: EvalBuffer<Double>, seed: UInt64, stream: UInt64, state: State) {
        var rng = CounterRNG(seed: seed, stream: 0x6B6D_6561_6E73 &+ stream)
        state.assign.base.update(repeating: -1, count: n)
        let c = state.centroids.base
        let first = Int(rng.next() % UInt64(n))
        c.update(from: x + first * d, count: d)
        let minD = state.dist.base
        func refresh(_ center: Int, first: Bool) {
            let cp = UnsafePointer(c + center * d)
            parallelFor(n, grain: 256) { rows in
                for i in rows {
                    var s = 0.0
                    let xr = x + i * d
                    for j in 0..<d { let e = Double(xr[j]) - Double(cp[j]); s += e * e }
                    minD[i] = first ? s : min(minD[i], s)
                }
            }
        }
        refresh(0, first: true)
        for center in 1..<max(k, 1) {
            var total = 0.0
            for i in 0..<n { total += minD[i] }
            var pick = n - 1
            let u = Double(rng.next() >> 11) * 0x1p-53
            if total > 0 {
                let target = u * total
                var acc = 0.0
                for i in 0..<n { acc += minD[i]; if acc > target && minD[i] > 0 { pick = i; break } }
            } else {
                pick = Int(rng.next() % UInt64(n))
            }
            (c + center * d).update(from: x + pick * d, count: d)
            refresh(center, first: false)
        }
    }

    /// Assignment step; returns how many rows changed cluster.
    @discardableResult
    static func assign(_ x: UnsafePointer<Float>, n: Int, d: Int, k: Int, norms: EvalBuffer<Double>, state: State) -> Int {
        let c = state.centroids.base, cn = state.cnorm.base
        for t in 0..<k { let cp = c + t * d; var s = 0.0; for j in 0..<d { s += Double(cp[j]) * Double(cp[j]) }; cn[t] = s }
        let a = state.assign.base, dist = state.dist.base, dots = state.dots.base
        var changed = 0
        var i0 = 0
        while i0 < n {
            let rows = min(block, n - i0)
            // dots[rows × k] = x[i0..<i0+rows] · centroidsᵀ
            BLAS.sgemm(transA: false, transB: true, m: rows, n: k, k: d, alpha: 1, a: x + i0 * d, lda: d,
                       b: c, ldb: d, beta: 0, c: dots, ldc: k)
            let parts = parallelParts(rows, grain: 64)
            var moved = [Int](repeating: 0, count: parts)
            moved.withUnsafeMutableBufferPointer { mv in
                let mvp = mv.baseAddress!
                let first = i0
                ThreadPool.shared.run(parts: parts) { p in
                    var m = 0
                    for r in partRange(p, of: parts, rows) {
                        let dr = dots + r * k
                        var bestT = 0, bestV = cn[0] - 2 * Double(dr[0])
                        for t in 1..<max(k, 1) {
                            let v = cn[t] - 2 * Double(dr[t])
                            if v < bestV { bestV = v; bestT = t }
                        }
                        let i = first + r
                        if a[i] != Int32(bestT) { m += 1; a[i] = Int32(bestT) }
                        dist[i] = max(norms[i] + bestV, 0)
                    }
                    mvp[p] = m
                }
            }
            changed += moved.reduce(0, +)
            i0 += rows
        }
        return changed
    }

    /// Update step (centroids = means of their rows); returns Σ ‖c_new − c_old‖².
    static func update(_ x: UnsafePointer<Float>, n: Int, d: Int, k: Int, state: State) -> Double {
        let parts = min(state.parts, parallelParts(n, grain: 256))
        let sums = state.sums.base, counts = state.counts.base, a = state.assign.base
        ThreadPool.shared.run(parts: parts) { p in
            let sp = sums + p * k * d, cp = counts + p * k
            sp.update(repeating: 0, count: k * d)
            cp.update(repeating: 0, count: k)
            for i in partRange(p, of: parts, n) {
                let t = Int(a[i]), xr = x + i * d, st = sp + t * d
                cp[t] += 1
                for j in 0..<d { st[j] += Double(xr[j]) }
            }
        }
        for p in 1..<max(parts, 1) {
            for t in 0..<(k * d) { sums[t] += sums[p * k * d + t] }
            for t in 0..<k { counts[t] += counts[p * k + t] }
        }
        let c = state.centroids.base
        var shift = 0.0
        var taken = Set<Int>()
        for t in 0..<k {
            let ct = c + t * d
            if counts[t] > 0 {
                let inv = 1 / Double(counts[t])
                for j in 0..<d {
                    let v = Float(sums[t * d + j] * inv)
                    let e = Double(v) - Double(ct[j]); shift += e * e
                    ct[j] = v
                }
            } else {
                // Empty: move to the row farthest from its centroid not used for another one.
                var far = -1, farD = -1.0
                for i in 0..<n where !taken.contains(i) && state.dist[i] > farD { far = i; farD = state.dist[i] }
                guard far >= 0 else { continue }
                taken.insert(far)
                for j in 0..<d { let e = Double(x[far * d + j]) - Double(ct[j]); shift += e * e; ct[j] = x[far * d + j] }
                state.dist[far] = 0
            }
        }
        return shift
    }

    /// Σ_i ‖x_i − c_{a_i}‖² by direct differences in Double (per-part sums in part order).
    static func exactInertia(_ x: UnsafePointer<Float>, n: Int, d: Int, state: State) -> Double {
        let parts = parallelParts(n, grain: 256)
        var partial = [Double](repeating: 0, count: parts)
        let c = state.centroids.base, a = state.assign.base
        partial.withUnsafeMutableBufferPointer { pb in
            let pp = pb.baseAddress!
            ThreadPool.shared.run(parts: parts) { p in
                var s = 0.0
                for i in partRange(p, of: parts, n) {
                    let xr = x + i * d, cr = c + Int(a[i]) * d
                    for j in 0..<d { let e = Double(xr[j]) - Double(cr[j]); s += e * e }
                }
                pp[p] = s
            }
        }
        return partial.reduce(0, +)
    }
}
