// C exports for augmentation (include/contrastive.h, section "Augmentation").
// Marshalling and validation only — the work is in Contrastive/Augment.
#if canImport(Glibc)
import Glibc
#endif
import Contrastive
import CContrastiveHeader

private let defaultPreset: UnsafePointer<CChar> = UnsafePointer(strdup("simclr")!)

private func defaultAugmentOptions() -> ctr_augment_options {
    var o = ctr_augment_options()
    o.struct_size = UInt32(MemoryLayout<ctr_augment_options>.size)
    o.preset = defaultPreset
    o.description = nil
    o.size = 0
    o.local_size = 0
    o.num_local = -1
    o.precision = Int32(CTR_AUGMENT_PRECISION_DEFAULT.rawValue)
    o.num_norm = 0
    o.mean = nil
    o.std = nil
    return o
}

@_cdecl("ctr_augment_options_default")
public func ctr_augment_options_default(_ opts: UnsafeMutablePointer<ctr_augment_options>?) {
    opts?.pointee = defaultAugmentOptions()
}

/// A C string of at most `limit` bytes, or INVALID_ARGUMENT/FORMAT.
private func cString(_ p: UnsafePointer<CChar>, limit: Int, name: String) throws -> String {
    let len = strnlen(p, limit + 1)
    guard len <= limit else { throw ContrastiveError(.format, "\(name) is longer than \(limit) bytes") }
    let bytes = UnsafeRawBufferPointer(start: p, count: len)
    guard let s = String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) else {
        throw ContrastiveError(.format, "\(name) is not valid UTF-8")
    }
    return s
}

private func augmenter(_ h: OpaquePointer?) throws -> Augmenter {
    try object(h, tag: HandleTag.augmenter, as: Augmenter.self, name: "aug")
}

/// Non-negative Int32 image dimensions → Int (h, w ≥ 1 checked by the engine).
private func dims(_ h: Int32, _ w: Int32, _ c: Int32) throws -> (Int, Int, Int) {
    guard h >= 1, w >= 1 else { throw ContrastiveError.invalid("image size \(h)×\(w) is empty; images need at least 1×1 pixels") }
    guard c >= 1 else { throw ContrastiveError(.unsupported, "\(c) channels; images need 1…\(ImageBatch.maxChannels) channels") }
    return (Int(h), Int(w), Int(c))
}

private func count(_ n: UInt) throws -> Int {
    guard let v = Int(exactly: n), v <= Int(Int32.max) else { throw ContrastiveError(.outOfMemory, "image count \(n) is too large") }
    return v
}

@_cdecl("ctr_augmenter_create")
public func ctr_augmenter_create(_ opts: UnsafeRawPointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded("ctr_augmenter_create") {
        guard let out else { throw ContrastiveError.invalid("out is NULL") }
        out.pointee = nil
        let o = try readOptions(opts, defaults: defaultAugmentOptions(), name: "ctr_augment_options")
        var p: AugmentPipeline
        if let d = o.description {
            p = try AugmentPipeline.parse(try cString(d, limit: 1 << 20, name: "description"))
        } else {
            guard let name = o.preset else { throw ContrastiveError.invalid("both preset and description are NULL") }
            p = try AugmentPipeline.preset(try cString(name, limit: 64, name: "preset"), size: Int(o.size),
                                           localSize: Int(o.local_size), locals: Int(o.num_local))
        }
        switch o.precision {
        case Int32(CTR_AUGMENT_PRECISION_DEFAULT.rawValue): break
        case Int32(CTR_AUGMENT_PRECISION_UINT8.rawValue): p.quantize = true
        case Int32(CTR_AUGMENT_PRECISION_FLOAT.rawValue): p.quantize = false
        default: throw ContrastiveError.invalid("precision \(o.precision) is not a ctr_augment_precision")
        }
        if o.num_norm == -1 {
            p.mean = []; p.std = []
        } else if o.num_norm > 0 {
            guard o.num_norm <= Int32(ImageBatch.maxChannels) else { throw ContrastiveError.invalid("num_norm \(o.num_norm) exceeds \(ImageBatch.maxChannels)") }
            guard let m = o.mean, let s = o.std else { throw ContrastiveError.invalid("num_norm is \(o.num_norm) but mean or std is NULL") }
            p.mean = (0..<Int(o.num_norm)).map { Double(m[$0]) }
            p.std = (0..<Int(o.num_norm)).map { Double(s[$0]) }
        } else if o.num_norm != 0 {
            throw ContrastiveError.invalid("num_norm \(o.num_norm) must be -1, 0 or a count ≥ 1")
        }
        let aug = try Augmenter(pipeline: p)
        out.pointee = makeHandle(aug, tag: HandleTag.augmenter)
    }
}

@_cdecl("ctr_augmenter_free")
public func ctr_augmenter_free(_ aug: OpaquePointer?) {
    releaseHandle(aug, tag: HandleTag.augmenter, function: "ctr_augmenter_free")
}

