// Photometric ops on planar 0…255 images, in place. torchvision.transforms.v2.functional
// semantics; with `quantize` (the uint8 path) each op ends the way torch's uint8 kernel does:
// brightness/contrast/saturation/grayscale clamp then truncate (`.to(uint8)`), hue converts
// back with ×255.999 and truncation, equalize works on integer levels.
//
// Channel rule: brightness, contrast, saturation and hue (ColorJitter) and grayscale accept
// 1 or 3 channels (on 1 channel saturation, hue and grayscale do nothing and contrast uses
// the image mean, as torchvision); other channel counts are refused with UNSUPPORTED.
// Solarize and equalize act on each channel separately and accept any channel count.
#if canImport(Glibc)
import Glibc
#endif

public enum Color {
    static let wr: Float = 0.2989, wg: Float = 0.587, wb: Float = 0.114

    @inline(__always) static func finish(_ v: Float, _ quantize: Bool) -> Float {
        quantize ? clampTrunc255(v) : min(max(v, 0), 255)
    }

    static func requireRGBorGray(_ p: Plane, _ what: String) throws {
        guard p.c == 1 || p.c == 3 else {
            throw ContrastiveError(.unsupported, "\(what) needs 1 or 3 channels (RGB or grey), the image has \(p.c); drop the op from the pipeline for other channel counts")
        }
    }

    /// ITU-R 601-2 luma as torchvision: 0.2989·R + 0.587·G + 0.114·B (floored on the uint8 path).
    @inline(__always) static func luma(_ r: Float, _ g: Float, _ b: Float, _ quantize: Bool) -> Float {
        var l = r * wr
        l = l + g * wg
        l = l + b * wb
        return quantize ? l.rounded(.down) : l
    }

    /// x·f, clamped (torchvision `adjust_brightness`).
    public static func brightness(_ p: Plane, _ f: Float, quantize: Bool) {
        let n = p.count, d = p.data
        for i in 0..<n { d[i] = finish(d[i] * f, quantize) }
    }

    /// Blend with the mean of the greyscale image: x·f + mean·(1−f) (torchvision `adjust_contrast`).
    public static func contrast(_ p: Plane, _ f: Float, quantize: Bool) throws {
        try requireRGBorGray(p, "contrast")
        let hw = p.h * p.w
        var sum = 0.0
        if p.c == 3 {
            let r = p.channel(0), g = p.channel(1), b = p.channel(2)
            for i in 0..<hw { sum += Double(luma(r[i], g[i], b[i], quantize)) }
        } else {
            for i in 0..<hw { sum += Double(p.data[i]) }
        }
        let mean = Float(sum / Double(hw))
        let m = mean * (1 - f)
        let n = p.count, d = p.data
        for i in 0..<n { d[i] = finish(d[i] * f + m, quantize) }
    }

    /// Blend each pixel with its own grey value: x·f + grey·(1−f) (torchvision `adjust_saturation`).
    public static func saturation(_ p: Plane, _ f: Float, quantize: Bool) throws {
        try requireRGBorGray(p, "saturation")
        guard p.c == 3 else { return }
        let hw = p.h * p.w
        let r = p.channel(0), g = p.channel(1), b = p.channel(2)
        let f1 = 1 - f
        // Eight pixels at a time (same operations in the same order as the scalar tail).
        typealias V = SIMD8<Float>
        let vwr = V(repeating: wr), vwg = V(repeating: wg), vwb = V(repeating: wb)
        let vf = V(repeating: f), vf1 = V(repeating: f1), lo = V(repeating: 0), hi = V(repeating: 255)
        var i0 = 0
        while i0 + 8 <= hw {
            let rv = UnsafeRawPointer(r + i0).loadUnaligned(as: V.self)
            let gv = UnsafeRawPointer(g + i0).loadUnaligned(as: V.self)
            let bv = UnsafeRawPointer(b + i0).loadUnaligned(as: V.self)
            var l = rv * vwr
            l = l + gv * vwg
            l = l + bv * vwb
            if quantize { l = l.rounded(.down) }
            l = l * vf1
            var ro = rv * vf + l, go = gv * vf + l, bo = bv * vf + l
            ro = vmin(vmax(ro, lo), hi); go = vmin(vmax(go, lo), hi); bo = vmin(vmax(bo, lo), hi)
            if quantize { ro = ro.rounded(.towardZero); go = go.rounded(.towardZero); bo = bo.rounded(.towardZero) }
            UnsafeMutableRawPointer(r + i0).storeBytes(of: ro, as: V.self)
            UnsafeMutableRawPointer(g + i0).storeBytes(of: go, as: V.self)
            UnsafeMutableRawPointer(b + i0).storeBytes(of: bo, as: V.self)
            i0 += 8
        }
        for i in i0..<hw {
            let l = luma(r[i], g[i], b[i], quantize) * f1
            r[i] = finish(r[i] * f + l, quantize)
            g[i] = finish(g[i] * f + l, quantize)
            b[i] = finish(b[i] * f + l, quantize)
        }
    }

