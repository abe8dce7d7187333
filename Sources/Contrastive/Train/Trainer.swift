#if canImport(Glibc)
import Glibc
#endif

/// Metrics of one optimizer step.
public struct StepMetrics: Sendable {
    public var epoch = 0
    /// Global step index (0-based) of this step.
    public var step = 0
    /// Steps per epoch and in the whole run (for progress and ETA).
    public var stepsPerEpoch = 0, totalSteps = 0
    public var loss: Float = .nan
    public var learningRate: Float = 0
    /// Momentum τ used for the EMA after this step (NaN without a momentum encoder).
    public var tau: Float = .nan
    /// L2 norm of all trainable gradients (before the optimizer).
    public var gradNorm: Double = .nan
    /// std of the L2-normalised projections × √d (≈ 1 healthy, → 0 collapsed).
    public var embeddingStd: Double = .nan
    public var imagesPerSecond: Double = 0
    public var seconds: Double = 0
    /// The step was skipped because its loss or gradient was not finite.
    public var skipped = false
    /// This step ended an epoch (its metrics are in `Trainer.history.last`).
    public var endedEpoch = false
    public init() {}
}

/// Metrics of one epoch.
public struct EpochMetrics: Sendable {
    public var epoch = 0
    public var meanLoss: Double = .nan
    /// Effective rank (Roy & Vetterli) of backbone features of a fixed image sample.
    public var effectiveRank: Double = .nan
    /// Online weighted-kNN accuracy on the validation split (NaN without one).
    public var knnTop1: Double = .nan, knnTop5: Double = .nan
    public var seconds: Double = 0
    public var skippedSteps = 0
    public init() {}
}

/// What the training callback receives.
public enum TrainEvent {
    case step(StepMetrics)
    case epoch(EpochMetrics)
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// The training loop: dataset → seeded shuffle per epoch → prefetching augmentation → method
/// step → optimizer → EMA / queue rules, with metrics, a NaN/Inf guard, gradient accumulation,
/// and full-state checkpoints with exact resume.
///
/// Determinism: epoch e visits the images in a permutation keyed by (seed, e) (the last
/// partial batch is dropped); image i's views in epoch e are keyed by (seed, e, i, view). No
/// other state is random, so a run resumed from a checkpoint at any step continues exactly as
/// the uninterrupted run would (bit-identical for the same thread count).
/// Thread safety: one thread at a time.
public final class Trainer {
    public let config: TrainConfig
    public let method: ContrastiveMethod
    public let augmenter: Augmenter
    /// Deterministic resize + normalise used for evaluation embeddings.
    public let evalAugmenter: Augmenter
    public let optimizers: [Optimizer]
    public let dataset: ImageDataset?
    public let validation: ImageDataset?
    public let stepsPerEpoch: Int
    public var totalSteps: Int { stepsPerEpoch * config.epochs }
    /// Input side of the encoder (the first view's crop).
    public let cropHeight: Int, cropWidth: Int, channels: Int
    /// Learning rate after batch-size scaling.
    public let baseLearningRate: Float
    public let schedule: LRSchedule

    public internal(set) var epoch = 0
    public internal(set) var stepInEpoch = 0
    public internal(set) var globalStep = 0
    public internal(set) var skippedSteps = 0
    var consecutiveSkips = 0
    var epochLossSum = 0.0, epochLossCount = 0
    private var epochStart = 0.0
    public internal(set) var history: [EpochMetrics] = []
    /// Metrics of the last step taken.
    public private(set) var lastStep: StepMetrics?
    /// Print a progress line with ETA to stderr during `fit`.
    public var progress = false

    let graph: Graph
    var current: AugmentPrefetcher?
    private let pixels: UnsafeMutablePointer<UInt8>?
    private let pixelCount: Int
    private var userBatchBuffer: Storage?
    private var accumulators: [Storage] = []
    /// BN statistics of every network (restored when a step is skipped) and the trainable
    /// weights + optimizer state (restored when an update would make a weight non-finite);
    /// their storage is allocated once.
    private let bufferSnapshot: Snapshot
    private let updateSnapshot: Snapshot
    private var lastProgress = 0.0
    private var avgStepSeconds = 0.0

