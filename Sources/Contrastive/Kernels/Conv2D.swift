import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// Geometry of a 2-D convolution: input (N, Cin, H, W), weight (Cout, Cin, kh, kw),
/// symmetric zero padding, output (N, Cout, Ho, Wo) with Ho = (H + 2ph − kh)/sh + 1.
public struct ConvGeometry: Equatable, CustomStringConvertible {
    public let n, cin, h, w, cout, kh, kw, sh, sw, ph, pw: Int
    public let ho, wo: Int

    public init(n: Int, cin: Int, h: Int, w: Int, cout: Int, kh: Int, kw: Int,
                sh: Int = 1, sw: Int = 1, ph: Int = 0, pw: Int = 0) throws {
        guard n >= 0, cin > 0, h > 0, w > 0, cout > 0, kh > 0, kw > 0 else {
            throw ContrastiveError.invalid("conv2d: sizes must be positive (cin \(cin), \(h)×\(w), cout \(cout), kernel \(kh)×\(kw))")
        }
        guard sh > 0, sw > 0, ph >= 0, pw >= 0, ph < kh, pw < kw else {
            throw ContrastiveError.invalid("conv2d: stride \(sh)×\(sw) must be ≥ 1 and padding \(ph)×\(pw) in [0, kernel)")
        }
        guard h + 2 * ph >= kh, w + 2 * pw >= kw else {
            throw ContrastiveError.shape("conv2d: kernel \(kh)×\(kw) larger than padded input \(h + 2 * ph)×\(w + 2 * pw)")
        }
        self.n = n; self.cin = cin; self.h = h; self.w = w; self.cout = cout
        self.kh = kh; self.kw = kw; self.sh = sh; self.sw = sw; self.ph = ph; self.pw = pw
        ho = (h + 2 * ph - kh) / sh + 1
        wo = (w + 2 * pw - kw) / sw + 1
        _ = try checkedCount([n, cin, h, w], what: "conv2d input")
        _ = try checkedCount([n, cout, ho, wo], what: "conv2d output")
        _ = try checkedCount([cout, cin, kh, kw], what: "conv2d weight")
    }

    /// Rows of the im2col matrix: Cin·kh·kw.
    public var k: Int { cin * kh * kw }
    public var outPlane: Int { ho * wo }
    public var inPlane: Int { h * w }
    /// Multiply-adds ×2 of the forward pass (the usual FLOP count).
    public var flops: Double { 2 * Double(n) * Double(cout) * Double(outPlane) * Double(k) }
    public var description: String {
        "conv \(cin)→\(cout) \(kh)×\(kw)/\(sh) pad \(ph) on \(n)×\(h)×\(w)"
    }

    /// The range of output columns ox whose input column ox·sw − pw + kx lies inside [0, w).
    @inlinable
    func validCols(_ kx: Int) -> Range<Int> {
        let off = kx - pw
        let lo = off >= 0 ? 0 : (-off + sw - 1) / sw
        let hiIncl = (w - 1 - off) >= 0 ? (w - 1 - off) / sw : -1
        let hi = min(wo, hiIncl + 1)
        return lo < hi ? lo..<hi : lo..<lo
    }

    @inlinable
    func validRows(_ ky: Int) -> Range<Int> {
        let off = ky - ph
        let lo = off >= 0 ? 0 : (-off + sh - 1) / sh
        let hiIncl = (h - 1 - off) >= 0 ? (h - 1 - off) / sh : -1
        let hi = min(ho, hiIncl + 1)
        return lo < hi ? lo..<hi : lo..<lo
    }
}

