import Foundation
import Testing
import Contrastive

/// One differentiable op under test: its engine form and a double-precision reference.
struct OpCase: CustomStringConvertible {
    let name: String
    let shapes: [[Int]]
    /// Engine op over leaves made from the inputs.
    let engine: (Graph, [Var]) throws -> Var
    /// The same function in Double (flat inputs → flat output).
    let reference: ([[Double]]) -> [Double]
    /// Input generator (default: standard normal).
    var inputs: ((inout SeededRNG) -> [[Double]])? = nil
    /// Inputs whose gradient is not checked (e.g. running statistics).
    var skipGrad: Set<Int> = []
    var description: String { name }
}

/// Central-difference gradient check in Double against the engine's float32 backward.
///
/// L(x) = Σ dy ⊙ f(x) with a fixed random dy. The numerical gradient uses the double
/// reference with h = 1e-5 (truncation error ~h² ≈ 1e-10, far below float32 round-off).
/// Tolerance |g − g_fd| ≤ 2e-4 + 2e-3·|g_fd|: the engine accumulates in float32 over at most a
/// few hundred terms of O(1) size, giving relative errors around 1e-5 — the bound leaves a
/// margin of ~100× while still catching any wrong term (which shows up at O(1)).
func gradCheck(_ op: OpCase, seed: UInt64 = 1, columns: Int = Conv2D.defaultColumns) throws {
    var rng = SeededRNG(seed)
    let xs: [[Double]] = op.inputs?(&rng) ?? op.shapes.map { rng.normals($0.reduce(1, *)) }
    let g = try Graph()
    g.convColumns = columns
    let leaves = try zip(xs, op.shapes).map { try g.leaf(Tensor(shape: $1, doubles: $0)) }
    let y = try op.engine(g, leaves)
    let yRef = op.reference(xs)
    expectClose(y.value.array, yRef, atol: 1e-4, rtol: 1e-4, "\(op.name) forward")
    let dy = rng.normals(y.value.count)
    let dyVar = g.constant(try Tensor(shape: y.shape, doubles: dy))
    let loss = try g.sum(try g.mul(y, dyVar))
    try g.backward(loss)

    func L(_ inputs: [[Double]]) -> Double {
        let out = op.reference(inputs)
        var s = 0.0
        for i in 0..<out.count { s += dy[i] * out[i] }
        return s
    }
    let h = 1e-5
    for (i, leaf) in leaves.enumerated() where !op.skipGrad.contains(i) {
        var numeric = [Double](repeating: 0, count: xs[i].count)
        var probe = xs
        for j in 0..<xs[i].count {
            probe[i][j] = xs[i][j] + h
            let lp = L(probe)
            probe[i][j] = xs[i][j] - h
            let lm = L(probe)
            probe[i][j] = xs[i][j]
            numeric[j] = (lp - lm) / (2 * h)
        }
        let analytic = leaf.grad?.array ?? [Float](repeating: 0, count: xs[i].count)
        expectClose(analytic, numeric, atol: 2e-4, rtol: 2e-3, "\(op.name) ∂/∂input\(i)")
    }
}

// MARK: - cases

func convCase(n: Int, cin: Int, h: Int, w: Int, cout: Int, k: Int, stride: Int, pad: Int, bias: Bool) -> OpCase {
    var shapes = [[n, cin, h, w], [cout, cin, k, k]]
    if bias { shapes.append([cout]) }
    return OpCase(
        name: "conv2d n\(n) \(cin)→\(cout) \(h)×\(w) k\(k) s\(stride) p\(pad)\(bias ? " +b" : "")",
        shapes: shapes,
        engine: { g, v in try g.conv2d(v[0], v[1], bias ? v[2] : nil, stride: stride, padding: pad) },
        reference: { x in
            let geo = try! ConvGeometry(n: n, cin: cin, h: h, w: w, cout: cout, kh: k, kw: k, sh: stride, sw: stride, ph: pad, pw: pad)
            return Conv2D.reference(geo, x: x[0], w: x[1], bias: bias ? x[2] : nil)
        })
}

