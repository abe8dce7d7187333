/// The remaining methods of issue 5, each assembling encoders, heads and an objective with the
/// anchors' defaults (solo-learn's CIFAR configs unless said otherwise); every hyperparameter
/// is a settable property.

/// A predictor MLP in its own network (BYOL, SimSiam, NNCLR).
final class PredictorHead {
    let network = Network()
    let head: MLPHead
    init(_ config: MLPHead.Config, inputDim: Int, seed: UInt64) throws {
        let b = LayerBuilder(network: network)
        head = try MLPHead(config, inputDim: inputDim, name: "predictor", builder: b)
        try b.finish(seed: seed)
    }
    func callAsFunction(_ g: Graph, _ z: Var) throws -> Var {
        try head(ForwardContext(graph: g, network: network, training: true), z)
    }
}

/// Projections of every view through `model` (training mode, one forward per view).
func project(_ model: Model, _ views: [Tensor], _ g: Graph) throws -> [Var] {
    let ctx = ForwardContext(graph: g, network: model.network, training: true)
    return try views.map { try model.forward(ctx, g.constant($0)).projection! }
}

func requireHead(_ config: Model.Config, _ method: String) throws -> MLPHead.Config {
    guard let p = config.projector else { throw ContrastiveError.invalid("\(method) needs a model with a projection head") }
    return p
}

/// MoCo v2+ (solo-learn's `mocov2plus`: symmetric loss, one queue per view; projector
/// 2048 → 256, τ 0.2, queue 32768 (65536 in MoCo v2), momentum 0.99 → 0.999 cosine).
/// Queries from the online encoder, keys from its EMA (no gradient); `afterStep` pushes the
/// step's keys (view v into queue v) and moves the EMA.
public final class MoCoV2: ContrastiveMethod {
    public let online: Model
    public let target: Model
    public let queues: [EmbeddingQueue]
    public var temperature: Float
    public let momentum: MomentumSchedule
    public private(set) var step = 0
    private var pendingKeys: [Tensor] = []
    public var trainableNetworks: [Network] { [online.network] }
    public var encoder: Model { online }
    public var stateNetworks: [(name: String, network: Network)] { [("online", online.network), ("target", target.network)] }
    public var stateQueues: [(name: String, queue: EmbeddingQueue)] { queues.enumerated().map { ("queue\($0.offset)", $0.element) } }
    public var stepCount: Int { get { step } set { step = newValue } }
    public var currentTau: Float? { momentum.tau(step: step) }
    public private(set) var lastEmbedding: Tensor?
    public func discardStep() { pendingKeys = [] }

    public init(config: Model.Config, queueSize: Int = 32768, temperature: Float = 0.2,
                momentum: MomentumSchedule = .cosine(base: 0.99, final: 0.999, totalSteps: 1000)) throws {
        let proj = try requireHead(config, "MoCo")
        guard temperature.isFinite, temperature > 0 else { throw ContrastiveError.invalid("MoCo: temperature \(temperature) must be > 0") }
        try momentum.validate()
        online = try Model(config)
        target = try Model(config)
        try EMA.copy(into: target.network, from: online.network)
        queues = try (0..<2).map { v in
            let q = try EmbeddingQueue(capacity: queueSize, dim: proj.output)
            q.fillRandom(seed: config.seed &+ 17 &+ UInt64(v))
            return q
        }
        self.temperature = temperature
        self.momentum = momentum
    }

    public func lossAndGradients(views: [Tensor], graph g: Graph) throws -> Float {
        try checkViews(views, count: 2, method: "MoCo")
        guard views[0].shape[0] <= queues[0].capacity else {
            throw ContrastiveError.invalid("MoCo: a batch of \(views[0].shape[0]) is larger than the queue (\(queues[0].capacity))")
        }
        online.network.params.zeroGrads()
        let q = try project(online, views, g)
        let k = try g.withoutGrad { try project(target, views, g) }
        let loss = try g.scale(try g.add(try g.moco(q[0], g.stopGradient(k[1]), queue: queues[1].storage, temperature: temperature),
                                         try g.moco(q[1], g.stopGradient(k[0]), queue: queues[0].storage, temperature: temperature)), 0.5)
        let value = loss.value.data[0]
        try g.backward(loss)
        pendingKeys += try k.map(detachedCopy)
        lastEmbedding = try detachedCopy(q[0])
        g.reset()
        return value
    }

    public func afterStep() throws {
        for (i, keys) in pendingKeys.enumerated() { try queues[i % 2].push(keys) }
        pendingKeys = []
        try EMA.update(target: target.network, online: online.network, tau: momentum.tau(step: step))
        step += 1
    }
}

