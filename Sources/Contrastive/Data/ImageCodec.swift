import CImageCodecs

/// A decoded image: height × width × channels bytes, interleaved (1 grey, 2 grey+alpha,
/// 3 RGB, 4 RGBA).
public struct DecodedImage: Sendable {
    /// The pixels, row-major, channels interleaved.
    public var pixels: [UInt8]
    /// Size in pixels and channel count.
    public let height: Int, width: Int, channels: Int

    /// Wraps pixels of a known shape (checks the byte count).
    public init(pixels: [UInt8], height: Int, width: Int, channels: Int) throws {
        guard height >= 1, width >= 1, channels >= 1, channels <= 4,
              let n = try? checkedByteCount([height, width, channels]), n == pixels.count else {
            throw ContrastiveError.shape("image of \(height)×\(width)×\(channels) with \(pixels.count) bytes")
        }
        self.pixels = pixels; self.height = height; self.width = width; self.channels = channels
    }
}

/// PNG and JPEG decoding (libpng, libjpeg-turbo) through the CImageCodecs shim, whose error
/// handlers return instead of exiting: a corrupt, truncated or oversized file is a FORMAT
/// error naming it, never a crash. The format is told by the file's signature, not its name.
public enum ImageCodec {
    /// Largest width or height decoded.
    public static let maxSide = 16384
    /// Largest decoded image, in bytes (e.g. 16384 × 16384 grey, or 9459 × 9459 RGB).
    public static let maxDecodedBytes = 1 << 28

    /// Container formats recognised.
    public enum Kind: Sendable { case png, jpeg }

    /// The format of `bytes` from its signature, or nil.
    public static func kind(of bytes: [UInt8]) -> Kind? {
        if bytes.count >= 8, bytes[0] == 0x89, bytes[1] == 0x50, bytes[2] == 0x4E, bytes[3] == 0x47 { return .png }
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        return nil
    }

    static func status(_ code: Int32, _ name: String, _ message: String) -> ContrastiveError {
        switch Int(code) {
        case Int(CIC_NO_MEMORY): return ContrastiveError(.outOfMemory, "\(name): \(message)")
        case Int(CIC_INVALID): return ContrastiveError(.internal, "\(name): \(message)")
        default: return ContrastiveError(.format, "\(name): \(message)")
        }
    }

    /// Decode a PNG or JPEG held in `bytes`; `name` (the path) is used in messages.
    public static func decode(_ bytes: [UInt8], name: String, maxSide: Int = ImageCodec.maxSide,
                              maxBytes: Int = ImageCodec.maxDecodedBytes) throws -> DecodedImage {
        guard let kind = kind(of: bytes) else {
            throw ContrastiveError(.format, "\(name): not a PNG or JPEG file (unknown signature)")
        }
        var img = cic_image()
        var err = [CChar](repeating: 0, count: 256)
        let side = Int32(clamping: max(1, maxSide)), limit = max(0, maxBytes)
        let code: Int32 = bytes.withUnsafeBufferPointer { b in
            err.withUnsafeMutableBufferPointer { e in
                kind == .png
                    ? cic_decode_png(b.baseAddress, b.count, side, limit, &img, e.baseAddress, e.count)
                    : cic_decode_jpeg(b.baseAddress, b.count, side, limit, &img, e.baseAddress, e.count)
            }
        }
        guard code == Int32(CIC_OK), let px = img.pixels else {
            if let p = img.pixels { cic_free(p) }
            let msg = err.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw status(code == Int32(CIC_OK) ? Int32(CIC_CORRUPT) : code, name, msg.isEmpty ? "cannot decode" : msg)
        }
        defer { cic_free(px) }
        let h = Int(img.height), w = Int(img.width), c = Int(img.channels)
        return try DecodedImage(pixels: Array(UnsafeBufferPointer(start: px, count: h * w * c)), height: h, width: w, channels: c)
    }

    /// Encode an image as PNG (1–4 channels, 8-bit).
    public static func encodePNG(_ image: DecodedImage) throws -> [UInt8] {
        try encode(image) { px, out, size, e, cap in
            cic_encode_png(px, Int32(image.width), Int32(image.height), Int32(image.channels), out, size, e, cap)
        }
    }

    /// Encode an image (1 or 3 channels) as a baseline JPEG of `quality` 1…100.
    public static func encodeJPEG(_ image: DecodedImage, quality: Int = 90) throws -> [UInt8] {
        guard quality >= 1, quality <= 100 else { throw ContrastiveError.invalid("JPEG quality \(quality) outside 1…100") }
        return try encode(image) { px, out, size, e, cap in
            cic_encode_jpeg(px, Int32(image.width), Int32(image.height), Int32(image.channels), Int32(quality), out, size, e, cap)
        }
    }

    private static func encode(_ image: DecodedImage,
                               _ body: (UnsafePointer<UInt8>?, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>,
                                        UnsafeMutablePointer<Int>, UnsafeMutablePointer<CChar>?, Int) -> Int32) throws -> [UInt8] {
        guard image.width <= 65500, image.height <= 65500 else { throw ContrastiveError.invalid("image too large to encode") }
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var err = [CChar](repeating: 0, count: 256)
        let code = image.pixels.withUnsafeBufferPointer { p in
            err.withUnsafeMutableBufferPointer { e in body(p.baseAddress, &out, &size, e.baseAddress, e.count) }
        }
        guard code == Int32(CIC_OK), let out else {
            let msg = err.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw status(code, "encode", msg)
        }
        defer { cic_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: size))
    }
}
