/// Differentiable ops. Each computes its forward kernel now and records the matching backward
/// kernel. A backward closure captures the gradient slots of its inputs and only the tensors
/// its own formula needs. Shapes follow PyTorch: feature maps (N, C, H, W), matrices (N, D).
extension Graph {
    // MARK: linear algebra

    /// y = x·wᵀ + b.  x (N, in), w (out, in), b (out) or nil → y (N, out).
    public func linear(_ x: Var, _ w: Var, _ b: Var? = nil) throws -> Var {
        guard x.shape.count == 2, w.shape.count == 2, x.shape[1] == w.shape[1] else {
            throw ContrastiveError.shape("linear: input \(x.shape) and weight \(w.shape) (expected (N, in) and (out, in))")
        }
        let n = x.shape[0], din = x.shape[1], dout = w.shape[0]
        if let b, b.value.count != dout { throw ContrastiveError.shape("linear: bias \(b.shape) for \(dout) outputs") }
        let y = try output([n, dout])
        if let b {
            for i in 0..<n { (y.data + i * dout).update(from: b.value.data, count: dout) }
        }
        BLAS.sgemm(transA: false, transB: true, m: n, n: dout, k: din, alpha: 1, a: x.value.data, lda: din,
                   b: w.value.data, ldb: din, beta: b == nil ? 0 : 1, c: y.data, ldc: dout)
        let inputs = b.map { [x, w, $0] } ?? [x, w]
        let wv = w.value, xs = x.slot, ws = w.slot, bs = b?.slot
        let xsaved: SavedValue? = ws.requiresGrad ? save(x) : nil
        return record(y, inputs) { [unowned self] dy in
            if let (dx, acc) = try self.gradTarget(xs) {
                BLAS.sgemm(transA: false, transB: false, m: n, n: din, k: dout, alpha: 1, a: dy.data, lda: dout,
                           b: wv.data, ldb: din, beta: acc ? 1 : 0, c: dx.data, ldc: din)
            }
            if let (dw, acc) = try self.gradTarget(ws), let xv = try xsaved?.get() {
                BLAS.sgemm(transA: true, transB: false, m: dout, n: din, k: n, alpha: 1, a: dy.data, lda: dout,
                           b: xv.data, ldb: din, beta: acc ? 1 : 0, c: dw.data, ldc: din)
            }
            if let bs, let (db, acc) = try self.gradTarget(bs) {
                if !acc { db.fill(0) }
                for i in 0..<n { let r = dy.data + i * dout; for j in 0..<dout { db.data[j] += r[j] } }
            }
        }
    }

    /// y = a·b (a (N, K), b (K, M)) or a·bᵀ with `transposeB` (b (M, K)).
    public func matmul(_ a: Var, _ b: Var, transposeB: Bool = false) throws -> Var {
        guard a.shape.count == 2, b.shape.count == 2 else {
            throw ContrastiveError.shape("matmul: needs matrices, got \(a.shape) and \(b.shape)")
        }
        let n = a.shape[0], k = a.shape[1]
        let (kb, m) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard k == kb else { throw ContrastiveError.shape("matmul: \(a.shape) × \(b.shape)\(transposeB ? "ᵀ" : "")") }
        let y = try output([n, m])
        BLAS.sgemm(transA: false, transB: transposeB, m: n, n: m, k: k, alpha: 1, a: a.value.data, lda: k,
                   b: b.value.data, ldb: transposeB ? k : m, beta: 0, c: y.data, ldc: m)
        let av = a.value, bv = b.value, asl = a.slot, bsl = b.slot
        return record(y, [a, b]) { [unowned self] dy in
            if let (da, acc) = try self.gradTarget(asl) {
                // da = dy · bᵀ (or dy · b when b was transposed)
                BLAS.sgemm(transA: false, transB: !transposeB, m: n, n: k, k: m, alpha: 1, a: dy.data, lda: m,
                           b: bv.data, ldb: transposeB ? k : m, beta: acc ? 1 : 0, c: da.data, ldc: k)
            }
            if let (db, acc) = try self.gradTarget(bsl) {
                if transposeB { // db (M, K) = dyᵀ · a
                    BLAS.sgemm(transA: true, transB: false, m: m, n: k, k: n, alpha: 1, a: dy.data, lda: m,
                               b: av.data, ldb: k, beta: acc ? 1 : 0, c: db.data, ldc: k)
                } else {        // db (K, M) = aᵀ · dy
                    BLAS.sgemm(transA: true, transB: false, m: k, n: m, k: n, alpha: 1, a: av.data, lda: k,
                               b: dy.data, ldb: m, beta: acc ? 1 : 0, c: db.data, ldc: m)
                }
            }
        }
    }