    /// Shift the hue by `f` ∈ [−0.5, 0.5] turns through HSV (torchvision `adjust_hue`, its
    /// RGB→HSV→RGB formulas; the uint8 path converts with /255 and ×255.999 + truncation).
    public static func hue(_ p: Plane, _ f: Float, quantize: Bool) throws {
        try requireRGBorGray(p, "hue")
        guard p.c == 3 else { return }
        let hw = p.h * p.w
        let rp = p.channel(0), gp = p.channel(1), bp = p.channel(2)
        // Eight pixels at a time, branch-free: the same IEEE operations in the same order as
        // the scalar formulas, so lanes give exactly what torch computes per element.
        var i = 0
        while i + 8 <= hw {
            hue8(rp + i, gp + i, bp + i, f, quantize)
            i += 8
        }
        if i < hw {
            var r = [Float](repeating: 0, count: 8), g = r, b = r
            let n = hw - i
            for k in 0..<n { r[k] = rp[i + k]; g[k] = gp[i + k]; b[k] = bp[i + k] }
            r.withUnsafeMutableBufferPointer { rb in g.withUnsafeMutableBufferPointer { gb in b.withUnsafeMutableBufferPointer { bb in
                hue8(rb.baseAddress!, gb.baseAddress!, bb.baseAddress!, f, quantize)
            } } }
            for k in 0..<n { rp[i + k] = r[k]; gp[i + k] = g[k]; bp[i + k] = b[k] }
        }
    }

