/// Everything a training run is made of: method, encoder, augmentation, optimizer, schedule,
/// budget and seed. `TrainConfig.preset(_:)` fills in the anchors' recipes (solo-learn's CIFAR
/// configs, DESIGN.md §7); every field can be changed afterwards.
public struct TrainConfig: Sendable {
    /// The self-supervised method.
    public enum Method: String, CaseIterable, Sendable {
        case simclr, mocov2, byol, swav, simsiam, barlow, vicreg, nnclr, supcon
    }

    /// The optimizer over the flat parameter blocks.
    public enum OptimizerKind: String, CaseIterable, Sendable { case sgd, lars, adamw }

    /// What happens when a step's loss or gradient is NaN or Inf.
    public enum NonFinitePolicy: String, Sendable {
        /// Skip the step (weights, BN statistics, queues untouched) and count it; stop with
        /// `.numeric` after `maxSkippedSteps` skips in a row.
        case skip
        /// Stop at once with `.numeric`, weights intact.
        case stop
    }

    /// Learning-rate schedule shape (warm-up applies to `.cosine` only).
    public enum ScheduleKind: String, Sendable { case cosine, constant, step }

    public var method: Method = .simclr
    /// Backbone + projector. `projector == nil` takes the method's default head.
    public var model = Model.Config(architecture: .resnet(ResNet.Config(depth: 18, stem: .cifar)))
    /// Augmentation; nil = the method's preset at the dataset's image size, with the
    /// dataset's per-channel mean/std when the preset's normalisation does not fit.
    public var augmentation: AugmentPipeline? = nil
    /// A preset name used (at the dataset's image size) when `augmentation` is nil; nil = the
    /// method's preset.
    public var augmentationPreset: String? = nil

    public var optimizer: OptimizerKind = .lars
    /// Base learning rate (before `lrScaling`).
    public var learningRate: Float = 0.4
    public var lrScaling: LRScaling = .linear
    public var weightDecay: Float = 1e-5
    public var momentum: Float = 0.9
    /// LARS trust coefficient η and clipping (solo-learn: 0.02, clip on).
    public var larsEta: Float = 0.02
    public var larsClip = true
    /// Leave biases and BN parameters out of weight decay (and LARS adaptation).
    public var excludeBiasAndNorm = true
    public var schedule: ScheduleKind = .cosine
    /// Warm-up length in epochs (may be fractional); default min(10, epochs/10).
    public var warmupEpochs: Double? = nil
    /// `.step` schedule: epochs at which the rate is multiplied by `stepGamma`.
    public var stepMilestones: [Int] = []
    public var stepGamma: Float = 0.1

    public var epochs = 10
    /// Images per optimizer step.
    public var batchSize = 256
    /// Micro-batches per step (gradient accumulation); batchSize must divide evenly. Each
    /// micro-batch is its own contrastive problem (negatives come from within it) and has its
    /// own batch-norm statistics; gradients are averaged.
    public var accumulation = 1
    public var seed: UInt64 = 0

    // Method hyperparameters (the preset sets what the method uses).
    public var temperature: Float = 0.2
    public var queueSize = 32768
    public var tauBase: Float = 0.99
    public var tauFinal: Float = 1.0
    public var prototypes = 3000
    /// SwAV keeps its prototypes fixed this long — but at most a tenth of the run (solo-learn
    /// freezes 2 of 1000 epochs; a short run would otherwise barely train them).
    public var freezePrototypesEpochs = 2
    /// SwAV: the queue joins Sinkhorn from this epoch (-1: never).
    public var swavQueueStartEpoch = -1

    public var nonFinite: NonFinitePolicy = .skip
    public var maxSkippedSteps = 10

    /// Online kNN on a labelled validation set every `knnEveryEpochs` (0 = off).
    public var knnEveryEpochs = 1
    public var knnK = 20
    public var knnTemperature: Float = 0.07
    /// At most this many training images form the kNN memory bank (a fixed seeded subset).
    public var knnMaxTrain = 10000
    /// Images whose embeddings give the per-epoch effective rank (0 = off).
    public var rankSamples = 2048

