/// The evaluation transform of an encoder: resize to the input size it was trained at and the
/// normalisation it was trained with (recorded in its checkpoint's metadata by the trainer),
/// falling back to the images' own size and per-channel statistics.
extension Model {
    /// Metadata keys that describe the encoder's input (kept when a checkpoint is loaded).
    static let inputKeys: Set<String> = ["input_size", "normalize_mean", "normalize_std"]

    /// A one-view, deterministic augmenter (resize + normalise) for images like `data`.
    public func evalTransform(for data: ImageDataset) throws -> Augmenter {
        func meta(_ k: String) -> String? { extraMetadata.first { $0.0 == k }?.1 }
        var size = "\(data.height)x\(data.width)"
        if let s = meta("input_size"), !s.isEmpty { size = s }
        var mean = meta("normalize_mean") ?? "", std = meta("normalize_std") ?? ""
        if mean.isEmpty || std.isEmpty {
            let (m, s) = Trainer.channelStats(data)
            mean = m.map { "\($0)" }.joined(separator: ","); std = s.map { "\($0)" }.joined(separator: ",")
        }
        return try Augmenter(pipeline: AugmentPipeline.parse("normalize mean=\(mean) std=\(std)\nview: resize size=\(size)"))
    }
}

extension Model {
    /// Features of dataset rows (default: all) through a one-view `transform` and this model in
    /// eval mode, without gradient: rows.count × dim floats, in chunks of 512 images.
    public func features(of data: ImageDataset, rows: [Int]? = nil, transform: Augmenter, output: Output,
                         normalize: Bool = false) throws -> [Float] {
        guard let dim = outputDim(output) else { throw ContrastiveError.invalid("the model has no projection head; embed from the backbone") }
        guard data.channels == inChannels else { throw ContrastiveError.shape("images have \(data.channels) channels, the model expects \(inChannels)") }
        guard transform.viewCount == 1 else { throw ContrastiveError.invalid("the transform must make exactly one view") }
        let rows = rows ?? Array(0..<data.count)
        for r in rows where r < 0 || r >= data.count { throw ContrastiveError.invalid("row \(r) outside 0..<\(data.count)") }
        let (c, h, w) = try transform.viewShape(0, h: data.height, w: data.width, c: data.channels)
        var out = [Float](repeating: 0, count: try checkedCount([rows.count, dim], what: "features"))
        let wasTraining = training
        training = false
        defer { training = wasTraining }
        let chunk = 512
        let buf = try Storage(count: try checkedCount([min(chunk, max(rows.count, 1)), c, h, w], what: "feature batch"))
        try data.pixels.withUnsafeBufferPointer { px in
            let batch = try ImageBatch(pixels: px.baseAddress!, n: data.count, h: data.height, w: data.width, c: data.channels)
            var start = 0
            while start < rows.count {
                let n = min(chunk, rows.count - start)
                let part = Array(rows[start..<(start + n)])
                try part.withUnsafeBufferPointer { r in
                    try transform.apply(batch, count: n, rows: r.baseAddress, keys: nil, seed: 0, epoch: 0, out: buf.base, capacity: buf.count)
                }
                try out.withUnsafeMutableBufferPointer { o in
                    try embed(images: buf.base, n: n, c: c, h: h, w: w, output: output, normalize: normalize, out: o.baseAddress! + start * dim)
                }
                start += n
            }
        }
        return out
    }
}
