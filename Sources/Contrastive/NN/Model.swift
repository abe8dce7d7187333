/// A backbone with an optional projection head: what users create, train, save, load and embed
/// with. Parameters live in one `Network` (flat storage); the checkpoint holds the backbone under
/// torchvision's names and the head under `projector.`.
public final class Model {
    public enum Architecture: Sendable {
        case resnet(ResNet.Config)
        case convnet(ConvNet.Config)
    }

    public struct Config: Sendable {
        public var architecture: Architecture = .resnet(ResNet.Config())
        public var projector: MLPHead.Config? = nil
        public var seed: UInt64 = 0
        public init() {}
        public init(architecture: Architecture, projector: MLPHead.Config? = nil, seed: UInt64 = 0) {
            self.architecture = architecture; self.projector = projector; self.seed = seed
        }
    }

    /// Which features `embed` returns.
    public enum Output: Int32, Sendable { case backbone = 0, projector = 1 }

    public let config: Config
    public let network = Network()
    public let backbone: Backbone
    public let projector: MLPHead?
    /// Training mode (batch statistics in BN). New models start in eval mode.
    public var training = false
    /// Extra `key=value` metadata saved with the weights (a trainer records the input size and
    /// normalisation it trained with, so evaluation can reproduce them).
    public var extraMetadata: [(String, String)] = []
    /// Images per forward chunk in `embed` (bounds the workspace).
    public var embedChunk = 128
    private var graph: Graph?

    public init(_ config: Config) throws {
        self.config = config
        let b = LayerBuilder(network: network)
        let bb: Backbone
        switch config.architecture {
        case .resnet(let c): bb = try ResNet(c, builder: b)
        case .convnet(let c): bb = try ConvNet(c, builder: b)
        }
        backbone = bb
        projector = try config.projector.map { try MLPHead($0, inputDim: bb.featureDim, name: "projector", builder: b) }
        try b.finish(seed: config.seed)
    }

    public var inChannels: Int { backbone.inChannels }

    public func outputDim(_ o: Output) -> Int? {
        switch o {
        case .backbone: return backbone.featureDim
        case .projector: return projector?.config.output
        }
    }

    /// Backbone features and, with a head, the projection, recorded on `ctx.graph`.
    public func forward(_ ctx: ForwardContext, _ x: Var) throws -> (features: Var, projection: Var?) {
        guard x.shape.count == 4, x.shape[1] == inChannels else {
            throw ContrastiveError.shape("model expects (N, \(inChannels), H, W) images, got \(x.shape)")
        }
        let f = try backbone(ctx, x)
        return (f, try projector.map { try $0(ctx, f) })
    }

    // MARK: embedding

    /// Embed float images (N, C, H, W) into `out` (N × outputDim), without gradients, in the
    /// current mode (train mode updates BN running statistics, as in PyTorch). Non-finite input
    /// is refused with `.numeric` before anything runs.
    public func embed(images: UnsafePointer<Float>, n: Int, c: Int, h: Int, w: Int,
                      output: Output, normalize: Bool, out: UnsafeMutablePointer<Float>) throws {
        try checkEmbedShape(n: n, c: c, h: h, w: w, output: output)
        let per = c * h * w
        for i in 0..<(n * per) where !images[i].isFinite {
            throw ContrastiveError(.numeric, "input value \(i) (image \(i / per)) is \(images[i])")
        }
        try embedChunks(n: n, c: c, h: h, w: w, output: output, normalize: normalize, out: out) { t, start, count in
            t.data.update(from: images + start * per, count: count * per)
        }
    }

