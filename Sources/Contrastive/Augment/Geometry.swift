// Geometric ops: resized crop (antialiased bilinear), flips, rotations. They work for any
// channel count. Semantics follow torchvision.transforms.v2.functional (see each op).
#if canImport(Glibc)
import Glibc
#endif

public enum Geometry {
    /// The crop box of RandomResizedCrop.get_params (torchvision v1/v2): up to 10 attempts of
    /// area ∈ scale·H·W and log-uniform aspect ratio; w = round(√(area·r)), h = round(√(area/r));
    /// accepted when 0 < w ≤ W and 0 < h ≤ H, then top/left uniform; otherwise a central
    /// crop with the ratio clamped into `ratio`. Returns (top, left, h, w).
    public static func rrcBox(h H: Int, w W: Int, scale: (Double, Double), ratio: (Double, Double),
                              rng: inout AugmentRNG) -> (Int, Int, Int, Int) {
        let area = Double(H * W)
        let lr0 = log(ratio.0), lr1 = log(ratio.1)
        for _ in 0..<10 {
            let target = area * rng.uniform(scale.0, scale.1)
            let ar = exp(rng.uniform(lr0, lr1))
            let w = Int((target * ar).squareRoot().rounded(.toNearestOrEven))
            let h = Int((target / ar).squareRoot().rounded(.toNearestOrEven))
            if w > 0 && w <= W && h > 0 && h <= H {
                let i = rng.below(H - h + 1), j = rng.below(W - w + 1)
                return (i, j, h, w)
            }
        }
        let inRatio = Double(W) / Double(H)
        var w = W, h = H
        if inRatio < min(ratio.0, ratio.1) {
            h = Int((Double(w) / min(ratio.0, ratio.1)).rounded(.toNearestOrEven))
        } else if inRatio > max(ratio.0, ratio.1) {
            w = Int((Double(h) * max(ratio.0, ratio.1)).rounded(.toNearestOrEven))
        }
        h = max(1, min(h, H)); w = max(1, min(w, W))
        return ((H - h) / 2, (W - w) / 2, h, w)
    }

    /// Antialiased bilinear weights for resampling `inSize` → `outSize` (torch's
    /// `_upsample_bilinear2d_aa`, the PIL triangle filter: support 1·scale when shrinking,
    /// 1 when enlarging; weights normalised per output sample). Writes `taps` weights per
    /// output into `weights` and the first input index into `first`; returns taps.
    static func aaWeights(inSize: Int, outSize: Int, weights: UnsafeMutablePointer<Float>, first: UnsafeMutablePointer<Int32>) -> Int {
        let scale = Double(inSize) / Double(outSize)
        let support = scale >= 1 ? scale : 1.0
        let invscale = scale >= 1 ? 1.0 / scale : 1.0
        let taps = min(Int(support.rounded(.up)) * 2 + 1, inSize)
        for i in 0..<outSize {
            let center = scale * (Double(i) + 0.5)
            let xmin = max(Int(center - support + 0.5), 0)
            let xsize = min(Int(center + support + 0.5), inSize) - xmin
            var total = 0.0
            for j in 0..<xsize {
                let x = abs((Double(j + xmin) - center + 0.5) * invscale)
                total += x < 1 ? 1 - x : 0
            }
            let inv = total != 0 ? 1 / total : 0
            // Every output reads exactly `taps` inputs starting at `start` (in range); the
            // filter's own taps sit at offset `shift`, the rest have weight 0.
            let start = min(xmin, inSize - taps)
            let shift = xmin - start
            let wrow = weights + i * taps
            for j in 0..<taps { wrow[j] = 0 }
            for j in 0..<xsize {
                let x = abs((Double(j + xmin) - center + 0.5) * invscale)
                wrow[j + shift] = Float((x < 1 ? 1 - x : 0) * inv)
            }
            first[i] = Int32(start)
        }
        return taps
    }

