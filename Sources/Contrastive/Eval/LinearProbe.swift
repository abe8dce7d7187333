#if canImport(Glibc)
import Glibc
#endif

/// Linear probe: multinomial logistic regression on frozen features (the linear evaluation
/// protocol of self-supervised learning).
///
/// Features are standardised with the training split's per-column mean and standard deviation
/// (population std, as scikit-learn's StandardScaler; a constant column keeps scale 1), and the
/// same transform is applied to the test split. With logits z = W·x̂ + b (W: C × d, b: C) the
/// objective is
///
///     L(W, b) = (1/n) Σ_i cross_entropy(z_i, y_i) + (λ/2) ‖W‖²       (the bias is not penalised)
///
/// — scikit-learn's `LogisticRegression(multinomial, C)` objective divided by C·n, i.e.
/// λ = 1 / (C · n_train). Two solvers:
/// - `.lbfgs` (default): full-batch L-BFGS (history 10, backtracking Armijo line search),
///   deterministic; stops when max |∇L| ≤ tolerance, when a line search can no longer decrease
///   L, or after `maxIterations`.
/// - `.sgd`: mini-batch SGD with momentum (heavy ball, v ← μv + g, θ ← θ − η_t v), a cosine
///   learning-rate schedule over all steps (η_t = η·½(1 + cos(π t / T))), the same L2 term as
///   weight decay (on W only), and a seeded shuffle per epoch (`CounterRNG(seed, epoch)`).
/// Products use sgemm; for a fixed seed and thread count results are bit-identical.
public enum LinearProbe {
    /// Optimiser of the probe.
    public enum Solver: Int32, Sendable { case lbfgs = 0, sgd = 1 }

    /// Probe settings (defaults in parentheses).
    public struct Options: Sendable {
        /// Optimiser (`.lbfgs`).
        public var solver: Solver = .lbfgs
        /// λ of the L2 penalty (1e-4); ≥ 0.
        public var l2: Double = 1e-4
        /// Standardise the features with the training split's statistics (true).
        public var standardize: Bool = true
        /// L-BFGS: most iterations (100, scikit-learn's `max_iter`).
        public var maxIterations: Int = 100
        /// L-BFGS: stop when max |∇L| ≤ tolerance (1e-4, scikit-learn's `tol` on the same
        /// mean-loss objective).
        public var tolerance: Double = 1e-4
        /// SGD: passes over the training split (100).
        public var epochs: Int = 100
        /// SGD: peak learning rate η (0.1).
        public var learningRate: Double = 0.1
        /// SGD: momentum μ in [0, 1) (0.9).
        public var momentum: Double = 0.9
        /// SGD: rows per mini-batch (256; the last batch of an epoch may be smaller).
        public var batchSize: Int = 256
        /// SGD: shuffle seed (0).
        public var seed: UInt64 = 0
        public init() {}
    }

    /// Accuracies (fractions in [0, 1]) and the final objective.
    public struct Result: Sendable, Equatable {
        /// Test top-1 accuracy.
        public var top1: Double
        /// Test top-5 accuracy (top-min(5, C)).
        public var top5: Double
        /// Top-1 accuracy on the training split.
        public var trainTop1: Double
        /// L(W, b) on the training split at the end.
        public var loss: Double
        /// L-BFGS iterations or SGD steps run.
        public var iterations: Int
    }

    /// Most parameters (num_classes × (dim + 1)) a probe accepts: the L-BFGS history holds 20
    /// Double copies of them (≈ 2.7 GB at the limit).
    public static let maxParameters = 1 << 24

