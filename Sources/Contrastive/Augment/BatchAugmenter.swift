// The batch augmenter: runs every view pipeline on every image of a batch on the engine's
// threads and writes float32 NCHW, normalised.
//
// Output layout (view-major): view v of all n images is one contiguous (n, C, Hv, Wv) block;
// the blocks follow each other in view order (views of a `view xN:` line are consecutive).
// Image i's view v starts at offset(v) + i·C·Hv·Wv with offset(v) = Σ_{u<v} n·C·Hu·Wu.
//
// Determinism: view v of image i draws only from AugmentRNG(seed, epoch, keys[i], v), and each
// (image, view) is computed by one thread from start to end, so the output does not depend on
// the thread count, the batch size or the order of the images.
#if canImport(Glibc)
import Glibc
#endif

public final class Augmenter: @unchecked Sendable {
    public let pipeline: AugmentPipeline
    /// The ops of each output view (copies expanded).
    public let views: [[AugOp]]

    public init(pipeline: AugmentPipeline) throws {
        try pipeline.validate()
        self.pipeline = pipeline
        self.views = pipeline.expandedViews
    }

    public var viewCount: Int { views.count }

    /// (C, H, W) of view `v` for inputs of h×w×c; throws for sizes a pipeline cannot take
    /// (crop larger than the image, channel counts an op or the normalisation refuses).
    public func viewShape(_ v: Int, h: Int, w: Int, c: Int) throws -> (Int, Int, Int) {
        guard v >= 0, v < views.count else { throw ContrastiveError.invalid("view \(v) outside 0..<\(views.count)") }
        guard h >= 1, w >= 1 else { throw ContrastiveError.invalid("image size \(h)×\(w) is empty; images need at least 1×1 pixels") }
        guard c >= 1, c <= ImageBatch.maxChannels else { throw ContrastiveError(.unsupported, "\(c) channels; images need 1…\(ImageBatch.maxChannels) channels") }
        if !pipeline.mean.isEmpty && pipeline.mean.count != 1 && pipeline.mean.count != c {
            throw ContrastiveError.shape("normalize has \(pipeline.mean.count) mean/std values but the images have \(c) channels (give 1 or \(c) values)")
        }
        var ch = h, cw = w
        for op in views[v] {
            switch op.kind {
            case .rrc, .resize: (ch, cw) = op.size
            case .crop:
                guard op.size.0 <= ch, op.size.1 <= cw else {
                    throw ContrastiveError.invalid("view \(v): crop \(op.size.0)x\(op.size.1) is larger than the \(ch)x\(cw) image")
                }
                (ch, cw) = op.size
            case .jitter, .grayscale:
                guard c == 1 || c == 3 else {
                    throw ContrastiveError(.unsupported, "view \(v): \(op.kind.rawValue) needs 1 or 3 channels (RGB or grey), the images have \(c); remove it for other channel counts")
                }
            default: break
            }
        }
        return (c, ch, cw)
    }

    /// Floats written by `apply` for n images of h×w×c.
    public func outputCount(n: Int, h: Int, w: Int, c: Int) throws -> Int {
        var total = 0
        for v in 0..<views.count {
            let s = try viewShape(v, h: h, w: w, c: c)
            let k = try checkedCount([n, s.0, s.1, s.2], what: "augmented view")
            let (t, o) = total.addingReportingOverflow(k)
            guard !o, t <= Int(Int32.max) else { throw ContrastiveError(.outOfMemory, "augmented batch is too large") }
            total = t
        }
        return total
    }

