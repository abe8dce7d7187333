/// Small vector primitives shared by the kernels. Reductions use explicit SIMD accumulators
/// (the compiler may not reassociate float sums), so their order — and result — is fixed.
public enum Vec {
    /// Σ x[i]
    @inlinable
    public static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD16<Float>(repeating: 0)
        var i = 0
        while i + 16 <= n {
            acc += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            i += 16
        }
        var s = acc.sum()
        while i < n { s += x[i]; i += 1 }
        return s
    }

    /// Σ x[i]·y[i]
    @inlinable
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD16<Float>(repeating: 0)
        var i = 0
        while i + 16 <= n {
            let a = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            let b = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
            acc.addProduct(a, b)
            i += 16
        }
        var s = acc.sum()
        while i < n { s += x[i] * y[i]; i += 1 }
        return s
    }

    /// (Σ g[i], Σ g[i]·x[i]) with g[i] = dy[i] where mask[i] > 0, else 0 — a fused ReLU mask.
    @inlinable
    public static func maskedSumDot(_ dy: UnsafePointer<Float>, mask: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) -> (Float, Float) {
        var s = SIMD16<Float>(repeating: 0), d = SIMD16<Float>(repeating: 0)
        let zero = SIMD16<Float>(repeating: 0)
        var i = 0
        while i + 16 <= n {
            let m = UnsafeRawPointer(mask + i).loadUnaligned(as: SIMD16<Float>.self)
            let g = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD16<Float>.self).replacing(with: zero, where: m .<= zero)
            s += g
            d.addProduct(g, UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self))
            i += 16
        }
        var ss = s.sum(), dd = d.sum()
        while i < n { let g: Float = mask[i] > 0 ? dy[i] : 0; ss += g; dd += g * x[i]; i += 1 }
        return (ss, dd)
    }

    /// Σ (x[i] − m)²
    @inlinable
    public static func sumSquaredDeviation(_ x: UnsafePointer<Float>, _ n: Int, mean m: Float) -> Float {
        var acc = SIMD16<Float>(repeating: 0)
        let mv = SIMD16<Float>(repeating: m)
        var i = 0
        while i + 16 <= n {
            let d = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self) - mv
            acc.addProduct(d, d)
            i += 16
        }
        var s = acc.sum()
        while i < n { let d = x[i] - m; s += d * d; i += 1 }
        return s
    }

    /// y[i] (+)= x[i]
    @inlinable
    public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, _ n: Int, accumulate: Bool) {
        if accumulate { for i in 0..<n { y[i] += x[i] } } else { y.update(from: x, count: n) }
    }
}
