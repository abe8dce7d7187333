/// Vectorised exp for the softmax passes of the objectives.
///
/// The contrastive losses spend most of their non-GEMM time in exp (one per similarity in the
/// forward pass, two in the backward pass); the scalar `expf` does not vectorise, this does.
/// Cephes' single-precision scheme: x = n·ln2 + r with |r| ≤ ln2/2, exp(r) by a degree-6
/// polynomial, 2ⁿ assembled in the exponent bits. Relative error ≤ 2 ulp on [−87, 88]
/// (checked against `expf` in the tests); inputs below −87 give exactly 0 (so masked entries
/// set to −∞ contribute nothing), inputs above 88 saturate at exp(88).
public enum FastExp {
    public typealias V = SIMD16<Float>

    @inline(__always)
    public static func exp(_ x: V) -> V {
        let lo = V(repeating: -87), hi = V(repeating: 88)
        let xc = x.replacing(with: lo, where: x .< lo).replacing(with: hi, where: x .> hi)
        // n = round(x / ln2) via the 1.5·2²³ trick: the integer lands in the low mantissa bits.
        let magic = V(repeating: 12582912)
        let t = xc * V(repeating: 1.44269504088896341) + magic
        let n = t - magic
        var r = xc - n * V(repeating: 0.693359375)
        r = r - n * V(repeating: -2.12194440e-4)
        var p = V(repeating: 1.9875691500e-4)
        p = p * r + V(repeating: 1.3981999507e-3)
        p = p * r + V(repeating: 8.3334519073e-3)
        p = p * r + V(repeating: 4.1665795894e-2)
        p = p * r + V(repeating: 1.6666665459e-1)
        p = p * r + V(repeating: 5.0000001201e-1)
        let y = p * (r * r) + r + V(repeating: 1)
        let ti = unsafeBitCast(t, to: SIMD16<Int32>.self)
        let mi = unsafeBitCast(magic, to: SIMD16<Int32>.self)
        let scale = unsafeBitCast((ti &- mi &+ SIMD16<Int32>(repeating: 127)) &<< SIMD16<Int32>(repeating: 23), to: V.self)
        return (y * scale).replacing(with: V(repeating: 0), where: x .< lo)
    }

    /// Scalar form with the same arithmetic (for loop tails), so a value does not depend on
    /// whether it fell in a vector or in the tail.
    @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(V(repeating: x))[0] }

    /// Σ exp(x[j] − shift) over j < n.
    @inline(__always)
    public static func sumExp(_ x: UnsafePointer<Float>, _ n: Int, shift: Float) -> Float {
        var acc = V(repeating: 0)
        let sv = V(repeating: shift)
        var j = 0
        while j + 16 <= n {
            acc += exp(UnsafeRawPointer(x + j).loadUnaligned(as: V.self) - sv)
            j += 16
        }
        var s = acc.sum()
        while j < n { s += exp(x[j] - shift); j += 1 }
        return s
    }

    /// max x[j] over j < n (−∞ for n = 0; NaN if any element is NaN).
    @inline(__always)
    public static func max(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = V(repeating: -.infinity)
        var nan = false
        var j = 0
        while j + 16 <= n {
            let v = UnsafeRawPointer(x + j).loadUnaligned(as: V.self)
            nan = nan || any(v .!= v)
            acc = acc.replacing(with: v, where: v .> acc)
            j += 16
        }
        var m = acc.max()
        while j < n { if x[j] > m { m = x[j] }; if x[j].isNaN { nan = true }; j += 1 }
        return nan ? .nan : m
    }

    /// y[j] = exp((x[j] − shift) · scale) for j < n (the tail through a partial vector).
    @inline(__always)
    public static func expRow(_ x: UnsafePointer<Float>, _ n: Int, shift: Float, scale: Float, _ y: UnsafeMutablePointer<Float>) {
        let sv = V(repeating: shift), kv = V(repeating: scale)
        var j = 0
        while j + 16 <= n {
            let v = UnsafeRawPointer(x + j).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(y + j).storeBytes(of: exp((v - sv) * kv), as: V.self)
            j += 16
        }
        if j < n {
            var v = V(repeating: shift)
            for t in 0..<(n - j) { v[t] = x[j + t] }
            let r = exp((v - sv) * kv)
            for t in 0..<(n - j) { y[j + t] = r[t] }
        }
    }
}