    /// Train on (train, trainLabels) and evaluate on (test, testLabels): nTrain × dim and
    /// nTest × dim features, labels in 0..<numClasses, numClasses × (dim + 1) ≤ `maxParameters`. `weights` (numClasses × dim) and `bias`
    /// (numClasses), if given, receive the classifier for the *raw* features (standardisation
    /// folded in: logits = x·Wᵀ + b), written only on success. Throws INVALID_ARGUMENT (sizes,
    /// labels, options), NUMERIC (NaN/Inf feature, or a diverging SGD run), OUT_OF_MEMORY.
    public static func run(train: UnsafePointer<Float>, trainLabels: UnsafePointer<Int32>, trainCount n: Int,
                           test: UnsafePointer<Float>, testLabels: UnsafePointer<Int32>, testCount nTest: Int,
                           dim d: Int, numClasses c: Int, options o: Options = Options(),
                           weights: UnsafeMutablePointer<Float>? = nil, bias: UnsafeMutablePointer<Float>? = nil) throws -> Result {
        try EvalCheck.positive(c, "num_classes")
        let trainCount = try EvalCheck.matrix(rows: n, dim: d, "train")
        let testCount = try EvalCheck.matrix(rows: nTest, dim: d, "test")
        let cd = try checkedCount([c, d], what: "weights")
        guard c * (d + 1) <= maxParameters else {
            throw ContrastiveError(.outOfMemory, "num_classes × (dim + 1) = \(c * (d + 1)) parameters is more than the probe's limit of \(maxParameters)")
        }
        _ = try checkedCount([max(n, nTest), c], what: "logits")
        guard o.l2.isFinite, o.l2 >= 0 else { throw ContrastiveError.invalid("l2 \(o.l2) must be a finite number ≥ 0") }
        switch o.solver {
        case .lbfgs:
            guard o.maxIterations >= 1 else { throw ContrastiveError.invalid("max_iterations = \(o.maxIterations) must be ≥ 1") }
            guard o.tolerance.isFinite, o.tolerance >= 0 else { throw ContrastiveError.invalid("tolerance \(o.tolerance) must be a finite number ≥ 0") }
        case .sgd:
            guard o.epochs >= 1 else { throw ContrastiveError.invalid("epochs = \(o.epochs) must be ≥ 1") }
            guard o.batchSize >= 1 else { throw ContrastiveError.invalid("batch_size = \(o.batchSize) must be ≥ 1") }
            guard o.learningRate.isFinite, o.learningRate > 0 else { throw ContrastiveError.invalid("learning_rate \(o.learningRate) must be a positive finite number") }
            guard o.momentum.isFinite, o.momentum >= 0, o.momentum < 1 else { throw ContrastiveError.invalid("momentum \(o.momentum) must be in [0, 1)") }
        }
        try EvalCheck.labels(trainLabels, count: n, numClasses: c, "train_labels")
        try EvalCheck.labels(testLabels, count: nTest, numClasses: c, "test_labels")
        try EvalCheck.finite(train, count: trainCount, dim: d, "train")
        try EvalCheck.finite(test, count: testCount, dim: d, "test")

        // Standardisation statistics (Double, sequential: deterministic).
        var mean = [Double](repeating: 0, count: d), scale = [Double](repeating: 1, count: d)
        if o.standardize {
            var sq = [Double](repeating: 0, count: d)
            for i in 0..<n { let r = train + i * d; for j in 0..<d { mean[j] += Double(r[j]) } }
            for j in 0..<d { mean[j] /= Double(n) }
            for i in 0..<n { let r = train + i * d; for j in 0..<d { let e = Double(r[j]) - mean[j]; sq[j] += e * e } }
            for j in 0..<d { let s = (sq[j] / Double(n)).squareRoot(); scale[j] = s > 1e-12 * max(1, abs(mean[j])) ? s : 1 }
        }
        let xs = try Storage(count: trainCount)
        standardize(train, n: n, d: d, mean: mean, scale: scale, into: xs.base)

        let model = try Model(c: c, d: d)
        let iterations: Int
        switch o.solver {
        case .lbfgs: iterations = try lbfgs(xs.base, trainLabels, n: n, d: d, c: c, l2: o.l2, maxIterations: o.maxIterations, tolerance: o.tolerance, model: model)
        case .sgd: iterations = try sgd(xs.base, trainLabels, n: n, d: d, c: c, o: o, model: model)
        }
        model.syncFloat()
        let loss = try objective(xs.base, trainLabels, n: n, d: d, c: c, l2: o.l2, model: model, gradient: false)
        let trainTop1 = try accuracy(xs.base, trainLabels, n: n, d: d, c: c, model: model).0
        let xt = try Storage(count: testCount)
        standardize(test, n: nTest, d: d, mean: mean, scale: scale, into: xt.base)
        let (t1, t5) = try accuracy(xt.base, testLabels, n: nTest, d: d, c: c, model: model)

        if weights != nil || bias != nil {
            var wRaw = [Float](repeating: 0, count: cd), bRaw = [Float](repeating: 0, count: c)
            for k in 0..<c {
                var b = model.b[k]
                for j in 0..<d {
                    let w = model.w[k * d + j] / scale[j]
                    wRaw[k * d + j] = Float(w)
                    b -= w * mean[j]
                }
                bRaw[k] = Float(b)
            }
            if let weights { wRaw.withUnsafeBufferPointer { weights.update(from: $0.baseAddress!, count: cd) } }
            if let bias { bRaw.withUnsafeBufferPointer { bias.update(from: $0.baseAddress!, count: c) } }
        }
        return Result(top1: t1, top5: t5, trainTop1: trainTop1, loss: loss, iterations: iterations)
    }

