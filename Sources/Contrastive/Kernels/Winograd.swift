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
public enum Winograd {
    /// Whether eligible convolutions use this algorithm. Off by default: with OpenBLAS for the
    /// 16 small-K GEMMs and plain transforms it measured ~0.75× the im2col path on the
    /// ResNet-18 CIFAR layers (make bench-ops --winograd); it needs its own fused kernels.
    nonisolated(unsafe) public static var enabled = false
    /// Tiles per GEMM (N): enough for OpenBLAS to run near peak, small enough to stay in cache.
    public static let tilesPerGEMM = 2048

    /// 3×3 kernels, stride 1, padding ≤ 2, and enough channels that the 16 GEMMs are efficient.
    public static func applies(_ g: ConvGeometry) -> Bool {
        enabled && g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.cin >= 16 && g.cout >= 16
    }

    /// U[ξ][co][ci] = (G w[co, ci] Gᵀ)[ξ].
    static func transformWeights(_ g: ConvGeometry, w: UnsafePointer<Float>, u: UnsafeMutablePointer<Float>) {
        let cc = g.cout * g.cin
        parallelFor(cc, grain: 256) { r in
            for idx in r {
                let k = w + idx * 9
                // Gg (4×3)
                var t = [Float](repeating: 0, count: 12)
                for c in 0..<3 {
                    let g0 = k[c], g1 = k[3 + c], g2 = k[6 + c]
                    t[c] = g0
                    t[3 + c] = 0.5 * (g0 + g1 + g2)
                    t[6 + c] = 0.5 * (g0 - g1 + g2)
                    t[9 + c] = g2
                }
                for row in 0..<4 {
                    let r0 = t[row * 3], r1 = t[row * 3 + 1], r2 = t[row * 3 + 2]
                    u[(row * 4 + 0) * cc + idx] = r0
                    u[(row * 4 + 1) * cc + idx] = 0.5 * (r0 + r1 + r2)
                    u[(row * 4 + 2) * cc + idx] = 0.5 * (r0 - r1 + r2)
                    u[(row * 4 + 3) * cc + idx] = r2
                }
            }
        }
    }

    struct Tiles {
        let th: Int, tw: Int
        var perImage: Int { th * tw }
        init(_ g: ConvGeometry) { th = (g.ho + 1) / 2; tw = (g.wo + 1) / 2 }
    }

    /// V[ξ][ci][t] for images n0..<n0+nb, t = b·T₁ + ty·tw + tx; row length `ld` (≥ nb·T₁).
    static func transformInput(_ g: ConvGeometry, x: UnsafePointer<Float>, n0: Int, nb: Int,
                               v: UnsafeMutablePointer<Float>, ld: Int) {
        let tiles = Tiles(g)
        let plane = g.h * g.w
        let stride = g.cin * ld     // distance between ξ planes
        parallelFor(g.cin * nb, grain: 2) { r in
            var d = SIMD16<Float>()
            for job in r {
                let ci = job % g.cin, b = job / g.cin
                let src = x + ((n0 + b) * g.cin + ci) * plane
                let base = v + ci * ld + b * tiles.perImage
                for ty in 0..<tiles.th {
                    let iy0 = 2 * ty - g.ph
                    let rowsInside = iy0 >= 0 && iy0 + 3 < g.h
                    for tx in 0..<tiles.tw {
                        let ix0 = 2 * tx - g.pw
                        if rowsInside && ix0 >= 0 && ix0 + 3 < g.w {
                            let p = src + iy0 * g.w + ix0
                            for rr in 0..<4 { for cc in 0..<4 { d[rr * 4 + cc] = p[rr * g.w + cc] } }
                        } else {
                            for rr in 0..<4 {
                                let iy = iy0 + rr
                                for cc in 0..<4 {
                                    let ix = ix0 + cc
                                    d[rr * 4 + cc] = (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) ? src[iy * g.w + ix] : 0
                                }
                            }
                        }
                        // Bᵀ d (rows), then · B (columns).
                        var t = SIMD16<Float>()
                        for c in 0..<4 {
                            let d0 = d[c], d1 = d[4 + c], d2 = d[8 + c], d3 = d[12 + c]
                            t[c] = d0 - d2; t[4 + c] = d1 + d2; t[8 + c] = d2 - d1; t[12 + c] = d1 - d3
                        }
                        let o = base + ty * tiles.tw + tx
                        for row in 0..<4 {
                            let r0 = t[row * 4], r1 = t[row * 4 + 1], r2 = t[row * 4 + 2], r3 = t[row * 4 + 3]
                            o[(row * 4 + 0) * stride] = r0 - r2
                            o[(row * 4 + 1) * stride] = r1 + r2
                            o[(row * 4 + 2) * stride] = r2 - r1
                            o[(row * 4 + 3) * stride] = r1 - r3
                        }
                    }
                }
            }
        }
    }

    /// y (+)= Aᵀ M A (+ bias) for images n0..<n0+nb, from M[ξ][co][t] with row length `ld`.
    static func transformOutput(_ g: ConvGeometry, m: UnsafePointer<Float>, n0: Int, nb: Int, ld: Int,
                                bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let tiles = Tiles(g)
        let plane = g.ho * g.wo
        let stride = g.cout * ld
        parallelFor(g.cout * nb, grain: 2) { r in
            for job in r {
                let co = job % g.cout, b = job / g.cout
                let bv = bias?[co] ?? 0
                let dst = y + ((n0 + b) * g.cout + co) * plane
                let base = m + co * ld + b * tiles.perImage
                for ty in 0..<tiles.th {
                    for tx in 0..<tiles.tw {
                        let p = base + ty * tiles.tw + tx
                        // Aᵀ m: s0 = m0 + m1 + m2, s1 = m1 − m2 − m3 (rows of 4).
                        var s0 = SIMD4<Float>(), s1 = SIMD4<Float>()
                        for c in 0..<4 {
                            let m0 = p[c * stride], m1 = p[(4 + c) * stride], m2 = p[(8 + c) * stride], m3 = p[(12 + c) * stride]
                            s0[c] = m0 + m1 + m2
                            s1[c] = m1 - m2 - m3
                        }
                        let y00 = s0[0] + s0[1] + s0[2] + bv, y01 = s0[1] - s0[2] - s0[3] + bv
                        let y10 = s1[0] + s1[1] + s1[2] + bv, y11 = s1[1] - s1[2] - s1[3] + bv
                        let oy = 2 * ty, ox = 2 * tx
                        let q = dst + oy * g.wo + ox
                        let right = ox + 1 < g.wo, down = oy + 1 < g.ho
                        if accumulate {
                            q[0] += y00
                            if right { q[1] += y01 }
                            if down { q[g.wo] += y10; if right { q[g.wo + 1] += y11 } }
                        } else {
                            q[0] = y00
                            if right { q[1] = y01 }
                            if down { q[g.wo] = y10; if right { q[g.wo + 1] = y11 } }
                        }
                    }
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
        let nbMax = max(1, min(max(1, g.n / parts), tilesPerGEMM / max(tiles.perImage, 1)))
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
}