    /// Build a trainer. `dataset` may be nil for the bring-your-own-batch API (`step(images:)`);
    /// then `imageSize` (h, w) and the model's channel count fix the augmentation's input.
    /// `validation` (labelled) enables online kNN.
    public init(config: TrainConfig, dataset: ImageDataset?, validation: ImageDataset? = nil,
                imageSize: (Int, Int)? = nil) throws {
        try config.validate()
        var cfg = config
        if cfg.model.projector == nil { cfg.model.projector = TrainConfig.defaultProjector(cfg.method) }
        let inC: Int
        switch cfg.model.architecture {
        case .resnet(let r): inC = r.inChannels
        case .convnet(let c): inC = c.inChannels
        }
        let (h, w): (Int, Int)
        if let d = dataset {
            guard d.count >= 1 else { throw ContrastiveError.invalid("the training dataset is empty") }
            guard d.channels == inC else {
                throw ContrastiveError.shape("the dataset has \(d.channels) channels, the model expects \(inC)")
            }
            (h, w) = (d.height, d.width)
        } else {
            guard let s = imageSize, s.0 >= 1, s.1 >= 1 else { throw ContrastiveError.invalid("without a dataset an image size is needed") }
            (h, w) = s
        }
        if let v = validation {
            guard v.channels == inC, v.height == h, v.width == w else {
                throw ContrastiveError.shape("validation images are \(v.height)×\(v.width)×\(v.channels), training images \(h)×\(w)×\(inC)")
            }
            guard v.labels != nil, v.count >= 1 else { throw ContrastiveError.invalid("the validation split needs labels and at least one image") }
            if cfg.knnEveryEpochs > 0, dataset != nil, dataset?.labels == nil {
                throw ContrastiveError.invalid("online kNN needs labels on the training dataset too")
            }
        }
        if cfg.method == .supcon, dataset != nil, dataset?.labels == nil {
            throw ContrastiveError.invalid("SupCon needs a labelled dataset")
        }
        // Augmentation: the given pipeline or the method's preset; normalisation from the data
        // when the preset's does not fit the channel count.
        var pipe = try cfg.augmentation ?? AugmentPipeline.preset(cfg.augmentationPreset ?? TrainConfig.defaultAugmentation(cfg.method, side: min(h, w)),
                                                                  size: min(h, w))
        if !pipe.mean.isEmpty, pipe.mean.count != 1, pipe.mean.count != inC {
            let (m, s) = dataset.map { Trainer.channelStats($0) } ?? ([Double](repeating: 0.5, count: inC), [Double](repeating: 0.25, count: inC))
            pipe.mean = m; pipe.std = s
        }
        cfg.augmentation = pipe
        self.config = cfg
        augmenter = try Augmenter(pipeline: pipe)
        let (c0, ch, cw) = try augmenter.viewShape(0, h: h, w: w, c: inC)
        cropHeight = ch; cropWidth = cw; channels = c0
        if cfg.method != .swav {
            guard augmenter.viewCount == 2 else { throw ContrastiveError.invalid("\(cfg.method.rawValue) trains on 2 views; the augmentation makes \(augmenter.viewCount)") }
        }
        for v in 1..<augmenter.viewCount where cfg.method != .swav {
            let s = try augmenter.viewShape(v, h: h, w: w, c: inC)
            guard s.1 == ch, s.2 == cw else { throw ContrastiveError.shape("view \(v) is \(s.1)×\(s.2), view 0 is \(ch)×\(cw): views must match") }
        }
        var evalText = pipe.mean.isEmpty ? "normalize none\n" : "normalize mean=\(pipe.mean.map { "\($0)" }.joined(separator: ",")) std=\(pipe.std.map { "\($0)" }.joined(separator: ","))\n"
        evalText += "view: resize size=\(ch)x\(cw)"
        evalAugmenter = try Augmenter(pipeline: AugmentPipeline.parse(evalText))

        self.dataset = dataset
        self.validation = validation
        if let d = dataset {
            stepsPerEpoch = d.count / cfg.batchSize
            guard stepsPerEpoch >= 1 else {
                throw ContrastiveError.invalid("batch size \(cfg.batchSize) is larger than the dataset (\(d.count) images)")
            }
            let bytes = d.pixels.count
            let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bytes, 1))
            d.pixels.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: bytes) }
            pixels = p; pixelCount = bytes
        } else {
            stepsPerEpoch = 1
            pixels = nil; pixelCount = 0
        }
        let total = stepsPerEpoch * cfg.epochs
        method = try Trainer.makeMethod(cfg, totalSteps: total, stepsPerEpoch: stepsPerEpoch)
        let meth = method
        guard method.encoder.inChannels == inC else { throw ContrastiveError(.internal, "channel count mismatch") }
        baseLearningRate = cfg.lrScaling.scaled(cfg.learningRate, batch: cfg.batchSize)
        let spe = stepsPerEpoch
        let warm = Int(((cfg.warmupEpochs ?? min(10, Double(cfg.epochs) / 10)) * Double(spe)).rounded())
        switch cfg.schedule {
        case .cosine: schedule = .warmupCosine(warmupSteps: min(warm, total), totalSteps: total, startFactor: 0, minFactor: 0)
        case .constant: schedule = .constant
        case .step: schedule = .step(milestones: cfg.stepMilestones.map { $0 * spe }, gamma: cfg.stepGamma)
        }
        try schedule.validate()
        optimizers = try meth.trainableNetworks.map { net in
            switch cfg.optimizer {
            case .sgd: return try SGD(store: net.params, momentum: cfg.momentum, weightDecay: cfg.weightDecay, decayNormAndBias: !cfg.excludeBiasAndNorm)
            case .lars: return try LARS(store: net.params, momentum: cfg.momentum, weightDecay: cfg.weightDecay, eta: cfg.larsEta,
                                        clip: cfg.larsClip, excludeNormAndBias: cfg.excludeBiasAndNorm)
            case .adamw: return try AdamW(store: net.params, weightDecay: cfg.weightDecay, decayNormAndBias: !cfg.excludeBiasAndNorm)
            }
        }
        graph = try Graph()
        bufferSnapshot = try Snapshot(meth.stateNetworks.compactMap { $0.network.buffers.totalCount > 0 ? $0.network.buffers.flatValues : nil })
        updateSnapshot = try Snapshot(meth.trainableNetworks.map(\.params.flatValues) + optimizers.flatMap { $0.state.map(\.1) })
        model.extraMetadata = [("input_size", "\(ch)x\(cw)"), ("normalize_mean", pipe.mean.map { "\($0)" }.joined(separator: ",")),
                               ("normalize_std", pipe.std.map { "\($0)" }.joined(separator: ","))]
    }

    deinit { pixels?.deallocate() }

    /// Per-channel mean and std of a dataset's pixels (0...1 scale), over at most 4096 images.
    public static func channelStats(_ d: ImageDataset) -> ([Double], [Double]) {
        let c = d.channels, n = min(d.count, 4096), per = d.imageBytes
        var s = [Double](repeating: 0, count: c), s2 = s
        for i in 0..<n {
            let base = i * per
            for p in stride(from: 0, to: per, by: c) {
                for k in 0..<c { let v = Double(d.pixels[base + p + k]) / 255; s[k] += v; s2[k] += v * v }
            }
        }
        let count = Double(n * per / c)
        let mean = s.map { $0 / count }
        let std = (0..<c).map { max((s2[$0] / count - mean[$0] * mean[$0]).squareRoot(), 1e-3) }
        return (mean, std)
    }

    static func makeMethod(_ c: TrainConfig, totalSteps: Int, stepsPerEpoch: Int) throws -> ContrastiveMethod {
        let tau = MomentumSchedule.cosine(base: c.tauBase, final: c.tauFinal, totalSteps: max(totalSteps, 1))
        switch c.method {
        case .simclr: return try SimCLR(model: Model(c.model), temperature: c.temperature)
        case .byol: return try BYOL(config: c.model, momentum: tau)
        case .mocov2: return try MoCoV2(config: c.model, queueSize: c.queueSize, temperature: c.temperature, momentum: tau)
        case .swav:
            let m = try SwAV(config: c.model, prototypes: c.prototypes, globalCrops: 2,
                             freezePrototypesSteps: min(c.freezePrototypesEpochs * stepsPerEpoch, totalSteps / 10),
                             queueSize: c.swavQueueStartEpoch >= 0 ? c.queueSize : 0)
            m.temperature = c.temperature
            return m
        case .simsiam: return try SimSiam(config: c.model)
        case .barlow: return try BarlowTwinsMethod(config: c.model)
        case .vicreg: return try VICRegMethod(config: c.model)
        case .nnclr: return try NNCLR(config: c.model, queueSize: c.queueSize, temperature: c.temperature)
        case .supcon: return try SupConMethod(config: c.model, temperature: c.temperature)
        }
    }

    /// The encoder being trained.
    public var model: Model { method.encoder }
    public var isFinished: Bool { epoch >= config.epochs }

    /// The learning rate of global step `t`.
    public func learningRate(step t: Int) -> Float { schedule.rate(base: baseLearningRate, step: t) }

    // MARK: the loop

    /// Train until the configured epochs are done (or continue a resumed / cancelled run).
    /// `callback` sees every step and epoch; returning false cancels with `.cancelled` after
    /// the current step (the trainer stays consistent: save, or call `fit` again to go on).
    public func fit(_ callback: ((TrainEvent) -> Bool)? = nil) throws {
        while !isFinished {
            let m = try step()
            if progress { printProgress(m) }
            var go = callback?(.step(m)) ?? true
            if m.endedEpoch, let e = history.last {
                if progress { printEpoch(e) }
                go = (callback?(.epoch(e)) ?? true) && go
            }
            if !go { throw ContrastiveError(.cancelled, "training cancelled by the callback at step \(globalStep)") }
        }
    }

    /// One optimizer step on the next batch of the dataset; at the end of an epoch the epoch
    /// metrics are computed (see `history`). Throws `.invalidArgument` when training is done.
    public func step() throws -> StepMetrics {
        guard let dataset, let pixels else { throw ContrastiveError.invalid("this trainer has no dataset; use step(images:)") }
        guard !isFinished else { throw ContrastiveError.invalid("training is complete (\(config.epochs) epochs)") }
        if current == nil && (stepInEpoch == 0 || epochStart == 0) { startEpoch(resetLoss: stepInEpoch == 0) }
        if current == nil {
            let order = epochOrder(epoch, n: dataset.count)
            let rest = Array(order[(stepInEpoch * config.batchSize)..<(stepsPerEpoch * config.batchSize)])
            let batch = try ImageBatch(pixels: UnsafePointer(pixels), n: dataset.count, h: dataset.height, w: dataset.width, c: dataset.channels)
            current = try AugmentPrefetcher(augmenter: augmenter, dataset: batch, order: rest, batchSize: config.batchSize,
                                            seed: config.seed, epoch: UInt64(epoch))
        }
        let t0 = monotonicSeconds()
        var m: StepMetrics
        do {
            guard let next = try current!.next() else { throw ContrastiveError(.internal, "the epoch ran out of batches") }
            if config.method == .supcon, let labels = dataset.labels, let sc = method as? SupConMethod {
                sc.labels = next.rows.map { labels[$0] }
            }
            m = try runStep(views: next.views, n: next.rows.count, t0: t0)
        } catch {
            current = nil      // the next call re-augments this batch (deterministic)
            throw error
        }
        stepInEpoch += 1
        if stepInEpoch == stepsPerEpoch {
            current = nil
            try endEpoch()
            m.endedEpoch = true
        }
        return m
    }

    /// One optimizer step on a caller batch of n uint8 images (h × w × c, interleaved), augmented
    /// with the trainer's pipeline (keys: global step × n + i). Advances the global step only.
    public func step(images: ImageBatch, labels: [Int32]? = nil) throws -> StepMetrics {
        guard images.n >= 2 else { throw ContrastiveError.invalid("a training batch needs at least 2 images, got \(images.n)") }
        guard images.n % config.accumulation == 0, images.n / config.accumulation >= 2 else {
            throw ContrastiveError.invalid("\(images.n) images do not split into \(config.accumulation) micro-batches of ≥ 2")
        }
        guard images.c == channels else { throw ContrastiveError.shape("images have \(images.c) channels, the model expects \(channels)") }
        if config.method == .supcon {
            guard let labels, labels.count == images.n else { throw ContrastiveError.invalid("SupCon needs one label per image") }
            if let sc = method as? SupConMethod { sc.labels = labels }
        }
        let t0 = monotonicSeconds()
        let need = try augmenter.outputCount(n: images.n, h: images.h, w: images.w, c: images.c)
        if userBatchBuffer == nil || userBatchBuffer!.count < need { userBatchBuffer = try Storage(count: need) }
        let buf = userBatchBuffer!
        let keys = (0..<images.n).map { Int64(globalStep) &* Int64(images.n) &+ Int64($0) }
        try keys.withUnsafeBufferPointer { kp in
            try augmenter.apply(images, count: images.n, keys: kp.baseAddress, seed: config.seed, epoch: UInt64(epoch),
                                out: buf.base, capacity: buf.count)
        }
        return try runStep(views: buf.base, n: images.n, t0: t0, h: images.h, w: images.w)
    }

    private func startEpoch(resetLoss: Bool) {
        if resetLoss { epochLossSum = 0; epochLossCount = 0 }
        epochStart = monotonicSeconds()
        if let swav = method as? SwAV, config.swavQueueStartEpoch >= 0 { swav.useQueue = epoch >= config.swavQueueStartEpoch }
    }

    /// Rows of the dataset in epoch e's order (a Fisher–Yates permutation keyed by seed and e).
    func epochOrder(_ e: Int, n: Int) -> [Int] {
        var order = Array(0..<n)
        var rng = CounterRNG(seed: config.seed, stream: 0x0E90C4 &+ UInt64(e))
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = Int(rng.next() % UInt64(i + 1))
            order.swapAt(i, j)
        }
        return order
    }

    /// (n, C, H, W) tensors of each view of a view-major augmented batch, rows [a, b).
    private func viewTensors(_ base: UnsafeMutablePointer<Float>, n: Int, rows: Range<Int>, h: Int, w: Int) throws -> [Tensor] {
        var off = 0, out: [Tensor] = []
        for v in 0..<augmenter.viewCount {
            let (c, vh, vw) = try augmenter.viewShape(v, h: h, w: w, c: channels)
            let per = c * vh * vw
            out.append(Tensor(shape: [rows.count, c, vh, vw], data: base + off + rows.lowerBound * per))
            off += n * per
        }
        return out
    }

    private func runStep(views: UnsafeMutablePointer<Float>, n: Int, t0: Double, h: Int? = nil, w: Int? = nil) throws -> StepMetrics {
        let ih = h ?? dataset!.height, iw = w ?? dataset!.width
        let nets = method.trainableNetworks
        // BN statistics of every network, restored if the step is skipped.
        bufferSnapshot.take()
        let k = config.accumulation, micro = n / k
        var loss: Float = 0
        var lossFinite = true
        if k > 1 && accumulators.isEmpty { accumulators = try nets.map { try Storage(count: max($0.params.totalCount, 1)) } }
        let allLabels = (method as? SupConMethod)?.labels
        for j in 0..<k {
            let vs = try viewTensors(views, n: n, rows: (j * micro)..<((j + 1) * micro), h: ih, w: iw)
            if let allLabels, let sc = method as? SupConMethod { sc.labels = Array(allLabels[(j * micro)..<((j + 1) * micro)]) }
            let l = try method.lossAndGradients(views: vs, graph: graph)
            if !l.isFinite { lossFinite = false }
            loss += l / Float(k)
            if k > 1 {
                for (a, net) in zip(accumulators, nets) {
                    let g = net.params.flatGrads!.data, acc = a.base, cnt = net.params.totalCount, first = j == 0
                    let scale = 1 / Float(k)
                    parallelFor(cnt, grain: 1 << 15) { r in
                        for i in r { acc[i] = (first ? 0 : acc[i]) + g[i] * scale }
                    }
                }
            }
        }
        if k > 1 { for (a, net) in zip(accumulators, nets) { net.params.flatGrads!.data.update(from: a.base, count: net.params.totalCount) } }
        var m = StepMetrics()
        m.epoch = epoch; m.step = globalStep; m.stepsPerEpoch = stepsPerEpoch; m.totalSteps = totalSteps
        m.loss = loss
        m.learningRate = learningRate(step: globalStep)
        var sq = 0.0
        for net in nets { let g = net.params.flatGrads!; sq += Double(norm(g.data, g.count)).squared }
        m.gradNorm = sq.squareRoot()
        if let z = method.lastEmbedding, z.shape[0] >= 2 { m.embeddingStd = (try? Collapse.normalizedStd(z)) ?? .nan }
        var what = lossFinite ? (m.gradNorm.isFinite ? "" : "gradient norm \(m.gradNorm)") : "loss \(loss)"
        if what.isEmpty {
            // The update itself may overflow (a diverging run): apply it to a snapshot-backed
            // state and undo it if any weight becomes non-finite.
            updateSnapshot.take()
            for (opt, net) in zip(optimizers, nets) { try opt.step(net.params, lr: m.learningRate) }
            if nets.contains(where: { !$0.params.flatValues.allFinite }) {
                updateSnapshot.restore()
                for opt in optimizers { opt.restoreSteps(opt.steps - 1) }
                what = "update at learning rate \(m.learningRate) (weights would become non-finite)"
            }
        }
        if !what.isEmpty {
            bufferSnapshot.restore()
            method.discardStep()
            skippedSteps += 1
            consecutiveSkips += 1
            if config.nonFinite == .stop {
                throw ContrastiveError(.numeric, "step \(globalStep): \(what) is not finite; training stopped, weights unchanged")
            }
            if consecutiveSkips >= config.maxSkippedSteps {
                throw ContrastiveError(.numeric, "\(consecutiveSkips) steps in a row had a non-finite loss or gradient (last: \(what)); training stopped, weights unchanged")
            }
            Log.warn("step \(globalStep): \(what) is not finite; step skipped (\(skippedSteps) so far)")
            m.skipped = true
        } else {
            consecutiveSkips = 0
            m.tau = method.currentTau ?? .nan
            try method.afterStep()
            epochLossSum += Double(loss); epochLossCount += 1
        }
        globalStep += 1
        m.seconds = monotonicSeconds() - t0
        m.imagesPerSecond = Double(n) / max(m.seconds, 1e-9)
        lastStep = m
        return m
    }

    private func endEpoch() throws {
        var e = EpochMetrics()
        e.epoch = epoch
        e.meanLoss = epochLossCount > 0 ? epochLossSum / Double(epochLossCount) : .nan
        e.skippedSteps = skippedSteps
        let doKnn = config.knnEveryEpochs > 0 && validation != nil && (epoch + 1) % config.knnEveryEpochs == 0
        if config.rankSamples > 0 || doKnn {
            let (rankSet, knn) = try epochEvaluation(knn: doKnn)
            e.effectiveRank = rankSet
            if let knn { e.knnTop1 = knn.top1; e.knnTop5 = knn.top5 }
        }
        e.seconds = monotonicSeconds() - epochStart
        history.append(e)
        epoch += 1
        stepInEpoch = 0
    }

    private func epochEvaluation(knn: Bool) throws -> (Double, KNN.Result?) {
        let d = model.backbone.featureDim
        var rank = Double.nan
        let source = validation ?? dataset!
        if config.rankSamples > 0 {
            let rows = Array(0..<min(source.count, config.rankSamples))
            let f = try embed(source, rows: rows, output: .backbone)
            if rows.count >= 2 { rank = try f.withUnsafeBufferPointer { try EffectiveRank.effectiveRank($0.baseAddress!, n: rows.count, d: d) } }
        }
        guard knn, let validation, let train = dataset, let trainLabels = train.labels, let valLabels = validation.labels else { return (rank, nil) }
        var bank = Array(0..<train.count)
        if bank.count > config.knnMaxTrain {
            var rng = CounterRNG(seed: config.seed, stream: 0x4B4E4E)
            for i in 0..<config.knnMaxTrain { let j = i + Int(rng.next() % UInt64(bank.count - i)); bank.swapAt(i, j) }
            bank = Array(bank[..<config.knnMaxTrain]).sorted()
        }
        let ft = try embed(train, rows: bank, output: .backbone)
        let fv = try embed(validation, rows: Array(0..<validation.count), output: .backbone)
        let classes = max(train.numClasses, validation.numClasses)
        let r = try ft.withUnsafeBufferPointer { tp in
            try fv.withUnsafeBufferPointer { vp in
                try KNN.evaluate(train: tp.baseAddress!, trainLabels: bank.map { trainLabels[$0] }, test: vp.baseAddress!,
                                 testLabels: valLabels, dim: d, numClasses: classes, k: min(config.knnK, bank.count),
                                 temperature: config.knnTemperature)
            }
        }
        return (rank, r)
    }

    /// Features of dataset rows through the evaluation transform (resize to the training crop
    /// size, normalise) and the encoder in eval mode, no gradient: rows.count × dim floats.
    public func embed(_ data: ImageDataset, rows: [Int], output: Model.Output, normalize: Bool = false, using other: Model? = nil) throws -> [Float] {
        guard data.channels == channels else { throw ContrastiveError.shape("images have \(data.channels) channels, the model expects \(channels)") }
        return try (other ?? model).features(of: data, rows: rows, transform: evalAugmenter, output: output, normalize: normalize)
    }

    // MARK: progress

    private func printProgress(_ m: StepMetrics) {
        let now = monotonicSeconds()
        avgStepSeconds = avgStepSeconds == 0 ? m.seconds : 0.9 * avgStepSeconds + 0.1 * m.seconds
        guard m.endedEpoch || now - lastProgress > 0.5 else { return }
        lastProgress = now
        let done = stepInEpoch == 0 ? stepsPerEpoch : stepInEpoch
        let width = 24, filled = width * done / max(stepsPerEpoch, 1)
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        // ETA from a running mean of step times (single steps are noisy).
        let remaining = Double(totalSteps - globalStep) * avgStepSeconds
        let line = "epoch \(m.epoch + 1)/\(config.epochs) [\(bar)] \(done)/\(stepsPerEpoch) loss \(formatFixed(Double(m.loss), 4)) "
            + "lr \(formatFixed(Double(m.learningRate), 4)) \(Int(Double(config.batchSize) / max(avgStepSeconds, 1e-9))) img/s ETA \(formatDuration(remaining))"
        fputs("\r\(line)\u{1B}[K", stderr)
    }

    private func printEpoch(_ e: EpochMetrics) {
        var line = "epoch \(e.epoch + 1)/\(config.epochs): loss \(formatFixed(e.meanLoss, 4)), rank \(formatFixed(e.effectiveRank, 1))"
        if e.knnTop1.isFinite { line += ", kNN top-1 \(formatFixed(e.knnTop1 * 100, 2))%" }
        line += ", \(formatFixed(e.seconds, 1)) s"
        fputs("\r\(line)\u{1B}[K\n", stderr)
    }
}