    // MARK: - internals

    /// Parameters: W (c × d) and b (c) in Double (the optimiser's copy) and W in Float (sgemm's).
    final class Model {
        var w: [Double], b: [Double]
        let wf: Storage
        let c: Int, d: Int
        init(c: Int, d: Int) throws {
            self.c = c; self.d = d
            w = [Double](repeating: 0, count: c * d); b = [Double](repeating: 0, count: c)
            wf = try Storage(count: c * d)
        }
        func syncFloat() { for t in 0..<(c * d) { wf.base[t] = Float(w[t]) } }
    }

    static func standardize(_ x: UnsafePointer<Float>, n: Int, d: Int, mean: [Double], scale: [Double], into y: UnsafeMutablePointer<Float>) {
        let m = mean.map { Float($0) }, inv = scale.map { Float(1 / $0) }
        m.withUnsafeBufferPointer { mp in
            inv.withUnsafeBufferPointer { ip in
                let mb = mp.baseAddress!, ib = ip.baseAddress!
                parallelFor(n, grain: max(1, 8192 / d)) { rows in
                    for i in rows { let xr = x + i * d, yr = y + i * d; for j in 0..<d { yr[j] = (xr[j] - mb[j]) * ib[j] } }
                }
            }
        }
    }

    /// Logits (rows × c) = x·Wᵀ + b for `rows` rows of x.
    static func logits(_ x: UnsafePointer<Float>, rows: Int, d: Int, c: Int, model: Model, into z: UnsafeMutablePointer<Float>) {
        BLAS.sgemm(transA: false, transB: true, m: rows, n: c, k: d, alpha: 1, a: x, lda: d, b: model.wf.base, ldb: d, beta: 0, c: z, ldc: c)
        let bf = model.b.map { Float($0) }
        for i in 0..<rows { for k in 0..<c { z[i * c + k] += bf[k] } }
    }

    /// Mean cross-entropy of logits z (rows × c); with `grad`, z is overwritten by
    /// (softmax − onehot) · scale. Per-part Double sums added in part order.
    static func crossEntropy(_ z: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Int32>, rows: Int, c: Int, grad: Bool, scale: Float) -> Double {
        let parts = parallelParts(rows, grain: 512)
        var partial = [Double](repeating: 0, count: parts)
        partial.withUnsafeMutableBufferPointer { pb in
            let pp = pb.baseAddress!
            ThreadPool.shared.run(parts: parts) { p in
                var s = 0.0
                for i in partRange(p, of: parts, rows) {
                    let zr = z + i * c
                    var mx = zr[0]
                    for k in 1..<max(c, 1) { mx = max(mx, zr[k]) }
                    var se = 0.0
                    for k in 0..<c { se += exp(Double(zr[k] - mx)) }
                    let lse = Double(mx) + log(se)
                    let yi = Int(y[i])
                    s += lse - Double(zr[yi])
                    if grad {
                        for k in 0..<c { zr[k] = Float(exp(Double(zr[k]) - lse)) * scale }
                        zr[yi] -= scale
                    }
                }
                pp[p] = s
            }
        }
        return partial.reduce(0, +)
    }