/// SimSiam (Chen & He 2021): projector with BN, predictor 2048 → 512 → 2048 (BN), loss
/// simsiam(p1, z2)/2 + simsiam(p2, z1)/2 with stop-gradient on the projections.
public final class SimSiam: ContrastiveMethod {
    public let model: Model
    let predictor: PredictorHead
    public var trainableNetworks: [Network] { [model.network, predictor.network] }
    public var encoder: Model { model }
    public var stateNetworks: [(name: String, network: Network)] { [("model", model.network), ("predictor", predictor.network)] }
    public var stepCount = 0
    public private(set) var lastEmbedding: Tensor?

    public init(config: Model.Config, predictor: MLPHead.Config = MLPHead.Config(layers: 2, hidden: 512, output: 2048, batchNorm: true)) throws {
        let proj = try requireHead(config, "SimSiam")
        model = try Model(config)
        var pc = predictor
        pc.output = proj.output
        self.predictor = try PredictorHead(pc, inputDim: proj.output, seed: config.seed &+ 1)
    }

    public func lossAndGradients(views: [Tensor], graph g: Graph) throws -> Float {
        try checkViews(views, count: 2, method: "SimSiam")
        for n in trainableNetworks { n.params.zeroGrads() }
        let z = try project(model, views, g)
        lastEmbedding = try detachedCopy(z[0])
        let p = try z.map { try predictor(g, $0) }
        let loss = try g.simsiamSymmetric(p1: p[0], z1: z[0], p2: p[1], z2: z[1])
        let value = loss.value.data[0]
        try g.backward(loss)
        g.reset()
        return value
    }

    public func afterStep() throws { stepCount += 1 }
}

/// Barlow Twins (projector 2048 → 2048 with BN in solo-learn's CIFAR config; λ 5e-3 here,
/// scale 0.1 for CIFAR in solo-learn — both settable).
public final class BarlowTwinsMethod: ContrastiveMethod {
    public let model: Model
    public var lambda: Float
    public var scale: Float
    public var trainableNetworks: [Network] { [model.network] }
    public var encoder: Model { model }
    public var stateNetworks: [(name: String, network: Network)] { [("model", model.network)] }
    public var stepCount = 0
    public private(set) var lastEmbedding: Tensor?

    public init(config: Model.Config, lambda: Float = 5e-3, scale: Float = 0.1) throws {
        _ = try requireHead(config, "Barlow Twins")
        model = try Model(config)
        self.lambda = lambda
        self.scale = scale
    }

    public func lossAndGradients(views: [Tensor], graph g: Graph) throws -> Float {
        try checkViews(views, count: 2, method: "Barlow Twins")
        model.network.params.zeroGrads()
        let z = try project(model, views, g)
        lastEmbedding = try detachedCopy(z[0])
        let loss = try g.barlowTwins(z[0], z[1], lambda: lambda, scale: scale)
        let value = loss.value.data[0]
        try g.backward(loss)
        g.reset()
        return value
    }

    public func afterStep() throws { stepCount += 1 }
}

/// VICReg (projector 2048 → 2048 with BN; weights 25 / 25 / 1).
public final class VICRegMethod: ContrastiveMethod {
    public let model: Model
    public var invariance: Float = 25, variance: Float = 25, covariance: Float = 1
    public var trainableNetworks: [Network] { [model.network] }
    public var encoder: Model { model }
    public var stateNetworks: [(name: String, network: Network)] { [("model", model.network)] }
    public var stepCount = 0
    public private(set) var lastEmbedding: Tensor?

    public init(config: Model.Config) throws {
        _ = try requireHead(config, "VICReg")
        model = try Model(config)
    }

    public func lossAndGradients(views: [Tensor], graph g: Graph) throws -> Float {
        try checkViews(views, count: 2, method: "VICReg")
        model.network.params.zeroGrads()
        let z = try project(model, views, g)
        lastEmbedding = try detachedCopy(z[0])
        let loss = try g.vicreg(z[0], z[1], invariance: invariance, variance: variance, covariance: covariance)
        let value = loss.value.data[0]
        try g.backward(loss)
        g.reset()
        return value
    }

    public func afterStep() throws { stepCount += 1 }
}

/// Supervised contrastive learning (SupCon; τ 0.1): set `labels` (one per image, ≥ 0) before
/// each step; all views of images with the same label are positives.
public final class SupConMethod: ContrastiveMethod {
    public let model: Model
    public var temperature: Float
    public var labels: [Int32] = []
    public var trainableNetworks: [Network] { [model.network] }
    public var encoder: Model { model }
    public var stateNetworks: [(name: String, network: Network)] { [("model", model.network)] }
    public var stepCount = 0
    public private(set) var lastEmbedding: Tensor?

    public init(config: Model.Config, temperature: Float = 0.1) throws {
        _ = try requireHead(config, "SupCon")
        guard temperature.isFinite, temperature > 0 else { throw ContrastiveError.invalid("SupCon: temperature \(temperature) must be > 0") }
        model = try Model(config)
        self.temperature = temperature
    }

