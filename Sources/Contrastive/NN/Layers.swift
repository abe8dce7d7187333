#if canImport(Glibc)
import Glibc
#endif

/// A network's storage: trainable parameters (with gradients) and buffers (batch-norm running
/// statistics, counters), each one flat block — see `ParameterStore`.
public final class Network {
    public let params = ParameterStore()
    public let buffers = ParameterStore(hasGrads: false)
    /// Every declared tensor in declaration order (PyTorch's state_dict order for our layers).
    public internal(set) var stateOrder: [(isBuffer: Bool, index: Int)] = []
    public init() {}

    /// Allocate both stores (after every layer has been declared).
    public func allocate() throws {
        try params.allocate()
        try buffers.allocate()
    }
}

/// Everything a layer's forward needs: the graph to record on, the storage, the mode.
public struct ForwardContext {
    public let graph: Graph
    public let network: Network
    /// Training mode: batch statistics in BN (and running statistics updated).
    public let training: Bool
    public init(graph: Graph, network: Network, training: Bool) {
        self.graph = graph; self.network = network; self.training = training
    }
    func param(_ i: Int) throws -> Var { try network.params.bind(i, in: graph) }
}

/// Parameter initialisers (torchvision's / PyTorch's defaults), each from its own seeded stream
/// keyed by the parameter's name, so adding a layer never changes the others' initial values.
public enum Initializer {
    case zeros, ones
    /// N(0, 2/fan_out) — `kaiming_normal_(mode="fan_out", nonlinearity="relu")`, torchvision's convs.
    case kaimingNormalFanOut
    /// U(−1/√fan_in, 1/√fan_in) — PyTorch's default for Linear weights and biases
    /// (`kaiming_uniform_(a=√5)` gives the same bound).
    case uniformFanIn(Int)

    func fill(_ t: Tensor, seed: UInt64, name: String) {
        var rng = CounterRNG(seed: seed, stream: stableHash(name))
        switch self {
        case .zeros: t.fill(0)
        case .ones: t.fill(1)
        case .kaimingNormalFanOut:
            let fanOut = t.shape.count >= 2 ? t.count / t.shape[1] : t.count
            let std = (2 / Float(max(fanOut, 1))).squareRoot()
            for i in 0..<t.count { t.data[i] = rng.normal() * std }
        case .uniformFanIn(let fanIn):
            let b = 1 / Float(max(fanIn, 1)).squareRoot()
            for i in 0..<t.count { t.data[i] = rng.uniform(-b, b) }
        }
    }
}

/// Declares layers into a `Network` under a name prefix and remembers how to initialise them.
public final class LayerBuilder {
    public let network: Network
    var prefix: [String] = []
    var inits: [(store: ParameterStore, index: Int, initializer: Initializer)] = []

    public init(network: Network) { self.network = network }

    public func scope<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
        prefix.append(name)
        defer { prefix.removeLast() }
        return try body()
    }

    func fullName(_ leaf: String) -> String { (prefix + [leaf]).joined(separator: ".") }

    func param(_ leaf: String, _ shape: [Int], _ role: ParameterRole, _ initializer: Initializer) throws -> Int {
        let i = try network.params.declare(fullName(leaf), shape: shape, role: role)
        inits.append((network.params, i, initializer))
        network.stateOrder.append((false, i))
        return i
    }

    func buffer(_ leaf: String, _ shape: [Int], _ initializer: Initializer) throws -> Int {
        let i = try network.buffers.declare(fullName(leaf), shape: shape, role: .other)
        inits.append((network.buffers, i, initializer))
        network.stateOrder.append((true, i))
        return i
    }

    /// Allocate storage and run every initialiser with `seed`.
    public func finish(seed: UInt64) throws {
        try network.allocate()
        for (store, i, ini) in inits { ini.fill(store.value(i), seed: seed, name: store.entries[i].name) }
    }

    // MARK: layers

    public func conv(_ name: String, _ cin: Int, _ cout: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = false) throws -> Conv {
        try scope(name) {
            let w = try param("weight", [cout, cin, kernel, kernel], .weight, .kaimingNormalFanOut)
            let b = bias ? try param("bias", [cout], .bias, .zeros) : nil
            return Conv(weight: w, bias: b, stride: stride, padding: padding)
        }
    }

    public func batchNorm(_ name: String, _ c: Int, zeroGamma: Bool = false) throws -> BatchNormLayer {
        try scope(name) {
            BatchNormLayer(gamma: try param("weight", [c], .normScale, zeroGamma ? .zeros : .ones),
                           beta: try param("bias", [c], .normShift, .zeros),
                           mean: try buffer("running_mean", [c], .zeros),
                           variance: try buffer("running_var", [c], .ones),
                           tracked: try buffer("num_batches_tracked", [], .zeros))
        }
    }

    public func linear(_ name: String, _ din: Int, _ dout: Int, bias: Bool = true) throws -> Linear {
        try scope(name) {
            Linear(weight: try param("weight", [dout, din], .weight, .uniformFanIn(din)),
                   bias: bias ? try param("bias", [dout], .bias, .uniformFanIn(din)) : nil)
        }
    }
}

