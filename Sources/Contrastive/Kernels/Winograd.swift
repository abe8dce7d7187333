import CKernels
/// 3×3, stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray 2016).
///
/// Each 2×2 output tile comes from a 4×4 input tile: with the transforms
///   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
///   Aᵀ = [1 1 1 0; 0 1 −1 −1],
/// Y = Aᵀ [ Σ_ci (G g Gᵀ) ⊙ (Bᵀ d Bᵀᵀ) ] A. The sum over input channels is, for each of the 16
/// tile positions ξ, one GEMM  M_ξ[Cout, tiles] = U_ξ[Cout, Cin] · V_ξ[Cin, tiles>  — 2.25×
/// fewer multiplications than direct or im2col convolution, with cheap additions around them.
/// Backward-data of a stride-1 convolution is itself such a convolution (flipped kernel), so it
/// takes this path too. Rounding differs from the direct sum by a few ulps of float32
/// (the transforms only add, subtract and halve).
///
/// Two implementations: with the AVX-512 GEMM, the fused kernel (`forwardFused`, C in
/// `CKernels/winograd_avx512.c`) works panel by panel on 48 tiles and runs for every 3×3
/// stride-1 pad-1 layer with ≥ 32 channels — ResNet-18 inference 1.59× faster than the fused
/// im2col kernel here; otherwise the unfused one below (transforms of whole chunks, OpenBLAS
/// GEMMs) on the shapes where it beat im2col + OpenBLAS.
public enum Winograd {
    /// Whether convolutions of the shapes where it measured faster use this algorithm (see
    /// `applies`). On by default.
    nonisolated(unsafe) public static var enabled = true
    /// Every 3×3 stride-1 convolution with ≥ 16 channels in and out takes this path, whatever
    /// its shape (tests, and `make bench-ops --winograd` to re-measure the choice).
    nonisolated(unsafe) public static var forceAll = false
    /// Tiles per GEMM (N) at most: enough for OpenBLAS to run near peak, small enough to stay in cache.
    public static let tilesPerGEMM = 2048
    /// Bytes of V and M (16·(Cin + Cout)·tiles floats) per thread at most, so that wide layers
    /// take fewer tiles per GEMM instead of a larger workspace than im2col's.
    public static let scratchBudget = 16 << 20

    /// 3×3 kernels, stride 1, and (unless `forceAll`) the shapes where it beat im2col + GEMM in
    /// `make bench-layers` here (ConvNet and ResNet-18 layers at batch 256, alternating runs):
    /// ≥ 128 channels in and out on even planes of at most 8×8 — e.g. 512→512 @4² fwd 154–156 ms
    /// vs 198–214, 256→256 @8² 99–170 vs 108–224, 128→256 @4² 25–30 vs 30–32. It lost on
    /// 64→128 @8² (39–51 vs 28–34), 32→64 @16² and odd planes (3×3 output tiles waste 16/9 of
    /// the products), where the 16 small-K GEMMs run below im2col's one large-K GEMM.
    public static func applies(_ g: ConvGeometry) -> Bool {
        guard g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.cin >= 16 && g.cout >= 16 else { return false }
        if forceAll { return true }
        if Conv2D.fusedApplies(g) { return false }   // the fused im2col-in-GEMM path is faster there
        return enabled && g.cin >= 128 && g.cout >= 128 && g.ho % 2 == 0 && g.wo % 2 == 0 && g.outPlane <= 64
    }

    /// U[ξ][co][ci] = (G w[co, ci] Gᵀ)[ξ].
    static func transformWeights(_ g: ConvGeometry, w: UnsafePointer<Float>, u: UnsafeMutablePointer<Float>) {
        let cc = g.cout * g.cin
        parallelFor(cc, grain: 256) { r in
            for idx in r {
                let k = w + idx * 9
                // Rows of G g (4×3): column c of g is (k[c], k[3 + c], k[6 + c]).
                func col(_ c: Int) -> (Float, Float, Float, Float) {
                    let g0 = k[c], g1 = k[3 + c], g2 = k[6 + c]
                    return (g0, 0.5 * (g0 + g1 + g2), 0.5 * (g0 - g1 + g2), g2)
                }
                let c0 = col(0), c1 = col(1), c2 = col(2)
                // (G g) Gᵀ: row `row` of G g is (r0, r1, r2).
                func emit(_ row: Int, _ r0: Float, _ r1: Float, _ r2: Float) {
                    u[(row * 4 + 0) * cc + idx] = r0
                    u[(row * 4 + 1) * cc + idx] = 0.5 * (r0 + r1 + r2)
                    u[(row * 4 + 2) * cc + idx] = 0.5 * (r0 - r1 + r2)
                    u[(row * 4 + 3) * cc + idx] = r2
                }
                emit(0, c0.0, c1.0, c2.0); emit(1, c0.1, c1.1, c2.1); emit(2, c0.2, c1.2, c2.2); emit(3, c0.3, c1.3, c2.3)
            }
        }
    }