let convCases: [OpCase] = [
    convCase(n: 2, cin: 3, h: 7, w: 7, cout: 4, k: 3, stride: 1, pad: 1, bias: true),
    convCase(n: 2, cin: 3, h: 8, w: 8, cout: 5, k: 3, stride: 2, pad: 1, bias: false),
    convCase(n: 3, cin: 2, h: 5, w: 6, cout: 3, k: 3, stride: 1, pad: 0, bias: true),   // odd, no padding
    convCase(n: 1, cin: 4, h: 5, w: 6, cout: 3, k: 1, stride: 1, pad: 0, bias: true),   // 1×1 direct path
    convCase(n: 3, cin: 4, h: 6, w: 6, cout: 4, k: 1, stride: 2, pad: 0, bias: false),  // 1×1 stride 2 (downsample)
    convCase(n: 2, cin: 2, h: 9, w: 9, cout: 3, k: 7, stride: 2, pad: 3, bias: true),   // ImageNet stem
    convCase(n: 2, cin: 3, h: 4, w: 4, cout: 2, k: 3, stride: 3, pad: 2, bias: false),  // stride > 1 with wide padding
    convCase(n: 1, cin: 1, h: 1, w: 1, cout: 2, k: 3, stride: 1, pad: 1, bias: true),   // 1×1 image, all border
    // Batches of ≥ 2 images per thread take the per-thread path; cin ≥ 32 takes the
    // flipped-kernel backward-data path (stride 1) or the col2im path (stride 2).
    convCase(n: 5, cin: 3, h: 6, w: 5, cout: 4, k: 3, stride: 1, pad: 1, bias: true),
    convCase(n: 5, cin: 32, h: 4, w: 4, cout: 3, k: 3, stride: 1, pad: 1, bias: true),
    convCase(n: 4, cin: 32, h: 5, w: 5, cout: 2, k: 3, stride: 2, pad: 1, bias: false),
]

func bnCase(_ shape: [Int], training: Bool, relu: Bool = false) -> OpCase {
    let n = shape[0], c = shape[1], s = shape.count == 4 ? shape[2] * shape[3] : 1
    return OpCase(
        name: "batch_norm \(shape) \(training ? "train" : "eval")\(relu ? " + relu (fused)" : "")",
        shapes: [shape, [c], [c], [c], [c]],
        engine: { g, v in
            try g.batchNorm(v[0], gamma: v[1], beta: v[2], runningMean: try Tensor(shape: [c], values: v[3].value.array),
                            runningVar: try Tensor(shape: [c], values: v[4].value.array), training: training, relu: relu)
        },
        reference: { x in
            let y = training ? BatchNorm.reference(n: n, c: c, s: s, x: x[0], gamma: x[1], beta: x[2], eps: 1e-5)
                             : Ref.batchNormEval(x[0], gamma: x[1], beta: x[2], mean: x[3], variance: x[4], n: n, c: c, s: s, eps: 1e-5)
            return relu ? y.map { max($0, 0) } : y
        },
        inputs: { rng in
            [rng.normals(shape.reduce(1, *), scale: 2), rng.normals(c).map { 1 + 0.2 * $0 }, rng.normals(c),
             rng.normals(c).map { 0.1 * $0 }, rng.normals(c).map { Double(Float(1 + 0.2 * abs($0))) }]
        },
        skipGrad: [3, 4])
}