/// 2-D convolution (weight (Cout, Cin, k, k), optional bias).
public struct Conv {
    public let weight: Int
    public let bias: Int?
    public let stride: Int, padding: Int

    public func callAsFunction(_ ctx: ForwardContext, _ x: Var) throws -> Var {
        try ctx.graph.conv2d(x, try ctx.param(weight), try bias.map { try ctx.param($0) }, stride: stride, padding: padding)
    }
}

/// Batch normalisation with affine γ, β, running statistics and `num_batches_tracked` (stored
/// as a float buffer — exact up to 2²⁴ steps — and written as int64 in checkpoints).
public struct BatchNormLayer {
    public let gamma: Int, beta: Int, mean: Int, variance: Int, tracked: Int
    public var momentum: Float = 0.1
    public var eps: Float = 1e-5

    /// BN(x), or max(BN(x), 0) fused with `relu`, or max(BN(x) + residual, 0) (training only).
    public func callAsFunction(_ ctx: ForwardContext, _ x: Var, relu: Bool = false, residual: Var? = nil) throws -> Var {
        let b = ctx.network.buffers
        let y = try ctx.graph.batchNorm(x, gamma: try ctx.param(gamma), beta: try ctx.param(beta),
                                        runningMean: b.value(mean), runningVar: b.value(variance),
                                        training: ctx.training, momentum: momentum, eps: eps, relu: relu, residual: residual)
        if ctx.training { b.value(tracked).data[0] += 1 }
        return y
    }
}

/// conv → BN → (+ residual) → (ReLU), the unit every backbone is built from. In eval mode with
/// gradients off (embedding, evaluation, momentum targets in eval) the BN is folded into the
/// convolution and the residual add and ReLU run in its epilogue (`Graph.convBNInference`);
/// otherwise the ops are recorded one by one (BN with the ReLU fused when there is no residual).
/// In training with a residual and ReLU, BN, the add and the ReLU are one op
/// (`batchNorm(residual:)`). `residual` is evaluated after the convolution (and, unfused, after
/// BN): the tape then holds conv, (BN,) residual branch, join, so gradients reach the block input
/// in the same order as with separate ops.
public func convBN(_ ctx: ForwardContext, _ conv: Conv, _ bn: BatchNormLayer, _ x: Var,
                   residual: (() throws -> Var)? = nil, relu: Bool) throws -> Var {
    let g = ctx.graph
    if !ctx.training && !g.gradEnabled && useFoldedInference {
        let residual = try residual?()
        let p = ctx.network.params, b = ctx.network.buffers
        return try g.convBNInference(x, weight: p.value(conv.weight), convBias: conv.bias.map { p.value($0) },
                                     stride: conv.stride, padding: conv.padding,
                                     gamma: p.value(bn.gamma), beta: p.value(bn.beta),
                                     runningMean: b.value(bn.mean), runningVar: b.value(bn.variance), eps: bn.eps,
                                     residual: residual, relu: relu)
    }
    if ctx.training && relu && useFusedResidualBN, let residual {
        // max(BN(conv(x)) + residual, 0) in one pass: no intermediate BN output, one gradient pass.
        let c = try conv(ctx, x)
        return try bn(ctx, c, relu: true, residual: try residual())
    }
    let y = try bn(ctx, try conv(ctx, x), relu: relu && residual == nil)
    guard let residual = try residual?() else { return y }
    return relu ? try g.addReLU(y, residual) : try g.add(y, residual)
}

/// Whether `convBN` in training runs BN → + residual → ReLU as one op (on by default; the
/// benchmark's A/B mode and the tests turn it off to compare).
nonisolated(unsafe) public var useFusedResidualBN = true

/// Whether `convBN` folds BN into the convolution for inference (on by default; tests and the
/// benchmark turn it off to compare against the unfolded ops).
nonisolated(unsafe) public var useFoldedInference = true

/// y = x·Wᵀ + b (weight (out, in)).
public struct Linear {
    public let weight: Int
    public let bias: Int?

    public func callAsFunction(_ ctx: ForwardContext, _ x: Var) throws -> Var {
        try ctx.graph.linear(x, try ctx.param(weight), try bias.map { try ctx.param($0) })
    }
}
