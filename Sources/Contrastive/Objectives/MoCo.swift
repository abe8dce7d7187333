#if canImport(Glibc)
import Glibc
#endif

/// A FIFO queue of K embeddings of dimension D (MoCo's keys, NNCLR's support set, SwAV's
/// embedding queue): a K × D ring buffer, no gradient. Rows are L2-normalised on push when
/// `normalize` is set (MoCo, NNCLR). `push` writes the batch after the oldest-first pointer,
/// wrapping at K, so K need not be a multiple of the batch; a batch larger than K is an error.
public final class EmbeddingQueue {
    public let capacity: Int
    public let dim: Int
    public let normalize: Bool
    /// K × D storage, row `(pointer + i) mod K` is the i-th oldest once full.
    public let storage: Tensor
    /// Next row to overwrite.
    public private(set) var pointer = 0
    /// Rows written so far, at most K.
    public private(set) var filled = 0

    public init(capacity: Int, dim: Int, normalize: Bool = true) throws {
        guard capacity >= 1, dim >= 1 else { throw ContrastiveError.invalid("queue: capacity \(capacity) and dim \(dim) must be ≥ 1") }
        self.capacity = capacity
        self.dim = dim
        self.normalize = normalize
        self.storage = try Tensor(zeros: [capacity, dim])
    }

    /// Fill every row with seeded random unit vectors and mark the queue full (MoCo's
    /// initialisation: `normalize(randn(K, D))`).
    public func fillRandom(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        let p = storage.data
        for i in 0..<(capacity * dim) { p[i] = rng.normal() }
        let norms = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
        defer { norms.deallocate() }
        Rows.l2Normalize(n: capacity, d: dim, x: p, eps: Contrast.normEps, y: p, norms: norms)
        filled = capacity
        pointer = 0
    }

    /// Set the ring position after the storage was restored from a checkpoint.
    public func restore(pointer p: Int, filled f: Int) throws {
        guard p >= 0, p < capacity, f >= 0, f <= capacity else {
            throw ContrastiveError(.format, "queue position \(p) / filled \(f) outside a queue of \(capacity) rows")
        }
        pointer = p
        filled = f
    }

    /// Enqueue a batch (B × D rows, B ≤ K), replacing the oldest rows.
    public func push(_ rows: UnsafePointer<Float>, count b: Int) throws {
        guard b >= 0, b <= capacity else {
            throw ContrastiveError.invalid("queue: a batch of \(b) is larger than the queue (\(capacity))")
        }
        let norms = UnsafeMutablePointer<Float>.allocate(capacity: max(b, 1))
        defer { norms.deallocate() }
        var done = 0
        while done < b {
            let n = min(b - done, capacity - pointer)
            let dst = storage.data + pointer * dim, src = rows + done * dim
            if normalize { Rows.l2Normalize(n: n, d: dim, x: src, eps: Contrast.normEps, y: dst, norms: norms) }
            else { dst.update(from: src, count: n * dim) }
            pointer = (pointer + n) % capacity
            done += n
        }
        filled = min(capacity, filled + b)
    }

    public func push(_ t: Tensor) throws {
        guard t.shape.count == 2, t.shape[1] == dim else { throw ContrastiveError.shape("queue: push \(t.shape) into (\(capacity), \(dim))") }
        try push(t.data, count: t.shape[0])
    }

    /// The rows written so far (all K once full) as a tensor view — the extra negatives.
    public var contents: Tensor {
        if filled == capacity { return storage }
        // Before the first wrap, rows 0..<filled are the written ones.
        return Tensor(shape: [filled, dim], data: storage.data, owner: self)
    }
}

/// SplitMix64 + Box–Muller, for seeded queue initialisation.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        defer { state &+= 0x9E37_79B9_7F4A_7C15 }
        return splitMix64(state)   // = mix(state + γ), the classic SplitMix64 step
    }
    mutating func uniform() -> Double { Double(next() >> 11) * (1.0 / 9007199254740992.0) }
    mutating func normal() -> Float {
        let u1 = max(uniform(), 1e-300), u2 = uniform()
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
}

