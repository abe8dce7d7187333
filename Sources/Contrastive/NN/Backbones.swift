/// Convolutional backbones. Each maps images (N, C, H, W) to pooled features (N, featureDim).
public protocol Backbone {
    var featureDim: Int { get }
    var inChannels: Int { get }
    /// Short description stored in checkpoint metadata ("resnet18/cifar/c3/w1").
    var descriptor: String { get }
    func callAsFunction(_ ctx: ForwardContext, _ x: Var) throws -> Var
}

/// The ResNet family in torchvision's layout (v1.5: the stride sits on the 3×3 convolution),
/// with parameter names identical to torchvision's `state_dict` (fc excluded: the output is the
/// globally pooled feature vector).
public struct ResNet: Backbone {
    public enum Stem: String, Sendable {
        /// 7×7/2 convolution + 3×3/2 max-pool (ImageNet-sized input).
        case imagenet
        /// 3×3/1 convolution (padding 1), no max-pool (CIFAR-sized input).
        case cifar
    }

    public struct Config: Sendable {
        public var depth: Int = 18
        public var stem: Stem = .imagenet
        public var inChannels: Int = 3
        /// Multiplies every channel count (64·w, 128·w, …); 1 is torchvision's network.
        public var width: Float = 1
        /// Zero-initialise the last BN γ of each residual branch (torchvision's zero_init_residual).
        public var zeroInitResidual = false
        public init() {}
        public init(depth: Int, stem: Stem = .imagenet, inChannels: Int = 3, width: Float = 1, zeroInitResidual: Bool = false) {
            self.depth = depth; self.stem = stem; self.inChannels = inChannels; self.width = width; self.zeroInitResidual = zeroInitResidual
        }
    }

    struct Block {
        let conv1: Conv, bn1: BatchNormLayer, conv2: Conv, bn2: BatchNormLayer
        let conv3: Conv?, bn3: BatchNormLayer?          // bottleneck only
        let downsample: (Conv, BatchNormLayer)?
    }

    public let config: Config
    public let featureDim: Int
    public var inChannels: Int { config.inChannels }
    public var descriptor: String { "resnet\(config.depth)" }
    let conv1: Conv, bn1: BatchNormLayer
    let stages: [[Block]]

    public static let supportedDepths = [18, 34, 50, 101, 152]

    static func layout(_ depth: Int) -> (bottleneck: Bool, blocks: [Int])? {
        switch depth {
        case 18: return (false, [2, 2, 2, 2])
        case 34: return (false, [3, 4, 6, 3])
        case 50: return (true, [3, 4, 6, 3])
        case 101: return (true, [3, 4, 23, 3])
        case 152: return (true, [3, 8, 36, 3])
        default: return nil
        }
    }

    public init(_ config: Config, builder b: LayerBuilder) throws {
        guard let (bottleneck, counts) = ResNet.layout(config.depth) else {
            throw ContrastiveError.invalid("resnet depth \(config.depth) is not one of \(ResNet.supportedDepths)")
        }
        guard config.inChannels >= 1, config.inChannels <= 4096 else {
            throw ContrastiveError.invalid("input channels \(config.inChannels) outside 1...4096")
        }
        guard config.width.isFinite, config.width >= 0.0625, config.width <= 16 else {
            throw ContrastiveError.invalid("width multiplier \(config.width) outside [1/16, 16]")
        }
        self.config = config
        let expansion = bottleneck ? 4 : 1
        func ch(_ c: Int) -> Int { max(1, Int((Float(c) * config.width).rounded())) }
        var inplanes = ch(64)
        switch config.stem {
        case .imagenet: conv1 = try b.conv("conv1", config.inChannels, inplanes, kernel: 7, stride: 2, padding: 3)
        case .cifar: conv1 = try b.conv("conv1", config.inChannels, inplanes, kernel: 3, stride: 1, padding: 1)
        }
        bn1 = try b.batchNorm("bn1", inplanes)
        var stages: [[Block]] = []
        for (s, count) in counts.enumerated() {
            let planes = ch(64 << s)
            var blocks: [Block] = []
            for i in 0..<count {
                let stride = (i == 0 && s > 0) ? 2 : 1
                let block: Block = try b.scope("layer\(s + 1)") {
                    try b.scope("\(i)") {
                        let out = planes * expansion
                        let needsDown = stride != 1 || inplanes != out
                        func down() throws -> (Conv, BatchNormLayer)? {
                            guard needsDown else { return nil }
                            return try b.scope("downsample") {
                                (try b.conv("0", inplanes, out, kernel: 1, stride: stride), try b.batchNorm("1", out))
                            }
                        }
                        // Declared in torchvision's state_dict order: conv1, bn1, conv2, bn2, (conv3, bn3,) downsample.
                        if bottleneck {
                            let c1 = try b.conv("conv1", inplanes, planes, kernel: 1), n1 = try b.batchNorm("bn1", planes)
                            let c2 = try b.conv("conv2", planes, planes, kernel: 3, stride: stride, padding: 1), n2 = try b.batchNorm("bn2", planes)
                            let c3 = try b.conv("conv3", planes, out, kernel: 1), n3 = try b.batchNorm("bn3", out, zeroGamma: config.zeroInitResidual)
                            return Block(conv1: c1, bn1: n1, conv2: c2, bn2: n2, conv3: c3, bn3: n3, downsample: try down())
                        }
                        let c1 = try b.conv("conv1", inplanes, planes, kernel: 3, stride: stride, padding: 1), n1 = try b.batchNorm("bn1", planes)
                        let c2 = try b.conv("conv2", planes, planes, kernel: 3, padding: 1), n2 = try b.batchNorm("bn2", planes, zeroGamma: config.zeroInitResidual)
                        return Block(conv1: c1, bn1: n1, conv2: c2, bn2: n2, conv3: nil, bn3: nil, downsample: try down())
                    }
                }
                blocks.append(block)
                inplanes = planes * expansion
            }
            stages.append(blocks)
        }
        self.stages = stages
        featureDim = inplanes
    }

