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
    /// Default columns per GEMM (P). Tuned by `make bench-ops`.
    public static let defaultColumns = 8192

    @inlinable
    static func chunkImages(_ g: ConvGeometry, _ columns: Int) -> Int {
        max(1, min(g.n, columns / max(g.outPlane, 1)))
    }

    // MARK: im2col / col2im

    /// col[k, b·P₁ + p] for images n0..<n0+nb (P₁ = Ho·Wo), zero where the window leaves the input.
    public static func im2col(_ g: ConvGeometry, x: UnsafePointer<Float>, n0: Int, nb: Int,
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

    // MARK: forward

    /// y = conv(x, w) + bias. x (N,Cin,H,W), w (Cout,Cin,kh,kw), bias (Cout) or nil, y (N,Cout,Ho,Wo).
    public static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                               workspace ws: Workspace, columns: Int = defaultColumns) throws {
        guard g.n > 0 else { return }
        let nbMax = chunkImages(g, columns)
        let P1 = g.outPlane
        let direct = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0
        let col = direct && nbMax == 1 ? nil : try ws.scratch(Float.self, count: g.k * nbMax * P1)
        let tmp = nbMax == 1 ? nil : try ws.scratch(Float.self, count: g.cout * nbMax * P1)
        var n0 = 0
        while n0 < g.n {
            let nb = min(nbMax, g.n - n0)
            let P = nb * P1
            let colPtr: UnsafePointer<Float>
            if direct && nb == 1 {
                colPtr = x + n0 * g.cin * g.inPlane
            } else {
                im2col(g, x: x, n0: n0, nb: nb, col: col!)
                colPtr = UnsafePointer(col!)
            }
            if nb == 1 {
                let out = y + n0 * g.cout * P1
                BLAS.sgemm(transA: false, transB: false, m: g.cout, n: P, k: g.k, alpha: 1,
                           a: w, lda: g.k, b: colPtr, ldb: P, beta: 0, c: out, ldc: P)
                if let bias { parallelFor(g.cout, grain: 8) { r in for co in r { let v = bias[co]; let o = out + co * P1; for i in 0..<P1 { o[i] += v } } } }
            } else {
                let t = tmp!
                BLAS.sgemm(transA: false, transB: false, m: g.cout, n: P, k: g.k, alpha: 1,
                           a: w, lda: g.k, b: colPtr, ldb: P, beta: 0, c: t, ldc: P)
                // Scatter [Cout, nb·P₁] → NCHW, adding the bias.
                parallelFor(g.cout, grain: 4) { r in
                    for co in r {
                        let v = bias?[co] ?? 0
                        for b in 0..<nb {
                            let src = t + co * P + b * P1
                            let dst = y + ((n0 + b) * g.cout + co) * P1
                            if v == 0 { dst.update(from: src, count: P1) } else { for i in 0..<P1 { dst[i] = src[i] + v } }
                        }
                    }
                }
            }
            n0 += nb
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
    public static func backward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                dy: UnsafePointer<Float>,
                                dx: UnsafeMutablePointer<Float>?, accumulateX: Bool,
                                dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?,
                                accumulateW: Bool, workspace ws: Workspace, columns: Int = defaultColumns) throws {
        if let dx, !accumulateX { dx.update(repeating: 0, count: g.n * g.cin * g.inPlane) }
        if !accumulateW {
            if let dw { dw.update(repeating: 0, count: g.cout * g.k) }
            if let db { db.update(repeating: 0, count: g.cout) }
        }
        guard g.n > 0, dx != nil || dw != nil || db != nil else { return }
        let nbMax = chunkImages(g, columns)
        let P1 = g.outPlane
        let needCol = dw != nil || dx != nil
        let col = needCol ? try ws.scratch(Float.self, count: g.k * nbMax * P1) : nil
        let dt = nbMax == 1 ? nil : try ws.scratch(Float.self, count: g.cout * nbMax * P1)
        var n0 = 0
        while n0 < g.n {
            let nb = min(nbMax, g.n - n0)
            let P = nb * P1
            let dOut: UnsafePointer<Float>
            if nb == 1 { dOut = dy + n0 * g.cout * P1 } else { gather(g, dy: dy, n0: n0, nb: nb, dt: dt!); dOut = UnsafePointer(dt!) }
            if let db {
                parallelFor(g.cout, grain: 16) { r in for co in r { db[co] += Vec.sum(dOut + co * P, P) } }
            }
            if let dw {
                im2col(g, x: x, n0: n0, nb: nb, col: col!)
                BLAS.sgemm(transA: false, transB: true, m: g.cout, n: g.k, k: P, alpha: 1,
                           a: dOut, lda: P, b: col!, ldb: P, beta: 1, c: dw, ldc: g.k)
            }
            if let dx {
                BLAS.sgemm(transA: true, transB: false, m: g.k, n: P, k: g.cout, alpha: 1,
                           a: w, lda: g.k, b: dOut, ldb: P, beta: 0, c: col!, ldc: P)
                col2imAdd(g, dcol: col!, n0: n0, nb: nb, dx: dx)
            }
            n0 += nb
        }
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