    struct Tiles {
        let th: Int, tw: Int
        var perImage: Int { th * tw }
        init(_ g: ConvGeometry) { th = (g.ho + 1) / 2; tw = (g.wo + 1) / 2 }
    }

    /// V[ξ][ci][t] for images n0..<n0+nb, t = b·T₁ + ty·tw + tx; row length `ld` (≥ nb·T₁).
    /// Each plane is first staged into a zero-padded buffer covering every tile, so the tile
    /// loop has no border tests; the 4×4 transform runs on scalars held in registers.
    static func transformInput(_ g: ConvGeometry, x: UnsafePointer<Float>, n0: Int, nb: Int,
                               v: UnsafeMutablePointer<Float>, ld: Int) {
        let tiles = Tiles(g)
        let plane = g.h * g.w
        let stride = g.cin * ld     // distance between ξ planes
        let hp = 2 * tiles.th + 2, wp = 2 * tiles.tw + 2
        let rows = min(g.h, hp - g.ph), cols = min(g.w, wp - g.pw)
        parallelFor(g.cin * nb, grain: 2) { r in
            let pad = UnsafeMutablePointer<Float>.allocate(capacity: hp * wp)
            defer { pad.deallocate() }
            pad.update(repeating: 0, count: hp * wp)
            for job in r {
                let ci = job % g.cin, b = job / g.cin
                let src = x + ((n0 + b) * g.cin + ci) * plane
                // Interior rows overwrite the same cells each time; borders stay zero.
                for iy in 0..<rows { Conv2D.copyShort(pad + (iy + g.ph) * wp + g.pw, src + iy * g.w, cols) }
                let base = v + ci * ld + b * tiles.perImage
                for ty in 0..<tiles.th {
                    let p0 = UnsafePointer(pad + 2 * ty * wp), p1 = p0 + wp, p2 = p1 + wp, p3 = p2 + wp
                    let orow = base + ty * tiles.tw
                    for tx in 0..<tiles.tw {
                        let c = 2 * tx
                        // Bᵀ d down the columns: t_r,c for r = 0..3.
                        let t00 = p0[c] - p2[c], t01 = p0[c + 1] - p2[c + 1], t02 = p0[c + 2] - p2[c + 2], t03 = p0[c + 3] - p2[c + 3]
                        let t10 = p1[c] + p2[c], t11 = p1[c + 1] + p2[c + 1], t12 = p1[c + 2] + p2[c + 2], t13 = p1[c + 3] + p2[c + 3]
                        let t20 = p2[c] - p1[c], t21 = p2[c + 1] - p1[c + 1], t22 = p2[c + 2] - p1[c + 2], t23 = p2[c + 3] - p1[c + 3]
                        let t30 = p1[c] - p3[c], t31 = p1[c + 1] - p3[c + 1], t32 = p1[c + 2] - p3[c + 2], t33 = p1[c + 3] - p3[c + 3]
                        // · B along the rows.
                        let o = orow + tx
                        o[0 * stride] = t00 - t02; o[1 * stride] = t01 + t02; o[2 * stride] = t02 - t01; o[3 * stride] = t01 - t03
                        o[4 * stride] = t10 - t12; o[5 * stride] = t11 + t12; o[6 * stride] = t12 - t11; o[7 * stride] = t11 - t13
                        o[8 * stride] = t20 - t22; o[9 * stride] = t21 + t22; o[10 * stride] = t22 - t21; o[11 * stride] = t21 - t23
                        o[12 * stride] = t30 - t32; o[13 * stride] = t31 + t32; o[14 * stride] = t32 - t31; o[15 * stride] = t31 - t33
                    }
                }
            }
        }
    }

