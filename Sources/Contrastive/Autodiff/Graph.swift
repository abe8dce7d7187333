/// The gradient side of a value: whether it takes a gradient and where that gradient lives.
/// Backward closures hold these slots — not the values — so an activation's memory is
/// released as soon as no op needs it for its own backward step.
public final class GradSlot {
    public let shape: [Int]
    public let requiresGrad: Bool
    fileprivate var buffer: Tensor?
    fileprivate var written = false
    fileprivate let external: Bool

    fileprivate init(shape: [Int], requiresGrad: Bool, external: Tensor? = nil) {
        self.shape = shape
        self.requiresGrad = requiresGrad
        self.buffer = external
        self.external = external != nil
    }

    /// The gradient if anything has been written to it (always, for external buffers).
    public var grad: Tensor? { (written || external) ? buffer : nil }

    fileprivate func release() {
        if !external { buffer = nil; written = false }
    }
}

/// An activation that backward rebuilds instead of keeping it from forward: a cheap
/// elementwise function of tensors that are saved anyway (BN → ReLU of the saved BN input and
/// statistics). Consumers that need the value in backward (a convolution's or linear layer's
/// weight gradient) hold this recipe, so the forward tensor is released as soon as forward no
/// longer uses it. The first `value()` computes it; it stays cached until the producing op's
/// own backward step, which runs last among its users, calls `drop()`.
final class Rematerialized {
    private let compute: () throws -> Tensor
    private var cached: Tensor?

    init(_ compute: @escaping () throws -> Tensor) { self.compute = compute }

    /// The value, computed on first use.
    func value() throws -> Tensor {
        if let cached { return cached }
        let t = try compute()
        cached = t
        return t
    }

    /// Release the cached value (the producer's backward step is done with it).
    func drop() { cached = nil }
}

/// What a backward step keeps of an input value: the tensor itself, or its recipe when the
/// value can be rebuilt (see `Rematerialized`).
enum SavedValue {
    case tensor(Tensor)
    case recipe(Rematerialized)

    func get() throws -> Tensor {
        switch self {
        case .tensor(let t): return t
        case .recipe(let r): return try r.value()
        }
    }
}

/// A value in a computation, with its gradient once backward has reached it.
public final class Var {
    public let value: Tensor
    public let slot: GradSlot
    /// Set by ops whose result backward can rebuild (`Graph.rematerializeBNReLU`).
    var rematerialize: Rematerialized?

    fileprivate init(_ value: Tensor, requiresGrad: Bool, externalGrad: Tensor? = nil) {
        self.value = value
        self.slot = GradSlot(shape: value.shape, requiresGrad: requiresGrad, external: externalGrad)
    }

    public var shape: [Int] { value.shape }
    /// Whether gradients flow to this value (false for constants, no-grad results, stop-gradient).
    public var requiresGrad: Bool { slot.requiresGrad }
    /// ∂loss/∂self after `Graph.backward` — kept for leaves; for op results the gradient is
    /// released once it has been propagated (use a leaf to observe an intermediate gradient).
    public var grad: Tensor? { slot.grad }
}

/// Reverse-mode automatic differentiation over the engine's kernels (a tape).
///
/// Ops called on a graph compute their forward result at once and, when gradients are enabled
/// and an input requires them, append a backward closure to the tape. A closure captures only
/// what its backward step needs (saved tensors and the inputs' gradient slots). `backward(loss)`
/// replays the tape in reverse, dropping each step once done, so saved activations and
/// gradients return to the workspace progressively. Gradients accumulate: a leaf bound to a
/// parameter's gradient buffer receives `+=` contributions, so several backward passes add up
/// until the owner zeroes the buffer.
///
/// Not thread-safe; one graph per thread.
public final class Graph {
    public let workspace: Workspace
    /// When false, ops record nothing (inference, momentum encoders) — see `withoutGrad`.
    public var gradEnabled = true
    /// Columns per convolution GEMM (see `Conv2D`); small values force multi-chunk paths in tests.
    public var convColumns = Conv2D.defaultColumns
    /// Whether training-mode BN → ReLU results are rebuilt in backward from the saved BN input
    /// and statistics instead of kept (on by default). Their consumers (the next convolution)
    /// then hold no copy: ResNet-18's saved activations shrink by about a quarter for one
    /// extra elementwise pass per BN in backward. Gradients are bit-identical either way.
    public var rematerializeBNReLU = true
    private var tape: [(out: GradSlot, back: (Tensor) throws -> Void)] = []

