/// Max pooling (k×k window, stride, −∞ padding as PyTorch) and global average pooling.
public enum MaxPool2D {
    public struct Geometry: Equatable {
        public let n, c, h, w, k, stride, pad, ho, wo: Int
        public init(n: Int, c: Int, h: Int, w: Int, k: Int, stride: Int, pad: Int) throws {
            guard n >= 0, c > 0, h > 0, w > 0, k > 0, stride > 0, pad >= 0, 2 * pad <= k else {
                throw ContrastiveError.invalid("max_pool2d: kernel \(k), stride \(stride), padding \(pad) (needs k ≥ 1, stride ≥ 1, 0 ≤ 2·pad ≤ k) on \(c)×\(h)×\(w)")
            }
            guard h + 2 * pad >= k, w + 2 * pad >= k else {
                throw ContrastiveError.shape("max_pool2d: window \(k) larger than padded input \(h)×\(w)")
            }
            self.n = n; self.c = c; self.h = h; self.w = w; self.k = k; self.stride = stride; self.pad = pad
            ho = (h + 2 * pad - k) / stride + 1
            wo = (w + 2 * pad - k) / stride + 1
        }
    }

    /// y (N,C,Ho,Wo) and the flat in-plane index of each maximum (first maximum wins; NaN propagates).
    public static func forward(_ g: Geometry, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>) {
        if g.k == 2 && g.stride == 2 && g.pad == 0 && useFastPath { forward2x2(g, x: x, y: y, argmax: argmax); return }
        reference(g, x: x, y: y, argmax: argmax)
    }

    /// Whether 2×2/2 unpadded pooling takes `forward2x2` (tests compare it with `reference`).
    nonisolated(unsafe) public static var useFastPath = true

    /// The 2×2, stride-2, unpadded window (every ConvNet stage): the four candidates in window
    /// order with the same first-maximum-wins and NaN rules as `reference`, with no loops or
    /// clamping inside a window (the windows never leave the input).
    static func forward2x2(_ g: Geometry, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>) {
        let w = g.w, ho = g.ho, wo = g.wo, inPlane = g.h * g.w, outPlane = ho * wo
        let lane = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
        let w32 = Int32(w)
        parallelFor(g.n * g.c, grain: max(1, 4096 / max(outPlane, 1))) { planes in
            // Row pairs of a last group narrower than 8 windows, padded with −∞ (which never wins).
            let tmp = UnsafeMutablePointer<Float>.allocate(capacity: 48)
            let tmpI = UnsafeMutableRawPointer(tmp + 32).assumingMemoryBound(to: Int32.self)
            defer { tmp.deallocate() }
            for p in planes {
                let xp = x + p * inPlane, yp = y + p * outPlane, ap = argmax + p * outPlane
                for oy in 0..<ho {
                    let r0 = xp + 2 * oy * w, r1 = r0 + w
                    let base = Int32(truncatingIfNeeded: 2 * oy * w)
                    let yr = yp + oy * wo, ar = ap + oy * wo
                    var ox = 0
                    // Eight windows at a time: even/odd columns of two rows, compare-and-select in
                    // window order (a strict > keeps the first maximum). A group holding a NaN
                    // takes the scalar rule of the general loop.
                    while ox < wo {
                        let cnt = min(8, wo - ox)
                        let v0: SIMD16<Float>, v1: SIMD16<Float>
                        if cnt == 8 {
                            v0 = UnsafeRawPointer(r0 + 2 * ox).loadUnaligned(as: SIMD16<Float>.self)
                            v1 = UnsafeRawPointer(r1 + 2 * ox).loadUnaligned(as: SIMD16<Float>.self)
                        } else {
                            for i in 0..<16 { tmp[i] = -.infinity; tmp[16 + i] = -.infinity }
                            for i in 0..<(2 * cnt) { tmp[i] = r0[2 * ox + i]; tmp[16 + i] = r1[2 * ox + i] }
                            v0 = UnsafeRawPointer(tmp).loadUnaligned(as: SIMD16<Float>.self)
                            v1 = UnsafeRawPointer(tmp + 16).loadUnaligned(as: SIMD16<Float>.self)
                        }
                        let a = v0.evenHalf, b = v0.oddHalf, c = v1.evenHalf, d = v1.oddHalf
                        let i0 = SIMD8<Int32>(repeating: base &+ Int32(truncatingIfNeeded: 2 * ox)) &+ lane
                        var best = a, bi = i0
                        let nan = (a .!= a) .| (b .!= b) .| (c .!= c) .| (d .!= d)
                        if any(nan) {
                            for l in 0..<8 {
                                var m = -Float.infinity, mi = i0[l]
                                let cand = [(a[l], i0[l]), (b[l], i0[l] &+ 1), (c[l], i0[l] &+ w32), (d[l], i0[l] &+ w32 &+ 1)]
                                for (v, vi) in cand where v > m || v.isNaN { m = v; mi = vi; if v.isNaN { break } }
                                best[l] = m; bi[l] = mi
                            }
                        } else {
                            let mb = b .> best
                            best.replace(with: b, where: mb); bi.replace(with: i0 &+ 1, where: mb)
                            let mc = c .> best
                            best.replace(with: c, where: mc); bi.replace(with: i0 &+ w32, where: mc)
                            let md = d .> best
                            best.replace(with: d, where: md); bi.replace(with: i0 &+ (w32 &+ 1), where: md)
                        }
                        if cnt == 8 {
                            UnsafeMutableRawPointer(yr + ox).storeBytes(of: best, as: SIMD8<Float>.self)
                            UnsafeMutableRawPointer(ar + ox).storeBytes(of: bi, as: SIMD8<Int32>.self)
                        } else {
                            UnsafeMutableRawPointer(tmp).storeBytes(of: best, as: SIMD8<Float>.self)
                            UnsafeMutableRawPointer(tmpI).storeBytes(of: bi, as: SIMD8<Int32>.self)
                            for l in 0..<cnt { yr[ox + l] = tmp[l]; ar[ox + l] = tmpI[l] }
                        }
                        ox += cnt
                    }
                }
            }
        }
    }