    /// Crop (top, left, ch, cw) of `src` and resize it to oh×ow into `dst` (antialiased
    /// bilinear, torchvision `resized_crop(..., antialias=True)`): a horizontal pass into
    /// `tmp`, then a vertical pass. With `quantize`, the intermediate and the result are
    /// rounded to integers in 0…255 like torch's native uint8 path (PIL-style fixed point);
    /// without, everything stays float (torch's float path). A pass whose size does not
    /// change is skipped. `dst` must hold c·oh·ow floats, `tmp` c·ch·ow.
    public static func resizedCrop(_ src: Plane, top: Int, left: Int, ch: Int, cw: Int, oh: Int, ow: Int,
                                   dst: UnsafeMutablePointer<Float>, tmp: UnsafeMutablePointer<Float>,
                                   scratch: AugmentScratch, quantize: Bool) throws -> Plane {
        let c = src.c
        let needH = cw != ow, needV = ch != oh
        // Horizontal pass: rows top..<top+ch → tmp (c, ch, ow); or a plain crop when cw == ow.
        let hOut: UnsafeMutablePointer<Float> = needV ? tmp : dst
        if needH {
            let wbuf = try scratch.weights.reserve(ow * (min(cw, 2 * (cw / max(ow, 1) + 1) + 1) + 2))
            if scratch.indices.count < ow { scratch.indices = [Int32](repeating: 0, count: ow) }
            scratch.indices.withUnsafeMutableBufferPointer { ib in
                let taps = aaWeights(inSize: cw, outSize: ow, weights: wbuf, first: ib.baseAddress!)
                for k in 0..<c {
                    let sp = src.channel(k)
                    for y in 0..<ch {
                        let srow = sp + (top + y) * src.w + left
                        let drow = hOut + (k * ch + y) * ow
                        // Same sum order for every tap count; the common small counts unrolled.
                        switch taps {
                        case 1: for x in 0..<ow { drow[x] = 0 + wbuf[x] * srow[Int(ib[x])] }
                        case 2:
                            for x in 0..<ow {
                                let s = srow + Int(ib[x]), wr = wbuf + 2 * x
                                var acc: Float = 0
                                acc += wr[0] * s[0]; acc += wr[1] * s[1]
                                drow[x] = acc
                            }
                        case 3:
                            for x in 0..<ow {
                                let s = srow + Int(ib[x]), wr = wbuf + 3 * x
                                var acc: Float = 0
                                acc += wr[0] * s[0]; acc += wr[1] * s[1]; acc += wr[2] * s[2]
                                drow[x] = acc
                            }
                        default:
                            for x in 0..<ow {
                                let s = srow + Int(ib[x])
                                let wr = wbuf + x * taps
                                var acc: Float = 0
                                for t in 0..<taps { acc += wr[t] * s[t] }
                                drow[x] = acc
                            }
                        }
                        if quantize { for x in 0..<ow { drow[x] = roundClamp255(drow[x]) } }
                    }
                }
            }
        } else {
            for k in 0..<c {
                let sp = src.channel(k)
                for y in 0..<ch {
                    (hOut + (k * ch + y) * ow).update(from: sp + (top + y) * src.w + left, count: ow)
                }
            }
        }
        guard needV else { return Plane(data: dst, c: c, h: oh, w: ow) }
        let wbuf = try scratch.weights.reserve(oh * (min(ch, 2 * (ch / max(oh, 1) + 1) + 1) + 2))
        if scratch.indices.count < oh { scratch.indices = [Int32](repeating: 0, count: oh) }
        scratch.indices.withUnsafeMutableBufferPointer { ib in
            let taps = aaWeights(inSize: ch, outSize: oh, weights: wbuf, first: ib.baseAddress!)
            for k in 0..<c {
                let sp = hOut + k * ch * ow
                for y in 0..<oh {
                    let drow = dst + (k * oh + y) * ow
                    let wr = wbuf + y * taps
                    let s0 = sp + Int(ib[y]) * ow
                    for x in 0..<ow { drow[x] = wr[0] * s0[x] }
                    if taps > 1 {
                        for t in 1..<taps {
                            let wt = wr[t], st = s0 + t * ow
                            for x in 0..<ow { drow[x] += wt * st[x] }
                        }
                    }
                    if quantize { for x in 0..<ow { drow[x] = roundClamp255(drow[x]) } }
                }
            }
        }
        return Plane(data: dst, c: c, h: oh, w: ow)
    }

    /// Mirror left–right in place (torchvision `horizontal_flip`).
    public static func hflip(_ p: Plane) {
        for r in 0..<(p.c * p.h) {
            let row = p.data + r * p.w
            var i = 0, j = p.w - 1
            while i < j { let t = row[i]; row[i] = row[j]; row[j] = t; i += 1; j -= 1 }
        }
    }

    /// Mirror top–bottom in place (torchvision `vertical_flip`).
    public static func vflip(_ p: Plane) {
        for k in 0..<p.c {
            let base = p.channel(k)
            var i = 0, j = p.h - 1
            while i < j { swapRows(base + i * p.w, base + j * p.w, p.w); i += 1; j -= 1 }
        }
    }

    @inline(__always) static func swapRows(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>, _ n: Int) {
        for x in 0..<n { let t = a[x]; a[x] = b[x]; b[x] = t }
    }

    /// Rotate by k·90° counter-clockwise (torch.rot90(k, dims=(-2, -1))) into `dst`.
    /// Output is w×h for odd k.
    public static func rot90(_ p: Plane, k: Int, dst: UnsafeMutablePointer<Float>) -> Plane {
        let k = ((k % 4) + 4) % 4
        let h = p.h, w = p.w
        let oh = k % 2 == 0 ? h : w, ow = k % 2 == 0 ? w : h
        for c in 0..<p.c {
            let s = p.channel(c), d = dst + c * oh * ow
            for i in 0..<oh {
                let drow = d + i * ow
                switch k {
                case 0: drow.update(from: s + i * w, count: ow)
                case 1: for j in 0..<ow { drow[j] = s[j * w + (w - 1 - i)] }          // out[i][j] = in[j][W-1-i]
                case 2: for j in 0..<ow { drow[j] = s[(h - 1 - i) * w + (w - 1 - j)] }
                default: for j in 0..<ow { drow[j] = s[(h - 1 - j) * w + i] }         // out[i][j] = in[H-1-j][i]
                }
            }
        }
        return Plane(data: dst, c: p.c, h: oh, w: ow)
    }

