// C ABI for models: create/free, mode, sizes, save/load, embed. Marshalling only.
#if canImport(Glibc)
import Glibc
#endif
import Contrastive
import CContrastiveHeader

func defaultModelOptions() -> ctr_model_options {
    var o = ctr_model_options()
    o.struct_size = UInt32(MemoryLayout<ctr_model_options>.size)
    o.arch = 18
    o.stem = 0
    o.in_channels = 3
    o.width = 1
    o.zero_init_residual = 0
    o.convnet_stages = 4
    withUnsafeMutableBytes(of: &o.convnet_channels) { raw in
        let p = raw.bindMemory(to: Int32.self)
        for i in 0..<p.count { p[i] = 0 }
        p[0] = 32; p[1] = 64; p[2] = 128; p[3] = 256
    }
    o.head_layers = 0
    o.head_hidden = 2048
    o.head_out = 128
    o.head_batch_norm = 0
    o.head_last_batch_norm = 0
    o.seed = 0
    return o
}

private func defaultEmbedOptions() -> ctr_embed_options {
    var o = ctr_embed_options()
    o.struct_size = UInt32(MemoryLayout<ctr_embed_options>.size)
    o.output = 0
    o.normalize = 0
    o.chunk = 128
    o.mean = nil
    o.std = nil
    return o
}

/// Engine configuration from the C options, every field validated.
func modelConfig(_ o: ctr_model_options) throws -> Model.Config {
    var cfg = Model.Config()
    cfg.seed = o.seed
    // Checked for every architecture, so a wrong value never passes silently.
    guard o.stem == 0 || o.stem == 1 else { throw ContrastiveError.invalid("stem \(o.stem) is not CTR_STEM_IMAGENET (0) or CTR_STEM_CIFAR (1)") }
    guard o.width.isFinite, o.width > 0 else { throw ContrastiveError.invalid("width \(o.width) must be a positive number") }
    guard o.zero_init_residual == 0 || o.zero_init_residual == 1 else { throw ContrastiveError.invalid("zero_init_residual must be 0 or 1") }
    switch o.arch {
    case 18, 34, 50, 101, 152:
        guard let stem = o.stem == 0 ? ResNet.Stem.imagenet : (o.stem == 1 ? ResNet.Stem.cifar : nil) else {
            throw ContrastiveError.invalid("stem \(o.stem) is not CTR_STEM_IMAGENET (0) or CTR_STEM_CIFAR (1)")
        }
        guard o.zero_init_residual == 0 || o.zero_init_residual == 1 else { throw ContrastiveError.invalid("zero_init_residual must be 0 or 1") }
        cfg.architecture = .resnet(ResNet.Config(depth: Int(o.arch), stem: stem, inChannels: Int(o.in_channels),
                                                 width: o.width, zeroInitResidual: o.zero_init_residual == 1))
    case 1:
        guard o.convnet_stages >= 1, Int(o.convnet_stages) <= 16 else {
            throw ContrastiveError.invalid("convnet_stages \(o.convnet_stages) outside 1...CTR_CONVNET_MAX_STAGES")
        }
        var ch: [Int] = []
        withUnsafeBytes(of: o.convnet_channels) { raw in
            let p = raw.bindMemory(to: Int32.self)
            for i in 0..<Int(o.convnet_stages) { ch.append(Int(p[i])) }
        }
        cfg.architecture = .convnet(ConvNet.Config(channels: ch, inChannels: Int(o.in_channels)))
    default:
        throw ContrastiveError.invalid("arch \(o.arch) is not a ctr_arch value (18, 34, 50, 101, 152 or CTR_ARCH_CONVNET = 1)")
    }
    if o.head_layers < 0 { throw ContrastiveError.invalid("head_layers \(o.head_layers) is negative") }
    if o.head_layers > 0 {
        for (name, v) in [("head_batch_norm", o.head_batch_norm), ("head_last_batch_norm", o.head_last_batch_norm)] where v != 0 && v != 1 {
            throw ContrastiveError.invalid("\(name) must be 0 or 1, got \(v)")
        }
        cfg.projector = MLPHead.Config(layers: Int(o.head_layers), hidden: Int(o.head_hidden), output: Int(o.head_out),
                                       batchNorm: o.head_batch_norm == 1, lastBatchNorm: o.head_last_batch_norm == 1)
    }
    return cfg
}

