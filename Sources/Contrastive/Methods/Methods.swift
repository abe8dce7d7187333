/// Contrastive methods: encoders + heads + objective + per-step rules. A method computes the
/// loss and the gradients of its trainable parameters for one batch of views; the optimizer
/// step and the training loop come next (they update `trainableNetworks`, then call
/// `afterStep` for the EMA / queue rules).

/// The gradients of a step land in the `grads` block of each of these networks (zeroed by
/// `lossAndGradients` first).
public protocol ContrastiveMethod: AnyObject {
    var trainableNetworks: [Network] { get }
    /// Loss and gradients for one batch: `views[v]` is view v of every image (N, C, H, W).
    func lossAndGradients(views: [Tensor], graph: Graph) throws -> Float
    /// Rules applied after the optimizer step (EMA of the target, queue push, ...). With
    /// gradient accumulation, several `lossAndGradients` calls precede one `afterStep`; what
    /// they queued (keys, supports) is pushed here, all of it.
    func afterStep() throws
    /// The encoder being learnt (backbone + projector): what is embedded and exported.
    var encoder: Model { get }
    /// Every network a training checkpoint holds, by name (online, target, predictor, ...).
    var stateNetworks: [(name: String, network: Network)] { get }
    /// Memory queues a training checkpoint holds, by name.
    var stateQueues: [(name: String, queue: EmbeddingQueue)] { get }
    /// Optimizer steps taken (drives τ schedules and prototype freezing); restored on resume.
    var stepCount: Int { get set }
    /// Momentum τ at the current step (nil without a momentum encoder).
    var currentTau: Float? { get }
    /// A copy of the first view's projections from the last `lossAndGradients` (for the
    /// collapse measure).
    var lastEmbedding: Tensor? { get }
    /// Forget what the last `lossAndGradients` calls queued for `afterStep` (a skipped step).
    func discardStep()
}

extension ContrastiveMethod {
    public var stateQueues: [(name: String, queue: EmbeddingQueue)] { [] }
    public var currentTau: Float? { nil }
    public func discardStep() {}
}

/// A detached copy of a variable's value (kept past `Graph.reset`).
func detachedCopy(_ v: Var) throws -> Tensor {
    let t = try Tensor(zeros: v.shape)
    t.copy(from: v.value)
    return t
}

func checkViews(_ views: [Tensor], count: Int, method: String) throws {
    guard views.count == count else { throw ContrastiveError.invalid("\(method): \(count) views needed, got \(views.count)") }
    guard let s = views.first?.shape, s.count == 4, s[0] >= 2 else {
        throw ContrastiveError.shape("\(method): views must be (N ≥ 2, C, H, W) batches, got \(views.first?.shape ?? [])")
    }
    for v in views where v.shape[0] != s[0] {
        throw ContrastiveError.shape("\(method): views of \(v.shape[0]) and \(s[0]) images")
    }
}

/// SimCLR (Chen et al. 2020; solo-learn's defaults for CIFAR: projector 2048 → 256, τ 0.2):
/// both views through the same encoder + projector (training mode, one forward per view as
/// solo-learn does, so BN statistics are per view), NT-Xent between the projections.
public final class SimCLR: ContrastiveMethod {
    public let model: Model
    public var temperature: Float
    public var trainableNetworks: [Network] { [model.network] }
    public var encoder: Model { model }
    public var stateNetworks: [(name: String, network: Network)] { [("model", model.network)] }
    public var stepCount = 0
    public private(set) var lastEmbedding: Tensor?

    public init(model: Model, temperature: Float = 0.2) throws {
        guard model.projector != nil else { throw ContrastiveError.invalid("SimCLR needs a model with a projection head") }
        guard temperature.isFinite, temperature > 0 else { throw ContrastiveError.invalid("SimCLR: temperature \(temperature) must be > 0") }
        self.model = model
        self.temperature = temperature
    }