extension Double {
    var squared: Double { self * self }
}

/// Copies of a fixed list of tensors in one block allocated once: `take` saves them, `restore`
/// writes them back (a step that must not land is undone this way, without per-step allocation).
final class Snapshot {
    private let tensors: [Tensor]
    private let copy: Storage
    init(_ tensors: [Tensor]) throws {
        self.tensors = tensors
        var total = 0
        for t in tensors {
            let (s, o) = total.addingReportingOverflow(t.count)
            guard !o else { throw ContrastiveError(.outOfMemory, "snapshot too large") }
            total = s
        }
        copy = try Storage(count: max(total, 1))
    }
    func take() {
        var off = 0
        for t in tensors { (copy.base + off).update(from: t.data, count: t.count); off += t.count }
    }
    func restore() {
        var off = 0
        for t in tensors { t.data.update(from: copy.base + off, count: t.count); off += t.count }
    }
}

/// `v` with `digits` decimals (no Foundation).
public func formatFixed(_ v: Double, _ digits: Int) -> String {
    guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
    var p = 1.0
    for _ in 0..<digits { p *= 10 }
    let r = (abs(v) * p).rounded()
    let ip = Int(r / p), fp = Int(r - Double(ip) * p)
    var fs = String(fp)
    while fs.count < digits { fs = "0" + fs }
    return (v < 0 && r != 0 ? "-" : "") + String(ip) + (digits > 0 ? "." + fs : "")
}

/// "1h02m", "3m07s", "12s".
public func formatDuration(_ s: Double) -> String {
    guard s.isFinite, s >= 0 else { return "?" }
    let t = Int(s.rounded())
    if t >= 3600 { return "\(t / 3600)h\(t % 3600 / 60 < 10 ? "0" : "")\(t % 3600 / 60)m" }
    if t >= 60 { return "\(t / 60)m\(t % 60 < 10 ? "0" : "")\(t % 60)s" }
    return "\(t)s"
}