extension Graph {
    /// MoCo (v2) contrast (solo-learn's `mocov2plus_loss_func`): query q_i against its key k_i
    /// (positive) and the K queued keys (negatives), cosine similarity (q and k are normalised
    /// inside; the queue rows are used as they are — `EmbeddingQueue` stores them normalised):
    ///     loss = mean_i CE([q̂_i·k̂_i, q̂_i·queue]/τ, 0).
    /// The key receives a gradient only if it requires one (MoCo's keys come from the
    /// momentum encoder and do not); the queue never does. Rows are processed in blocks, so
    /// memory is O(B·K), not O(N·K).
    public func moco(_ q: Var, _ k: Var, queue: Tensor, temperature: Float = 0.2,
                     blockRows: Int = Contrast.defaultBlockRows) throws -> Var {
        guard q.shape.count == 2, q.shape == k.shape, q.shape[0] >= 1, q.shape[1] >= 1 else {
            throw ContrastiveError.shape("moco: queries \(q.shape) and keys \(k.shape) must both be (N, D)")
        }
        guard temperature.isFinite, temperature > 0 else {
            throw ContrastiveError.invalid("moco: temperature \(temperature) must be a positive number")
        }
        let n = q.shape[0], d = q.shape[1]
        let kq = try queueRows(queue, d: d, op: "moco")
        let ncol = kq + 1, invT = 1 / temperature
        let b = Contrast.blockRows(blockRows, rows: n, columns: ncol)
        // Normalised queries and keys, their norms, and per-row log-sum-exps / positive logits.
        let qh = try workspace.tensor([n, d]), kh = try workspace.tensor([n, d])
        let nq = try workspace.tensor([n]), nk = try workspace.tensor([n])
        Rows.l2Normalize(n: n, d: d, x: q.value.data, eps: Contrast.normEps, y: qh.data, norms: nq.data)
        Rows.l2Normalize(n: n, d: d, x: k.value.data, eps: Contrast.normEps, y: kh.data, norms: nk.data)
        let lse = try workspace.tensor([n]), rowLoss = try workspace.tensor([n])
        let qd = queue.data
        // Block logits: column 0 the positive, columns 1... the queue.
        func blockLogits(_ r0: Int, _ r1: Int, _ s: UnsafeMutablePointer<Float>) {
            if kq > 0 {
                BLAS.sgemm(transA: false, transB: true, m: r1 - r0, n: kq, k: d, alpha: invT, a: qh.data + r0 * d, lda: d,
                           b: qd, ldb: d, beta: 0, c: s + 1, ldc: ncol)
            }
            for r in 0..<(r1 - r0) { let i = r0 + r; s[r * ncol] = Vec.dot(qh.data + i * d, kh.data + i * d, d) * invT }
        }
        let s = try workspace.tensor([b, ncol])
        var r0 = 0
        while r0 < n {
            let r1 = min(n, r0 + b)
            blockLogits(r0, r1, s.data)
            let sp = s.data, lp = lse.data, rl = rowLoss.data
            parallelFor(r1 - r0, grain: 1) { rows in
                for r in rows {
                    let row = sp + r * ncol
                    let mx = FastExp.max(row, ncol)
                    let l = mx + logf(FastExp.sumExp(row, ncol, shift: mx))
                    lp[r0 + r] = l
                    rl[r0 + r] = l - row[0]
                }
            }
            r0 = r1
        }
        var total = 0.0
        for i in 0..<n { total += Double(rowLoss.data[i]) }
        let y = try output([1])
        y.data[0] = Float(total / Double(n))
        let qs = q.slot, ks = k.slot
        return record(y, [q, k]) { [unowned self] dy in
            let g = dy.data[0] / Float(n)
            let tq = try self.gradTarget(qs), tk = try self.gradTarget(ks)
            let dq = try self.workspace.tensor([b, d])
            let dkh = try self.workspace.tensor([n, d])
            let st = try self.workspace.tensor([b, ncol])
            var r0 = 0
            while r0 < n {
                let r1 = min(n, r0 + b)
                blockLogits(r0, r1, st.data)
                let sp = st.data, lp = lse.data, dqp = dq.data, dkp = dkh.data
                // G = g·(softmax − onehot(0)); dq̂ = (G_i0 k̂_i + Σ_j G_ij queue_j)/τ; dk̂_i = G_i0 q̂_i/τ.
                parallelFor(r1 - r0, grain: 1) { rows in
                    for r in rows {
                        let row = sp + r * ncol, l = lp[r0 + r]
                        var j = 0
                        let lv = FastExp.V(repeating: l), gv = FastExp.V(repeating: g)
                        while j + 16 <= ncol {
                            let x = UnsafeRawPointer(row + j).loadUnaligned(as: FastExp.V.self)
                            UnsafeMutableRawPointer(row + j).storeBytes(of: gv * FastExp.exp(x - lv), as: FastExp.V.self)
                            j += 16
                        }
                        while j < ncol { row[j] = g * FastExp.exp(row[j] - l); j += 1 }
                        row[0] -= g
                    }
                }
                if kq > 0 {
                    BLAS.sgemm(transA: false, transB: false, m: r1 - r0, n: d, k: kq, alpha: invT, a: sp + 1, lda: ncol,
                               b: qd, ldb: d, beta: 0, c: dqp, ldc: d)
                } else {
                    dqp.update(repeating: 0, count: (r1 - r0) * d)
                }
                for r in 0..<(r1 - r0) {
                    let i = r0 + r, g0 = sp[r * ncol] * invT
                    let dr = dqp + r * d, kr = kh.data + i * d, qr = qh.data + i * d, dk = dkp + i * d
                    for t in 0..<d { dr[t] += g0 * kr[t]; dk[t] = g0 * qr[t] }
                }
                if let (dst, acc) = tq {
                    Rows.l2NormalizeBackward(n: r1 - r0, d: d, y: qh.data + r0 * d, norms: nq.data + r0, eps: Contrast.normEps,
                                             dy: dqp, dx: dst.data + r0 * d, accumulate: acc)
                }
                r0 = r1
            }
            if let (dst, acc) = tk {
                Rows.l2NormalizeBackward(n: n, d: d, y: kh.data, norms: nk.data, eps: Contrast.normEps,
                                         dy: dkh.data, dx: dst.data, accumulate: acc)
            }
            withExtendedLifetime(queue) {}
        }
    }

    /// Symmetric MoCo: (moco(q1, k2) + moco(q2, k1)) / 2.
    public func mocoSymmetric(q1: Var, k1: Var, q2: Var, k2: Var, queue: Tensor, temperature: Float = 0.2) throws -> Var {
        try scale(try add(try moco(q1, k2, queue: queue, temperature: temperature),
                          try moco(q2, k1, queue: queue, temperature: temperature)), 0.5)
    }
}