    /// Augment a batch. `keys[i]` (default i) keys the random stream of image i; `rows[i]`
    /// (default i) picks the image of `source` (used by the prefetcher to gather from a
    /// dataset). `out` holds at least `outputCount` floats. Re-entrant: one augmenter may be
    /// used by several threads at once (it is immutable; scratch memory is per call).
    public func apply(_ source: ImageBatch, count n: Int, rows: UnsafePointer<Int>? = nil, keys: UnsafePointer<Int64>?,
                      seed: UInt64, epoch: UInt64, out: UnsafeMutablePointer<Float>, capacity: Int) throws {
        let need = try outputCount(n: n, h: source.h, w: source.w, c: source.c)
        guard capacity >= need else {
            throw ContrastiveError(.bufferTooSmall, "output needs \(need) floats, capacity is \(capacity)")
        }
        var shapes: [(Int, Int, Int)] = [], offsets: [Int] = []
        var off = 0
        for v in 0..<views.count {
            let s = try viewShape(v, h: source.h, w: source.w, c: source.c)
            shapes.append(s); offsets.append(off); off += n * s.0 * s.1 * s.2
        }
        let c = source.c
        var scaleK = [Float](repeating: 1 / 255, count: c), biasK = [Float](repeating: 0, count: c)
        if !pipeline.mean.isEmpty {
            for k in 0..<c {
                let m = pipeline.mean.count == 1 ? pipeline.mean[0] : pipeline.mean[k]
                let s = pipeline.std.count == 1 ? pipeline.std[0] : pipeline.std[k]
                scaleK[k] = Float(1 / (255 * s)); biasK[k] = Float(-m / s)
            }
        }
        let items = n * views.count
        guard items > 0 else { return }
        let parts = parallelParts(items, grain: 4)
        var errors = [ContrastiveError?](repeating: nil, count: parts)
        let quantize = pipeline.quantize
        errors.withUnsafeMutableBufferPointer { errs in
            scaleK.withUnsafeBufferPointer { sc in
                biasK.withUnsafeBufferPointer { bs in
                    ThreadPool.shared.run(parts: parts) { part in
                        do {
                            let scratch = try AugmentScratch()
                            for item in partRange(part, of: parts, items) {
                                // Sample-major inside a part: all views of one image, then the next.
                                let i = item / views.count, v = item % views.count
                                let row = rows?[i] ?? i
                                let key = keys?[i] ?? Int64(i)
                                var rng = AugmentRNG(seed: seed, epoch: epoch, index: key, view: v)
                                let img = try runView(views[v], source.image(row), h: source.h, w: source.w, c: c,
                                                      rng: &rng, scratch: scratch, quantize: quantize)
                                let (_, oh, ow) = shapes[v]
                                let dst = out + offsets[v] + i * c * oh * ow
                                let hw = oh * ow
                                for k in 0..<c {
                                    let s = img.channel(k), d = dst + k * hw, a = sc[k], b = bs[k]
                                    for q in 0..<hw { d[q] = s[q] * a + b }
                                }
                            }
                        } catch let e as ContrastiveError {
                            errs[part] = e
                        } catch {
                            errs[part] = ContrastiveError(.internal, "\(error)")
                        }
                    }
                }
            }
        }
        if let e = errors.compactMap({ $0 }).first { throw e }
    }