    /// y (+)= Aᵀ M A (+ bias) for images n0..<n0+nb, from M[ξ][co][t] with row length `ld`.
    /// Tiles are written into a 2·th × 2·tw staging plane, whose valid part is then copied
    /// (or added) into y row by row, so odd sizes need no test inside the tile loop.
    static func transformOutput(_ g: ConvGeometry, m: UnsafePointer<Float>, n0: Int, nb: Int, ld: Int,
                                bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let tiles = Tiles(g)
        let plane = g.ho * g.wo
        let stride = g.cout * ld
        let sw = 2 * tiles.tw
        parallelFor(g.cout * nb, grain: 2) { r in
            let stage = UnsafeMutablePointer<Float>.allocate(capacity: 4 * tiles.th * tiles.tw)
            defer { stage.deallocate() }
            for job in r {
                let co = job % g.cout, b = job / g.cout
                let bv = bias?[co] ?? 0
                let dst = y + ((n0 + b) * g.cout + co) * plane
                let base = m + co * ld + b * tiles.perImage
                for ty in 0..<tiles.th {
                    let q0 = stage + 2 * ty * sw, q1 = q0 + sw
                    for tx in 0..<tiles.tw {
                        let p = base + ty * tiles.tw + tx
                        // Aᵀ m down the columns, then · A along the rows.
                        let m00 = p[0], m01 = p[stride], m02 = p[2 * stride], m03 = p[3 * stride]
                        let m10 = p[4 * stride], m11 = p[5 * stride], m12 = p[6 * stride], m13 = p[7 * stride]
                        let m20 = p[8 * stride], m21 = p[9 * stride], m22 = p[10 * stride], m23 = p[11 * stride]
                        let m30 = p[12 * stride], m31 = p[13 * stride], m32 = p[14 * stride], m33 = p[15 * stride]
                        let s00 = m00 + m10 + m20, s01 = m01 + m11 + m21, s02 = m02 + m12 + m22, s03 = m03 + m13 + m23
                        let s10 = m10 - m20 - m30, s11 = m11 - m21 - m31, s12 = m12 - m22 - m32, s13 = m13 - m23 - m33
                        q0[2 * tx] = s00 + s01 + s02 + bv
                        q0[2 * tx + 1] = s01 - s02 - s03 + bv
                        q1[2 * tx] = s10 + s11 + s12 + bv
                        q1[2 * tx + 1] = s11 - s12 - s13 + bv
                    }
                }
                for oy in 0..<g.ho {
                    let s = stage + oy * sw, d = dst + oy * g.wo
                    if accumulate { for i in 0..<g.wo { d[i] += s[i] } } else { Conv2D.copyShort(d, s, g.wo) }
                }
            }
        }
    }