    /// Similarity matrix of embeddings: S[i, j] = a[i]·b[j] (a (N, D), b (M, D) → (N, M)).
    /// With L2-normalised rows this is the cosine-similarity matrix.
    public func similarity(_ a: Var, _ b: Var) throws -> Var { try matmul(a, b, transposeB: true) }

    // MARK: convolution and normalisation

    /// 2-D convolution: x (N, Cin, H, W), w (Cout, Cin, kh, kw), b (Cout) or nil.
    public func conv2d(_ x: Var, _ w: Var, _ b: Var? = nil, stride: Int = 1, padding: Int = 0) throws -> Var {
        try conv2d(x, w, b, stride: (stride, stride), padding: (padding, padding))
    }

    public func conv2d(_ x: Var, _ w: Var, _ b: Var?, stride: (Int, Int), padding: (Int, Int)) throws -> Var {
        guard x.shape.count == 4, w.shape.count == 4, x.shape[1] == w.shape[1] else {
            throw ContrastiveError.shape("conv2d: input \(x.shape) and weight \(w.shape) (expected (N, Cin, H, W) and (Cout, Cin, kh, kw))")
        }
        let g = try ConvGeometry(n: x.shape[0], cin: x.shape[1], h: x.shape[2], w: x.shape[3], cout: w.shape[0],
                                 kh: w.shape[2], kw: w.shape[3], sh: stride.0, sw: stride.1, ph: padding.0, pw: padding.1)
        if let b, b.value.count != g.cout { throw ContrastiveError.shape("conv2d: bias \(b.shape) for \(g.cout) channels") }
        let y = try output([g.n, g.cout, g.ho, g.wo])
        try Conv2D.forward(g, x: x.value.data, w: w.value.data, bias: b?.value.data, y: y.data, workspace: workspace, columns: convColumns)
        let inputs = b.map { [x, w, $0] } ?? [x, w]
        let ws = w.slot, bs = b?.slot, xs = x.slot
        let wv = w.value
        // x is needed only for the weight gradient.
        let xsaved: SavedValue? = ws.requiresGrad ? save(x) : nil
        return record(y, inputs) { [unowned self] dy in
            let tx = try self.gradTarget(xs), tw = try self.gradTarget(ws)
            let tb = try bs.flatMap { try self.gradTarget($0) }
            let xv = try xsaved?.get()
            defer { withExtendedLifetime(xv) {} }
            let xp = xv?.data ?? wv.data   // unused when no weight gradient is needed
            if let tw, let tb, tw.1 != tb.1 {
                try Conv2D.backward(g, x: xp, w: wv.data, dy: dy.data, dx: tx?.0.data, accumulateX: tx?.1 ?? true,
                                    dw: tw.0.data, db: nil, accumulateW: tw.1, workspace: self.workspace, columns: self.convColumns)
                try Conv2D.backward(g, x: xp, w: wv.data, dy: dy.data, dx: nil, accumulateX: true,
                                    dw: nil, db: tb.0.data, accumulateW: tb.1, workspace: self.workspace, columns: self.convColumns)
            } else {
                try Conv2D.backward(g, x: xp, w: wv.data, dy: dy.data, dx: tx?.0.data, accumulateX: tx?.1 ?? true,
                                    dw: tw?.0.data, db: tb?.0.data, accumulateW: tw?.1 ?? tb?.1 ?? true,
                                    workspace: self.workspace, columns: self.convColumns)
            }
        }
    }