    /// Run one view's ops on one uint8 image; returns the result (in scratch memory).
    func runView(_ ops: [AugOp], _ src: UnsafePointer<UInt8>, h: Int, w: Int, c: Int,
                 rng: inout AugmentRNG, scratch s: AugmentScratch, quantize: Bool) throws -> Plane {
        var cur: Plane? = nil
        var inA = true                      // which of s.a / s.b holds `cur`
        func other() -> FloatBuffer { inA ? s.b : s.a }
        func loaded() throws -> Plane {
            if let p = cur { return p }
            let buf = try s.a.reserve(c * h * w); inA = true
            let p = Plane.load(src, h: h, w: w, c: c, top: 0, left: 0, ch: h, cw: w, into: buf)
            cur = p
            return p
        }
        var H = h, W = w
        for op in ops {
            guard rng.bernoulli(op.p) else { continue }
            switch op.kind {
            case .rrc, .resize, .crop:
                let (oh, ow) = op.size
                var box = (0, 0, H, W)
                if op.kind == .rrc { box = Geometry.rrcBox(h: H, w: W, scale: op.scale, ratio: op.ratio, rng: &rng) }
                if op.kind == .crop {
                    guard oh <= H, ow <= W else { throw ContrastiveError.invalid("crop \(oh)x\(ow) is larger than the \(H)x\(W) image") }
                    box = (rng.below(H - oh + 1), rng.below(W - ow + 1), oh, ow)
                }
                let (top, left, ch, cw) = box
                var base: Plane
                var bt = top, bl = left
                if let p = cur { base = p } else {
                    // First op: load only the crop region from the uint8 image.
                    let buf = try s.a.reserve(c * ch * cw); inA = true
                    base = Plane.load(src, h: h, w: w, c: c, top: top, left: left, ch: ch, cw: cw, into: buf)
                    bt = 0; bl = 0
                }
                if ch == oh && cw == ow {
                    let dst = try other().reserve(c * oh * ow)
                    for k in 0..<c { for y in 0..<oh { (dst + (k * oh + y) * ow).update(from: base.channel(k) + (bt + y) * base.w + bl, count: ow) } }
                    cur = Plane(data: dst, c: c, h: oh, w: ow)
                } else {
                    let dst = try other().reserve(c * oh * ow)
                    let tmp = try s.t.reserve(c * ch * ow)
                    cur = try Geometry.resizedCrop(base, top: bt, left: bl, ch: ch, cw: cw, oh: oh, ow: ow, dst: dst, tmp: tmp, scratch: s, quantize: quantize)
                }
                inA.toggle()
                H = oh; W = ow
            case .hflip: Geometry.hflip(try loaded())
            case .vflip: Geometry.vflip(try loaded())
            case .rot90:
                let k = rng.below(4)
                let p = try loaded()
                let dst = try other().reserve(p.count)
                cur = Geometry.rotate(p, degrees: Double(k * 90), bilinear: false, fill: 0, quantize: quantize, dst: dst)
                inA.toggle()
            case .rotate:
                let angle = rng.uniform(op.degrees.0, op.degrees.1)
                let p = try loaded()
                let dst = try other().reserve(p.count)
                cur = Geometry.rotate(p, degrees: angle, bilinear: op.bilinear, fill: Float(op.fill * 255), quantize: quantize, dst: dst)
                inA.toggle()
            case .jitter:
                // torchvision ColorJitter: a random order of the four, factors uniform in
                // [max(0, 1−b), 1+b] (hue in [−h, h]); an op with strength 0 is skipped.
                var order = SIMD4<Int32>(0, 1, 2, 3)          // Fisher–Yates, no allocation
                for i in stride(from: 3, to: 0, by: -1) {
                    let j = rng.below(i + 1)
                    let t = order[i]; order[i] = order[j]; order[j] = t
                }
                let fb = Float(rng.uniform(max(0, 1 - op.brightness), 1 + op.brightness))
                let fc = Float(rng.uniform(max(0, 1 - op.contrast), 1 + op.contrast))
                let fs = Float(rng.uniform(max(0, 1 - op.saturation), 1 + op.saturation))
                let fh = Float(rng.uniform(-op.hue, op.hue))
                let p = try loaded()
                for slot in 0..<4 {
                    switch order[slot] {
                    case 0: if op.brightness > 0 { try Color.requireRGBorGray(p, "brightness"); Color.brightness(p, fb, quantize: quantize) }
                    case 1: if op.contrast > 0 { try Color.contrast(p, fc, quantize: quantize) }
                    case 2: if op.saturation > 0 { try Color.saturation(p, fs, quantize: quantize) }
                    default: if op.hue > 0 { try Color.hue(p, fh, quantize: quantize) }
                    }
                }
            case .grayscale: try Color.grayscale(try loaded(), quantize: quantize)
            case .blur:
                let sigma = rng.uniform(op.sigma.0, op.sigma.1)
                let p = try loaded()
                let k = op.kernel == 0 ? Blur.autoKernel(side: min(p.h, p.w)) : op.kernel
                if k > 1 {
                    let dst = try other().reserve(p.count)
                    let tmp = try s.t.reserve(p.count)
                    cur = try Blur.gaussian(p, k: k, sigma: sigma, quantize: quantize, tmp: tmp, dst: dst, scratch: s)
                    inA.toggle()
                }
            case .solarize: Color.solarize(try loaded(), threshold: Float(op.threshold))
            case .equalize: Color.equalize(try loaded(), quantize: quantize)
            }
        }
        return try loaded()
    }
}