/// Convolution as im2col + SGEMM over chunks of images.
///
/// For a chunk of `nb` images the im2col matrix is col[K, nb·Ho·Wo] (K = Cin·kh·kw, column
/// index b·Ho·Wo + p), so one GEMM covers the whole chunk:
///   forward          tmp[Cout, P] = W[Cout, K] · col[K, P]            → scattered to NCHW
///   backward-weights dW[Cout, K] += dOut[Cout, P] · colᵀ
///   backward-data    dCol[K, P]   = Wᵀ · dOut[Cout, P]                → col2im into dX
/// The chunk is sized so P is a few thousand columns: large enough for OpenBLAS to run near
/// its peak, small enough that col stays in a few MB of the workspace.
public enum Conv2D {
    /// Default columns per GEMM (P). Tuned by `make bench-ops --columns`: 2048 keeps both
    /// threads' im2col panels in the shared L3 (576 × 2048 floats = 4.7 MB each for 64
    /// channels); measured conv_vs_sgemm 0.69–0.84 (mean 0.77) against 0.59–0.73 at 8192.
    public static let defaultColumns = 2048

    /// Floats of one thread's im2col panel at most (k × columns): 9.4 MB, so deep layers (k =
    /// Cin·9 up to 4608) take fewer images per GEMM instead of a panel 8× that of a 64-channel
    /// layer. Measured: ResNet-18 batch-256 fwd+bwd peak workspace 1250 → 1190 MiB (layer4's
    /// weight-gradient panels were 2 × 38 MB).
    public static let panelFloatBudget = 4 * 576 * 1024

    @inlinable
    static func chunkImages(_ g: ConvGeometry, _ columns: Int) -> Int {
        let plane = max(g.outPlane, 1)
        return max(1, min(g.n, columns / plane, panelFloatBudget / max(g.k * plane, 1)))
    }

    // MARK: im2col / col2im

    /// col[k, b·P₁ + p] for images n0..<n0+nb (P₁ = Ho·Wo), zero where the window leaves the input.
    public static func im2col(_ g: ConvGeometry, x: UnsafePointer<Float>, n0: Int, nb: Int,
                              col: UnsafeMutablePointer<Float>) {
        if useStagedIm2col && g.wo <= stagedMaxWidth { im2colStaged(g, x: x, n0: n0, nb: nb, col: col); return }
        im2colRows(g, x: x, n0: n0, nb: nb, col: col)
    }

    /// Whether narrow outputs take `im2colStaged` (tests compare it with `im2colRows`).
    nonisolated(unsafe) public static var useStagedIm2col = true
    /// Output widths up to this take the staged im2col: there the row-by-row version spends
    /// its time in per-row bookkeeping and short memcpy/memset calls.
    public static let stagedMaxWidth = 64