    public func lossAndGradients(views: [Tensor], graph g: Graph) throws -> Float {
        try checkViews(views, count: 2, method: "SimCLR")
        model.network.params.zeroGrads()
        let ctx = ForwardContext(graph: g, network: model.network, training: true)
        let z = try views.map { try model.forward(ctx, g.constant($0)).projection! }
        let loss = try g.ntxent(z[0], z[1], temperature: temperature)
        lastEmbedding = try detachedCopy(z[0])
        let value = loss.value.data[0]
        try g.backward(loss)
        g.reset()
        return value
    }

    public func afterStep() throws { stepCount += 1 }
}

/// BYOL (Grill et al. 2020; solo-learn's CIFAR defaults: projector 4096 → 256 with BN,
/// predictor 256 → 4096 → 256 with BN, τ 0.99 → 1 cosine): the online encoder + projector +
/// predictor predicts the target's projection of the other view; loss
/// byol(p1, z2') + byol(p2, z1') with the target (an EMA of the online encoder + projector)
/// run without gradient. `afterStep` moves the target one EMA step.
public final class BYOL: ContrastiveMethod {
    public let online: Model
    public let target: Model
    public let predictorNetwork = Network()
    public let predictor: MLPHead?
    public let momentum: MomentumSchedule
    public private(set) var step = 0
    public var trainableNetworks: [Network] { predictor == nil ? [online.network] : [online.network, predictorNetwork] }
    public var encoder: Model { online }
    public var stateNetworks: [(name: String, network: Network)] {
        [("online", online.network), ("target", target.network)] + (predictor == nil ? [] : [("predictor", predictorNetwork)])
    }
    public var stepCount: Int { get { step } set { step = newValue } }
    public var currentTau: Float? { momentum.tau(step: step) }
    public private(set) var lastEmbedding: Tensor?

    /// `predictor: nil` builds BYOL without a predictor (which collapses — useful to see the
    /// collapse measure work).
    public init(config: Model.Config, predictor: MLPHead.Config? = MLPHead.Config(layers: 2, hidden: 4096, output: 256, batchNorm: true),
                momentum: MomentumSchedule = .cosine(base: 0.99, final: 1, totalSteps: 1000)) throws {
        guard let proj = config.projector else { throw ContrastiveError.invalid("BYOL needs a model with a projection head") }
        try momentum.validate()
        online = try Model(config)
        target = try Model(config)
        try EMA.copy(into: target.network, from: online.network)
        if var pc = predictor {
            pc.output = proj.output
            let b = LayerBuilder(network: predictorNetwork)
            self.predictor = try MLPHead(pc, inputDim: proj.output, name: "predictor", builder: b)
            try b.finish(seed: config.seed &+ 1)
        } else {
            self.predictor = nil
        }
        self.momentum = momentum
    }

    public func lossAndGradients(views: [Tensor], graph g: Graph) throws -> Float {
        try checkViews(views, count: 2, method: "BYOL")
        for n in trainableNetworks { n.params.zeroGrads() }
        let ctx = ForwardContext(graph: g, network: online.network, training: true)
        let pctx = ForwardContext(graph: g, network: predictorNetwork, training: true)
        var p: [Var] = []
        for v in views {
            let z = try online.forward(ctx, g.constant(v)).projection!
            if p.isEmpty { lastEmbedding = try detachedCopy(z) }
            p.append(try predictor.map { try $0(pctx, z) } ?? z)
        }
        let tctx = ForwardContext(graph: g, network: target.network, training: true)
        let zt = try g.withoutGrad { try views.map { try target.forward(tctx, g.constant($0)).projection! } }
        let loss = try g.add(try g.byol(p[0], g.stopGradient(zt[1])), try g.byol(p[1], g.stopGradient(zt[0])))
        let value = loss.value.data[0]
        try g.backward(loss)
        g.reset()
        return value
    }

    public func afterStep() throws {
        try EMA.update(target: target.network, online: online.network, tau: momentum.tau(step: step))
        step += 1
    }
}
