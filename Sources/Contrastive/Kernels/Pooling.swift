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
