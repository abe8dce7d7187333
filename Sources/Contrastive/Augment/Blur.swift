// Gaussian blur (torchvision v2 `gaussian_blur`): separable kernel from σ, reflect padding.
#if canImport(Glibc)
import Glibc
#endif

public enum Blur {
    /// SimCLR's kernel size: ⌊0.1·side⌋, made odd (+1 when even); 1 means "no blur".
    public static func autoKernel(side: Int) -> Int {
        let k = side / 10
        return k % 2 == 0 ? k + 1 : k
    }

    /// Kernel weights exp(−x²/(2σ²)) at x = i − (k−1)/2, normalised to sum 1 (equals torchvision's
    /// softmax form). `k` odd ≥ 1, σ > 0.
    static func kernel(_ k: Int, sigma: Double, into w: UnsafeMutablePointer<Float>) {
        var total = 0.0
        let c = Double(k - 1) / 2
        for i in 0..<k { let x = (Double(i) - c) / sigma; total += exp(-0.5 * x * x) }
        for i in 0..<k { let x = (Double(i) - c) / sigma; w[i] = Float(exp(-0.5 * x * x) / total) }
    }

    /// Mirror an index into 0..<n without repeating the edge (torch `reflect` padding; indices
    /// further out than one reflection keep bouncing, so any kernel size works on any image).
    @inline(__always) static func reflect(_ i: Int, _ n: Int) -> Int {
        if i >= 0 && i < n { return i }
        if i < 0 && -i < n { return -i }                       // one reflection: no division
        if i >= n && i <= 2 * (n - 1) { return 2 * (n - 1) - i }
        if n == 1 { return 0 }
        var i = i
        let period = 2 * (n - 1)
        i %= period
        if i < 0 { i += period }
        return i < n ? i : period - i
    }

    /// Blur `src` with a k×k Gaussian of standard deviation σ into `dst` (tmp: c·h·w floats).
    /// With `quantize` the result is rounded half to even (torch's uint8 path).
    public static func gaussian(_ src: Plane, k: Int, sigma: Double, quantize: Bool,
                                tmp: UnsafeMutablePointer<Float>, dst: UnsafeMutablePointer<Float>,
                                scratch: AugmentScratch) throws -> Plane {
        let h = src.h, w = src.w, r = k / 2
        let wt = try scratch.weights.reserve(k)
        kernel(k, sigma: sigma, into: wt)
        for c in 0..<src.c {
            let s = src.channel(c), t = tmp + c * h * w, d = dst + c * h * w
            // Horizontal: interior without index checks, borders reflected.
            let lo = min(r, w), hi = max(lo, w - r)
            for y in 0..<h {
                let srow = s + y * w, trow = t + y * w
                for x in 0..<lo {
                    var acc: Float = 0
                    for j in 0..<k { acc += wt[j] * srow[reflect(x + j - r, w)] }
                    trow[x] = acc
                }
                if hi > lo {
                    // Taps outer, pixels inner (vectorises); per pixel the sum is still
                    // w0·s0 + w1·s1 + … in tap order.
                    for x in lo..<hi { trow[x] = 0 }
                    for j in 0..<k {
                        let wj = wt[j], b = srow + j - r
                        for x in lo..<hi { trow[x] += wj * b[x] }
                    }
                }
                if hi < w {
                    for x in hi..<w {
                        var acc: Float = 0
                        for j in 0..<k { acc += wt[j] * srow[reflect(x + j - r, w)] }
                        trow[x] = acc
                    }
                }
            }
            // Vertical: whole rows at a time.
            for y in 0..<h {
                let drow = d + y * w
                for x in 0..<w { drow[x] = 0 }
                for j in 0..<k {
                    let srow = t + reflect(y + j - r, h) * w
                    let wj = wt[j]
                    for x in 0..<w { drow[x] += wj * srow[x] }
                }
                if quantize { for x in 0..<w { drow[x] = roundEvenClamp255(drow[x]) } }
            }
        }
        return Plane(data: dst, c: src.c, h: h, w: w)
    }
}