    /// Batch normalisation of x (N, C, H, W) or (N, C) with affine γ, β (C), optionally fused
    /// with a following ReLU (`relu: true`: y = max(BN(x), 0) — one tensor instead of two, and
    /// the backward step recomputes the mask from its own output).
    /// Training: batch statistics, running statistics updated in place (PyTorch's momentum
    /// convention, unbiased running variance). Eval: the running statistics.
    ///
    /// With `residual` (training with `relu` only): y = max(BN(x) + residual, 0) in one pass —
    /// a ResNet block's BN → add → ReLU without the intermediate BN output; backward writes
    /// the residual's gradient (dy where y > 0) and runs BN backward with the same mask.
    public func batchNorm(_ x: Var, gamma: Var, beta: Var, runningMean: Tensor?, runningVar: Tensor?,
                          training: Bool, momentum: Float = 0.1, eps: Float = 1e-5, relu: Bool = false,
                          residual: Var? = nil) throws -> Var {
        if let residual {
            guard training, relu else { throw ContrastiveError.invalid("batch_norm: a residual input needs training mode and the fused ReLU") }
            guard residual.shape == x.shape else { throw ContrastiveError.shape("batch_norm: residual \(residual.shape) for input \(x.shape)") }
        }
        guard x.shape.count == 4 || x.shape.count == 2 else {
            throw ContrastiveError.shape("batch_norm: input must be (N, C, H, W) or (N, C), got \(x.shape)")
        }
        let n = x.shape[0], c = x.shape[1], s = x.shape.count == 4 ? x.shape[2] * x.shape[3] : 1
        guard gamma.value.count == c, beta.value.count == c else {
            throw ContrastiveError.shape("batch_norm: γ \(gamma.shape), β \(beta.shape) for \(c) channels")
        }
        guard eps > 0, eps.isFinite, momentum >= 0, momentum <= 1 else {
            throw ContrastiveError.invalid("batch_norm: eps \(eps) must be > 0, momentum \(momentum) in [0, 1]")
        }
        for t in [runningMean, runningVar] {
            if let t, t.count != c { throw ContrastiveError.shape("batch_norm: running statistics \(t.shape) for \(c) channels") }
        }
        let y = try output(x.shape)
        let xv = x.value, gv = gamma.value, xs = x.slot, gs = gamma.slot, bs = beta.slot
        /// dy masked by the ReLU (y > 0), in a temporary, when fused.
        let yMask: Tensor? = relu ? y : nil
        // (Closures, not nested functions, so the tape holds the graph unowned — no cycle.)
        let ws = workspace
        let masked = { (dy: Tensor) throws -> Tensor in
            guard let yMask else { return dy }
            let m = try ws.tensor(dy.shape)
            Pointwise.reluBackward(y: yMask.data, dy: dy.data, dx: m.data, m.count, accumulate: false)
            return m
        }
        let targets = { [unowned self] () throws -> (x: (Tensor, Bool)?, g: (Tensor, Bool)?, b: (Tensor, Bool)?, accP: Bool) in
            let tx = try self.gradTarget(xs), tg = try self.gradTarget(gs), tb = try self.gradTarget(bs)
            // γ and β share one accumulate flag in the kernel: if they differ, zero the fresh one.
            if let tg, let tb, tg.1 != tb.1 {
                if !tg.1 { tg.0.fill(0) }
                if !tb.1 { tb.0.fill(0) }
                return (tx, tg, tb, true)
            }
            return (tx, tg, tb, tg?.1 ?? tb?.1 ?? true)
        }
        if training {
            guard n * s > 1 else {
                throw ContrastiveError.invalid("batch_norm: training needs more than one value per channel, got input \(x.shape)")
            }
            let mean = try workspace.tensor([c]), inv = try workspace.tensor([c])
            BatchNorm.forwardTrain(n: n, c: c, s: s, x: xv.data, gamma: gv.data, beta: beta.value.data,
                                   eps: eps, momentum: momentum, runningMean: runningMean?.data, runningVar: runningVar?.data,
                                   y: y.data, saveMean: mean.data, saveInvStd: inv.data, relu: relu,
                                   residual: residual.map { UnsafePointer($0.value.data) })
            let rs = residual?.slot
            let inputs = [x, gamma, beta] + (residual.map { [$0] } ?? [])
            if relu, residual == nil, rematerializeBNReLU, recording(inputs) {
                // BN → ReLU: backward rebuilds y from x and the statistics rather than keeping
                // it (consumers hold the recipe; see `Rematerialized`).
                let bv = beta.value
                let recipe = Rematerialized { [unowned self] in
                    let t = try self.workspace.tensor(xv.shape)
                    BatchNorm.applyTrain(n: n, c: c, s: s, x: xv.data, gamma: gv.data, beta: bv.data,
                                         mean: mean.data, invStd: inv.data, y: t.data, relu: true)
                    return t
                }
                let out = record(y, inputs) { dy in
                    let mask = try recipe.value()
                    defer { recipe.drop() }
                    let t = try targets()
                    BatchNorm.backwardTrain(n: n, c: c, s: s, x: xv.data, dy: dy.data, gamma: gv.data,
                                            mean: mean.data, invStd: inv.data, dx: t.x?.0.data, accumulateX: t.x?.1 ?? true,
                                            dgamma: t.g?.0.data, dbeta: t.b?.0.data, accumulateParams: t.accP,
                                            mask: mask.data)
                }
                out.rematerialize = recipe
                return out
            }
            return record(y, inputs) { [unowned self] dy in
                if let rs, let (d, acc) = try self.gradTarget(rs) {
                    Pointwise.reluBackward(y: y.data, dy: dy.data, dx: d.data, y.count, accumulate: acc)
                }
                let t = try targets()
                // The ReLU mask is applied inside the kernel (no masked copy of dy).
                BatchNorm.backwardTrain(n: n, c: c, s: s, x: xv.data, dy: dy.data, gamma: gv.data,
                                        mean: mean.data, invStd: inv.data, dx: t.x?.0.data, accumulateX: t.x?.1 ?? true,
                                        dgamma: t.g?.0.data, dbeta: t.b?.0.data, accumulateParams: t.accP,
                                        mask: yMask?.data)
            }
        }
        guard let rm = runningMean, let rv = runningVar else {
            throw ContrastiveError.invalid("batch_norm: eval mode needs running statistics")
        }
        BatchNorm.forwardEval(n: n, c: c, s: s, x: xv.data, gamma: gv.data, beta: beta.value.data,
                              runningMean: rm.data, runningVar: rv.data, eps: eps, y: y.data, relu: relu)
        return record(y, [x, gamma, beta]) { dy in
            let t = try targets()
            let d = try masked(dy)
            BatchNorm.backwardEval(n: n, c: c, s: s, x: xv.data, dy: d.data, gamma: gv.data,
                                   runningMean: rm.data, runningVar: rv.data, eps: eps, dx: t.x?.0.data, accumulateX: t.x?.1 ?? true,
                                   dgamma: t.g?.0.data, dbeta: t.b?.0.data, accumulateParams: t.accP)
        }
    }

