#if canImport(Glibc)
import Glibc
#endif

/// Sinkhorn-Knopp for SwAV's codes (the equal-partition constraint).
///
/// From prototype scores S (B × K) it finds Q = B·diag(r)·E·diag(c), E = exp(S/ε), whose rows
/// (samples) each sum to 1 and whose columns (prototypes) each sum to ≈ B/K — exactly
/// solo-learn's / SwAV's `sinkhorn` (global normalisation, then `iterations` rounds of
/// "prototype sums → 1/K" followed by "sample sums → 1/B", then ×B), carried out on the two
/// scaling vectors instead of the B × K matrix, one read of E per iteration (the row update
/// and the next column sums share a pass; per-thread column sums are added in a fixed order). Each row of S is shifted by its maximum before
/// the exp and the shift is carried in the initial row scaling, so no row of E underflows and
/// the codes equal the unshifted algorithm's; a prototype whose every entry underflows gets no
/// mass (a zero column) instead of a NaN.
public enum Sinkhorn {
    public static let defaultIterations = 3
    public static let defaultEpsilon: Float = 0.05
    /// Most prototypes accepted (SwAV uses 3000; ImageNet-21k setups a few tens of thousands).
    public static let maxPrototypes = 1 << 16

    /// codes (B × K) from scores (B × K). `double`: carry E and the scalings in float64.
    public static func codes(scores: UnsafePointer<Float>, b: Int, k: Int, epsilon: Float = defaultEpsilon,
                             iterations: Int = defaultIterations, double: Bool = false,
                             out: UnsafeMutablePointer<Float>) throws {
        guard b >= 1, k >= 1 else { throw ContrastiveError.invalid("sinkhorn: scores must be (B, K) with B, K ≥ 1") }
        guard k <= maxPrototypes else {
            throw ContrastiveError.invalid("sinkhorn: \(k) prototypes is more than the \(maxPrototypes) allowed")
        }
        guard epsilon.isFinite, epsilon > 0 else { throw ContrastiveError.invalid("sinkhorn: ε \(epsilon) must be a positive number") }
        guard iterations >= 1, iterations <= 1000 else { throw ContrastiveError.invalid("sinkhorn: iterations \(iterations) outside 1...1000") }
        _ = try checkedCount([b, k], what: "sinkhorn")
        if double {
            try run(Double.self, scores: scores, b: b, k: k, epsilon: Double(epsilon), iterations: iterations, out: out) { Glibc.exp($0) }
        } else {
            try run(Float.self, scores: scores, b: b, k: k, epsilon: epsilon, iterations: iterations, out: out) { _ in 0 }
        }
    }

    static func run<T: BinaryFloatingPoint>(_: T.Type, scores: UnsafePointer<Float>, b: Int, k: Int, epsilon: T, iterations: Int,
                                            out: UnsafeMutablePointer<Float>, exp: @escaping (T) -> T) throws {
        // E is b·k values (up to 2³¹ of them): allocated fallibly.
        let (bytes, o) = (b * k).multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        guard !o else { throw ContrastiveError(.outOfMemory, "sinkhorn: \(b) × \(k) scores") }
        let raw = try alignedAlloc(bytes: bytes)
        defer { free(raw) }
        let e = raw.bindMemory(to: T.self, capacity: b * k)
        let r = UnsafeMutablePointer<T>.allocate(capacity: b), c = UnsafeMutablePointer<T>.allocate(capacity: k)
        defer { r.deallocate(); c.deallocate() }
        let invEps = 1 / epsilon
        let rowGrain = max(1, 16384 / k)
        let parts = parallelParts(b, grain: rowGrain)
        // Per-part column sums Σ_b r_b E_bk over that part's rows, combined in part order.
        let partial = UnsafeMutablePointer<T>.allocate(capacity: parts * k)
        defer { partial.deallocate() }
        // Row maxima first: the initial row scaling r_b = exp((max_b − max)/ε) carries the row
        // shifts back, so the first prototype normalisation sees exp(S/ε) up to one global factor
        // (which cancels) and the result equals the unshifted algorithm's after any iteration count.
        parallelFor(b, grain: rowGrain) { rows in for i in rows { r[i] = T(FastExp.max(scores + i * k, k)) } }
        var gmax = -T.infinity
        for i in 0..<b { gmax = Swift.max(gmax, r[i]) }
        let shifts = UnsafeMutablePointer<T>.allocate(capacity: b)
        defer { shifts.deallocate() }
        for i in 0..<b {
            shifts[i] = r[i]
            r[i] = T.self == Float.self ? T(Glibc.expf(Float((r[i] - gmax) * invEps))) : exp((r[i] - gmax) * invEps)
        }
        /// c ← 1 / (K · Σ_parts partial)
        func finishColumns() {
            for j in 0..<k {
                var t: T = 0
                for p in 0..<parts { t += partial[p * k + j] }
                c[j] = t > 0 ? 1 / (T(k) * t) : 0
            }
        }
        // Pass 1: E = exp((S − rowmax)/ε), accumulating the first column sums with r₀.
        ThreadPool.shared.run(parts: parts) { p in
            let acc = partial + p * k
            acc.update(repeating: 0, count: k)
            for i in partRange(p, of: parts, b) {
                let s = scores + i * k, er = e + i * k
                if T.self == Float.self {
                    FastExp.expRow(s, k, shift: Float(shifts[i]), scale: Float(invEps), UnsafeMutableRawPointer(er).assumingMemoryBound(to: Float.self))
                } else {
                    for j in 0..<k { er[j] = exp((T(s[j]) - shifts[i]) * invEps) }
                }
                let ri = r[i]
                for j in 0..<k { acc[j] += ri * er[j] }
            }
        }
        finishColumns()
        // Each further pass: r_b = 1 / (B · Σ_k E_bk c_k) for the current c, then (except after
        // the last iteration) the next column sums with that r — one read of E per iteration.
        for it in 0..<iterations {
            let last = it == iterations - 1
            ThreadPool.shared.run(parts: parts) { p in
                let acc = partial + p * k
                if !last { acc.update(repeating: 0, count: k) }
                for i in partRange(p, of: parts, b) {
                    let er = e + i * k
                    var s: T = 0
                    if T.self == Float.self {
                        s = T(Vec.dot(UnsafeRawPointer(er).assumingMemoryBound(to: Float.self),
                                      UnsafeRawPointer(c).assumingMemoryBound(to: Float.self), k))
                    } else {
                        for j in 0..<k { s += er[j] * c[j] }
                    }
                    let ri: T = s > 0 ? 1 / (T(b) * s) : 0
                    r[i] = ri
                    if last {
                        // Q = B · r_b · E_bk · c_k
                        let o = out + i * k, bri = T(b) * ri
                        for j in 0..<k { o[j] = Float(bri * er[j] * c[j]) }
                    } else {
                        for j in 0..<k { acc[j] += ri * er[j] }
                    }
                }
            }
            if !last { finishColumns() }
        }
    }
}