    public init() {}

    /// The anchors' recipe for `method` (solo-learn's CIFAR configs): optimizer, rate,
    /// weight decay, head, temperature, queue, τ schedule.
    public static func preset(_ method: Method) -> TrainConfig {
        var c = TrainConfig()
        c.method = method
        switch method {
        case .simclr:
            c.optimizer = .lars; c.learningRate = 0.4; c.weightDecay = 1e-5; c.temperature = 0.2
        case .mocov2:
            c.optimizer = .sgd; c.learningRate = 0.3; c.weightDecay = 1e-4; c.temperature = 0.2
            c.queueSize = 32768; c.tauBase = 0.99; c.tauFinal = 0.999; c.excludeBiasAndNorm = false
        case .byol:
            c.optimizer = .lars; c.learningRate = 1.0; c.weightDecay = 1e-5; c.tauBase = 0.99; c.tauFinal = 1.0
        case .swav:
            c.optimizer = .lars; c.learningRate = 0.6; c.weightDecay = 1e-6; c.temperature = 0.1
            c.prototypes = 3000; c.freezePrototypesEpochs = 2; c.queueSize = 3840; c.swavQueueStartEpoch = -1
        case .simsiam:
            c.optimizer = .sgd; c.learningRate = 0.5; c.weightDecay = 1e-5; c.excludeBiasAndNorm = false
        case .barlow:
            c.optimizer = .lars; c.learningRate = 0.3; c.weightDecay = 1e-4
        case .vicreg:
            c.optimizer = .lars; c.learningRate = 0.3; c.weightDecay = 1e-4
        case .nnclr:
            c.optimizer = .lars; c.learningRate = 0.4; c.weightDecay = 1e-5; c.temperature = 0.2; c.queueSize = 65536
        case .supcon:
            c.optimizer = .lars; c.learningRate = 0.4; c.weightDecay = 1e-5; c.temperature = 0.1
        }
        return c
    }

    /// The method's default projection head (solo-learn's CIFAR configs).
    public static func defaultProjector(_ method: Method) -> MLPHead.Config {
        switch method {
        case .simclr, .mocov2, .supcon, .nnclr: return MLPHead.Config(layers: 2, hidden: 2048, output: 256, batchNorm: false)
        case .byol: return MLPHead.Config(layers: 2, hidden: 4096, output: 256, batchNorm: true)
        case .swav: return MLPHead.Config(layers: 2, hidden: 2048, output: 128, batchNorm: true)
        case .simsiam: return MLPHead.Config(layers: 3, hidden: 2048, output: 2048, batchNorm: true, lastBatchNorm: true)
        case .barlow, .vicreg: return MLPHead.Config(layers: 3, hidden: 2048, output: 2048, batchNorm: true)
        }
    }

    /// The augmentation preset a method trains with at a given image side.
    public static func defaultAugmentation(_ method: Method, side: Int) -> String {
        switch method {
        case .simclr, .supcon, .nnclr, .barlow, .vicreg, .simsiam: return side <= 64 ? "simclr-cifar" : "simclr"
        case .mocov2: return "mocov2"
        case .byol: return "byol"
        case .swav: return side <= 64 ? "swav-cifar" : "swav"
        }
    }

