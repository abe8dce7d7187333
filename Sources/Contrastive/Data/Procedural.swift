#if canImport(Glibc)
import Glibc
#endif

/// A built-in labelled colour dataset for demos and tests (no colour dataset of useful size
/// installs offline): ten classes of shapes and textures — disc, square, triangle, cross, ring,
/// horizontal stripes, vertical stripes, checkerboard, diagonal stripes, dots — each drawn with
/// random foreground/background colours, position, scale, phase and pixel noise. Image i
/// depends only on (seed, i), so any subset is reproducible on its own.
public enum ProceduralShapes {
    public static let classNames = ["disc", "square", "triangle", "cross", "ring",
                                    "h-stripes", "v-stripes", "checkerboard", "diagonal", "dots"]

    public static func make(count: Int, size: Int, seed: UInt64) throws -> ImageDataset {
        guard count >= 1, count <= 1 << 24, size >= 8, size <= 1024 else {
            throw ContrastiveError.invalid("procedural dataset: \(count) images of \(size)×\(size) (need 1…2²⁴ images of 8…1024 px)")
        }
        let per = size * size * 3
        var px = [UInt8](repeating: 0, count: try checkedByteCount([count, per]))
        var labels = [Int32](repeating: 0, count: count)
        px.withUnsafeMutableBufferPointer { buf in
            let base = buf.baseAddress!
            labels.withUnsafeMutableBufferPointer { lab in
                let lb = lab.baseAddress!
                parallelFor(count, grain: 16) { r in
                    for i in r { lb[i] = Int32(draw(base + i * per, size: size, seed: seed, index: i)) }
                }
            }
        }
        return try ImageDataset(pixels: px, count: count, height: size, width: size, channels: 3, labels: labels)
    }

    /// Draw image `index` into `dst` (size × size × 3); returns its class.
    static func draw(_ dst: UnsafeMutablePointer<UInt8>, size: Int, seed: UInt64, index: Int) -> Int {
        var rng = CounterRNG(seed: seed, stream: UInt64(index) &* 0x9E37_79B9 &+ 0xC0FFEE)
        let cls = Int(rng.next() % 10)
        func colour() -> SIMD3<Float> { SIMD3(rng.uniform(), rng.uniform(), rng.uniform()) * 255 }
        var fg = colour(), bg = colour()
        // Keep foreground and background distinguishable.
        if ((fg - bg) * (fg - bg)).sum() < 90 * 90 { bg = SIMD3(255, 255, 255) - fg }
        let s = Float(size)
        let cx = rng.uniform(0.35, 0.65) * s, cy = rng.uniform(0.35, 0.65) * s
        let radius = rng.uniform(0.18, 0.32) * s
        let period = rng.uniform(0.12, 0.25) * s, phase = rng.uniform(0, 1) * period
        let noise = rng.uniform(0, 12)
        let angle = rng.uniform(-0.4, 0.4), ca = cosf(angle), sa = sinf(angle)
        for y in 0..<size {
            for x in 0..<size {
                let fx = Float(x) + 0.5, fy = Float(y) + 0.5
                let dx = fx - cx, dy = fy - cy
                let rx = ca * dx + sa * dy, ry = -sa * dx + ca * dy
                let d = (dx * dx + dy * dy).squareRoot()
                let inside: Bool
                switch cls {
                case 0: inside = d < radius
                case 1: inside = abs(rx) < radius * 0.85 && abs(ry) < radius * 0.85
                case 2: inside = ry < radius * 0.7 && ry > -radius * 0.9 + 1.8 * abs(rx)
                case 3: inside = (abs(rx) < radius * 0.3 && abs(ry) < radius) || (abs(ry) < radius * 0.3 && abs(rx) < radius)
                case 4: inside = d < radius && d > radius * 0.6
                case 5: inside = (fy + phase).truncatingRemainder(dividingBy: period) < period / 2
                case 6: inside = (fx + phase).truncatingRemainder(dividingBy: period) < period / 2
                case 7: inside = (Int((fx + phase) / period) + Int((fy + phase) / period)) % 2 == 0
                case 8: inside = (fx + fy + phase).truncatingRemainder(dividingBy: period * 1.4) < period * 0.7
                default:
                    let qx = (fx + phase).truncatingRemainder(dividingBy: period) - period / 2
                    let qy = (fy + phase).truncatingRemainder(dividingBy: period) - period / 2
                    inside = qx * qx + qy * qy < period * period * 0.06
                }
                let c = inside ? fg : bg
                let o = dst + (y * size + x) * 3
                for k in 0..<3 {
                    let v = c[k] + (rng.uniform() - 0.5) * 2 * noise
                    o[k] = UInt8(max(0, min(255, v.rounded())))
                }
            }
        }
        return cls
    }
}