    public func lossAndGradients(views: [Tensor], graph g: Graph) throws -> Float {
        guard views.count >= 2 else { throw ContrastiveError.invalid("SupCon: at least 2 views needed, got \(views.count)") }
        try checkViews(views, count: views.count, method: "SupCon")
        let n = views[0].shape[0]
        guard labels.count == n else { throw ContrastiveError.shape("SupCon: \(labels.count) labels for \(n) images") }
        model.network.params.zeroGrads()
        let zs = try project(model, views, g)
        lastEmbedding = try detachedCopy(zs[0])
        let z = try g.concat(zs)
        let loss = try g.supcon(z, labels: Array((0..<views.count).map { _ in labels }.joined()), temperature: temperature)
        let value = loss.value.data[0]
        try g.backward(loss)
        g.reset()
        return value
    }

    public func afterStep() throws { stepCount += 1 }
}

/// NNCLR (Dwibedi et al. 2021; solo-learn: projector 2048 → 256 with BN, predictor
/// 256 → 4096 → 256, τ 0.2, support queue 65536 — 98304 in solo-learn's config — settable):
/// the nearest neighbour of each projection in the support queue replaces it as the positive;
/// loss nnclr(nn(z1), p2)/2 + nnclr(nn(z2), p1)/2; `afterStep` pushes the first view's
/// projections into the queue.
public final class NNCLR: ContrastiveMethod {
    public let model: Model
    let predictor: PredictorHead
    public let support: EmbeddingQueue
    public var temperature: Float
    private var pending: [Tensor] = []
    public var trainableNetworks: [Network] { [model.network, predictor.network] }
    public var encoder: Model { model }
    public var stateNetworks: [(name: String, network: Network)] { [("model", model.network), ("predictor", predictor.network)] }
    public var stateQueues: [(name: String, queue: EmbeddingQueue)] { [("support", support)] }
    public var stepCount = 0
    public private(set) var lastEmbedding: Tensor?
    public func discardStep() { pending = [] }

    public init(config: Model.Config, queueSize: Int = 65536, temperature: Float = 0.2,
                predictor: MLPHead.Config = MLPHead.Config(layers: 2, hidden: 4096, output: 256, batchNorm: true)) throws {
        let proj = try requireHead(config, "NNCLR")
        guard temperature.isFinite, temperature > 0 else { throw ContrastiveError.invalid("NNCLR: temperature \(temperature) must be > 0") }
        model = try Model(config)
        var pc = predictor
        pc.output = proj.output
        self.predictor = try PredictorHead(pc, inputDim: proj.output, seed: config.seed &+ 1)
        support = try EmbeddingQueue(capacity: queueSize, dim: proj.output)
        support.fillRandom(seed: config.seed &+ 23)
        self.temperature = temperature
    }

    public func lossAndGradients(views: [Tensor], graph g: Graph) throws -> Float {
        try checkViews(views, count: 2, method: "NNCLR")
        guard views[0].shape[0] <= support.capacity else {
            throw ContrastiveError.invalid("NNCLR: a batch of \(views[0].shape[0]) is larger than the support queue (\(support.capacity))")
        }
        for n in trainableNetworks { n.params.zeroGrads() }
        let z = try project(model, views, g)
        let p = try z.map { try predictor(g, $0) }
        let nn = try z.map { try support.nearestNeighbours(of: $0.value, workspace: g.workspace) }
        let loss = try g.scale(try g.add(try g.nnclr(nn: nn[0], p[1], temperature: temperature),
                                         try g.nnclr(nn: nn[1], p[0], temperature: temperature)), 0.5)
        let value = loss.value.data[0]
        try g.backward(loss)
        let keep = try detachedCopy(z[0])
        pending.append(keep)
        lastEmbedding = keep
        g.reset()
        return value
    }

    public func afterStep() throws {
        for p in pending { try support.push(p) }
        pending = []
        stepCount += 1
    }
}