    /// Check every field (before any allocation).
    public func validate() throws {
        try checkHyper("learning_rate", learningRate)
        guard learningRate > 0 else { throw ContrastiveError.invalid("learning_rate must be > 0") }
        try checkHyper("weight_decay", weightDecay)
        try checkHyper("momentum", momentum, max: 1)
        try checkHyper("temperature", temperature)
        guard temperature > 0 else { throw ContrastiveError.invalid("temperature must be > 0") }
        try checkHyper("tau_base", tauBase, max: 1)
        try checkHyper("tau_final", tauFinal, max: 1)
        try checkHyper("lars_eta", larsEta)
        try checkHyper("step_gamma", stepGamma)
        guard epochs >= 1, epochs <= 1_000_000 else { throw ContrastiveError.invalid("epochs = \(epochs) outside 1...1000000") }
        guard batchSize >= 2, batchSize <= 1 << 20 else { throw ContrastiveError.invalid("batch_size = \(batchSize) outside 2...1048576") }
        guard accumulation >= 1, batchSize % accumulation == 0, batchSize / accumulation >= 2 else {
            throw ContrastiveError.invalid("accumulation = \(accumulation) must divide batch_size \(batchSize) into micro-batches of ≥ 2 images")
        }
        if let w = warmupEpochs { guard w.isFinite, w >= 0, w <= Double(epochs) else { throw ContrastiveError.invalid("warmup_epochs = \(w) outside [0, epochs]") } }
        guard stepMilestones == stepMilestones.sorted(), stepMilestones.allSatisfy({ $0 >= 0 }) else {
            throw ContrastiveError.invalid("step milestones must be sorted and ≥ 0")
        }
        guard queueSize >= 0, queueSize <= 1 << 22 else { throw ContrastiveError.invalid("queue_size = \(queueSize) outside 0...4194304") }
        if method == .mocov2 || method == .nnclr {
            guard queueSize >= batchSize / accumulation else {
                throw ContrastiveError.invalid("queue_size = \(queueSize) is smaller than a micro-batch (\(batchSize / accumulation))")
            }
        }
        guard prototypes >= 1, prototypes <= Sinkhorn.maxPrototypes else {
            throw ContrastiveError.invalid("prototypes = \(prototypes) outside 1...\(Sinkhorn.maxPrototypes)")
        }
        guard freezePrototypesEpochs >= 0, swavQueueStartEpoch >= -1 else { throw ContrastiveError.invalid("freeze_prototypes_epochs ≥ 0 and swav_queue_start_epoch ≥ -1 needed") }
        guard maxSkippedSteps >= 1 else { throw ContrastiveError.invalid("max_skipped_steps must be ≥ 1") }
        guard knnEveryEpochs >= 0, knnK >= 1, knnMaxTrain >= 1, rankSamples >= 0 else {
            throw ContrastiveError.invalid("knn_every ≥ 0, knn_k ≥ 1, knn_max_train ≥ 1 and rank_samples ≥ 0 needed")
        }
        try checkHyper("knn_temperature", knnTemperature)
        guard knnTemperature > 0 else { throw ContrastiveError.invalid("knn_temperature must be > 0") }
        try augmentation?.validate()
    }

    /// "key=value" pairs describing the run (stored in checkpoints' metadata).
    public var summary: [(String, String)] {
        var m: [(String, String)] = [
            ("method", method.rawValue), ("optimizer", optimizer.rawValue), ("lr", "\(learningRate)"),
            ("lr_scaling", "\(lrScaling)"), ("weight_decay", "\(weightDecay)"), ("schedule", schedule.rawValue),
            ("epochs", "\(epochs)"), ("batch_size", "\(batchSize)"), ("accumulation", "\(accumulation)"), ("seed", "\(seed)"),
            ("temperature", "\(temperature)"),
        ]
        switch method {
        case .mocov2: m += [("queue_size", "\(queueSize)"), ("tau_base", "\(tauBase)"), ("tau_final", "\(tauFinal)")]
        case .byol: m += [("tau_base", "\(tauBase)"), ("tau_final", "\(tauFinal)")]
        case .swav: m += [("prototypes", "\(prototypes)"), ("queue_size", "\(queueSize)")]
        case .nnclr: m += [("queue_size", "\(queueSize)")]
        default: break
        }
        if let a = augmentation { m.append(("augmentation", a.description)) } else if let p = augmentationPreset { m.append(("augmentation_preset", p)) }
        return m
    }
}