    public init(workspace: Workspace? = nil) throws {
        self.workspace = try workspace ?? Workspace()
    }

    /// Drop the tape (and with it every saved activation). Call between steps.
    public func reset() {
        tape.removeAll(keepingCapacity: true)
    }

    public var tapeLength: Int { tape.count }

    /// Run `body` with gradient recording off.
    public func withoutGrad<R>(_ body: () throws -> R) rethrows -> R {
        let saved = gradEnabled
        gradEnabled = false
        defer { gradEnabled = saved }
        return try body()
    }

    // MARK: leaves

    /// A value that receives no gradient.
    public func constant(_ t: Tensor) -> Var { Var(t, requiresGrad: false) }

    /// A leaf that receives a gradient. With `grad`, contributions are added into that buffer
    /// (a parameter's slot in the flat gradient storage); otherwise a workspace buffer is used.
    public func leaf(_ t: Tensor, grad: Tensor? = nil) throws -> Var {
        if let grad, grad.count != t.count {
            throw ContrastiveError.shape("gradient buffer \(grad.shape) for value \(t.shape)")
        }
        return Var(t, requiresGrad: gradEnabled, externalGrad: grad)
    }

    /// The same value, cut off from the gradient (stop-gradient / detach).
    public func stopGradient(_ x: Var) -> Var { Var(x.value, requiresGrad: false) }

    // MARK: recording helpers (used by the ops)

    /// What a backward step should keep of input `x` to read its value later.
    func save(_ x: Var) -> SavedValue {
        if let r = x.rematerialize { return .recipe(r) }
        return .tensor(x.value)
    }

    /// Allocate an op result.
    func output(_ shape: [Int]) throws -> Tensor { try workspace.tensor(shape) }

    /// Whether an op with these inputs records a backward step.
    func recording(_ inputs: [Var]) -> Bool { gradEnabled && inputs.contains { $0.requiresGrad } }

    /// Wrap an op result, recording `back(dy)` if any input requires a gradient.
    func record(_ value: Tensor, _ inputs: [Var], _ back: @escaping (Tensor) throws -> Void) -> Var {
        let rg = recording(inputs)
        let v = Var(value, requiresGrad: rg)
        if rg { tape.append((v.slot, back)) }
        return v
    }

    /// Where to write a gradient: the buffer and whether to add into it (false: overwrite — the
    /// first contribution to a fresh buffer, which the kernel must fully write). Nil if the slot
    /// takes no gradient.
    func gradTarget(_ s: GradSlot) throws -> (Tensor, Bool)? {
        guard s.requiresGrad else { return nil }
        if s.external || s.written { return (s.buffer!, true) }
        let g = try workspace.tensor(s.shape)
        s.buffer = g
        s.written = true
        return (g, false)
    }

    // MARK: backward

    /// Back-propagate from a scalar (one-element) value, seeding ∂loss/∂loss = `seed`.
    public func backward(_ loss: Var, seed: Float = 1) throws {
        guard loss.value.count == 1 else {
            throw ContrastiveError.shape("backward needs a scalar, got shape \(loss.shape)")
        }
        guard loss.requiresGrad else {
            throw ContrastiveError.invalid("backward: the loss does not depend on any value that requires a gradient")
        }
        guard let (g, acc) = try gradTarget(loss.slot) else { return }
        g.data[0] = acc ? g.data[0] + seed : seed
        defer { tape.removeAll(keepingCapacity: true) }
        while let entry = tape.popLast() {
            guard let dy = entry.out.grad else { continue }
            try entry.back(dy)
            entry.out.release()
        }
    }
}