    /// Any window: the general loop (also the reference for `forward2x2`).
    public static func reference(_ g: Geometry, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>) {
        parallelFor(g.n * g.c, grain: 4) { planes in
            for p in planes {
                let xp = x + p * g.h * g.w, yp = y + p * g.ho * g.wo, ap = argmax + p * g.ho * g.wo
                for oy in 0..<g.ho {
                    let y0 = max(oy * g.stride - g.pad, 0), y1 = min(oy * g.stride - g.pad + g.k, g.h)
                    for ox in 0..<g.wo {
                        let x0 = max(ox * g.stride - g.pad, 0), x1 = min(ox * g.stride - g.pad + g.k, g.w)
                        var best = -Float.infinity, bi = y0 * g.w + x0
                        for iy in y0..<y1 { for ix in x0..<x1 {
                            let v = xp[iy * g.w + ix]
                            if v > best || v.isNaN { best = v; bi = iy * g.w + ix; if v.isNaN { break } }
                        } }
                        yp[oy * g.wo + ox] = best
                        ap[oy * g.wo + ox] = Int32(bi)
                    }
                }
            }
        }
    }

    /// dx[argmax] += dy, plane by plane (planes are disjoint, so threads never collide).
    public static func backward(_ g: Geometry, dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>,
                                dx: UnsafeMutablePointer<Float>, accumulate: Bool) {
        parallelFor(g.n * g.c, grain: 4) { planes in
            for p in planes {
                let dxp = dx + p * g.h * g.w, dyp = dy + p * g.ho * g.wo, ap = argmax + p * g.ho * g.wo
                if !accumulate { dxp.update(repeating: 0, count: g.h * g.w) }
                for i in 0..<(g.ho * g.wo) { dxp[Int(ap[i])] += dyp[i] }
            }
        }
    }
}

public enum GlobalAvgPool {
    /// y[n, c] = mean over the plane of x[n, c].
    public static func forward(planes: Int, size: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let inv = 1 / Float(size)
        parallelFor(planes, grain: 64) { r in for p in r { y[p] = Vec.sum(x + p * size, size) * inv } }
    }

    /// dx[n, c, :] (+)= dy[n, c] / size.
    public static func backward(planes: Int, size: Int, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let inv = 1 / Float(size)
        parallelFor(planes, grain: 64) { r in
            for p in r {
                let v = dy[p] * inv, d = dx + p * size
                if accumulate { for i in 0..<size { d[i] += v } } else { d.update(repeating: v, count: size) }
            }
        }
    }
}