    /// Inference conv → BN (running statistics) → (+ residual) → (ReLU) as one convolution with
    /// the BN folded in: per output channel s = γ/√(var + ε), w' = w·s, b' = β − mean·s (+ the
    /// conv bias·s); the residual add and the ReLU run in the convolution's epilogue. The same
    /// function as `conv2d` → `batchNorm(training: false)` → `addReLU`/ReLU up to rounding;
    /// records nothing, so it may only run with gradients off (`withoutGrad`).
    public func convBNInference(_ x: Var, weight: Tensor, convBias: Tensor?, stride: Int, padding: Int,
                                gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor, eps: Float,
                                residual: Var?, relu: Bool) throws -> Var {
        guard !gradEnabled else { throw ContrastiveError(.internal, "conv_bn_inference called with gradients enabled") }
        guard x.shape.count == 4, weight.shape.count == 4, x.shape[1] == weight.shape[1] else {
            throw ContrastiveError.shape("conv2d: input \(x.shape) and weight \(weight.shape) (expected (N, Cin, H, W) and (Cout, Cin, kh, kw))")
        }
        let g = try ConvGeometry(n: x.shape[0], cin: x.shape[1], h: x.shape[2], w: x.shape[3], cout: weight.shape[0],
                                 kh: weight.shape[2], kw: weight.shape[3], sh: stride, sw: stride, ph: padding, pw: padding)
        let c = g.cout
        guard gamma.count == c, beta.count == c, runningMean.count == c, runningVar.count == c, convBias.map({ $0.count == c }) ?? true else {
            throw ContrastiveError.shape("conv_bn: batch-norm parameters for \(c) channels expected")
        }
        guard eps > 0, eps.isFinite else { throw ContrastiveError.invalid("batch_norm: eps \(eps) must be > 0") }
        if let residual, residual.shape != [g.n, c, g.ho, g.wo] {
            throw ContrastiveError.shape("conv_bn: residual \(residual.shape) for output \([g.n, c, g.ho, g.wo])")
        }
        let folded = try workspace.scratch(Float.self, count: c * g.k + c)
        let wf = folded.pointer, bf = folded.pointer + c * g.k
        let w = weight.data, gm = gamma.data, bt = beta.data, mu = runningMean.data, vr = runningVar.data, cb = convBias?.data
        parallelFor(c, grain: 8) { r in
            for co in r {
                let sc = gm[co] / (vr[co] + eps).squareRoot()
                bf[co] = bt[co] - mu[co] * sc + (cb.map { $0[co] * sc } ?? 0)
                let src = w + co * g.k, dst = wf + co * g.k
                for i in 0..<g.k { dst[i] = src[i] * sc }
            }
        }
        let y = try output([g.n, c, g.ho, g.wo])
        try Conv2D.forward(g, x: x.value.data, w: wf, bias: bf, add: residual.map { UnsafePointer($0.value.data) }, relu: relu,
                           y: y.data, workspace: workspace, columns: convColumns)
        withExtendedLifetime(folded) {}
        return constant(y)
    }