/// Training BN fused with a residual add and ReLU: y = max(BN(x) + r, 0); gradients for x, γ, β, r.
func bnResidualCase(_ shape: [Int]) -> OpCase {
    let n = shape[0], c = shape[1], s = shape.count == 4 ? shape[2] * shape[3] : 1
    return OpCase(
        name: "batch_norm \(shape) train + residual + relu (fused)",
        shapes: [shape, [c], [c], [c], [c], shape],
        engine: { g, v in
            try g.batchNorm(v[0], gamma: v[1], beta: v[2], runningMean: try Tensor(shape: [c], values: v[3].value.array),
                            runningVar: try Tensor(shape: [c], values: v[4].value.array), training: true, relu: true, residual: v[5])
        },
        reference: { x in
            zip(BatchNorm.reference(n: n, c: c, s: s, x: x[0], gamma: x[1], beta: x[2], eps: 1e-5), x[5]).map { max($0 + $1, 0) }
        },
        inputs: { rng in
            [rng.normals(shape.reduce(1, *), scale: 2), rng.normals(c).map { 1 + 0.2 * $0 }, rng.normals(c),
             rng.normals(c).map { 0.1 * $0 }, rng.normals(c).map { Double(Float(1 + 0.2 * abs($0))) }, rng.normals(shape.reduce(1, *))]
        },
        skipGrad: [3, 4])
}

