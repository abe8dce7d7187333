// A small PNG encoder (8-bit RGB, zlib stream of uncompressed 'stored' deflate blocks with
// CRC-32 and Adler-32 — no dependency) and the preview grid: each row shows an input image
// followed by its augmented views, so a user can see what the model sees.
#if canImport(Glibc)
import Glibc
#endif

public enum PNG {
    static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func crc32<S: Sequence>(_ bytes: S, start: UInt32 = 0xFFFF_FFFF) -> UInt32 where S.Element == UInt8 {
        var c = start
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c
    }

    static func be32(_ v: UInt32, into out: inout [UInt8]) {
        out += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    static func chunk(_ type: String, _ data: [UInt8], into out: inout [UInt8]) {
        be32(UInt32(data.count), into: &out)
        let t = Array(type.utf8)
        out += t; out += data
        be32(crc32(data, start: crc32(t)) ^ 0xFFFF_FFFF, into: &out)
    }

    /// Encode an RGB image (h·w·3 bytes, row-major) as PNG bytes.
    public static func encodeRGB(_ rgb: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        guard width >= 1, height >= 1, width <= 1 << 20, height <= 1 << 20, rgb.count == width * height * 3 else {
            throw ContrastiveError.invalid("PNG: \(width)×\(height) RGB needs \(width * height * 3) bytes, got \(rgb.count)")
        }
        // Raw scanlines: filter byte 0 + the row.
        let stride = width * 3
        var raw = [UInt8](); raw.reserveCapacity((stride + 1) * height)
        for y in 0..<height { raw.append(0); raw += rgb[(y * stride)..<((y + 1) * stride)] }
        // zlib: header 0x78 0x01, stored blocks of ≤ 65535 bytes, Adler-32.
        var z: [UInt8] = [0x78, 0x01]
        var pos = 0
        repeat {
            let n = min(65535, raw.count - pos)
            let final: UInt8 = pos + n == raw.count ? 1 : 0
            z += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            z += raw[pos..<(pos + n)]
            pos += n
        } while pos < raw.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        be32(b << 16 | a, into: &z)
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var ihdr: [UInt8] = []
        be32(UInt32(width), into: &ihdr); be32(UInt32(height), into: &ihdr)
        ihdr += [8, 2, 0, 0, 0]          // 8-bit, truecolour, deflate, filter 0, no interlace
        chunk("IHDR", ihdr, into: &out)
        chunk("IDAT", z, into: &out)
        chunk("IEND", [], into: &out)
        return out
    }

    /// Write bytes to `path` (IO error with the reason on failure).
    public static func write(_ bytes: [UInt8], to path: String) throws {
        guard let f = fopen(path, "wb") else {
            throw ContrastiveError(.io, "cannot open \(path) for writing: \(String(cString: strerror(errno)))")
        }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        let closed = fclose(f)
        guard written == bytes.count, closed == 0 else { throw ContrastiveError(.io, "writing \(path) failed: \(String(cString: strerror(errno)))") }
    }
}

public enum Preview {
    /// A grid with one row per image (at most `maxImages`): the input, then each view
    /// (un-normalised back to 0…255). RGB for 3 channels, grey for 1; other channel counts
    /// show channel 0 in grey. Returns (rgb, width, height).
    public static func grid(_ aug: Augmenter, images: ImageBatch, seed: UInt64, epoch: UInt64,
                            maxImages: Int = 16) throws -> ([UInt8], Int, Int) {
        let n = min(images.n, maxImages)
        guard n >= 1 else { throw ContrastiveError.invalid("preview needs at least one image") }
        let V = aug.viewCount, c = images.c
        var shapes: [(Int, Int, Int)] = []
        var cell = max(images.h, images.w)
        for v in 0..<V { let s = try aug.viewShape(v, h: images.h, w: images.w, c: c); shapes.append(s); cell = max(cell, s.1, s.2) }
        let gap = 2, cols = V + 1
        let W = cols * (cell + gap) + gap, H = n * (cell + gap) + gap
        _ = try checkedCount([W, H, 3], what: "preview image")
        var rgb = [UInt8](repeating: 40, count: W * H * 3)
        let total = try aug.outputCount(n: n, h: images.h, w: images.w, c: c)
        var out = [Float](repeating: 0, count: total)
        try out.withUnsafeMutableBufferPointer { o in
            try aug.apply(images, count: n, keys: nil, seed: seed, epoch: epoch, out: o.baseAddress!, capacity: total)
        }
        func put(_ x: Int, _ y: Int, _ r: UInt8, _ g: UInt8, _ b: UInt8) {
            let o = (y * W + x) * 3; rgb[o] = r; rgb[o + 1] = g; rgb[o + 2] = b
        }
        let p = aug.pipeline
        for i in 0..<n {
            let oy = gap + i * (cell + gap)
            let src = images.image(i)
            for y in 0..<images.h { for x in 0..<images.w {
                let px = src + (y * images.w + x) * c
                if c == 3 { put(gap + x, oy + y, px[0], px[1], px[2]) } else { put(gap + x, oy + y, px[0], px[0], px[0]) }
            } }
            var off = 0
            for v in 0..<V {
                let (_, vh, vw) = shapes[v]
                let base = off + i * c * vh * vw
                let ox = gap + (v + 1) * (cell + gap)
                func value(_ k: Int, _ q: Int) -> UInt8 {
                    var x = Double(out[base + k * vh * vw + q])
                    if !p.mean.isEmpty {
                        let m = p.mean.count == 1 ? p.mean[0] : p.mean[k], s = p.std.count == 1 ? p.std[0] : p.std[k]
                        x = x * s + m
                    }
                    return UInt8(max(0, min(255, (x * 255).rounded())))
                }
                for y in 0..<vh { for x in 0..<vw {
                    let q = y * vw + x
                    if c == 3 { put(ox + x, oy + y, value(0, q), value(1, q), value(2, q)) }
                    else { let g = value(0, q); put(ox + x, oy + y, g, g, g) }
                } }
                off += n * c * vh * vw
            }
        }
        return (rgb, W, H)
    }

    /// Write the preview grid of `images` as a PNG file.
    public static func writePNG(_ aug: Augmenter, images: ImageBatch, seed: UInt64, epoch: UInt64, path: String, maxImages: Int = 16) throws {
        let (rgb, w, h) = try grid(aug, images: images, seed: seed, epoch: epoch, maxImages: maxImages)
        try PNG.write(try PNG.encodeRGB(rgb, width: w, height: h), to: path)
    }
}