@_cdecl("ctr_augmenter_view_count")
public func ctr_augmenter_view_count(_ aug: OpaquePointer?) -> Int32 {
    guard let a = try? augmenter(aug) else { return 0 }
    return Int32(a.viewCount)
}

@_cdecl("ctr_augmenter_view_shape")
public func ctr_augmenter_view_shape(_ aug: OpaquePointer?, _ view: Int32, _ h: Int32, _ w: Int32, _ c: Int32,
                                     _ shape: UnsafeMutablePointer<Int32>?) -> Int32 {
    guarded("ctr_augmenter_view_shape") {
        let a = try augmenter(aug)
        guard let shape else { throw ContrastiveError.invalid("shape is NULL") }
        let (hh, ww, cc) = try dims(h, w, c)
        let s = try a.viewShape(Int(view), h: hh, w: ww, c: cc)
        shape[0] = Int32(s.0); shape[1] = Int32(s.1); shape[2] = Int32(s.2)
    }
}

@_cdecl("ctr_augmenter_output_size")
public func ctr_augmenter_output_size(_ aug: OpaquePointer?, _ n: UInt, _ h: Int32, _ w: Int32, _ c: Int32,
                                      _ floats: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("ctr_augmenter_output_size") {
        let a = try augmenter(aug)
        guard let floats else { throw ContrastiveError.invalid("floats is NULL") }
        let (hh, ww, cc) = try dims(h, w, c)
        floats.pointee = UInt(try a.outputCount(n: try count(n), h: hh, w: ww, c: cc))
    }
}

@_cdecl("ctr_augmenter_describe")
public func ctr_augmenter_describe(_ aug: OpaquePointer?, _ buf: UnsafeMutablePointer<CChar>?, _ capacity: UInt,
                                   _ needed: UnsafeMutablePointer<UInt>?) -> Int32 {
    let a: Augmenter
    do { a = try augmenter(aug) } catch let e as ContrastiveError { return fail(e.status, "ctr_augmenter_describe", e.message) } catch { return fail(.internal, "ctr_augmenter_describe", "\(error)") }
    if buf == nil && capacity > 0 {
        return fail(.invalidArgument, "ctr_augmenter_describe", "buf is NULL but capacity is \(capacity)")
    }
    let bytes = Array(a.pipeline.description.utf8) + [0]
    needed?.pointee = UInt(bytes.count)
    guard let buf, capacity >= UInt(bytes.count) else {
        return fail(.bufferTooSmall, "ctr_augmenter_describe", "needs \(bytes.count) bytes, capacity is \(capacity)")
    }
    bytes.withUnsafeBytes { UnsafeMutableRawPointer(buf).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
    return Status.ok.rawValue
}

@_cdecl("ctr_augmenter_apply")
public func ctr_augmenter_apply(_ aug: OpaquePointer?, _ images: UnsafePointer<UInt8>?, _ n: UInt,
                                _ h: Int32, _ w: Int32, _ c: Int32, _ seed: UInt64, _ epoch: UInt64,
                                _ indices: UnsafePointer<Int64>?, _ out: UnsafeMutablePointer<Float>?, _ outCapacity: UInt) -> Int32 {
    guarded("ctr_augmenter_apply") {
        let a = try augmenter(aug)
        let nn = try count(n)
        let (hh, ww, cc) = try dims(h, w, c)
        let need = try a.outputCount(n: nn, h: hh, w: ww, c: cc)
        guard nn > 0 else { return }
        guard let images else { throw ContrastiveError.invalid("images is NULL") }
        guard let out else { throw ContrastiveError.invalid("out is NULL") }
        guard let cap = Int(exactly: outCapacity), cap >= need else {
            throw ContrastiveError(.bufferTooSmall, "out needs \(need) floats, out_capacity is \(outCapacity)")
        }
        let batch = try ImageBatch(pixels: images, n: nn, h: hh, w: ww, c: cc)
        try a.apply(batch, count: nn, keys: indices, seed: seed, epoch: epoch, out: out, capacity: cap)
    }
}

@_cdecl("ctr_augment_preview_png")
public func ctr_augment_preview_png(_ aug: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ images: UnsafePointer<UInt8>?,
                                    _ n: UInt, _ h: Int32, _ w: Int32, _ c: Int32, _ seed: UInt64, _ epoch: UInt64) -> Int32 {
    guarded("ctr_augment_preview_png") {
        let a = try augmenter(aug)
        guard let path else { throw ContrastiveError.invalid("path is NULL") }
        let p = try cString(path, limit: 4096, name: "path")
        let nn = try count(n)
        guard nn > 0 else { throw ContrastiveError.invalid("preview needs at least one image (n is 0)") }
        guard let images else { throw ContrastiveError.invalid("images is NULL") }
        let (hh, ww, cc) = try dims(h, w, c)
        let batch = try ImageBatch(pixels: images, n: nn, h: hh, w: ww, c: cc)
        try Preview.writePNG(a, images: batch, seed: seed, epoch: epoch, path: p)
    }
}