    // MARK: pooling

    /// Max pooling with a k×k window (padding counts as −∞).
    public func maxPool2d(_ x: Var, kernel: Int, stride: Int, padding: Int = 0) throws -> Var {
        guard x.shape.count == 4 else { throw ContrastiveError.shape("max_pool2d: input must be (N, C, H, W), got \(x.shape)") }
        let g = try MaxPool2D.Geometry(n: x.shape[0], c: x.shape[1], h: x.shape[2], w: x.shape[3], k: kernel, stride: stride, pad: padding)
        let y = try output([g.n, g.c, g.ho, g.wo])
        let idx = try workspace.scratch(Int32.self, count: y.count)
        MaxPool2D.forward(g, x: x.value.data, y: y.data, argmax: idx.pointer)
        let xs = x.slot
        return record(y, [x]) { [unowned self] dy in
            if let (dx, acc) = try self.gradTarget(xs) { MaxPool2D.backward(g, dy: dy.data, argmax: idx.pointer, dx: dx.data, accumulate: acc) }
            withExtendedLifetime(idx) {}
        }
    }

    /// Mean over H×W: (N, C, H, W) → (N, C).
    public func globalAvgPool(_ x: Var) throws -> Var {
        guard x.shape.count == 4 else { throw ContrastiveError.shape("global_avg_pool: input must be (N, C, H, W), got \(x.shape)") }
        let planes = x.shape[0] * x.shape[1], size = x.shape[2] * x.shape[3]
        let y = try output([x.shape[0], x.shape[1]])
        GlobalAvgPool.forward(planes: planes, size: size, x: x.value.data, y: y.data)
        let xs = x.slot
        return record(y, [x]) { [unowned self] dy in
            if let (dx, acc) = try self.gradTarget(xs) { GlobalAvgPool.backward(planes: planes, size: size, dy: dy.data, dx: dx.data, accumulate: acc) }
        }
    }