@_cdecl("ctr_model_options_default")
public func ctr_model_options_default(_ opts: UnsafeMutablePointer<ctr_model_options>?) {
    opts?.pointee = defaultModelOptions()
}

@_cdecl("ctr_embed_options_default")
public func ctr_embed_options_default(_ opts: UnsafeMutablePointer<ctr_embed_options>?) {
    opts?.pointee = defaultEmbedOptions()
}

@_cdecl("ctr_model_create")
public func ctr_model_create(_ opts: UnsafePointer<ctr_model_options>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(.invalidArgument, "ctr_model_create", "out is NULL") }
    out.pointee = nil
    return guarded("ctr_model_create") {
        let o = try readOptions(UnsafeRawPointer(opts), defaults: defaultModelOptions(), name: "ctr_model_options")
        let model = try Model(try modelConfig(o))
        out.pointee = makeHandle(model, tag: HandleTag.model)
    }
}

@_cdecl("ctr_model_free")
public func ctr_model_free(_ model: OpaquePointer?) {
    releaseHandle(model, tag: HandleTag.model, function: "ctr_model_free")
}

@_cdecl("ctr_model_set_training")
public func ctr_model_set_training(_ model: OpaquePointer?, _ training: Int32) -> Int32 {
    guarded("ctr_model_set_training") {
        let m = try object(model, tag: HandleTag.model, as: Model.self, name: "model")
        guard training == 0 || training == 1 else { throw ContrastiveError.invalid("training must be 0 or 1, got \(training)") }
        m.training = training == 1
    }
}

@_cdecl("ctr_model_output_dim")
public func ctr_model_output_dim(_ model: OpaquePointer?, _ output: Int32, _ dim: UnsafeMutablePointer<Int32>?) -> Int32 {
    guarded("ctr_model_output_dim") {
        let m = try object(model, tag: HandleTag.model, as: Model.self, name: "model")
        guard let dim else { throw ContrastiveError.invalid("dim is NULL") }
        guard let o = Model.Output(rawValue: output) else { throw ContrastiveError.invalid("output \(output) is not a ctr_embed_output") }
        guard let d = m.outputDim(o) else { throw ContrastiveError.invalid("the model has no projection head") }
        dim.pointee = Int32(d)
    }
}

@_cdecl("ctr_model_num_params")
public func ctr_model_num_params(_ model: OpaquePointer?, _ count: UnsafeMutablePointer<Int64>?, _ buffers: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded("ctr_model_num_params") {
        let m = try object(model, tag: HandleTag.model, as: Model.self, name: "model")
        count?.pointee = Int64(m.network.params.totalCount)
        buffers?.pointee = Int64(m.network.buffers.totalCount)
    }
}

/// A C string argument as a Swift path (non-NULL, non-empty, bounded).
func pathArgument(_ p: UnsafePointer<CChar>?, name: String = "path") throws -> String {
    guard let p else { throw ContrastiveError.invalid("\(name) is NULL") }
    let len = strnlen(p, 4097)
    guard len > 0, len <= 4096 else { throw ContrastiveError.invalid("\(name) is empty or longer than 4096 bytes") }
    return String(cString: p)
}

@_cdecl("ctr_model_save")
public func ctr_model_save(_ model: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    guarded("ctr_model_save") {
        let m = try object(model, tag: HandleTag.model, as: Model.self, name: "model")
        try m.save(to: try pathArgument(path))
    }
}

@_cdecl("ctr_model_load")
public func ctr_model_load(_ model: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ strict: Int32) -> Int32 {
    guarded("ctr_model_load") {
        let m = try object(model, tag: HandleTag.model, as: Model.self, name: "model")
        guard strict == 0 || strict == 1 else { throw ContrastiveError.invalid("strict must be 0 or 1, got \(strict)") }
        try m.load(from: try pathArgument(path), strict: strict == 1)
    }
}