    // Lane-wise min/max through compares (the generic pointwiseMin/Max do not inline).
    @inline(__always) static func vmin(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { a.replacing(with: b, where: b .< a) }
    @inline(__always) static func vmax(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { a.replacing(with: b, where: b .> a) }

    @inline(__always)
    static func hue8(_ rp: UnsafeMutablePointer<Float>, _ gp: UnsafeMutablePointer<Float>, _ bp: UnsafeMutablePointer<Float>,
                     _ f: Float, _ quantize: Bool) {
        typealias V = SIMD8<Float>
        let inv255 = V(repeating: Float(1.0 / 255.0))
        let back = V(repeating: quantize ? 255.999 : 255)
        let one = V(repeating: 1), zero = V(repeating: 0)
        let r = UnsafeRawPointer(rp).loadUnaligned(as: V.self) * inv255
        let g = UnsafeRawPointer(gp).loadUnaligned(as: V.self) * inv255
        let b = UnsafeRawPointer(bp).loadUnaligned(as: V.self) * inv255
        let maxc = vmax(r, vmax(g, b)), minc = vmin(r, vmin(g, b))
        let eqc = maxc .== minc
        let cr = maxc - minc
        let s = cr / maxc.replacing(with: one, where: eqc)
        let div = cr.replacing(with: one, where: eqc)
        let rc = (maxc - r) / div, gc = (maxc - g) / div, bc = (maxc - b) / div
        let isR = maxc .== r, isG = (maxc .== g) .& .!isR
        var h = ((gc + 4) - rc).replacing(with: (rc + 2) - bc, where: isG).replacing(with: bc - gc, where: isR)
        h = h * V(repeating: Float(1.0 / 6.0)) + one
        h = h - h.rounded(.down)                       // fmod(h, 1) for h ≥ 0 (exact)
        h = h + V(repeating: f)
        h = h - h.rounded(.down)                       // remainder(h, 1)
        let h6 = h * 6
        let fi = h6.rounded(.down)
        let fr = h6 - fi
        let i = fi.replacing(with: zero, where: fi .>= 6)
        let v = maxc
        let sxf = s * fr
        let q = vmin(vmax((one - sxf) * v, zero), one)
        let t = vmin(vmax((sxf + (one - s)) * v, zero), one)
        let pp = vmin(vmax((one - s) * v, zero), one)
        let i0 = i .== 0, i1 = i .== 1, i2 = i .== 2, i3 = i .== 3, i4 = i .== 4
        // r: v q p p t v   g: t v v q p p   b: p p t v v q
        let ro = t.replacing(with: pp, where: i2 .| i3).replacing(with: q, where: i1).replacing(with: v, where: i0 .| .!(i0 .| i1 .| i2 .| i3 .| i4))
        let go = pp.replacing(with: q, where: i3).replacing(with: v, where: i1 .| i2).replacing(with: t, where: i0)
        let bo = q.replacing(with: v, where: i3 .| i4).replacing(with: t, where: i2).replacing(with: pp, where: i0 .| i1)
        var ro2 = ro * back, go2 = go * back, bo2 = bo * back
        if quantize { ro2 = ro2.rounded(.towardZero); go2 = go2.rounded(.towardZero); bo2 = bo2.rounded(.towardZero) }
        UnsafeMutableRawPointer(rp).storeBytes(of: ro2, as: V.self)
        UnsafeMutableRawPointer(gp).storeBytes(of: go2, as: V.self)
        UnsafeMutableRawPointer(bp).storeBytes(of: bo2, as: V.self)
    }

    /// Replace every channel by the luma, keeping the channel count (RandomGrayscale).
    public static func grayscale(_ p: Plane, quantize: Bool) throws {
        try requireRGBorGray(p, "grayscale")
        guard p.c == 3 else { return }
        let hw = p.h * p.w
        let r = p.channel(0), g = p.channel(1), b = p.channel(2)
        for i in 0..<hw {
            let l = luma(r[i], g[i], b[i], quantize)
            let v = quantize ? min(max(l, 0), 255) : l
            r[i] = v; g[i] = v; b[i] = v
        }
    }

    /// x ≥ threshold·255 → 255 − x (torchvision `solarize`; threshold as a fraction of the
    /// maximum, e.g. 0.5 ≡ 128 on uint8). Any channel count.
    public static func solarize(_ p: Plane, threshold: Float) {
        let t = threshold * 255
        let n = p.count, d = p.data
        for i in 0..<n { let v = d[i]; d[i] = v >= t ? 255 - v : v }
    }

    /// Histogram equalisation of each channel (torchvision v2 `equalize`, PIL's LUT:
    /// step = (pixels − count of the highest level) // 255, lut[k] = (cum[k−1] + step//2) // step,
    /// unchanged when step is 0). Float input is first quantised with ×255.999 (as torchvision).
    public static func equalize(_ p: Plane, quantize: Bool) {
        let hw = p.h * p.w
        var hist = [Int](repeating: 0, count: 256)
        var lut = [Float](repeating: 0, count: 256)
        let scale: Float = 255.999 / 255
        for k in 0..<p.c {
            let d = p.channel(k)
            for j in 0..<256 { hist[j] = 0 }
            if !quantize { for i in 0..<hw { d[i] = min(max(d[i] * scale, 0), 255).rounded(.towardZero) } }
            for i in 0..<hw { hist[Int(d[i])] += 1 }
            var top = 255
            while top > 0 && hist[top] == 0 { top -= 1 }
            let step = (hw - hist[top]) / 255
            if step == 0 { continue }
            var cum = 0
            lut[0] = 0
            for j in 1..<256 {
                cum += hist[j - 1]
                lut[j] = Float(min((cum + step / 2) / step, 255))
            }
            for i in 0..<hw { d[i] = lut[Int(d[i])] }
        }
    }
}