    // MARK: elementwise

    public func relu(_ x: Var) throws -> Var {
        let y = try output(x.shape)
        Pointwise.relu(x.value.data, y.data, y.count)
        let xs = x.slot
        return record(y, [x]) { [unowned self] dy in
            if let (dx, acc) = try self.gradTarget(xs) { Pointwise.reluBackward(y: y.data, dy: dy.data, dx: dx.data, y.count, accumulate: acc) }
        }
    }

    public func add(_ a: Var, _ b: Var) throws -> Var {
        guard a.shape == b.shape else { throw ContrastiveError.shape("add: \(a.shape) and \(b.shape)") }
        let y = try output(a.shape)
        Pointwise.add(a.value.data, b.value.data, y.data, y.count)
        let slots = [a.slot, b.slot]
        return record(y, [a, b]) { [unowned self] dy in
            for s in slots { if let (d, acc) = try self.gradTarget(s) { Pointwise.axpy(1, dy.data, d.data, d.count, accumulate: acc) } }
        }
    }

    /// y = max(a + b, 0) — the residual join of a ResNet block, fused.
    public func addReLU(_ a: Var, _ b: Var) throws -> Var {
        guard a.shape == b.shape else { throw ContrastiveError.shape("add_relu: \(a.shape) and \(b.shape)") }
        let y = try output(a.shape)
        let n = y.count
        Pointwise.addReLU(a.value.data, b.value.data, y.data, n)
        let slots = [a.slot, b.slot]
        // The closure holds y itself (its mask), not a pointer into it: once the ops that read y
        // forward have run backward, y would otherwise return to the workspace and be reused.
        return record(y, [a, b]) { [unowned self] dy in
            for t in try slots.map({ try self.gradTarget($0) }) {
                if let (d, acc) = t { Pointwise.reluBackward(y: y.data, dy: dy.data, dx: d.data, n, accumulate: acc) }
            }
        }
    }

    public func mul(_ a: Var, _ b: Var) throws -> Var {
        guard a.shape == b.shape else { throw ContrastiveError.shape("mul: \(a.shape) and \(b.shape)") }
        let y = try output(a.shape)
        Pointwise.mul(a.value.data, b.value.data, y.data, y.count)
        let av = a.value, bv = b.value, asl = a.slot, bsl = b.slot
        return record(y, [a, b]) { [unowned self] dy in
            if let (d, acc) = try self.gradTarget(asl) { Pointwise.mulAcc(dy.data, bv.data, d.data, d.count, accumulate: acc) }
            if let (d, acc) = try self.gradTarget(bsl) { Pointwise.mulAcc(dy.data, av.data, d.data, d.count, accumulate: acc) }
        }
    }

    /// y = s·x
    public func scale(_ x: Var, _ s: Float) throws -> Var {
        guard s.isFinite else { throw ContrastiveError.invalid("scale: factor \(s) is not finite") }
        let y = try output(x.shape)
        Pointwise.scale(x.value.data, s, y.data, y.count)
        let xs = x.slot
        return record(y, [x]) { [unowned self] dy in
            if let (d, acc) = try self.gradTarget(xs) { Pointwise.axpy(s, dy.data, d.data, d.count, accumulate: acc) }
        }
    }

    // MARK: shapes

