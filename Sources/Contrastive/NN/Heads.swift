/// An MLP head: hidden layers Linear → [BN] → ReLU, then a final Linear (optionally followed by
/// BN). Names follow an `nn.Sequential` (`projector.0.weight`, `projector.1.running_mean`, …) so
/// a head loads into the same Sequential in PyTorch.
///   SimCLR / MoCo v2: layers 2, BN off  → Linear-ReLU-Linear
///   BYOL / SimSiam / SwAV: layers 2, BN on → Linear-BN-ReLU-Linear
public struct MLPHead {
    public struct Config: Sendable, Equatable {
        public var layers = 2
        public var hidden = 2048
        public var output = 128
        public var batchNorm = false
        /// BN (affine) after the final Linear too.
        public var lastBatchNorm = false
        public init() {}
        public init(layers: Int, hidden: Int, output: Int, batchNorm: Bool, lastBatchNorm: Bool = false) {
            self.layers = layers; self.hidden = hidden; self.output = output; self.batchNorm = batchNorm; self.lastBatchNorm = lastBatchNorm
        }
        public var descriptor: String { "mlp\(layers)/\(hidden)/\(output)/bn\(batchNorm ? 1 : 0)\(lastBatchNorm ? 1 : 0)" }
    }

    enum Step { case linear(Linear), bn(BatchNormLayer, relu: Bool), relu }
    public let config: Config
    public let inputDim: Int
    let steps: [Step]

    public init(_ config: Config, inputDim: Int, name: String, builder b: LayerBuilder) throws {
        guard config.layers >= 1, config.layers <= 8 else { throw ContrastiveError.invalid("\(name): layers \(config.layers) outside 1...8") }
        guard config.output >= 1, config.output <= 65536, config.layers == 1 || (config.hidden >= 1 && config.hidden <= 65536) else {
            throw ContrastiveError.invalid("\(name): hidden \(config.hidden) / output \(config.output) outside 1...65536")
        }
        self.config = config
        self.inputDim = inputDim
        var steps: [Step] = []
        try b.scope(name) {
            var idx = 0, din = inputDim
            for l in 0..<config.layers {
                let last = l == config.layers - 1
                let dout = last ? config.output : config.hidden
                steps.append(.linear(try b.linear("\(idx)", din, dout))); idx += 1
                let bn = (!last && config.batchNorm) || (last && config.lastBatchNorm)
                if bn { steps.append(.bn(try b.batchNorm("\(idx)", dout), relu: !last)); idx += 1 }
                if !last { if !bn { steps.append(.relu) }; idx += 1 }   // a fused BN-ReLU still takes the ReLU's index
                din = dout
            }
        }
        self.steps = steps
    }

    public func callAsFunction(_ ctx: ForwardContext, _ input: Var) throws -> Var {
        var x = input
        for s in steps {
            switch s {
            case .linear(let l): x = try l(ctx, x)
            case .bn(let bn, let relu): x = try bn(ctx, x, relu: relu)
            case .relu: x = try ctx.graph.relu(x)
            }
        }
        return x
    }
}

/// Prototype vectors for clustering methods (SwAV): a bias-free Linear (K, D) whose rows are
/// kept at unit L2 norm; scores = z · Cᵀ.
public struct Prototypes {
    public let weight: Int
    public let count: Int, dim: Int

    public init(count: Int, dim: Int, name: String = "prototypes", builder b: LayerBuilder) throws {
        guard count >= 1, count <= 1 << 20, dim >= 1 else { throw ContrastiveError.invalid("prototypes: \(count) × \(dim)") }
        self.count = count; self.dim = dim
        weight = try b.scope(name) { try b.param("weight", [count, dim], .weight, .uniformFanIn(dim)) }
    }

    public func callAsFunction(_ ctx: ForwardContext, _ z: Var) throws -> Var {
        try ctx.graph.matmul(z, try ctx.param(weight), transposeB: true)
    }

    /// Rescale every row to unit norm (call after each optimizer step).
    public func normalizeRows(_ network: Network) {
        let w = network.params.value(weight)
        for r in 0..<count {
            let row = w.data + r * dim
            let n = Vec.dot(row, row, dim).squareRoot()
            if n > 0 { for j in 0..<dim { row[j] /= n } }
        }
    }
}