    /// Embed uint8 images (N, H, W, C) — interleaved channels — normalised inside as
    /// (v/255 − mean[c]) / std[c].
    public func embed(pixels: UnsafePointer<UInt8>, n: Int, h: Int, w: Int, c: Int, mean: [Float], std: [Float],
                      output: Output, normalize: Bool, out: UnsafeMutablePointer<Float>) throws {
        try checkEmbedShape(n: n, c: c, h: h, w: w, output: output)
        guard mean.count == c, std.count == c, mean.allSatisfy(\.isFinite), std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw ContrastiveError.invalid("mean/std need \(c) finite values with std > 0")
        }
        let scale = std.map { 1 / (255 * $0) }, shift = zip(mean, std).map { -$0 / $1 }
        let plane = h * w
        try embedChunks(n: n, c: c, h: h, w: w, output: output, normalize: normalize, out: out) { t, start, count in
            parallelFor(count) { r in
                for i in r {
                    let src = pixels + (start + i) * plane * c, dst = t.data + i * c * plane
                    for ch in 0..<c {
                        let s = scale[ch], o = shift[ch], d = dst + ch * plane
                        for p in 0..<plane { d[p] = Float(src[p * c + ch]) * s + o }
                    }
                }
            }
        }
    }

    func checkEmbedShape(n: Int, c: Int, h: Int, w: Int, output: Output) throws {
        guard n >= 1 else { throw ContrastiveError.invalid("empty batch (n = \(n))") }
        guard !training || n >= 2 else {
            throw ContrastiveError.invalid("training-mode embedding needs at least 2 images (batch statistics); use eval mode for single images")
        }
        guard c == inChannels else { throw ContrastiveError.shape("images have \(c) channels, the model expects \(inChannels)") }
        guard h >= 1, w >= 1, h <= 8192, w <= 8192 else { throw ContrastiveError.invalid("image size \(h)×\(w) outside 1...8192") }
        _ = try checkedCount([n, c, h, w], what: "image batch")
        guard outputDim(output) != nil else { throw ContrastiveError.invalid("the model has no projector; embed from the backbone") }
    }

    private func embedChunks(n: Int, c: Int, h: Int, w: Int, output: Output, normalize: Bool, out: UnsafeMutablePointer<Float>,
                             fill: (Tensor, Int, Int) throws -> Void) throws {
        let g = try graph ?? Graph()
        graph = g
        let d = outputDim(output)!
        let chunk = max(1, embedChunk)
        var start = 0
        defer { g.reset() }
        while start < n {
            var count = min(chunk, n - start)
            // In training mode no chunk may hold a single image (batch statistics need two):
            // a lone remainder joins the chunk before it.
            if training && n - start - count == 1 { count += 1 }
            g.reset()
            try g.withoutGrad {
                let x = try g.workspace.tensor([count, c, h, w])
                try fill(x, start, count)
                let ctx = ForwardContext(graph: g, network: network, training: training)
                let (f, p) = try forward(ctx, g.constant(x))
                var y = output == .backbone ? f : p!
                if normalize { y = try g.l2Normalize(y) }
                (out + start * d).update(from: y.value.data, count: count * d)
            }
            start += count
        }
    }

    // MARK: checkpoints

    /// Metadata describing the architecture (stored in `__metadata__`).
    public var metadata: [(String, String)] {
        var m: [(String, String)] = [("format", "libcontrastive"), ("library_version", Version.string)]
        switch config.architecture {
        case .resnet(let r):
            m += [("arch", "resnet\(r.depth)"), ("stem", r.stem.rawValue), ("in_channels", "\(r.inChannels)"), ("width", "\(r.width)")]
        case .convnet(let cn):
            m += [("arch", "convnet"), ("channels", cn.channels.map(String.init).joined(separator: ",")), ("in_channels", "\(cn.inChannels)")]
        }
        if let p = projector { m.append(("projector", p.config.descriptor)) }
        return m + extraMetadata
    }

    /// (name, shape, isBuffer, index) for every tensor, in state_dict order.
    public var stateEntries: [(name: String, shape: [Int], isBuffer: Bool, index: Int)] {
        network.stateOrder.map { (isBuffer, i) in
            let e = isBuffer ? network.buffers.entries[i] : network.params.entries[i]
            return (e.name, e.shape, isBuffer, i)
        }
    }

    /// Write every parameter and buffer (num_batches_tracked as int64) atomically; without
    /// `includeHead` only the backbone (torchvision's state_dict names, nothing else).
    public func save(to path: String, includeHead: Bool = true) throws {
        var w = Safetensors.Writer()
        w.metadata = includeHead ? metadata : metadata.filter { $0.0 != "projector" }
        for e in stateEntries where includeHead || !e.name.hasPrefix("projector.") {
            if e.isBuffer && e.name.hasSuffix("num_batches_tracked") {
                try w.add(e.name, shape: e.shape, int64: [Int64(network.buffers.value(e.index).data[0])])
            } else {
                let t = e.isBuffer ? network.buffers.value(e.index) : network.params.value(e.index)
                try w.add(e.name, shape: e.shape, floats: t.data)
            }
        }
        try w.write(to: path)
    }

    /// Load weights from a safetensors file. Every problem — missing, unexpected (when `strict`),
    /// mis-shaped or non-finite tensors, another architecture — is reported together, and the
    /// model is left unchanged unless everything checks out.
    public func load(from path: String, strict: Bool = true) throws {
        try load(Safetensors.File(path: path), strict: strict)
    }

    public func load(_ file: Safetensors.File, strict: Bool = true) throws {
        var problems: [String] = []
        if let arch = file.meta("arch"), let mine = metadata.first(where: { $0.0 == "arch" })?.1, arch != mine {
            problems.append("checkpoint is a \(arch), the model a \(mine)")
        }
        let expected = stateEntries
        var expectedNames = Set<String>()
        for e in expected {
            expectedNames.insert(e.name)
            guard let t = file.entry(e.name) else { problems.append("missing \(e.name)"); continue }
            if t.shape != e.shape { problems.append("\(e.name) has shape \(t.shape), expected \(e.shape)") }
        }
        if strict {
            for t in file.entries where !expectedNames.contains(t.name) { problems.append("unexpected \(t.name)") }
        }
        guard problems.isEmpty else {
            let shown = problems.prefix(12).joined(separator: "; ")
            let more = problems.count > 12 ? " (and \(problems.count - 12) more)" : ""
            throw ContrastiveError(.format, "checkpoint does not fit the model: \(shown)\(more)")
        }
        // Stage every value, check it, then commit.
        var staged: [[Float]] = []
        for e in expected {
            let v = file.floats(e.name)!
            if let bad = v.firstIndex(where: { !$0.isFinite }) {
                throw ContrastiveError(.numeric, "checkpoint tensor \(e.name) holds a non-finite value at \(bad)")
            }
            staged.append(v)
        }
        for (e, v) in zip(expected, staged) {
            let t = e.isBuffer ? network.buffers.value(e.index) : network.params.value(e.index)
            v.withUnsafeBufferPointer { t.data.update(from: $0.baseAddress!, count: v.count) }
        }
        let input = file.metadata.filter { Model.inputKeys.contains($0.0) }
        if !input.isEmpty { extraMetadata = input }
    }
}

