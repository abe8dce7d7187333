import Testing
import Contrastive

/// Specialised kernels against the general kernels they replace, on the same inputs —
/// including the values where they could differ (ties, NaN, −∞, odd sizes).
@Suite("Fast paths agree with their general kernels", .serialized)
struct FastPathTests {
    @Test("max-pool 2×2/2: values and argmax equal the general loop (ties, NaN, −∞, odd sizes)",
          arguments: [(3, 4, 8, 8), (2, 3, 5, 7), (1, 2, 2, 2), (2, 1, 9, 4)])
    func maxPool2x2(_ shape: (Int, Int, Int, Int)) throws {
        let (n, c, h, w) = shape
        let g = try MaxPool2D.Geometry(n: n, c: c, h: h, w: w, k: 2, stride: 2, pad: 0)
        var rng = SeededRNG(7)
        var x = (0..<(n * c * h * w)).map { _ in Float(Int(rng.normal() * 2)) / 2 }   // many ties
        for i in stride(from: 3, to: x.count, by: 11) { x[i] = .nan }
        for i in stride(from: 5, to: x.count, by: 13) { x[i] = -.infinity }
        for i in 0..<min(4, x.count) { x[i] = -.infinity }                           // an all −∞ window
        let count = n * c * g.ho * g.wo
        var y1 = [Float](repeating: 0, count: count), y2 = y1
        var a1 = [Int32](repeating: -1, count: count), a2 = a1
        MaxPool2D.forward(g, x: x, y: &y1, argmax: &a1)
        MaxPool2D.reference(g, x: x, y: &y2, argmax: &a2)
        #expect(a1 == a2)
        #expect(zip(y1, y2).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) })
        #expect(x.count <= 8 || y1.contains { $0.isNaN })   // the NaN rule was exercised
    }

    @Test("im2col through padded planes equals the row-by-row im2col",
          arguments: [(2, 3, 7, 7, 3, 1, 1), (3, 4, 8, 8, 3, 2, 1), (2, 2, 5, 6, 3, 1, 0), (1, 3, 6, 5, 1, 1, 0),
                      (2, 2, 9, 9, 7, 2, 3), (2, 3, 4, 4, 3, 3, 2), (1, 1, 1, 1, 3, 1, 1), (2, 5, 4, 4, 3, 1, 1)])
    func im2col(_ c: (Int, Int, Int, Int, Int, Int, Int)) throws {
        let (n, cin, h, w, k, s, p) = c
        let g = try ConvGeometry(n: n, cin: cin, h: h, w: w, cout: 2, kh: k, kw: k, sh: s, sw: s, ph: p, pw: p)
        var rng = SeededRNG(3)
        let x = (0..<(n * cin * h * w)).map { _ in Float(rng.normal()) }
        // Two chunks (images 0..<1 and 1..<n) so the image offset n0 is exercised.
        for (n0, nb) in [(0, 1), (min(1, n - 1), max(1, n - 1))] {
            let count = g.k * nb * g.outPlane
            var a = [Float](repeating: .nan, count: count), b = a
            Conv2D.im2colStaged(g, x: x, n0: n0, nb: nb, col: &a)
            Conv2D.im2colRows(g, x: x, n0: n0, nb: nb, col: &b)
            #expect(a == b, "im2col \(g) images \(n0)..<\(n0 + nb)")
        }
    }

    /// One conv2d forward + backward through the graph: y, dx, dw, db.
    static func convStep(_ x: Tensor, _ w: Tensor, _ b: Tensor, _ dy: Tensor, padding: Int) throws -> [[Float]] {
        let g = try Graph()
        let xv = try g.leaf(x), wv = try g.leaf(w), bv = try g.leaf(b)
        let y = try g.conv2d(xv, wv, bv, stride: 1, padding: padding)
        try g.backward(try g.sum(try g.mul(y, g.constant(dy))))
        return [y.value.array, xv.grad!.array, wv.grad!.array, bv.grad!.array]
    }