let elementCases: [OpCase] = [
    OpCase(name: "linear", shapes: [[5, 7], [4, 7], [4]],
           engine: { g, v in try g.linear(v[0], v[1], v[2]) },
           reference: { x in Ref.linear(x[0], x[1], x[2], n: 5, din: 7, dout: 4) }),
    OpCase(name: "linear no bias, odd", shapes: [[3, 1], [6, 1]],
           engine: { g, v in try g.linear(v[0], v[1]) },
           reference: { x in Ref.linear(x[0], x[1], nil, n: 3, din: 1, dout: 6) }),
    OpCase(name: "matmul", shapes: [[4, 3], [3, 5]],
           engine: { g, v in try g.matmul(v[0], v[1]) },
           reference: { x in Ref.matmul(x[0], x[1], n: 4, k: 3, m: 5, transposeB: false) }),
    OpCase(name: "similarity a·bᵀ", shapes: [[4, 6], [3, 6]],
           engine: { g, v in try g.similarity(v[0], v[1]) },
           reference: { x in Ref.matmul(x[0], x[1], n: 4, k: 6, m: 3, transposeB: true) }),
    OpCase(name: "relu", shapes: [[3, 11]],
           engine: { g, v in try g.relu(v[0]) },
           reference: { x in x[0].map { max($0, 0) } },
           inputs: { rng in [rng.normals(33).map { $0 >= 0 ? $0 + 0.01 : $0 - 0.01 }] }),   // away from the kink
    OpCase(name: "add", shapes: [[2, 5], [2, 5]],
           engine: { g, v in try g.add(v[0], v[1]) },
           reference: { x in zip(x[0], x[1]).map(+) }),
    OpCase(name: "add_relu (fused residual join)", shapes: [[3, 7], [3, 7]],
           engine: { g, v in try g.addReLU(v[0], v[1]) },
           reference: { x in zip(x[0], x[1]).map { max($0 + $1, 0) } },
           inputs: { rng in let a = rng.normals(21); return [a, rng.normals(21).enumerated().map { i, b in abs(a[i] + b) < 0.01 ? b + 0.05 : b }] }),
    OpCase(name: "add_relu of a value with itself", shapes: [[2, 5]],
           engine: { g, v in try g.addReLU(v[0], v[0]) },
           reference: { x in x[0].map { max(2 * $0, 0) } },
           inputs: { rng in [rng.normals(10).map { $0 >= 0 ? $0 + 0.01 : $0 - 0.01 }] }),
    OpCase(name: "mul", shapes: [[2, 5], [2, 5]],
           engine: { g, v in try g.mul(v[0], v[1]) },
           reference: { x in zip(x[0], x[1]).map(*) }),
    OpCase(name: "scale", shapes: [[7]],
           engine: { g, v in try g.scale(v[0], -2.5) },
           reference: { x in x[0].map { -2.5 * $0 } }),
    OpCase(name: "add shared input (accumulation)", shapes: [[2, 3]],
           engine: { g, v in try g.add(try g.mul(v[0], v[0]), v[0]) },
           reference: { x in x[0].map { $0 * $0 + $0 } }),
    OpCase(name: "max_pool k3 s2 p1", shapes: [[2, 3, 9, 9]],
           engine: { g, v in try g.maxPool2d(v[0], kernel: 3, stride: 2, padding: 1) },
           reference: { x in Ref.maxPool(x[0], n: 2, c: 3, h: 9, w: 9, k: 3, stride: 2, pad: 1) }),
    OpCase(name: "max_pool k2 s2 odd", shapes: [[1, 2, 5, 7]],
           engine: { g, v in try g.maxPool2d(v[0], kernel: 2, stride: 2) },
           reference: { x in Ref.maxPool(x[0], n: 1, c: 2, h: 5, w: 7, k: 2, stride: 2, pad: 0) }),
    OpCase(name: "global_avg_pool", shapes: [[2, 3, 5, 4]],
           engine: { g, v in try g.globalAvgPool(v[0]) },
           reference: { x in Ref.avgPool(x[0], planes: 6, size: 20) }),
    OpCase(name: "reshape + flatten", shapes: [[2, 3, 2, 2]],
           engine: { g, v in try g.scale(try g.reshape(try g.flatten(v[0]), [4, 6]), 3) },
           reference: { x in x[0].map { 3 * $0 } }),
    OpCase(name: "concat", shapes: [[2, 3], [1, 3], [3, 3]],
           engine: { g, v in try g.concat([v[2], v[0], v[1]]) },
           reference: { x in x[2] + x[0] + x[1] }),
    OpCase(name: "split (unused piece gets zero gradient)", shapes: [[5, 2]],
           engine: { g, v in let p = try g.split(v[0], sizes: [1, 3, 1]); return try g.concat([p[2], p[0]]) },
           reference: { x in Array(x[0][8..<10]) + Array(x[0][0..<2]) }),
    OpCase(name: "l2_normalize", shapes: [[4, 6]],
           engine: { g, v in try g.l2Normalize(v[0]) },
           reference: { x in Ref.l2Normalize(x[0], n: 4, d: 6, eps: 1e-12) }),
    OpCase(name: "log_softmax", shapes: [[3, 7]],
           engine: { g, v in try g.logSoftmax(v[0]) },
           reference: { x in Ref.logSoftmax(x[0], n: 3, d: 7) },
           inputs: { rng in [rng.normals(21, scale: 3)] }),
    OpCase(name: "cross_entropy", shapes: [[4, 5]],
           engine: { g, v in try g.crossEntropy(v[0], targets: [0, 4, 2, 2]) },
           reference: { x in [Ref.crossEntropy(x[0], targets: [0, 4, 2, 2], n: 4, d: 5)] },
           inputs: { rng in [rng.normals(20, scale: 3)] }),
    OpCase(name: "mse", shapes: [[3, 4], [3, 4]],
           engine: { g, v in try g.mse(v[0], v[1]) },
           reference: { x in [zip(x[0], x[1]).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / 12] }),
    OpCase(name: "sum", shapes: [[3, 5]],
           engine: { g, v in try g.sum(v[0]) },
           reference: { x in [x[0].reduce(0, +)] }),
    OpCase(name: "mean", shapes: [[3, 5]],
           engine: { g, v in try g.mean(v[0]) },
           reference: { x in [x[0].reduce(0, +) / 15] }),
]

@Suite("Finite-difference gradient checks")
struct GradCheckTests {
    @Test("conv2d", arguments: convCases)
    func conv(_ op: OpCase) throws { try gradCheck(op) }

    @Test("conv2d, several images per GEMM with a partial last chunk", arguments: [convCases[0], convCases[1], convCases[2], convCases[4], convCases[8], convCases[9]])
    func convChunked(_ op: OpCase) throws { try gradCheck(op, columns: 40) }