    /// Copies n floats with inline vector moves (no library call: rows here are a few floats).
    @inline(__always)
    static func copyShort(_ d: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>, _ n: Int) {
        var i = 0
        while i + 8 <= n {
            UnsafeMutableRawPointer(d + i).storeBytes(of: UnsafeRawPointer(s + i).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
            i += 8
        }
        if i + 4 <= n {
            UnsafeMutableRawPointer(d + i).storeBytes(of: UnsafeRawPointer(s + i).loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
            i += 4
        }
        while i < n { d[i] = s[i]; i += 1 }
    }

    /// im2col through a zero-padded copy of each input plane: every window row is then one
    /// branch-free copy of Wo floats (stride 1) or a strided gather, with no border logic.
    /// Parallel over input channels; each part stages planes in its own buffer.
    public static func im2colStaged(_ g: ConvGeometry, x: UnsafePointer<Float>, n0: Int, nb: Int,
                             col: UnsafeMutablePointer<Float>) {
        let P1 = g.outPlane, P = nb * P1
        let hp = g.h + 2 * g.ph, wp = g.w + 2 * g.pw
        parallelFor(g.cin, grain: max(1, 16384 / max(nb * g.k / g.cin * P1, 1))) { chans in
            let pad = UnsafeMutablePointer<Float>.allocate(capacity: hp * wp)
            defer { pad.deallocate() }
            pad.update(repeating: 0, count: hp * wp)
            for c in chans {
                for b in 0..<nb {
                    let plane = x + ((n0 + b) * g.cin + c) * g.inPlane
                    for iy in 0..<g.h { copyShort(pad + (iy + g.ph) * wp + g.pw, plane + iy * g.w, g.w) }
                    for ky in 0..<g.kh {
                        for kx in 0..<g.kw {
                            let r = (c * g.kh + ky) * g.kw + kx
                            let dst = col + r * P + b * P1
                            for oy in 0..<g.ho {
                                let src = pad + (oy * g.sh + ky) * wp + kx
                                let d = dst + oy * g.wo
                                if g.sw == 1 { copyShort(d, src, g.wo) } else { for ox in 0..<g.wo { d[ox] = src[ox * g.sw] } }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The row-by-row im2col (any width; the reference for `im2colStaged`).
    public static func im2colRows(_ g: ConvGeometry, x: UnsafePointer<Float>, n0: Int, nb: Int,
                                  col: UnsafeMutablePointer<Float>) {
        let P1 = g.outPlane, P = nb * P1
        parallelFor(g.k, grain: 4) { rows in
            for r in rows {
                let c = r / (g.kh * g.kw), ky = (r / g.kw) % g.kh, kx = r % g.kw
                let vr = g.validRows(ky), vc = g.validCols(kx)
                let dstRow = col + r * P
                for b in 0..<nb {
                    let plane = x + ((n0 + b) * g.cin + c) * g.inPlane
                    let dst = dstRow + b * P1
                    if vr.isEmpty || vc.isEmpty { dst.update(repeating: 0, count: P1); continue }
                    if vr.lowerBound > 0 { dst.update(repeating: 0, count: vr.lowerBound * g.wo) }
                    for oy in vr {
                        let src = plane + (oy * g.sh - g.ph + ky) * g.w
                        let d = dst + oy * g.wo
                        if vc.lowerBound > 0 { d.update(repeating: 0, count: vc.lowerBound) }
                        if g.sw == 1 {
                            d.advanced(by: vc.lowerBound).update(from: src + (vc.lowerBound - g.pw + kx), count: vc.count)
                        } else {
                            var ix = vc.lowerBound * g.sw - g.pw + kx
                            for ox in vc { d[ox] = src[ix]; ix += g.sw }
                        }
                        if vc.upperBound < g.wo { (d + vc.upperBound).update(repeating: 0, count: g.wo - vc.upperBound) }
                    }
                    if vr.upperBound < g.ho { (dst + vr.upperBound * g.wo).update(repeating: 0, count: (g.ho - vr.upperBound) * g.wo) }
                }
            }
        }
    }

    /// dx[images n0..<n0+nb] += col2im(dcol). Parallel over input channels, so no two threads
    /// write the same element; within a channel the order of additions is fixed.
    public static func col2imAdd(_ g: ConvGeometry, dcol: UnsafePointer<Float>, n0: Int, nb: Int,
                                 dx: UnsafeMutablePointer<Float>) {
        let P1 = g.outPlane, P = nb * P1
        parallelFor(g.cin) { chans in
            for c in chans {
                for b in 0..<nb {
                    let plane = dx + ((n0 + b) * g.cin + c) * g.inPlane
                    for ky in 0..<g.kh {
                        let vr = g.validRows(ky)
                        for kx in 0..<g.kw {
                            let vc = g.validCols(kx)
                            if vr.isEmpty || vc.isEmpty { continue }
                            let src = dcol + ((c * g.kh + ky) * g.kw + kx) * P + b * P1
                            for oy in vr {
                                let dstRow = plane + (oy * g.sh - g.ph + ky) * g.w
                                let s = src + oy * g.wo
                                if g.sw == 1 {
                                    let d = dstRow + (vc.lowerBound - g.pw + kx)
                                    let s2 = s + vc.lowerBound
                                    for i in 0..<vc.count { d[i] += s2[i] }
                                } else {
                                    var ix = vc.lowerBound * g.sw - g.pw + kx
                                    for ox in vc { dstRow[ix] += s[ox]; ix += g.sw }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: scheduling

    /// How a batch is spread over threads: with at least two images per thread, each thread
    /// takes whole images (im2col, GEMM and scatter stay in its own cache, and one thread's
    /// memory-bound copies overlap another's GEMM); otherwise images go one chunk at a time and
    /// the copies and the GEMM are each split across the threads.
    static func threadsForImages(_ g: ConvGeometry) -> Int {
        let t = ThreadPool.shared.threads
        return g.n >= 2 * t ? t : 1
    }

    // MARK: forward

    /// y = conv(x, w) + bias. x (N,Cin,H,W), w (Cout,Cin,kh,kw), bias (Cout) or nil, y (N,Cout,Ho,Wo).
    /// With `accumulate`, y += conv(x, w) + bias.
    public static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                               workspace ws: Workspace, columns: Int = defaultColumns, accumulate: Bool = false) throws {
        guard g.n > 0 else { return }
        if Winograd.fusedApplies(g), try Winograd.forwardFused(g, x: x, w: w, bias: bias, y: y, workspace: ws, accumulate: accumulate) { return }
        if Winograd.applies(g) {
            try Winograd.forward(g, x: x, w: w, bias: bias, y: y, workspace: ws, accumulate: accumulate)
            return
        }
        if fusedApplies(g), try forwardFused(g, x: x, w: w, bias: bias, y: y, workspace: ws, accumulate: accumulate) { return }
        try forwardGeneral(g, x: x, w: w, bias: bias, y: y, workspace: ws, columns: columns, accumulate: accumulate)
    }

    /// y = relu?(conv(x, w) + bias + add): a convolution with its epilogue — a per-channel bias,
    /// a tensor shaped like y (a residual; it may not alias y) and a ReLU — applied as the
    /// output is stored where the fused kernel runs, else in one pass after the convolution.
    /// What inference runs for conv → BN (folded) → (+ residual) → ReLU.
    public static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, add: UnsafePointer<Float>?, relu: Bool,
                               y: UnsafeMutablePointer<Float>, workspace ws: Workspace, columns: Int = defaultColumns) throws {
        guard g.n > 0 else { return }
        if add == nil && !relu {
            try forward(g, x: x, w: w, bias: bias, y: y, workspace: ws, columns: columns)
            return
        }
        if Winograd.fusedApplies(g),
           try Winograd.forwardFused(g, x: x, w: w, bias: bias, y: y, workspace: ws, accumulate: false, add: add, relu: relu) { return }
        if !Winograd.applies(g) && fusedApplies(g),
           try forwardFused(g, x: x, w: w, bias: bias, y: y, workspace: ws, accumulate: false, add: add, relu: relu) { return }
        try forward(g, x: x, w: w, bias: bias, y: y, workspace: ws, columns: columns)
        let n = g.n * g.cout * g.outPlane
        switch (add, relu) {
        case (let a?, true): Pointwise.addReLU(y, a, y, n)
        case (let a?, false): Pointwise.add(y, a, y, n)
        case (nil, _): Pointwise.relu(y, y, n)
        }
    }

    /// im2col + GEMM (+ scatter): the general forward every other path is checked against.
    static func forwardGeneral(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                               workspace ws: Workspace, columns: Int, accumulate: Bool) throws {
        let parts = threadsForImages(g)
        let nbMax = min(chunkImages(g, columns), max(1, g.n / parts))
        let P1 = g.outPlane
        let direct = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0
        // Single-image chunks write straight into y (no tmp); a direct 1×1 reads x (no col).
        let colSize = direct && nbMax == 1 ? 0 : g.k * nbMax * P1
        let tmpSize = nbMax == 1 ? 0 : g.cout * nbMax * P1
        let colS = try ws.scratch(Float.self, count: colSize * parts), col = colS.pointer
        let tmpS = try ws.scratch(Float.self, count: tmpSize * parts), tmp = tmpS.pointer
        defer { withExtendedLifetime((colS, tmpS)) {} }
        ThreadPool.shared.run(parts: parts) { t in
            let images = parts == 1 ? 0..<g.n : partRange(t, of: parts, g.n)
            let col = col + t * colSize, tmp = tmp + t * tmpSize
            var n0 = images.lowerBound
            while n0 < images.upperBound {
                let nb = min(nbMax, images.upperBound - n0)
                let P = nb * P1
                let colPtr: UnsafePointer<Float>
                if direct && nb == 1 {
                    colPtr = x + n0 * g.cin * g.inPlane
                } else {
                    im2col(g, x: x, n0: n0, nb: nb, col: col)
                    colPtr = UnsafePointer(col)
                }
                let out = nb == 1 ? y + n0 * g.cout * P1 : tmp
                BLAS.sgemm(transA: false, transB: false, m: g.cout, n: P, k: g.k, alpha: 1,
                           a: w, lda: g.k, b: colPtr, ldb: P, beta: nb == 1 && accumulate ? 1 : 0, c: out, ldc: P)
                if nb == 1 {
                    if let bias {
                        parallelFor(g.cout, grain: 8) { r in for co in r { let v = bias[co]; let o = out + co * P1; for i in 0..<P1 { o[i] += v } } }
                    }
                } else {
                    // Scatter [Cout, nb·P₁] → NCHW, adding the bias.
                    parallelFor(g.cout, grain: 4) { r in
                        for co in r {
                            let v = bias?[co] ?? 0
                            for b in 0..<nb {
                                let src = tmp + co * P + b * P1
                                let dst = y + ((n0 + b) * g.cout + co) * P1
                                if accumulate { for i in 0..<P1 { dst[i] += src[i] + v } }
                                else if v == 0 { dst.update(from: src, count: P1) } else { for i in 0..<P1 { dst[i] = src[i] + v } }
                            }
                        }
                    }
                }
                n0 += nb
            }
        }
    }

    // MARK: fused im2col + GEMM

    /// Whether convolutions run `ck_conv_forward_avx512` (the im2col matrix packed straight
    /// from x inside the GEMM, never written out) when the AVX-512 GEMM is in use. Measured
    /// here (`contrastive-bench layers`, batch 256) it beats im2col + GEMM on every ResNet-18
    /// and ConvNet layer (64→64 @32² fwd 60 vs 64 ms) and ties or beats the unfused Winograd
    /// (512→512 @4² 44.5 vs 45.6 ms, 128→256 @4² 5.8 vs 9.0 ms), so it takes precedence over
    /// both. The fused Winograd kernel (`Winograd.fusedApplies`) takes precedence over it on
    /// the 3×3 stride-1 pad-1 layers with ≥ 32 channels (1.4–2× faster there).
    nonisolated(unsafe) public static var useFused = true

    public static func fusedApplies(_ g: ConvGeometry) -> Bool {
        useFused && BLAS.kernel == .avx512 && BLAS.avx512Available && g.n * g.cin * g.inPlane <= Int(Int32.max)
    }

    /// The fused forward: with ≥ 2 images per thread each thread takes whole images, else each
    /// takes a block of output channels of every image. Each part packs into its own workspace
    /// buffer. Returns false (nothing written) if the kernel refused its arguments, so the
    /// caller falls back to im2col + GEMM.
    static func forwardFused(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                             bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                             workspace ws: Workspace, accumulate: Bool,
                             add: UnsafePointer<Float>? = nil, relu: Bool = false) throws -> Bool {
        var shape = ck_conv_shape(cin: g.cin, h: g.h, w: g.w, kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw, ph: g.ph, pw: g.pw, ho: g.ho, wo: g.wo)
        let split = ForwardSplit(g)
        let packFloats = ck_pack_floats()
        let packS = try ws.scratch(Float.self, count: packFloats * split.parts), pack = packS.pointer
        defer { withExtendedLifetime(packS) {} }
        return try withUnsafePointer(to: &shape) { sp in
            try split.run(g, accumulate: accumulate, kernel: "fused") { t, images, channels in
                let o = images.lowerBound * g.cout * g.outPlane + channels.lowerBound * g.outPlane
                return ck_conv_forward_ep_avx512(sp, x + images.lowerBound * g.cin * g.inPlane, images.count, channels.count,
                                                 w + channels.lowerBound * g.k, accumulate ? 1 : 0, y + o, g.cout * g.outPlane,
                                                 bias.map { $0 + channels.lowerBound }, add.map { $0 + o }, relu ? 1 : 0,
                                                 pack + t * packFloats)
            }
        }
    }

    /// How a forward kernel call is split over the threads: whole images per thread when each
    /// gets at least two (`threadsForImages`), else blocks of output channels in multiples of 8
    /// (the micro-kernel's tile height) of every image.
    struct ForwardSplit {
        let byImages: Bool
        let parts: Int

        init(_ g: ConvGeometry) {
            byImages = Conv2D.threadsForImages(g) > 1
            parts = byImages ? ThreadPool.shared.threads : max(1, min(ThreadPool.shared.threads, (g.cout + 7) / 8))
        }

        /// Runs `call(part, images, output channels)` for every non-empty part and returns
        /// false (nothing written) if the kernel refused its arguments — which it checks before
        /// writing, the same for every part.
        func run(_ g: ConvGeometry, accumulate: Bool, kernel: String,
                 _ call: @escaping (Int, Range<Int>, Range<Int>) -> Int32) throws -> Bool {
            var failed = [Bool](repeating: false, count: parts)
            let byImages = byImages, parts = parts
            failed.withUnsafeMutableBufferPointer { failed in
                ThreadPool.shared.run(parts: parts) { t in
                    let images: Range<Int>, channels: Range<Int>
                    if byImages {
                        images = partRange(t, of: parts, g.n); channels = 0..<g.cout
                    } else {
                        let blocks = (g.cout + 7) / 8
                        images = 0..<g.n
                        channels = min(g.cout, t * blocks / parts * 8)..<min(g.cout, (t + 1) * blocks / parts * 8)
                    }
                    failed[t] = !images.isEmpty && !channels.isEmpty && call(t, images, channels) != 0
                }
            }
            if failed.contains(true) {
                if accumulate && failed.contains(false) { throw ContrastiveError(.internal, "conv2d: \(kernel) kernel refused some parts only") }
                return false
            }
            return true
        }
    }

    // MARK: backward

    /// Gather dy (N,Cout,Ho,Wo) for images n0..<n0+nb into dt[Cout, nb·P₁].
    static func gather(_ g: ConvGeometry, dy: UnsafePointer<Float>, n0: Int, nb: Int, dt: UnsafeMutablePointer<Float>) {
        let P1 = g.outPlane, P = nb * P1
        parallelFor(g.cout, grain: 4) { r in
            for co in r {
                for b in 0..<nb {
                    (dt + co * P + b * P1).update(from: dy + ((n0 + b) * g.cout + co) * P1, count: P1)
                }
            }
        }
    }

    /// Gradients of y = conv(x, w) + b. Any of dx, dw, db may be nil (not needed).
    /// `accumulateX`/`accumulateW` choose between adding into and overwriting dx/dw(db).
    ///
    /// With per-thread images, each thread sums its images' dw/db into a private partial; the
    /// partials are added in thread order, so results are identical run to run.
    public static func backward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                dy: UnsafePointer<Float>,
                                dx: UnsafeMutablePointer<Float>?, accumulateX: Bool,
                                dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?,
                                accumulateW: Bool, workspace ws: Workspace, columns: Int = defaultColumns) throws {
        // Stride-1 convolutions take dx as a forward convolution of dy with the flipped,
        // transposed kernel (padding k−1−p): a GEMM with K = Cout·kh·kw instead of a thin
        // K = Cout GEMM followed by a scattering col2im.
        let flipped = dx != nil && g.sh == 1 && g.sw == 1 && g.cin >= 32 && useFlippedBackwardData
        if let dx, !accumulateX, !flipped { dx.update(repeating: 0, count: g.n * g.cin * g.inPlane) }
        if !accumulateW {
            if let dw { dw.update(repeating: 0, count: g.cout * g.k) }
            if let db { db.update(repeating: 0, count: g.cout) }
        }
        guard g.n > 0 else { return }
        if let dx, flipped {
            let gt = try ConvGeometry(n: g.n, cin: g.cout, h: g.ho, w: g.wo, cout: g.cin, kh: g.kh, kw: g.kw,
                                      ph: g.kh - 1 - g.ph, pw: g.kw - 1 - g.pw)
            let wtS = try ws.scratch(Float.self, count: g.cout * g.k)
            flipKernel(g, w: w, into: wtS.pointer)
            try forward(gt, x: dy, w: wtS.pointer, bias: nil, y: dx, workspace: ws, columns: columns, accumulate: accumulateX)
            withExtendedLifetime(wtS) {}
        }
        let needX = dx != nil && !flipped
        guard dw != nil || db != nil || needX else { return }
        let parts = threadsForImages(g)
        let nbMax = min(chunkImages(g, columns), max(1, g.n / parts))
        let P1 = g.outPlane
        // The weight gradient packs im2col(x)ᵀ straight from x inside the GEMM (no col panel)
        // where the fused kernel runs and each thread owns its images (or there is one thread).
        let ownImages = parts > 1 || ThreadPool.shared.threads == 1
        // 3×3 stride-1 pad-1 layers take it by Winograd instead (whole images per thread).
        let winoW = dw != nil && ownImages && Winograd.useWeightGrad && Winograd.fusedApplies(g)
        let fusedW = dw != nil && !winoW && fusedApplies(g) && ownImages
        let colSize = needX || (dw != nil && !fusedW && !winoW) ? g.k * nbMax * P1 : 0, dtSize = g.cout * nbMax * P1
        let wSize = (dw != nil ? g.cout * g.k : 0) + (db != nil ? g.cout : 0)
        let colS = try ws.scratch(Float.self, count: colSize * parts), col = colS.pointer
        let dtS = try ws.scratch(Float.self, count: dtSize * parts), dtAll = dtS.pointer
        let packFloats = fusedW ? ck_pack_floats() : 0
        let packS = try ws.scratch(Float.self, count: packFloats * parts)
        let wgFloats = winoW ? ck_winograd_wgrad_scratch_floats(g.cin, g.cout) : 0
        let wgS = try ws.scratch(Float.self, count: wgFloats * parts)
        var shape = ck_conv_shape(cin: g.cin, h: g.h, w: g.w, kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw, ph: g.ph, pw: g.pw, ho: g.ho, wo: g.wo)
        var failed = [Bool](repeating: false, count: parts)
        // Per-thread partial sums of dw, db (thread 0 writes straight into dw/db when alone).
        let partialS = parts > 1 && wSize > 0 ? try ws.scratch(Float.self, count: wSize * parts) : nil
        let partial = partialS?.pointer
        defer { withExtendedLifetime((colS, dtS, partialS, packS, wgS)) {} }
        failed.withUnsafeMutableBufferPointer { failed in withUnsafePointer(to: &shape) { sp in
        ThreadPool.shared.run(parts: parts) { t in
            let images = parts == 1 ? 0..<g.n : partRange(t, of: parts, g.n)
            let col = col + t * colSize, dt = dtAll + t * dtSize
            let myDW: UnsafeMutablePointer<Float>?, myDB: UnsafeMutablePointer<Float>?
            if let partial {
                let base = partial + t * wSize
                base.update(repeating: 0, count: wSize)
                myDW = dw != nil ? base : nil
                myDB = db != nil ? base + (dw != nil ? g.cout * g.k : 0) : nil
            } else {
                myDW = dw; myDB = db
            }
            if winoW, let myDW, !images.isEmpty {
                let n0 = images.lowerBound
                let rc = ck_winograd_weight_grad_avx512(sp, x + n0 * g.cin * g.inPlane, images.count, g.cout,
                                                        dy + n0 * g.cout * P1, g.cout * P1, 1, myDW, wgS.pointer + t * wgFloats)
                if rc != 0 { failed[t] = true }
            }
            let loopDW = winoW ? nil : myDW
            if loopDW == nil && myDB == nil && !needX { return }
            var n0 = images.lowerBound
            while n0 < images.upperBound {
                let nb = min(nbMax, images.upperBound - n0)
                let P = nb * P1
                let dOut: UnsafePointer<Float>
                if nb == 1 { dOut = dy + n0 * g.cout * P1 } else { gather(g, dy: dy, n0: n0, nb: nb, dt: dt); dOut = UnsafePointer(dt) }
                if let myDB {
                    parallelFor(g.cout, grain: 16) { r in for co in r { myDB[co] += Vec.sum(dOut + co * P, P) } }
                }
                if let myDW = loopDW {
                    if fusedW {
                        let rc = ck_conv_weight_grad_avx512(sp, x + n0 * g.cin * g.inPlane, nb, g.cout, dOut, P, 1, myDW,
                                                            packS.pointer + t * packFloats)
                        if rc != 0 { failed[t] = true }
                    } else {
                        im2col(g, x: x, n0: n0, nb: nb, col: col)
                        BLAS.sgemm(transA: false, transB: true, m: g.cout, n: g.k, k: P, alpha: 1,
                                   a: dOut, lda: P, b: col, ldb: P, beta: 1, c: myDW, ldc: g.k)
                    }
                }
                if needX, let dx {
                    BLAS.sgemm(transA: true, transB: false, m: g.k, n: P, k: g.cout, alpha: 1,
                               a: w, lda: g.k, b: dOut, ldb: P, beta: 0, c: col, ldc: P)
                    col2imAdd(g, dcol: col, n0: n0, nb: nb, dx: dx)
                }
                n0 += nb
            }
        }
        } }
        // The kernel refuses only arguments, which the geometry has already checked.
        if failed.contains(true) { throw ContrastiveError(.internal, "conv2d backward: a weight-gradient kernel refused its arguments") }
        if let partial {
            // dw/db += Σ_t partial_t, in thread order.
            let dwCount = dw != nil ? g.cout * g.k : 0
            parallelFor(wSize, grain: 4096) { r in
                for i in r {
                    var s: Float = 0
                    for t in 0..<parts { s += partial[t * wSize + i] }
                    if i < dwCount { dw![i] += s } else { db![i - dwCount] += s }
                }
            }
        }
    }

    // MARK: variants

    /// Whether stride-1 backward-data uses the flipped-kernel convolution (see `backward`).
    nonisolated(unsafe) public static var useFlippedBackwardData = true

    /// wt[ci, co, ky, kx] = w[co, ci, kh−1−ky, kw−1−kx].
    static func flipKernel(_ g: ConvGeometry, w: UnsafePointer<Float>, into wt: UnsafeMutablePointer<Float>) {
        let kk = g.kh * g.kw
        for co in 0..<g.cout { for ci in 0..<g.cin { for t in 0..<kk {
            wt[(ci * g.cout + co) * kk + (kk - 1 - t)] = w[(co * g.cin + ci) * kk + t]
        } } }
    }

    // MARK: reference

    /// Direct seven-loop convolution in any float type — the reference for tests and benchmarks.
    public static func reference<T: BinaryFloatingPoint>(_ g: ConvGeometry, x: [T], w: [T], bias: [T]?) -> [T] {
        var y = [T](repeating: 0, count: g.n * g.cout * g.outPlane)
        for n in 0..<g.n { for co in 0..<g.cout { for oy in 0..<g.ho { for ox in 0..<g.wo {
            var s: T = bias?[co] ?? 0
            for c in 0..<g.cin { for ky in 0..<g.kh { for kx in 0..<g.kw {
                let iy = oy * g.sh - g.ph + ky, ix = ox * g.sw - g.pw + kx
                if iy >= 0 && iy < g.h && ix >= 0 && ix < g.w {
                    s += x[((n * g.cin + c) * g.h + iy) * g.w + ix] * w[((co * g.cin + c) * g.kh + ky) * g.kw + kx]
                }
            } } }
            y[((n * g.cout + co) * g.ho + oy) * g.wo + ox] = s
        } } } }
        return y
    }
}