extension Model.Config {
    /// The architecture described by a checkpoint's `__metadata__` (as `Model.metadata` writes
    /// it: arch, stem, in_channels, width or channels, projector), so a checkpoint can be opened
    /// without knowing how it was made. Unknown or malformed values → `.format`.
    public init(metadata: [(String, String)]) throws {
        func meta(_ k: String) -> String? { metadata.first { $0.0 == k }?.1 }
        guard let arch = meta("arch") else { throw ContrastiveError(.format, "the checkpoint's metadata names no architecture (arch)") }
        guard let cin = meta("in_channels").flatMap(Int.init), cin >= 1, cin <= 4096 else {
            throw ContrastiveError(.format, "the checkpoint's metadata has no valid in_channels")
        }
        self.init()
        if arch == "convnet" {
            let ch = (meta("channels") ?? "").split(separator: ",").compactMap { Int($0) }
            guard !ch.isEmpty, ch.count <= 16, ch.allSatisfy({ $0 >= 1 && $0 <= 65536 }) else {
                throw ContrastiveError(.format, "the checkpoint's metadata has invalid ConvNet channels \(meta("channels") ?? "")")
            }
            architecture = .convnet(ConvNet.Config(channels: ch, inChannels: cin))
        } else if arch.hasPrefix("resnet"), let depth = Int(arch.dropFirst(6)), ResNet.supportedDepths.contains(depth) {
            guard let stem = meta("stem").flatMap(ResNet.Stem.init(rawValue:)) else {
                throw ContrastiveError(.format, "the checkpoint's metadata has no valid stem")
            }
            let width = meta("width").flatMap(Float.init) ?? 1
            guard width.isFinite, width > 0, width <= 16 else { throw ContrastiveError(.format, "invalid width \(width)") }
            architecture = .resnet(ResNet.Config(depth: depth, stem: stem, inChannels: cin, width: width))
        } else {
            throw ContrastiveError(.format, "unknown architecture \(arch) in the checkpoint's metadata")
        }
        if let p = meta("projector") {
            // mlp<layers>/<hidden>/<output>/bn<batchNorm><lastBatchNorm>
            let parts = p.split(separator: "/")
            guard parts.count == 4, parts[0].hasPrefix("mlp"), let l = Int(parts[0].dropFirst(3)), let h = Int(parts[1]), let o = Int(parts[2]),
                  parts[3].count == 4, parts[3].hasPrefix("bn"), l >= 1, l <= 16, h >= 1, o >= 1, h <= 1 << 16, o <= 1 << 16 else {
                throw ContrastiveError(.format, "invalid projector description \(p) in the checkpoint's metadata")
            }
            let bits = Array(parts[3].dropFirst(2))
            projector = MLPHead.Config(layers: l, hidden: h, output: o, batchNorm: bits[0] == "1", lastBatchNorm: bits[1] == "1")
        }
    }
}

extension Model {
    /// Open a model checkpoint: the architecture from its metadata, then the weights.
    public static func open(_ path: String) throws -> Model {
        let f = try Safetensors.File(path: path)
        let m = try Model(try Config(metadata: f.metadata))
        try m.load(f)
        return m
    }
}
