/// Transfer by fine-tuning: the pre-trained backbone plus a new linear classifier, trained
/// end to end (or with the backbone frozen) on labelled images with cross-entropy, then
/// evaluated on a test split. Images go through `transform` (a deterministic, one-view
/// augmenter: resize + normalise, or any training augmentation keyed by (seed, epoch, index)).
public enum FineTune {
    public struct Options: Sendable {
        public var epochs = 5
        public var batchSize = 256
        /// Peak learning rate of SGD with momentum, cosine-annealed to 0 over all steps.
        public var learningRate: Float = 0.05
        public var momentum: Float = 0.9
        public var weightDecay: Float = 5e-4
        /// Train the classifier only (a linear probe through the network, BN in eval mode).
        public var freezeBackbone = false
        public var seed: UInt64 = 0
        public init() {}
    }

    public struct Result: Sendable {
        public var top1: Double, top5: Double
        public var trainLoss: Double
        public var steps: Int
    }

    /// Fine-tune `model` (modified in place) on `train` and evaluate on `test`. Both need
    /// labels; `transform` must make one view of the model's input size.
    public static func run(model: Model, train: ImageDataset, test: ImageDataset, transform: Augmenter,
                           options o: Options = Options(), progress: ((Int, Int, Float) -> Void)? = nil) throws -> Result {
        guard let trainLabels = train.labels, let testLabels = test.labels else { throw ContrastiveError.invalid("fine-tuning needs labelled train and test splits") }
        guard train.count >= 2, test.count >= 1 else { throw ContrastiveError.invalid("fine-tuning needs ≥ 2 training and ≥ 1 test images") }
        guard o.epochs >= 1, o.batchSize >= 2 else { throw ContrastiveError.invalid("epochs ≥ 1 and batch size ≥ 2 needed") }
        guard o.learningRate.isFinite, o.learningRate > 0 else { throw ContrastiveError.invalid("learning rate must be > 0") }
        guard transform.viewCount == 1 else { throw ContrastiveError.invalid("the transform must make exactly one view") }
        guard train.channels == model.inChannels, test.channels == model.inChannels else {
            throw ContrastiveError.shape("images have \(train.channels)/\(test.channels) channels, the model expects \(model.inChannels)")
        }
        let classes = max(train.numClasses, test.numClasses)
        let (c, h, w) = try transform.viewShape(0, h: train.height, w: train.width, c: train.channels)
        let headNet = Network()
        let b = LayerBuilder(network: headNet)
        let head = try b.linear("fc", model.backbone.featureDim, classes)
        try b.finish(seed: o.seed &+ 99)
        let nets = o.freezeBackbone ? [headNet] : [model.network, headNet]
        let opts = try nets.map { try SGD(store: $0.params, momentum: o.momentum, weightDecay: o.weightDecay, decayNormAndBias: false) }
        let batch = min(o.batchSize, train.count)
        let stepsPerEpoch = train.count / batch
        let total = stepsPerEpoch * o.epochs
        let schedule = LRSchedule.warmupCosine(warmupSteps: 0, totalSteps: total)
        let g = try Graph()
        let per = c * h * w
        let buf = try Storage(count: batch * per)
        var step = 0, lastLoss = 0.0
        try train.pixels.withUnsafeBufferPointer { px in
            let all = try ImageBatch(pixels: px.baseAddress!, n: train.count, h: train.height, w: train.width, c: train.channels)
            for epoch in 0..<o.epochs {
                var order = Array(0..<train.count)
                var rng = CounterRNG(seed: o.seed, stream: 0xF17E &+ UInt64(epoch))
                for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
                var sum = 0.0
                for s in 0..<stepsPerEpoch {
                    let rows = Array(order[(s * batch)..<((s + 1) * batch)])
                    let keys = rows.map { Int64($0) }
                    try rows.withUnsafeBufferPointer { rp in
                        try keys.withUnsafeBufferPointer { kp in
                            try transform.apply(all, count: batch, rows: rp.baseAddress, keys: kp.baseAddress, seed: o.seed, epoch: UInt64(epoch),
                                                out: buf.base, capacity: buf.count)
                        }
                    }
                    for n in nets { n.params.zeroGrads() }
                    let x = Tensor(shape: [batch, c, h, w], data: buf.base)
                    let ctx = ForwardContext(graph: g, network: model.network, training: !o.freezeBackbone)
                    let f = o.freezeBackbone ? try g.withoutGrad { try model.forward(ctx, g.constant(x)).features } : try model.forward(ctx, g.constant(x)).features
                    let logits = try head(ForwardContext(graph: g, network: headNet, training: true), o.freezeBackbone ? g.stopGradient(f) : f)
                    let loss = try g.crossEntropy(logits, targets: rows.map { trainLabels[$0] })
                    let lv = loss.value.data[0]
                    try g.backward(loss)
                    g.reset()
                    guard lv.isFinite else { throw ContrastiveError(.numeric, "fine-tuning diverged at step \(step) (loss \(lv)); lower the learning rate") }
                    let lr = schedule.rate(base: o.learningRate, step: step)
                    for (opt, n) in zip(opts, nets) { try opt.step(n.params, lr: lr) }
                    sum += Double(lv)
                    step += 1
                    progress?(step, total, lv)
                }
                lastLoss = sum / Double(max(stepsPerEpoch, 1))
            }
        }
        // Evaluate: eval-mode logits of the test split.
        let wasTraining = model.training
        model.training = false
        defer { model.training = wasTraining }
        var logits = [Float](repeating: 0, count: test.count * classes)
        let chunk = 512
        let tb = try Storage(count: min(chunk, test.count) * per)
        try test.pixels.withUnsafeBufferPointer { px in
            let all = try ImageBatch(pixels: px.baseAddress!, n: test.count, h: test.height, w: test.width, c: test.channels)
            var start = 0
            while start < test.count {
                let n = min(chunk, test.count - start)
                let rows = Array(start..<(start + n))
                try rows.withUnsafeBufferPointer { rp in
                    try transform.apply(all, count: n, rows: rp.baseAddress, keys: nil, seed: 0, epoch: 0, out: tb.base, capacity: tb.count)
                }
                try g.withoutGrad {
                    let x = Tensor(shape: [n, c, h, w], data: tb.base)
                    let f = try model.forward(ForwardContext(graph: g, network: model.network, training: false), g.constant(x)).features
                    let l = try head(ForwardContext(graph: g, network: headNet, training: false), f)
                    logits.withUnsafeMutableBufferPointer { (o: inout UnsafeMutableBufferPointer<Float>) in
                        (o.baseAddress! + start * classes).update(from: l.value.data, count: n * classes)
                    }
                }
                g.reset()
                start += n
            }
        }
        let acc = try logits.withUnsafeBufferPointer { lp in
            try testLabels.withUnsafeBufferPointer { tl in
                try TopK.accuracies(scores: lp.baseAddress!, labels: tl.baseAddress!, n: test.count, numClasses: classes, ks: [1, min(5, classes)])
            }
        }
        return Result(top1: acc[0], top5: acc[1], trainLoss: lastLoss, steps: step)
    }
}