    /// Classes up to which the full-batch objective uses the fused row kernel: OpenBLAS runs
    /// the skinny (n × d)·(d × c) products at ≈ 10 GFLOP/s per core (measured, c = 10), while one
    /// pass that forms each row's logits, softmax and gradient contribution while the row is in
    /// L1 reads X once (≈ 5× faster per L-BFGS iteration at 60000 × 784, c = 10).
    static let fusedMaxClasses = 32
    /// Rows accumulated in Float before being added to a part's Double gradient sums.
    static let fusedFlush = 256

    /// (x·w₀, x·w₁, x·w₂, x·w₃) for rows w_t = w + t·n: four independent FMA chains over one
    /// pass of x (a single dot product is bound by the FMA latency).
    @inline(__always)
    static func dot4(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ n: Int) -> SIMD4<Float> {
        var a0 = SIMD16<Float>(repeating: 0), a1 = a0, a2 = a0, a3 = a0
        let w1 = w + n, w2 = w + 2 * n, w3 = w + 3 * n
        var i = 0
        while i + 16 <= n {
            let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            a0.addProduct(xv, UnsafeRawPointer(w + i).loadUnaligned(as: SIMD16<Float>.self))
            a1.addProduct(xv, UnsafeRawPointer(w1 + i).loadUnaligned(as: SIMD16<Float>.self))
            a2.addProduct(xv, UnsafeRawPointer(w2 + i).loadUnaligned(as: SIMD16<Float>.self))
            a3.addProduct(xv, UnsafeRawPointer(w3 + i).loadUnaligned(as: SIMD16<Float>.self))
            i += 16
        }
        var r = SIMD4<Float>(a0.sum(), a1.sum(), a2.sum(), a3.sum())
        while i < n { let xi = x[i]; r += SIMD4(xi * w[i], xi * w1[i], xi * w2[i], xi * w3[i]); i += 1 }
        return r
    }