/// Shared validation of the embed calls; returns (n, output, chunk, dim).
private func embedArguments(_ m: Model, n: Int64, h: Int32, w: Int32, c: Int32, opts: UnsafePointer<ctr_embed_options>?,
                            outCapacity: Int) throws -> (Int, ctr_embed_options, Model.Output, Int) {
    let o = try readOptions(UnsafeRawPointer(opts), defaults: defaultEmbedOptions(), name: "ctr_embed_options")
    guard let count = Int(exactly: n), count >= 1 else { throw ContrastiveError.invalid("n = \(n): the batch must hold at least one image") }
    guard h >= 1, w >= 1, c >= 1 else { throw ContrastiveError.invalid("image size \(h)×\(w)×\(c) must be positive") }
    guard let output = Model.Output(rawValue: o.output) else { throw ContrastiveError.invalid("output \(o.output) is not a ctr_embed_output") }
    guard o.normalize == 0 || o.normalize == 1 else { throw ContrastiveError.invalid("normalize must be 0 or 1") }
    guard o.chunk >= 1, o.chunk <= 65536 else { throw ContrastiveError.invalid("chunk \(o.chunk) outside 1...65536") }
    guard h <= 8192, w <= 8192 else { throw ContrastiveError.invalid("image size \(h)×\(w) above the 8192 limit") }
    guard Int(c) == m.inChannels else { throw ContrastiveError.shape("images have \(c) channels, the model expects \(m.inChannels)") }
    guard let dim = m.outputDim(output) else { throw ContrastiveError.invalid("the model has no projection head") }
    if m.training && count < 2 {
        throw ContrastiveError.invalid("training-mode embedding needs at least 2 images (batch statistics); use eval mode for single images")
    }
    let (need, o1) = count.multipliedReportingOverflow(by: dim)
    guard !o1 else { throw ContrastiveError.invalid("n × dim overflows") }
    guard outCapacity >= need else { throw ContrastiveError(.bufferTooSmall, "out holds \(outCapacity) floats, \(need) needed (\(count) × \(dim))") }
    let (_, o2) = count.multipliedReportingOverflow(by: Int(h) * Int(w) * Int(c))
    guard !o2 else { throw ContrastiveError.invalid("the image batch size overflows") }
    return (count, o, output, dim)
}

@_cdecl("ctr_model_embed_u8")
public func ctr_model_embed_u8(_ model: OpaquePointer?, _ images: UnsafePointer<UInt8>?, _ n: Int64, _ h: Int32, _ w: Int32,
                               _ channels: Int32, _ opts: UnsafePointer<ctr_embed_options>?,
                               _ out: UnsafeMutablePointer<Float>?, _ outCapacity: UInt) -> Int32 {
    guarded("ctr_model_embed_u8") {
        let m = try object(model, tag: HandleTag.model, as: Model.self, name: "model")
        guard let images else { throw ContrastiveError.invalid("images is NULL") }
        guard let out else { throw ContrastiveError.invalid("out is NULL") }
        let (count, o, output, _) = try embedArguments(m, n: n, h: h, w: w, c: channels, opts: opts,
                                                       outCapacity: Int(clamping: outCapacity))
        let c = Int(channels)
        let mean = o.mean.map { Array(UnsafeBufferPointer(start: $0, count: c)) } ?? [Float](repeating: 0, count: c)
        let std = o.std.map { Array(UnsafeBufferPointer(start: $0, count: c)) } ?? [Float](repeating: 1, count: c)
        m.embedChunk = Int(o.chunk)
        try m.embed(pixels: images, n: count, h: Int(h), w: Int(w), c: c, mean: mean, std: std,
                    output: output, normalize: o.normalize == 1, out: out)
    }
}

@_cdecl("ctr_model_embed_f32")
public func ctr_model_embed_f32(_ model: OpaquePointer?, _ images: UnsafePointer<Float>?, _ n: Int64, _ channels: Int32,
                                _ h: Int32, _ w: Int32, _ opts: UnsafePointer<ctr_embed_options>?,
                                _ out: UnsafeMutablePointer<Float>?, _ outCapacity: UInt) -> Int32 {
    guarded("ctr_model_embed_f32") {
        let m = try object(model, tag: HandleTag.model, as: Model.self, name: "model")
        guard let images else { throw ContrastiveError.invalid("images is NULL") }
        guard let out else { throw ContrastiveError.invalid("out is NULL") }
        let (count, o, output, _) = try embedArguments(m, n: n, h: h, w: w, c: channels, opts: opts,
                                                       outCapacity: Int(clamping: outCapacity))
        m.embedChunk = Int(o.chunk)
        try m.embed(images: images, n: count, c: Int(channels), h: Int(h), w: Int(w),
                    output: output, normalize: o.normalize == 1, out: out)
    }
}