    @Test("conv2d through Winograd F(2×2, 3×3) (forced for every 3×3/1 shape) matches the reference", arguments: [
        convCase(n: 2, cin: 16, h: 7, w: 5, cout: 16, k: 3, stride: 1, pad: 1, bias: true),
        convCase(n: 5, cin: 16, h: 6, w: 6, cout: 17, k: 3, stride: 1, pad: 0, bias: false),
        convCase(n: 4, cin: 16, h: 3, w: 4, cout: 16, k: 3, stride: 1, pad: 2, bias: true),
    ])
    func winograd(_ op: OpCase) throws {
        Winograd.forceAll = true
        defer { Winograd.forceAll = false }
        try gradCheck(op)
    }

    @Test("batch_norm", arguments: [bnCase([4, 3, 5, 5], training: true), bnCase([4, 3, 5, 5], training: false),
                                     bnCase([8, 6], training: true), bnCase([8, 6], training: false),
                                     bnCase([2, 2, 1, 3], training: true),
                                     bnCase([4, 3, 5, 5], training: true, relu: true), bnCase([8, 6], training: false, relu: true),
                                     bnCase([8, 6], training: true, relu: true), bnCase([4, 3, 5, 5], training: false, relu: true),
                                     bnResidualCase([4, 3, 5, 5]), bnResidualCase([6, 5])])
    func batchNorm(_ op: OpCase) throws { try gradCheck(op) }

    @Test("elementwise, linear, pooling, shapes, rows, reductions", arguments: elementCases)
    func others(_ op: OpCase) throws { try gradCheck(op) }

    @Test("stop_gradient blocks the gradient through one path only")
    func stopGradient() throws {
        // f = a ⊙ sg(b) + b  →  ∂f/∂a = b, ∂f/∂b = 1 (not a + 1).
        let g = try Graph()
        let a = try g.leaf(try Tensor(shape: [4], values: [1, 2, 3, 4]))
        let b = try g.leaf(try Tensor(shape: [4], values: [5, 6, 7, 8]))
        try g.backward(try g.sum(try g.add(try g.mul(a, g.stopGradient(b)), b)))
        #expect(a.grad?.array == [5, 6, 7, 8])
        #expect(b.grad?.array == [1, 1, 1, 1])
    }

    @Test("a small network end to end: conv-BN-ReLU-pool-linear-cross-entropy")
    func network() throws {
        let op = OpCase(
            name: "network", shapes: [[3, 2, 6, 6], [4, 2, 3, 3], [4], [4], [5, 4]],
            engine: { g, v in
                let h = try g.conv2d(v[0], v[1], stride: 1, padding: 1)
                let b = try g.batchNorm(h, gamma: v[2], beta: v[3], runningMean: nil, runningVar: nil, training: true)
                let p = try g.globalAvgPool(try g.maxPool2d(try g.relu(b), kernel: 2, stride: 2))
                return try g.crossEntropy(try g.linear(try g.l2Normalize(p), v[4]), targets: [1, 4, 0])
            },
            reference: { x in
                let geo = try! ConvGeometry(n: 3, cin: 2, h: 6, w: 6, cout: 4, kh: 3, kw: 3, ph: 1, pw: 1)
                let h = Conv2D.reference(geo, x: x[0], w: x[1], bias: nil)
                let b = BatchNorm.reference(n: 3, c: 4, s: 36, x: h, gamma: x[2], beta: x[3], eps: 1e-5).map { max($0, 0) }
                let p = Ref.avgPool(Ref.maxPool(b, n: 3, c: 4, h: 6, w: 6, k: 2, stride: 2, pad: 0), planes: 12, size: 9)
                let z = Ref.linear(Ref.l2Normalize(p, n: 3, d: 4, eps: 1e-12), x[4], nil, n: 3, din: 4, dout: 5)
                return [Ref.crossEntropy(z, targets: [1, 4, 0], n: 3, d: 5)]
            },
            inputs: { rng in [rng.normals(216), rng.normals(72), rng.normals(4).map { 1 + 0.1 * $0 }, rng.normals(4), rng.normals(20)] })
        try gradCheck(op)
    }
}