    @Test("Winograd on the shapes it is chosen for (≥ 128 channels, even planes ≤ 8×8) matches im2col, forward and backward",
          arguments: [(3, 128, 128, 4, 1), (2, 128, 256, 8, 1), (3, 256, 128, 4, 1)])
    func winogradChosenShapes(_ c: (Int, Int, Int, Int, Int)) throws {
        let (n, cin, cout, hw, pad) = c
        let geo = try ConvGeometry(n: n, cin: cin, h: hw, w: hw, cout: cout, kh: 3, kw: 3, ph: pad, pw: pad)
        // Winograd is chosen where the fused AVX-512 path is not in use (OpenBLAS kernels).
        let savedFused = Conv2D.useFused, savedWF = Winograd.useFused
        Conv2D.useFused = false
        Winograd.useFused = false   // the unfused Winograd path (the fused one has its own test)
        defer { Conv2D.useFused = savedFused; Winograd.useFused = savedWF }
        #expect(Winograd.applies(geo))
        var rng = SeededRNG(11)
        func t(_ shape: [Int], _ scale: Double) throws -> Tensor {
            try Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in Float(rng.normal() * scale) })
        }
        let x = try t([n, cin, hw, hw], 1), w = try t([cout, cin, 3, 3], 0.05), b = try t([cout], 1)
        let dy = try t([n, cout, geo.ho, geo.wo], 1)
        let fast = try Self.convStep(x, w, b, dy, padding: pad)
        Winograd.enabled = false
        defer { Winograd.enabled = true }
        #expect(!Winograd.applies(geo))
        let ref = try Self.convStep(x, w, b, dy, padding: pad)
        // Both sum ~Cin·9 products of O(0.05–1) terms in float32 in different orders; the
        // transforms add a few ulps. 1e-4 relative to each tensor's RMS is far below any wrong term.
        for (name, (a, r)) in zip(["y", "dx", "dw", "db"], zip(fast, ref)) {
            let rms = (r.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(r.count, 1))).squareRoot()
            let err = zip(a, r).reduce(0.0) { max($0, abs(Double($1.0) - Double($1.1))) }
            #expect(err <= 1e-4 * rms + 1e-6, "\(name): max |Δ| \(err), rms \(rms)")
        }
    }

    /// Conv2D.forward with its epilogue (bias, optional residual `prior`, optional ReLU) against
    /// the Double reference `want` (conv + bias): the largest absolute error, and the output.
    static func epilogueError(_ g: ConvGeometry, x: [Float], w: [Float], bias: [Float], prior: [Float], want: [Double],
                              add withAdd: Bool, relu: Bool, workspace ws: Workspace) throws -> (Double, [Float]) {
        let target = zip(want, prior).map { r, a in
            let v = r + (withAdd ? Double(a) : 0)
            return relu ? max(v, 0) : v
        }
        var y = [Float](repeating: .nan, count: prior.count)
        try x.withUnsafeBufferPointer { xp in try w.withUnsafeBufferPointer { wp in try bias.withUnsafeBufferPointer { bp in
            try prior.withUnsafeBufferPointer { ap in try y.withUnsafeMutableBufferPointer { yp in
                try Conv2D.forward(g, x: xp.baseAddress!, w: wp.baseAddress!, bias: bp.baseAddress!,
                                   add: withAdd ? ap.baseAddress! : nil, relu: relu, y: yp.baseAddress!, workspace: ws)
            } }
        } } }
        return (zip(y, target).map { abs(Double($0) - $1) }.max() ?? 0, y)
    }

    @Test("fused Winograd F(2×2, 3×3) forward, data and weight gradients equal the Double reference: 1–4 row segments per tile group and gathers, odd planes, epilogue, both thread splits",
          arguments: [(3, 32, 32, 32, 32), (2, 33, 17, 33, 40), (5, 40, 8, 8, 24), (3, 16, 4, 4, 9), (2, 8, 1, 1, 8),
                      (1, 32, 64, 64, 16), (4, 48, 5, 7, 17), (1, 64, 16, 16, 64), (7, 20, 3, 34, 12),
                      (3, 32, 14, 14, 32), (2, 24, 15, 15, 40), (2, 32, 28, 28, 16), (3, 16, 6, 6, 8)])
    func fusedWinograd(_ c: (Int, Int, Int, Int, Int)) throws {
        try #require(BLAS.avx512Available && BLAS.kernel == .avx512, "the fused Winograd kernel runs with the AVX-512 GEMM only")
        let (n, cin, h, w, cout) = c
        let g = try ConvGeometry(n: n, cin: cin, h: h, w: w, cout: cout, kh: 3, kw: 3, ph: 1, pw: 1)
        var rng = SeededRNG(31)
        let x = (0..<(n * cin * h * w)).map { _ in Float(rng.normal()) }
        let wt = (0..<(cout * g.k)).map { _ in Float(rng.normal()) }
        let bias = (0..<cout).map { _ in Float(rng.normal()) }
        let prior = (0..<(n * cout * g.outPlane)).map { _ in Float(rng.normal()) }
        let want = Conv2D.reference(g, x: x.map(Double.init), w: wt.map(Double.init), bias: bias.map(Double.init))
        let scale = want.map { abs($0) }.max() ?? 1
        let saved = Winograd.fusedForceAll
        Winograd.fusedForceAll = true
        defer { Winograd.fusedForceAll = saved }
        #expect(Winograd.fusedApplies(g))
        let ws = try Workspace()
        // The same bound as the direct kernel's (the transforms only add, subtract and halve).
        let tol = 1e-5 * scale
        for accumulate in [false, true] {
            var y = accumulate ? prior : [Float](repeating: .nan, count: prior.count)
            try Conv2D.forward(g, x: x, w: wt, bias: bias, y: &y, workspace: ws, accumulate: accumulate)
            let target = accumulate ? zip(want, prior).map { $0 + Double($1) } : want
            let err = zip(y, target).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(err <= tol, "\(c) accumulate \(accumulate): Winograd vs reference \(err) (scale \(scale))")
        }
        for (withAdd, relu) in [(true, true), (false, true), (true, false)] {
            let (err, y) = try Self.epilogueError(g, x: x, w: wt, bias: bias, prior: prior, want: want, add: withAdd, relu: relu, workspace: ws)
            #expect(err <= tol, "\(c) add \(withAdd) relu \(relu): Winograd epilogue vs reference \(err)")
            if relu { #expect(y.allSatisfy { $0 >= 0 }) }
        }
        // Weight gradient (ck_winograd_weight_grad_avx512 where each thread owns images) and
        // data gradient (the forward kernel on the flipped weights) against Double sums.
        let dy = (0..<(n * cout * g.outPlane)).map { _ in Float(rng.normal()) }
        var wantDW = [Double](repeating: 0, count: cout * g.k), wantDX = [Double](repeating: 0, count: x.count)
        for b in 0..<n { for co in 0..<cout { for oy in 0..<h { for ox in 0..<w {
            let d = Double(dy[((b * cout + co) * h + oy) * w + ox])
            for ci in 0..<cin { for ky in 0..<3 { for kx in 0..<3 {
                let iy = oy + ky - 1, ix = ox + kx - 1
                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                let xi = ((b * cin + ci) * h + iy) * w + ix, wi = (co * cin + ci) * 9 + ky * 3 + kx
                wantDW[wi] += d * Double(x[xi])
                wantDX[xi] += d * Double(wt[wi])
            } } }
        } } } }
        let priorDW = (0..<(cout * g.k)).map { _ in Float(rng.normal()) }
        for accumulate in [false, true] {
            var dw = accumulate ? priorDW : [Float](repeating: .nan, count: priorDW.count)
            var dx = [Float](repeating: .nan, count: x.count)
            try x.withUnsafeBufferPointer { xp in try wt.withUnsafeBufferPointer { wp in try dy.withUnsafeBufferPointer { dp in
                try dw.withUnsafeMutableBufferPointer { dwp in try dx.withUnsafeMutableBufferPointer { dxp in
                    try Conv2D.backward(g, x: xp.baseAddress!, w: wp.baseAddress!, dy: dp.baseAddress!, dx: dxp.baseAddress!,
                                        accumulateX: false, dw: dwp.baseAddress!, db: nil, accumulateW: accumulate, workspace: ws)
                } }
            } } }
            let tw = accumulate ? zip(wantDW, priorDW).map { $0 + Double($1) } : wantDW
            let sw = wantDW.map { abs($0) }.max() ?? 1, sx = wantDX.map { abs($0) }.max() ?? 1
            let ew = zip(dw, tw).map { abs(Double($0) - $1) }.max() ?? 0
            let ex = zip(dx, wantDX).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(ew <= 1e-5 * sw, "\(c) accumulate \(accumulate): dw vs reference \(ew) (scale \(sw))")
            #expect(ex <= 1e-5 * sx, "\(c): dx vs reference \(ex) (scale \(sx))")
        }
    }

    @Test("fused im2col-in-GEMM convolution equals the Double reference and the im2col + GEMM path",
          arguments: [(5, 3, 32, 32, 8, 3, 1), (3, 7, 14, 14, 9, 3, 1), (1, 6, 16, 16, 20, 3, 1), (4, 5, 9, 11, 3, 5, 2),
                      (2, 16, 8, 8, 16, 1, 0), (3, 4, 4, 4, 24, 3, 1), (2, 3, 1, 1, 4, 3, 1), (6, 2, 17, 33, 5, 3, 0),
                      (3, 3, 64, 64, 8, 3, 1), (2, 2, 65, 70, 3, 7, 3)])
    func fusedConv(_ c: (Int, Int, Int, Int, Int, Int, Int)) throws {
        for stride in [1, 2, 3] { try fusedConv(c, stride: stride) }
    }

    func fusedConv(_ c: (Int, Int, Int, Int, Int, Int, Int), stride: Int) throws {
        try #require(BLAS.avx512Available && BLAS.kernel == .avx512, "the fused path runs with the AVX-512 GEMM only")
        let (n, cin, h, w, cout, k, p) = c
        let g = try ConvGeometry(n: n, cin: cin, h: h, w: w, cout: cout, kh: k, kw: k, sh: stride, sw: stride, ph: p, pw: p)
        var rng = SeededRNG(21)
        let x = (0..<(n * cin * h * w)).map { _ in Float(rng.normal()) }
        let wt = (0..<(cout * g.k)).map { _ in Float(rng.normal()) }
        let bias = (0..<cout).map { _ in Float(rng.normal()) }
        let prior = (0..<(n * cout * g.outPlane)).map { _ in Float(rng.normal()) }
        let want = Conv2D.reference(g, x: x.map(Double.init), w: wt.map(Double.init), bias: bias.map(Double.init))
        let ws = try Workspace()
        func run(fused: Bool, accumulate: Bool) throws -> [Float] {
            let saved = Conv2D.useFused
            Conv2D.useFused = fused
            defer { Conv2D.useFused = saved }
            var y = accumulate ? prior : [Float](repeating: .nan, count: prior.count)
            try Conv2D.forward(g, x: x, w: wt, bias: bias, y: &y, workspace: ws, accumulate: accumulate)
            return y
        }
        let scale = want.map { abs($0) }.max() ?? 1
        for accumulate in [false, true] {
            let fused = try run(fused: true, accumulate: accumulate), general = try run(fused: false, accumulate: accumulate)
            let target = accumulate ? zip(want, prior).map { $0 + Double($1) } : want
            let errF = zip(fused, target).map { abs(Double($0) - $1) }.max() ?? 0
            let errG = zip(fused, general).map { abs($0 - $1) }.max() ?? 0
            #expect(errF <= 1e-5 * scale, "\(c) stride \(stride) accumulate \(accumulate): fused vs reference \(errF)")
            #expect(Double(errG) <= 1e-5 * scale, "\(c) stride \(stride) accumulate \(accumulate): fused vs im2col + GEMM \(errG)")
        }
        // The epilogue (bias, a residual tensor, ReLU) in the fused kernel's store and in the
        // general path's extra pass, against the Double reference.
        for (withAdd, relu) in [(true, true), (false, true), (true, false)] {
            for fusedOn in [true, false] {
                let saved = Conv2D.useFused
                Conv2D.useFused = fusedOn
                defer { Conv2D.useFused = saved }
                let (err, y) = try Self.epilogueError(g, x: x, w: wt, bias: bias, prior: prior, want: want, add: withAdd, relu: relu, workspace: ws)
                #expect(err <= 1e-5 * scale, "\(c) stride \(stride) add \(withAdd) relu \(relu) fused \(fusedOn): epilogue vs reference \(err)")
                if relu { #expect(y.allSatisfy { $0 >= 0 }) }
            }
        }
    }
}