    public func callAsFunction(_ ctx: ForwardContext, _ input: Var) throws -> Var {
        let g = ctx.graph
        var x = try convBN(ctx, conv1, bn1, input, relu: true)
        if config.stem == .imagenet { x = try g.maxPool2d(x, kernel: 3, stride: 2, padding: 1) }
        for stage in stages {
            for blk in stage {
                let input = x
                let identity = { try blk.downsample.map { try convBN(ctx, $0.0, $0.1, input, relu: false) } ?? input }
                let out = try convBN(ctx, blk.conv1, blk.bn1, x, relu: true)
                if let c3 = blk.conv3, let b3 = blk.bn3 {
                    x = try convBN(ctx, c3, b3, try convBN(ctx, blk.conv2, blk.bn2, out, relu: true), residual: identity, relu: true)
                } else {
                    x = try convBN(ctx, blk.conv2, blk.bn2, out, residual: identity, relu: true)
                }
            }
        }
        return try g.globalAvgPool(x)
    }
}

/// A small fast backbone: stages of 3×3 conv (padding 1) → BN → ReLU → 2×2 max-pool, then a
/// global average pool. Names: `features.<i>.conv.weight`, `features.<i>.bn.*`.
public struct ConvNet: Backbone {
    public struct Config: Sendable {
        public var channels: [Int] = [32, 64, 128, 256]
        public var inChannels = 3
        /// Whether stage i ends with a 2×2 max-pool (default: every stage but the last).
        public var pool: [Bool]? = nil
        public init() {}
        public init(channels: [Int], inChannels: Int = 3) { self.channels = channels; self.inChannels = inChannels }
    }

    public let config: Config
    public var featureDim: Int { config.channels.last ?? 0 }
    public var inChannels: Int { config.inChannels }
    public var descriptor: String { "convnet" }
    let stages: [(Conv, BatchNormLayer, Bool)]

    public init(_ config: Config, builder b: LayerBuilder) throws {
        guard !config.channels.isEmpty, config.channels.count <= 16, config.channels.allSatisfy({ $0 >= 1 && $0 <= 8192 }) else {
            throw ContrastiveError.invalid("convnet channels \(config.channels): 1–16 stages of 1–8192 channels")
        }
        guard config.inChannels >= 1, config.inChannels <= 4096 else { throw ContrastiveError.invalid("input channels \(config.inChannels) outside 1...4096") }
        if let p = config.pool, p.count != config.channels.count { throw ContrastiveError.invalid("convnet pool flags: \(p.count) for \(config.channels.count) stages") }
        self.config = config
        var cin = config.inChannels
        var st: [(Conv, BatchNormLayer, Bool)] = []
        for (i, c) in config.channels.enumerated() {
            let pool = config.pool?[i] ?? (i < config.channels.count - 1)
            st.append(try b.scope("features") {
                try b.scope("\(i)") { (try b.conv("conv", cin, c, kernel: 3, padding: 1), try b.batchNorm("bn", c), pool) }
            })
            cin = c
        }
        stages = st
    }

    public func callAsFunction(_ ctx: ForwardContext, _ input: Var) throws -> Var {
        var x = input
        for (conv, bn, pool) in stages {
            x = try convBN(ctx, conv, bn, x, relu: true)
            if pool {
                guard x.shape[2] >= 2, x.shape[3] >= 2 else {
                    throw ContrastiveError.shape("convnet: feature map \(x.shape[2])×\(x.shape[3]) too small to pool; use larger images or fewer pooling stages")
                }
                x = try ctx.graph.maxPool2d(x, kernel: 2, stride: 2)
            }
        }
        return try ctx.graph.globalAvgPool(x)
    }
}
