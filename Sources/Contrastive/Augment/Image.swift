// Image buffers for augmentation.
//
// Sources are uint8 H×W×C (interleaved) images, read-only. Inside a pipeline an image lives
// in a `Plane`: float32, planar C×H×W, values on the 0…255 scale (so the uint8 semantics of
// torchvision's ops — truncation or rounding after each op — can be reproduced exactly, and
// the float semantics are the same numbers divided by 255).
#if canImport(Glibc)
import Glibc
#endif

/// A read-only batch of n uint8 images, each h×w×c interleaved, stored back to back.
public struct ImageBatch {
    public let pixels: UnsafePointer<UInt8>
    public let n: Int, h: Int, w: Int, c: Int

    /// Checks the shape (h, w, c ≥ 1, n ≥ 0, sizes that fit) before any pixel is read.
    public init(pixels: UnsafePointer<UInt8>, n: Int, h: Int, w: Int, c: Int) throws {
        guard n >= 0 else { throw ContrastiveError.invalid("image count \(n) is negative") }
        guard h >= 1, w >= 1 else { throw ContrastiveError.invalid("image size \(h)×\(w) is empty; images need at least 1×1 pixels") }
        guard c >= 1, c <= ImageBatch.maxChannels else {
            throw ContrastiveError(.unsupported, "\(c) channels; images need 1…\(ImageBatch.maxChannels) channels")
        }
        // Inputs are only read, so they may exceed the 2³¹-element tensor limit; just no overflow.
        var bytes = 1
        for d in [n, h, w, c] {
            let (p, o) = bytes.multipliedReportingOverflow(by: d)
            guard !o else { throw ContrastiveError(.outOfMemory, "image batch \(n)×\(h)×\(w)×\(c) is too large") }
            bytes = p
        }
        self.pixels = pixels
        self.n = n; self.h = h; self.w = w; self.c = c
    }

    /// Largest channel count accepted.
    public static let maxChannels = 64

    public var imageBytes: Int { h * w * c }
    public func image(_ i: Int) -> UnsafePointer<UInt8> { pixels + i * imageBytes }
}

/// A planar float image (C×H×W) over memory owned elsewhere.
public struct Plane {
    public var data: UnsafeMutablePointer<Float>
    public var c: Int, h: Int, w: Int
    public init(data: UnsafeMutablePointer<Float>, c: Int, h: Int, w: Int) {
        self.data = data; self.c = c; self.h = h; self.w = w
    }
    public var count: Int { c * h * w }
    @inline(__always) public func channel(_ k: Int) -> UnsafeMutablePointer<Float> { data + k * h * w }
}

/// A grow-only aligned float buffer (reused from sample to sample; no per-pixel allocation).
public final class FloatBuffer {
    public private(set) var base: UnsafeMutablePointer<Float>
    public private(set) var capacity: Int
    public init(_ count: Int = 0) throws {
        capacity = max(count, 16)
        base = try alignedAlloc(bytes: capacity * 4).bindMemory(to: Float.self, capacity: capacity)
    }
    /// Make room for `count` floats (contents are not kept).
    @inline(__always)
    public func reserve(_ count: Int) throws -> UnsafeMutablePointer<Float> {
        if count > capacity {
            let raw = try alignedAlloc(bytes: count * 4)
            free(base)
            base = raw.bindMemory(to: Float.self, capacity: count)
            capacity = count
        }
        return base
    }
    deinit { free(base) }
}

/// Per-thread scratch: the current image, a second image to ping-pong with, and temporaries.
public final class AugmentScratch {
    public let a: FloatBuffer, b: FloatBuffer, t: FloatBuffer, weights: FloatBuffer
    var indices: [Int32] = []
    public init() throws {
        a = try FloatBuffer(4096); b = try FloatBuffer(4096); t = try FloatBuffer(4096); weights = try FloatBuffer(1024)
    }
}

extension Plane {
    /// Copy rows top..<top+ch, columns left..<left+cw of a uint8 HWC image into planar floats.
    public static func load(_ src: UnsafePointer<UInt8>, h: Int, w: Int, c: Int,
                     top: Int, left: Int, ch: Int, cw: Int, into dst: UnsafeMutablePointer<Float>) -> Plane {
        let plane = ch * cw
        if c == 3 {
            let d0 = dst, d1 = dst + plane, d2 = dst + 2 * plane
            for y in 0..<ch {
                let row = src + ((top + y) * w + left) * 3
                let o = y * cw
                for x in 0..<cw {
                    d0[o + x] = Float(row[3 * x]); d1[o + x] = Float(row[3 * x + 1]); d2[o + x] = Float(row[3 * x + 2])
                }
            }
        } else {
            for y in 0..<ch {
                let row = src + ((top + y) * w + left) * c
                for x in 0..<cw {
                    for k in 0..<c { dst[k * plane + y * cw + x] = Float(row[x * c + k]) }
                }
            }
        }
        return Plane(data: dst, c: c, h: ch, w: cw)
    }
}

/// Round to nearest (ties up, as fixed-point `(v + half) >> bits`) and clamp to 0…255.
@inline(__always) func roundClamp255(_ v: Float) -> Float { min(max((v + 0.5).rounded(.down), 0), 255) }
/// Clamp to 0…255 then truncate (torch's float → uint8 `.to()` after `clamp_`).
@inline(__always) func clampTrunc255(_ v: Float) -> Float { min(max(v, 0), 255).rounded(.towardZero) }
/// Round half to even and clamp to 0…255 (torch's `round_()` before `.to(uint8)`).
@inline(__always) func roundEvenClamp255(_ v: Float) -> Float { min(max(v.rounded(.toNearestOrEven), 0), 255) }
