/// Elementwise kernels. All run in parallel over contiguous ranges.
public enum Pointwise {
    public static let grain = 1 << 15

    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        parallelFor(n, grain: grain) { r in for i in r { y[i] = max(x[i], 0) } }
    }

    /// dx (+)= dy where y > 0 (PyTorch's convention: the subgradient at 0 is 0).
    public static func reluBackward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, _ n: Int, accumulate: Bool) {
        parallelFor(n, grain: grain) { r in
            if accumulate { for i in r { dx[i] += y[i] > 0 ? dy[i] : 0 } } else { for i in r { dx[i] = y[i] > 0 ? dy[i] : 0 } }
        }
    }

    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        parallelFor(n, grain: grain) { r in for i in r { y[i] = a[i] + b[i] } }
    }

    /// y = max(a + b, 0) — a residual join.
    public static func addReLU(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        parallelFor(n, grain: grain) { r in for i in r { y[i] = max(a[i] + b[i], 0) } }
    }

    public static func mul(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        parallelFor(n, grain: grain) { r in for i in r { y[i] = a[i] * b[i] } }
    }

    public static func scale(_ a: UnsafePointer<Float>, _ s: Float, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        parallelFor(n, grain: grain) { r in for i in r { y[i] = a[i] * s } }
    }

    /// d (+)= s·g
    public static func axpy(_ s: Float, _ g: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int, accumulate: Bool) {
        parallelFor(n, grain: grain) { r in
            if accumulate { for i in r { d[i] += s * g[i] } } else { for i in r { d[i] = s * g[i] } }
        }
    }

    /// d (+)= g·o
    public static func mulAcc(_ g: UnsafePointer<Float>, _ o: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int, accumulate: Bool) {
        parallelFor(n, grain: grain) { r in
            if accumulate { for i in r { d[i] += g[i] * o[i] } } else { for i in r { d[i] = g[i] * o[i] } }
        }
    }

    /// Σ x in a fixed order: per-thread partials combined in thread order, accumulated in Double.
    public static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
        let parts = parallelParts(n, grain: grain)
        var partial = [Double](repeating: 0, count: parts)
        partial.withUnsafeMutableBufferPointer { pp in
            let out = pp.baseAddress!
            ThreadPool.shared.run(parts: parts) { p in
                let r = partRange(p, of: parts, n)
                var s = 0.0, i = r.lowerBound
                while i < r.upperBound { let e = min(i + 4096, r.upperBound); s += Double(Vec.sum(x + i, e - i)); i = e }
                out[p] = s
            }
        }
        return partial.reduce(0, +)
    }
}