/// SwAV (Caron et al. 2020; solo-learn's CIFAR config: projector 2048 → 128 with BN, 3000
/// prototypes frozen for the first epochs, Sinkhorn 3 iterations ε 0.05, τ 0.1). Views: the
/// `globalCrops` first, then any number of local crops (all of one size per call). Scores are
/// ẑ·Ĉᵀ with L2-normalised projections and prototypes (rows renormalised in `afterStep`); codes
/// come from the global crops only, computed without gradient by Sinkhorn-Knopp — with the
/// rows of `queue` (past global-crop projections) prepended once `useQueue` is set and the
/// queue has filled, as SwAV does when the batch is small next to the prototype count.
/// The prototypes get no gradient while `step < freezePrototypesSteps`.
public final class SwAV: ContrastiveMethod {
    public let model: Model
    let protoNetwork = Network()
    public let prototypes: Prototypes
    public var temperature: Float = 0.1
    public var sinkhornEpsilon: Float = 0.05
    public var sinkhornIterations = 3
    public var freezePrototypesSteps: Int
    public let globalCrops: Int
    public let queue: EmbeddingQueue?
    /// Let the queue join the Sinkhorn batch (SwAV: from a chosen epoch).
    public var useQueue = false
    public private(set) var step = 0
    private var pending: [Tensor] = []
    public var trainableNetworks: [Network] { [model.network, protoNetwork] }
    public var encoder: Model { model }
    public var stateNetworks: [(name: String, network: Network)] { [("model", model.network), ("prototypes", protoNetwork)] }
    public var stateQueues: [(name: String, queue: EmbeddingQueue)] { queue.map { [("queue", $0)] } ?? [] }
    public var stepCount: Int { get { step } set { step = newValue } }
    public private(set) var lastEmbedding: Tensor?
    public func discardStep() { pending = [] }

    public init(config: Model.Config, prototypes: Int = 3000, globalCrops: Int = 2, freezePrototypesSteps: Int = 0,
                queueSize: Int = 0) throws {
        let proj = try requireHead(config, "SwAV")
        guard prototypes >= 1, prototypes <= Sinkhorn.maxPrototypes else {
            throw ContrastiveError.invalid("SwAV: \(prototypes) prototypes outside 1...\(Sinkhorn.maxPrototypes)")
        }
        guard globalCrops >= 1, freezePrototypesSteps >= 0, queueSize >= 0 else {
            throw ContrastiveError.invalid("SwAV: globalCrops ≥ 1, freezePrototypesSteps ≥ 0 and queueSize ≥ 0 needed")
        }
        model = try Model(config)
        let b = LayerBuilder(network: protoNetwork)
        self.prototypes = try Prototypes(count: prototypes, dim: proj.output, builder: b)
        try b.finish(seed: config.seed &+ 3)
        self.prototypes.normalizeRows(protoNetwork)
        self.globalCrops = globalCrops
        self.freezePrototypesSteps = freezePrototypesSteps
        queue = queueSize > 0 ? try EmbeddingQueue(capacity: queueSize, dim: proj.output) : nil
    }

    public func lossAndGradients(views: [Tensor], graph g: Graph) throws -> Float {
        guard views.count >= max(globalCrops, 2) else {
            throw ContrastiveError.invalid("SwAV: at least \(max(globalCrops, 2)) views (the \(globalCrops) global crops first) needed, got \(views.count)")
        }
        try checkViews(views, count: views.count, method: "SwAV")
        for n in trainableNetworks { n.params.zeroGrads() }
        let n = views[0].shape[0], k = prototypes.count
        let z = try project(model, views, g).map { try g.l2Normalize($0) }
        lastEmbedding = try detachedCopy(z[0])
        let pctx = ForwardContext(graph: g, network: protoNetwork, training: true)
        let scores = try z.map { try prototypes(pctx, $0) }
        // Codes of the global crops (no gradient), with the queue's scores on top when used.
        var codes: [Tensor] = []
        let qRows = (useQueue && queue != nil && queue!.filled == queue!.capacity) ? queue!.capacity : 0
        for v in 0..<globalCrops {
            let rows = qRows + n
            let s = try g.workspace.tensor([rows, k])
            if qRows > 0 {
                let w = protoNetwork.params.value(prototypes.weight)
                BLAS.sgemm(transA: false, transB: true, m: qRows, n: k, k: prototypes.dim, alpha: 1, a: queue!.storage.data,
                           lda: prototypes.dim, b: w.data, ldb: prototypes.dim, beta: 0, c: s.data, ldc: k)
            }
            (s.data + qRows * k).update(from: scores[v].value.data, count: n * k)
            let q = try g.workspace.tensor([rows, k])
            try Sinkhorn.codes(scores: s.data, b: rows, k: k, epsilon: sinkhornEpsilon, iterations: sinkhornIterations, out: q.data)
            let mine = try Tensor(zeros: [n, k])
            mine.data.update(from: q.data + qRows * k, count: n * k)
            codes.append(mine)
        }
        let loss = try g.swav(scores: scores, codes: codes, temperature: temperature)
        let value = loss.value.data[0]
        try g.backward(loss)
        if step < freezePrototypesSteps { protoNetwork.params.zeroGrads() }
        if queue != nil {
            pending += try (0..<globalCrops).map { try detachedCopy(z[$0]) }
        }
        g.reset()
        return value
    }

    public func afterStep() throws {
        prototypes.normalizeRows(protoNetwork)
        if let queue { for t in pending { try queue.push(t) } }
        pending = []
        step += 1
    }
}