    /// y (+)= conv3×3(x, w) + bias, stride 1 — same contract as `Conv2D.forward`.
    public static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                               workspace ws: Workspace, accumulate: Bool) throws {
        guard g.n > 0 else { return }
        let tiles = Tiles(g)
        let parts = Conv2D.threadsForImages(g)
        let tileCap = max(1, min(tilesPerGEMM, scratchBudget / (16 * (g.cin + g.cout) * MemoryLayout<Float>.size)))
        let nbMax = max(1, min(max(1, g.n / parts), tileCap / max(tiles.perImage, 1)))
        let ld = nbMax * tiles.perImage
        let uS = try ws.scratch(Float.self, count: 16 * g.cout * g.cin)
        transformWeights(g, w: w, u: uS.pointer)
        let vSize = 16 * g.cin * ld, mSize = 16 * g.cout * ld
        let vS = try ws.scratch(Float.self, count: vSize * parts), mS = try ws.scratch(Float.self, count: mSize * parts)
        defer { withExtendedLifetime((uS, vS, mS)) {} }
        let u = uS.pointer
        ThreadPool.shared.run(parts: parts) { t in
            let images = parts == 1 ? 0..<g.n : partRange(t, of: parts, g.n)
            let v = vS.pointer + t * vSize, m = mS.pointer + t * mSize
            var n0 = images.lowerBound
            while n0 < images.upperBound {
                let nb = min(nbMax, images.upperBound - n0)
                let cols = nb * tiles.perImage
                transformInput(g, x: x, n0: n0, nb: nb, v: v, ld: ld)
                for xi in 0..<16 {
                    BLAS.sgemm(transA: false, transB: false, m: g.cout, n: cols, k: g.cin, alpha: 1,
                               a: u + xi * g.cout * g.cin, lda: g.cin, b: v + xi * g.cin * ld, ldb: ld,
                               beta: 0, c: m + xi * g.cout * ld, ldc: ld)
                }
                transformOutput(g, m: m, n0: n0, nb: nb, ld: ld, bias: bias, y: y, accumulate: accumulate)
                n0 += nb
            }
        }
    }

    // MARK: fused (AVX-512)

    /// Whether 3×3 stride-1 pad-1 convolutions run the fused kernel
    /// (`ck_winograd_forward_avx512`: transforms and the 16 GEMMs per panel of 48 tiles, on the
    /// AVX-512 micro-kernel) where it applies (see `fusedApplies`). On by default.
    nonisolated(unsafe) public static var useFused = true
    /// Whether weight gradients of the layers `fusedApplies` accepts run
    /// `ck_winograd_weight_grad_avx512` (when each thread owns whole images). On by default.
    nonisolated(unsafe) public static var useWeightGrad = true
    /// Every shape the fused kernel accepts takes it (tests; `CTR_BENCH_AB=winograd`).
    nonisolated(unsafe) public static var fusedForceAll = false

    /// 3×3, stride 1, padding 1 with the AVX-512 GEMM in use, and the shapes where it measured
    /// faster than the fused im2col kernel (`contrastive-bench layers`; see the README): at
    /// least 32 input and output channels.
    public static func fusedApplies(_ g: ConvGeometry) -> Bool {
        guard g.kh == 3, g.kw == 3, g.sh == 1, g.sw == 1, g.ph == 1, g.pw == 1,
              BLAS.kernel == .avx512, BLAS.avx512Available, g.n * g.cin * g.inPlane <= Int(Int32.max) else { return false }
        if fusedForceAll { return true }
        return enabled && useFused && g.cin >= 32 && g.cout >= 32
    }

    /// Winograd-domain weights for the fused kernel, U[block of 8 output channels][ξ][ci][8].
    static func fusedWeights(_ g: ConvGeometry, w: UnsafePointer<Float>, workspace ws: Workspace) throws -> Workspace.Scratch<Float> {
        let uS = try ws.scratch(Float.self, count: ck_winograd_weight_floats(g.cin, g.cout))
        let blocks = (g.cout + 7) / 8, u = uS.pointer
        parallelFor(blocks, grain: max(1, 4096 / max(g.cin, 1))) { r in
            ck_winograd_weights(w, g.cout, g.cin, r.lowerBound, r.upperBound, u)
        }
        return uS
    }

    /// y = relu?(conv(x, w) + beta·y + bias + add) by the fused kernel — `Conv2D.forwardFused`'s
    /// contract (threads own whole images when there are enough, else blocks of 8 output
    /// channels). Stride-1 backward-data passes reach it too, as forward convolutions of dy
    /// with the flipped kernel (`Conv2D.backward`). Returns false (nothing written) if the
    /// kernel refused its arguments.
    static func forwardFused(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                             bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                             workspace ws: Workspace, accumulate: Bool,
                             add: UnsafePointer<Float>? = nil, relu: Bool = false) throws -> Bool {
        var shape = ck_conv_shape(cin: g.cin, h: g.h, w: g.w, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, ho: g.ho, wo: g.wo)
        let split = Conv2D.ForwardSplit(g)
        let uS = try fusedWeights(g, w: w, workspace: ws)
        let scratchFloats = ck_winograd_scratch_floats(g.cin, g.cout)
        let sS = try ws.scratch(Float.self, count: scratchFloats * split.parts)
        defer { withExtendedLifetime((uS, sS)) {} }
        let u = uS.pointer, scratch = sS.pointer
        return try withUnsafePointer(to: &shape) { sp in
            try split.run(g, accumulate: accumulate, kernel: "Winograd") { t, images, channels in
                let o = images.lowerBound * g.cout * g.outPlane + channels.lowerBound * g.outPlane
                // U holds blocks of 8 output channels; a part's channels start on a block.
                return ck_winograd_forward_avx512(sp, x + images.lowerBound * g.cin * g.inPlane, images.count, channels.count,
                                                  u + channels.lowerBound / 8 * 16 * g.cin * 8, accumulate ? 1 : 0,
                                                  y + o, g.cout * g.outPlane, bias.map { $0 + channels.lowerBound },
                                                  add.map { $0 + o }, relu ? 1 : 0, scratch + t * scratchFloats)
            }
        }
    }
}
