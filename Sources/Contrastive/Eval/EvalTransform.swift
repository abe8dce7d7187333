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