extension Graph {
    /// SwAV's swapped prediction (solo-learn's `swav_loss_func`): `scores` are the prototype
    /// scores of every crop (V tensors (B, K), the global crops first), `codes` the Sinkhorn
    /// codes of the first G crops (computed without gradient). For every code v1 and every
    /// other crop v2: −mean_b Σ_k q_v1[b,k] · log softmax(p_v2[b]/τ)_k; the loss is the mean
    /// over the G·(V−1) pairs. Default τ = 0.1.
    public func swav(scores: [Var], codes: [Tensor], temperature: Float = 0.1) throws -> Var {
        guard temperature.isFinite, temperature > 0 else {
            throw ContrastiveError.invalid("swav: temperature \(temperature) must be a positive number")
        }
        guard scores.count >= 2, codes.count >= 1, codes.count <= scores.count else {
            throw ContrastiveError.invalid("swav: needs ≥ 2 crops and 1...crops codes, got \(scores.count) crops and \(codes.count) codes")
        }
        let shape = scores[0].shape
        guard shape.count == 2, shape[0] >= 1, shape[1] >= 1 else { throw ContrastiveError.shape("swav: scores must be (B, K), got \(shape)") }
        for s in scores where s.shape != shape { throw ContrastiveError.shape("swav: crop scores \(s.shape) differ from \(shape)") }
        for q in codes where q.shape != shape { throw ContrastiveError.shape("swav: codes \(q.shape) differ from the scores \(shape)") }
        let b = shape[0], k = shape[1], g = codes.count, v = scores.count
        let pairs = g * (v - 1)
        let invT = 1 / temperature
        // Per crop: the summed target T = Σ_{v1 ≠ v2} q_v1 and the row log-sum-exps of p/τ.
        var targets: [Tensor] = [], lses: [Tensor] = []
        var total = 0.0
        for (v2, s) in scores.enumerated() {
            let t = try workspace.zeros([b, k])
            for (v1, q) in codes.enumerated() where v1 != v2 { Vec.add(q.data, into: t.data, b * k, accumulate: true) }
            let lse = try workspace.tensor([b])
            let rowLoss = try workspace.tensor([b])
            let x = s.value.data, tp = t.data, lp = lse.data, rl = rowLoss.data
            parallelFor(b, grain: max(1, 4096 / k)) { rows in
                let tmp = UnsafeMutablePointer<Float>.allocate(capacity: k)
                defer { tmp.deallocate() }
                for i in rows {
                    let xr = x + i * k, tr = tp + i * k
                    for j in 0..<k { tmp[j] = xr[j] * invT }
                    let mx = FastExp.max(tmp, k)
                    let l = mx + logf(FastExp.sumExp(tmp, k, shift: mx))
                    lp[i] = l
                    rl[i] = Vec.sum(tr, k) * l - Vec.dot(tr, tmp, k)
                }
            }
            for i in 0..<b { total += Double(rl[i]) }
            targets.append(t); lses.append(lse)
        }
        let y = try output([1])
        y.data[0] = Float(total / Double(b) / Double(pairs))
        let values = scores.map { $0.value }, slots = scores.map { $0.slot }
        return record(y, scores) { [unowned self] dy in
            let f = dy.data[0] / Float(b * pairs)
            for c in 0..<v {
                guard let (dx, acc) = try self.gradTarget(slots[c]) else { continue }
                let x = values[c].data, tp = targets[c].data, lp = lses[c].data, o = dx.data
                // ∂/∂p = f/τ · (Σ_k T_bk · softmax_bk − T_bk)
                parallelFor(b, grain: max(1, 4096 / k)) { rows in
                    let sm = UnsafeMutablePointer<Float>.allocate(capacity: k)
                    defer { sm.deallocate() }
                    for i in rows {
                        let xr = x + i * k, tr = tp + i * k, or = o + i * k
                        let ts = Vec.sum(tr, k), kf = f * invT
                        FastExp.expRow(xr, k, shift: lp[i] * temperature, scale: invT, sm)
                        for j in 0..<k {
                            let val = kf * (ts * sm[j] - tr[j])
                            or[j] = acc ? or[j] + val : val
                        }
                    }
                }
            }
        }
    }
}