    /// Same values, new shape (element count unchanged).
    public func reshape(_ x: Var, _ shape: [Int]) throws -> Var {
        let y = try x.value.reshaped(shape)
        let xs = x.slot
        return record(y, [x]) { [unowned self] dy in
            if let (d, acc) = try self.gradTarget(xs) { Vec.add(dy.data, into: d.data, d.count, accumulate: acc) }
        }
    }

    /// (N, …) → (N, product of the rest).
    public func flatten(_ x: Var) throws -> Var {
        let n = x.shape.first ?? 1
        return try reshape(x, [n, n == 0 ? 0 : x.value.count / n])
    }

    /// Concatenate along the batch (first) dimension; the other dimensions must match.
    public func concat(_ xs: [Var]) throws -> Var {
        guard let first = xs.first else { throw ContrastiveError.invalid("concat: no inputs") }
        let inner = Array(first.shape.dropFirst())
        var rows = 0
        for x in xs {
            guard Array(x.shape.dropFirst()) == inner, !x.shape.isEmpty else {
                throw ContrastiveError.shape("concat: \(x.shape) does not match \(first.shape) beyond the batch dimension")
            }
            rows += x.shape[0]
        }
        let y = try output([rows] + inner)
        var off = 0
        for x in xs { (y.data + off).update(from: x.value.data, count: x.value.count); off += x.value.count }
        let parts = xs.map { ($0.slot, $0.value.count) }
        return record(y, xs) { [unowned self] dy in
            var o = 0
            for (s, count) in parts {
                if let (d, acc) = try self.gradTarget(s) { Vec.add(dy.data + o, into: d.data, count, accumulate: acc) }
                o += count
            }
        }
    }

    /// Split along the batch dimension into pieces of the given sizes (summing to N).
    public func split(_ x: Var, sizes: [Int]) throws -> [Var] {
        guard let n = x.shape.first, sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == n else {
            throw ContrastiveError.shape("split: sizes \(sizes) do not add up to the batch of \(x.shape)")
        }
        let inner = n == 0 ? 0 : x.value.count / n
        var out: [Var] = []
        var row = 0
        let xs = x.slot
        for s in sizes {
            let y = try output([s] + x.shape.dropFirst())
            let off = row * inner
            y.data.update(from: x.value.data + off, count: y.count)
            out.append(record(y, [x]) { [unowned self] dy in
                if let (d, acc) = try self.gradTarget(xs) {
                    if !acc { d.fill(0) }   // the other pieces add into the rest later
                    Vec.add(dy.data, into: d.data + off, dy.count, accumulate: true)
                }
            })
            row += s
        }
        return out
    }

    // MARK: rows

    /// Rows scaled to unit L2 norm: x / max(‖x‖, ε), as `F.normalize(x, dim=1, eps=1e-12)`.
    public func l2Normalize(_ x: Var, eps: Float = 1e-12) throws -> Var {
        guard x.shape.count == 2 else { throw ContrastiveError.shape("l2_normalize: input must be (N, D), got \(x.shape)") }
        guard eps > 0 else { throw ContrastiveError.invalid("l2_normalize: eps must be > 0") }
        let n = x.shape[0], d = x.shape[1]
        let y = try output(x.shape), norms = try workspace.tensor([n])
        Rows.l2Normalize(n: n, d: d, x: x.value.data, eps: eps, y: y.data, norms: norms.data)
        let xs = x.slot
        return record(y, [x]) { [unowned self] dy in
            if let (dx, acc) = try self.gradTarget(xs) {
                Rows.l2NormalizeBackward(n: n, d: d, y: y.data, norms: norms.data, eps: eps, dy: dy.data, dx: dx.data, accumulate: acc)
            }
        }
    }

    /// log-softmax over the last dimension of (N, C).
    public func logSoftmax(_ x: Var) throws -> Var {
        guard x.shape.count == 2 else { throw ContrastiveError.shape("log_softmax: input must be (N, C), got \(x.shape)") }
        let n = x.shape[0], d = x.shape[1]
        let y = try output(x.shape)
        Rows.logSoftmax(n: n, d: d, x: x.value.data, y: y.data)
        let xs = x.slot
        return record(y, [x]) { [unowned self] dy in
            if let (dx, acc) = try self.gradTarget(xs) { Rows.logSoftmaxBackward(n: n, d: d, y: y.data, dy: dy.data, dx: dx.data, accumulate: acc) }
        }
    }