    /// y[0..<n] += a · x[0..<n]
    @inline(__always)
    static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let av = SIMD16<Float>(repeating: a)
        var i = 0
        while i + 16 <= n {
            var yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
            yv.addProduct(av, UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self))
            UnsafeMutableRawPointer(y + i).storeBytes(of: yv, as: SIMD16<Float>.self)
            i += 16
        }
        while i < n { y[i] += a * x[i]; i += 1 }
    }

    /// Fused full-batch pass (c ≤ fusedMaxClasses): Σ_i CE_i, and with `grad` also
    /// Σ_i (softmax_i − onehot_i) ⊗ [x_i, 1] into grad (c·d + c Doubles). Static parts, Double
    /// partial sums added in part order: deterministic for a fixed thread count.
    static func fusedPass(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Int32>, n: Int, d: Int, c: Int, model: Model,
                          grad: UnsafeMutablePointer<Double>?) throws -> Double {
        let parts = parallelParts(n, grain: 512)
        let width = c * d + c
        let accF = try EvalBuffer<Float>(parts * width, "probe gradient (float)")
        let accD = try EvalBuffer<Double>(grad == nil ? 1 : parts * width, "probe gradient", repeating: 0)
        let zb = try EvalBuffer<Double>(parts * c, "probe logits")
        var partial = [Double](repeating: 0, count: parts)
        let w = UnsafePointer(model.wf.base), b = model.b.map { Float($0) }
        let wantGrad = grad != nil
        partial.withUnsafeMutableBufferPointer { pb in
            b.withUnsafeBufferPointer { bp in
                let pp = pb.baseAddress!, bb = bp.baseAddress!
                ThreadPool.shared.run(parts: parts) { p in
                    let af = accF.base + p * width, ad = accD.base + (wantGrad ? p * width : 0), z = zb.base + p * c
                    af.update(repeating: 0, count: width)
                    var s = 0.0, pending = 0
                    for i in partRange(p, of: parts, n) {
                        let xr = x + i * d
                        var mx = -Double.infinity
                        var k0 = 0
                        while k0 + 4 <= c {
                            let v4 = dot4(xr, w + k0 * d, d)
                            for t in 0..<4 { z[k0 + t] = Double(v4[t] + bb[k0 + t]) }
                            k0 += 4
                        }
                        while k0 < c { z[k0] = Double(Vec.dot(xr, w + k0 * d, d) + bb[k0]); k0 += 1 }
                        for k in 0..<c { mx = max(mx, z[k]) }
                        var se = 0.0
                        for k in 0..<c { se += exp(z[k] - mx) }
                        let lse = mx + log(se), yi = Int(y[i])
                        s += lse - z[yi]
                        guard wantGrad else { continue }
                        for k in 0..<c {
                            let g = Float(exp(z[k] - lse)) - (k == yi ? 1 : 0)
                            axpy(g, xr, af + k * d, d)
                            af[c * d + k] += g
                        }
                        pending += 1
                        if pending == fusedFlush {
                            for t in 0..<width { ad[t] += Double(af[t]) }
                            af.update(repeating: 0, count: width)
                            pending = 0
                        }
                    }
                    if wantGrad && pending > 0 { for t in 0..<width { ad[t] += Double(af[t]) } }
                    pp[p] = s
                }
            }
        }
        if let grad {
            for t in 0..<width { grad[t] = accD.base[t] }
            for p in 1..<max(parts, 1) { for t in 0..<width { grad[t] += accD.base[p * width + t] } }
        }
        return partial.reduce(0, +)
    }

    /// L(W, b) on all n rows, and with `gradient` also (∇W, ∇b) into model-sized arrays.
    static func objective(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Int32>, n: Int, d: Int, c: Int, l2: Double, model: Model,
                          gradient: Bool, gw: UnsafeMutablePointer<Double>? = nil, gb: UnsafeMutablePointer<Double>? = nil) throws -> Double {
        if c <= fusedMaxClasses {
            var pen = 0.0
            for v in model.w { pen += v * v }
            guard gradient, let gw, let gb else {
                return try fusedPass(x, y, n: n, d: d, c: c, model: model, grad: nil) / Double(n) + 0.5 * l2 * pen
            }
            let width = c * d + c
            let g = try EvalBuffer<Double>(width, "probe gradient")
            let loss = try fusedPass(x, y, n: n, d: d, c: c, model: model, grad: g.base) / Double(n) + 0.5 * l2 * pen
            let invN = 1 / Double(n)
            for t in 0..<(c * d) { gw[t] = g.base[t] * invN + l2 * model.w[t] }
            for k in 0..<c { gb[k] = g.base[c * d + k] * invN }
            return loss
        }
        let z = try Storage(count: n * c)
        logits(x, rows: n, d: d, c: c, model: model, into: z.base)
        var loss = crossEntropy(z.base, y, rows: n, c: c, grad: gradient, scale: 1 / Float(n)) / Double(n)
        var pen = 0.0
        for v in model.w { pen += v * v }
        loss += 0.5 * l2 * pen
        if gradient, let gw, let gb {
            // ∇W (c × d) = Gᵀ · X, G = (softmax − onehot)/n (n × c)
            let g = try Storage(count: c * d)
            BLAS.sgemm(transA: true, transB: false, m: c, n: d, k: n, alpha: 1, a: z.base, lda: c, b: x, ldb: d, beta: 0, c: g.base, ldc: d)
            for t in 0..<(c * d) { gw[t] = Double(g.base[t]) + l2 * model.w[t] }
            for k in 0..<c { var s = 0.0; for i in 0..<n { s += Double(z.base[i * c + k]) }; gb[k] = s }
        }
        return loss
    }

    /// Full-batch L-BFGS; returns the iterations run.
    static func lbfgs(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Int32>, n: Int, d: Int, c: Int, l2: Double,
                      maxIterations: Int, tolerance: Double, model: Model) throws -> Int {
        let p = c * d + c, history = 10
        var theta = [Double](repeating: 0, count: p), g = [Double](repeating: 0, count: p)
        func load(_ t: [Double]) {
            for i in 0..<(c * d) { model.w[i] = t[i] }
            for k in 0..<c { model.b[k] = t[c * d + k] }
            model.syncFloat()
        }
        var evaluations = 0
        func eval(_ t: [Double], _ grad: inout [Double]) throws -> Double {
            evaluations += 1
            load(t)
            return try grad.withUnsafeMutableBufferPointer { gp in
                try objective(x, y, n: n, d: d, c: c, l2: l2, model: model, gradient: true, gw: gp.baseAddress!, gb: gp.baseAddress! + c * d)
            }
        }
        func dot(_ a: [Double], _ b: [Double]) -> Double { var s = 0.0; for i in 0..<a.count { s += a[i] * b[i] }; return s }
        var f = try eval(theta, &g)
        var sHist: [[Double]] = [], yHist: [[Double]] = [], rho: [Double] = []
        var it = 0
        while it < maxIterations {
            if (g.map { abs($0) }.max() ?? 0) <= tolerance { break }
            it += 1
            // Two-loop recursion: direction = −H·g.
            var q = g
            var alpha = [Double](repeating: 0, count: sHist.count)
            for i in stride(from: sHist.count - 1, through: 0, by: -1) {
                alpha[i] = rho[i] * dot(sHist[i], q)
                for t in 0..<p { q[t] -= alpha[i] * yHist[i][t] }
            }
            if let sl = sHist.last, let yl = yHist.last {
                let gamma = dot(sl, yl) / dot(yl, yl)
                for t in 0..<p { q[t] *= gamma }
            } else {
                let gn = dot(g, g).squareRoot()
                for t in 0..<p { q[t] /= max(gn, 1e-12) }
            }
            for i in 0..<sHist.count {
                let beta = rho[i] * dot(yHist[i], q)
                for t in 0..<p { q[t] += (alpha[i] - beta) * sHist[i][t] }
            }
            var dir = q.map { -$0 }
            var slope = dot(g, dir)
            if !(slope < 0) {   // not a descent direction: restart from steepest descent
                sHist.removeAll(); yHist.removeAll(); rho.removeAll()
                let gn = max(dot(g, g).squareRoot(), 1e-12)
                dir = g.map { -$0 / gn }
                slope = dot(g, dir)
            }
            // Backtracking Armijo line search from step 1.
            var step = 1.0, accepted = false
            var newTheta = theta, newG = g, newF = f
            for _ in 0..<40 {
                for t in 0..<p { newTheta[t] = theta[t] + step * dir[t] }
                newF = try eval(newTheta, &newG)
                if newF.isFinite && newF <= f + 1e-4 * step * slope { accepted = true; break }
                step *= 0.5
            }
            guard accepted else { load(theta); break }   // no more decrease at float precision
            var s = [Double](repeating: 0, count: p), yv = [Double](repeating: 0, count: p)
            for t in 0..<p { s[t] = newTheta[t] - theta[t]; yv[t] = newG[t] - g[t] }
            let sy = dot(s, yv)
            if sy > 1e-12 * dot(yv, yv) && sy > 0 {
                sHist.append(s); yHist.append(yv); rho.append(1 / sy)
                if sHist.count > history { sHist.removeFirst(); yHist.removeFirst(); rho.removeFirst() }
            }
            let decrease = f - newF
            theta = newTheta; g = newG; f = newF
            if decrease <= 1e-12 * max(abs(f), 1) { break }
        }
        load(theta)
        Log.debug("linear probe L-BFGS: \(it) iterations, \(evaluations) objective evaluations, loss \(f)")
        return it
    }

    /// Mini-batch SGD with momentum and a cosine schedule; returns the steps run.
    static func sgd(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Int32>, n: Int, d: Int, c: Int, o: Options, model: Model) throws -> Int {
        let bsz = min(o.batchSize, n)
        let stepsPerEpoch = (n + bsz - 1) / bsz
        let (total, ov) = stepsPerEpoch.multipliedReportingOverflow(by: o.epochs)
        guard !ov else { throw ContrastiveError.invalid("epochs × steps per epoch overflows") }
        let xb = try Storage(count: bsz * d), z = try Storage(count: bsz * c), g = try Storage(count: c * d)
        let yb = try EvalBuffer<Int32>(bsz, "batch labels")
        let perm = try EvalBuffer<Int>(n, "shuffle")
        var w = [Float](repeating: 0, count: c * d), b = [Float](repeating: 0, count: c)
        var vw = [Float](repeating: 0, count: c * d), vb = [Float](repeating: 0, count: c)
        let mu = Float(o.momentum), lam = Float(o.l2)
        var step = 0
        for epoch in 0..<o.epochs {
            for i in 0..<n { perm[i] = i }
            var rng = CounterRNG(seed: o.seed, stream: 0x5344_4750 &+ UInt64(epoch))
            for i in stride(from: n - 1, to: 0, by: -1) {
                let j = Int(rng.next() % UInt64(i + 1))
                let t = perm[i]; perm[i] = perm[j]; perm[j] = t
            }
            var start = 0
            while start < n {
                let rows = min(bsz, n - start)
                for r in 0..<rows {
                    let src = perm[start + r]
                    (xb.base + r * d).update(from: x + src * d, count: d)
                    yb[r] = y[src]
                }
                for t in 0..<(c * d) { model.wf.base[t] = w[t] }
                for k in 0..<c { model.b[k] = Double(b[k]) }
                logits(xb.base, rows: rows, d: d, c: c, model: model, into: z.base)
                _ = crossEntropy(z.base, yb.base, rows: rows, c: c, grad: true, scale: 1 / Float(rows))
                BLAS.sgemm(transA: true, transB: false, m: c, n: d, k: rows, alpha: 1, a: z.base, lda: c, b: xb.base, ldb: d, beta: 0, c: g.base, ldc: d)
                let lr = Float(o.learningRate * 0.5 * (1 + cos(Double.pi * Double(step) / Double(total))))
                for t in 0..<(c * d) {
                    vw[t] = mu * vw[t] + g.base[t] + lam * w[t]
                    w[t] -= lr * vw[t]
                }
                for k in 0..<c {
                    var s: Float = 0
                    for r in 0..<rows { s += z.base[r * c + k] }
                    vb[k] = mu * vb[k] + s
                    b[k] -= lr * vb[k]
                }
                step += 1
                start += rows
            }
            for t in 0..<(c * d) where !w[t].isFinite {
                throw ContrastiveError(.numeric, "SGD diverged in epoch \(epoch) (a weight is \(w[t])); lower learning_rate")
            }
        }
        for t in 0..<(c * d) { model.w[t] = Double(w[t]) }
        for k in 0..<c { model.b[k] = Double(b[k]) }
        return step
    }

    /// (top-1, top-min(5, c)) accuracy of the model on n rows of standardised x.
    static func accuracy(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Int32>, n: Int, d: Int, c: Int, model: Model) throws -> (Double, Double) {
        let z = try Storage(count: n * c)
        logits(x, rows: n, d: d, c: c, model: model, into: z.base)
        for t in 0..<(n * c) where !z.base[t].isFinite {
            throw ContrastiveError(.numeric, "a logit is \(z.base[t]); the probe diverged")
        }
        let acc = try TopK.accuracies(scores: z.base, labels: y, n: n, numClasses: c, ks: [1, 5])
        return (acc[0], acc[1])
    }
}