    /// Rotate by `degrees` counter-clockwise about the centre, same size, no expand
    /// (torchvision `rotate(angle, interpolation, expand=False, center=None, fill)`).
    /// Exact rot90 fast paths for 0/180 and, on square images, 90/270 — as torchvision.
    /// Otherwise output pixel (i, j) samples the input at
    ///   x' = cos θ·x − sin θ·y + (W−1)/2,  y' = sin θ·x + cos θ·y + (H−1)/2,
    ///   x = j − (W−1)/2, y = i − (H−1)/2
    /// (grid_sample, align_corners=False, zero padding), nearest (round half to even) or
    /// bilinear; pixels that fall outside get `fill` (bilinear: blended by the in-bounds weight
    /// `m` as v·m + fill·(1−m)). With `quantize` the result is rounded (half to even).
    public static func rotate(_ p: Plane, degrees: Double, bilinear: Bool, fill: Float, quantize: Bool,
                              dst: UnsafeMutablePointer<Float>) -> Plane {
        var a = degrees.truncatingRemainder(dividingBy: 360)
        if a < 0 { a += 360 }
        if a == 0 { return rot90(p, k: 0, dst: dst) }
        if a == 180 { return rot90(p, k: 2, dst: dst) }
        if p.h == p.w && (a == 90 || a == 270) { return rot90(p, k: a == 90 ? 1 : 3, dst: dst) }
        let h = p.h, w = p.w
        // The sampling grid is formed in float32 the way torchvision forms it (inverse matrix
        // in double → float32, divided by w/2 and h/2, then grid_sample's unnormalisation),
        // so that nearest-neighbour ties fall the same way.
        let rot = -a * Double.pi / 180
        let m0 = Float(cos(rot)), m1 = Float(sin(rot)), m3 = Float(-sin(rot)), m4 = Float(cos(rot))
        let hwf = Float(0.5 * Double(w)), hhf = Float(0.5 * Double(h))
        let r00 = m0 / hwf, r10 = m1 / hwf, r01 = m3 / hhf, r11 = m4 / hhf
        let Wf = Float(w), Hf = Float(h)
        let cx = Float(1 - w) * 0.5, cy = Float(1 - h) * 0.5
        let hw = h * w
        for i in 0..<h {
            let y = cy + Float(i)
            for j in 0..<w {
                let x = cx + Float(j)
                let gx = x * r00 + y * r10, gy = x * r01 + y * r11
                let sx = ((gx + 1) * Wf - 1) / 2
                let sy = ((gy + 1) * Hf - 1) / 2
                let o = i * w + j
                if !bilinear {
                    let xi = Int(sx.rounded(.toNearestOrEven)), yi = Int(sy.rounded(.toNearestOrEven))
                    let inside = xi >= 0 && xi < w && yi >= 0 && yi < h
                    for c in 0..<p.c {
                        dst[c * hw + o] = inside ? p.data[c * hw + yi * w + xi] : fill
                    }
                } else {
                    let x0f = sx.rounded(.down), y0f = sy.rounded(.down)
                    let fx = sx - x0f, fy = sy - y0f
                    let x0 = Int(x0f), y0 = Int(y0f)
                    var m: Float = 0
                    let in00 = y0 >= 0 && y0 < h && x0 >= 0 && x0 < w
                    let in01 = y0 >= 0 && y0 < h && x0 + 1 >= 0 && x0 + 1 < w
                    let in10 = y0 + 1 >= 0 && y0 + 1 < h && x0 >= 0 && x0 < w
                    let in11 = y0 + 1 >= 0 && y0 + 1 < h && x0 + 1 >= 0 && x0 + 1 < w
                    let w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy
                    if in00 { m += w00 }; if in01 { m += w01 }; if in10 { m += w10 }; if in11 { m += w11 }
                    for c in 0..<p.c {
                        let s = p.data + c * hw
                        var v: Float = 0
                        if in00 { v += w00 * s[y0 * w + x0] }
                        if in01 { v += w01 * s[y0 * w + x0 + 1] }
                        if in10 { v += w10 * s[(y0 + 1) * w + x0] }
                        if in11 { v += w11 * s[(y0 + 1) * w + x0 + 1] }
                        dst[c * hw + o] = (v - fill) * m + fill
                    }
                }
            }
        }
        if quantize { for q in 0..<(p.c * hw) { dst[q] = roundEvenClamp255(dst[q]) } }
        return Plane(data: dst, c: p.c, h: h, w: w)
    }
}