    /// Mean cross-entropy of logits (N, C) against integer targets in [0, C) — fused log-softmax + NLL.
    public func crossEntropy(_ logits: Var, targets: [Int32]) throws -> Var {
        guard logits.shape.count == 2 else { throw ContrastiveError.shape("cross_entropy: logits must be (N, C), got \(logits.shape)") }
        let n = logits.shape[0], d = logits.shape[1]
        guard targets.count == n else { throw ContrastiveError.shape("cross_entropy: \(targets.count) targets for \(n) rows") }
        guard n > 0 else { throw ContrastiveError.invalid("cross_entropy: empty batch") }
        for (i, t) in targets.enumerated() where t < 0 || Int(t) >= d {
            throw ContrastiveError.invalid("cross_entropy: target \(t) of row \(i) outside [0, \(d))")
        }
        let tgt = try workspace.scratch(Int32.self, count: n)
        for i in 0..<n { tgt.pointer[i] = targets[i] }
        let rowLoss = try workspace.tensor([n])
        let y = try output([1])
        y.data[0] = Rows.crossEntropy(n: n, d: d, x: logits.value.data, targets: tgt.pointer, rowLoss: rowLoss.data)
        let lv = logits.value, ls = logits.slot
        return record(y, [logits]) { [unowned self] dy in
            if let (dx, acc) = try self.gradTarget(ls) {
                Rows.crossEntropyBackward(n: n, d: d, x: lv.data, targets: tgt.pointer, g: dy.data[0], dx: dx.data, accumulate: acc)
            }
            withExtendedLifetime(tgt) {}
        }
    }

    // MARK: reductions

    /// Σ of all elements → shape [1].
    public func sum(_ x: Var) throws -> Var {
        let y = try output([1])
        y.data[0] = Float(Pointwise.sum(x.value.data, x.value.count))
        let xs = x.slot
        return record(y, [x]) { [unowned self] dy in
            if let (d, acc) = try self.gradTarget(xs) {
                let g = dy.data[0]
                if acc { for i in 0..<d.count { d.data[i] += g } } else { d.fill(g) }
            }
        }
    }

    /// Mean of all elements → shape [1].
    public func mean(_ x: Var) throws -> Var {
        guard x.value.count > 0 else { throw ContrastiveError.invalid("mean: empty tensor") }
        return try scale(try sum(x), 1 / Float(x.value.count))
    }

    /// Mean squared error mean((a − b)²) → shape [1].
    public func mse(_ a: Var, _ b: Var) throws -> Var {
        guard a.shape == b.shape else { throw ContrastiveError.shape("mse: \(a.shape) and \(b.shape)") }
        guard a.value.count > 0 else { throw ContrastiveError.invalid("mse: empty tensors") }
        let n = a.value.count
        let diff = try workspace.tensor(a.shape)
        for i in 0..<n { diff.data[i] = a.value.data[i] - b.value.data[i] }
        let y = try output([1])
        var s = 0.0
        var i = 0
        while i < n { let e = min(i + 4096, n); s += Double(Vec.dot(diff.data + i, diff.data + i, e - i)); i = e }
        y.data[0] = Float(s / Double(n))
        let asl = a.slot, bsl = b.slot
        return record(y, [a, b]) { [unowned self] dy in
            let k = 2 * dy.data[0] / Float(n)
            if let (d, acc) = try self.gradTarget(asl) { Pointwise.axpy(k, diff.data, d.data, n, accumulate: acc) }
            if let (d, acc) = try self.gradTarget(bsl) { Pointwise.axpy(-k, diff.data, d.data, n, accumulate: acc) }
        }
    }
}
