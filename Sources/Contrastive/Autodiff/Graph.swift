/// A value in a computation, with its gradient once backward has reached it.
public final class Var {
    public let value: Tensor
    /// Whether gradients flow to this value (false for constants, no-grad results, stop-gradient).
    public let requiresGrad: Bool
    fileprivate var gradBuffer: Tensor?
    fileprivate var written = false
    fileprivate let external: Bool

    fileprivate init(_ value: Tensor, requiresGrad: Bool, externalGrad: Tensor? = nil) {
        self.value = value
        self.requiresGrad = requiresGrad
        self.gradBuffer = externalGrad
        self.external = externalGrad != nil
    }

    public var shape: [Int] { value.shape }
    /// ∂loss/∂self after `Graph.backward`, or nil if no gradient reached it.
    /// For leaves bound to an external buffer (parameters), the buffer itself.
    public var grad: Tensor? { (written || external) ? gradBuffer : nil }
}

/// Reverse-mode automatic differentiation over the engine's kernels (a tape).
///
/// Ops called on a graph compute their forward result at once (into the workspace) and, when
/// gradients are enabled and an input requires them, append a backward closure to the tape.
/// `backward(loss)` replays the tape in reverse. Gradients accumulate: a leaf bound to a
/// parameter's gradient buffer receives `+=` contributions, so several backward passes
/// (gradient accumulation) add up until the owner zeroes the buffer.
///
/// One graph serves one step: `reset()` drops the tape and recycles the workspace, so a step of
/// fixed shape allocates no new memory after the first. Not thread-safe; one graph per thread.
public final class Graph {
    public let workspace: Workspace
    /// When false, ops record nothing (inference, momentum encoders) — see `withoutGrad`.
    public var gradEnabled = true
    /// Columns per convolution GEMM (see `Conv2D`); small values force multi-chunk paths in tests.
    public var convColumns = Conv2D.defaultColumns
    private var tape: [(out: Var, back: (Tensor) throws -> Void)] = []

    public init(workspace: Workspace? = nil) throws {
        self.workspace = try workspace ?? Workspace()
    }

    /// Drop the tape and make the workspace's memory reusable. Every tensor from this graph's
    /// workspace (activations, gradients of non-leaf values) becomes invalid.
    public func reset() {
        tape.removeAll(keepingCapacity: true)
        workspace.reset()
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

    /// Allocate an op result.
    func output(_ shape: [Int]) throws -> Tensor { try workspace.tensor(shape) }

    /// Whether an op with these inputs must record a backward step.
    func needsGrad(_ inputs: Var...) -> Bool { gradEnabled && inputs.contains { $0.requiresGrad } }

    /// Wrap an op result, recording `back(dy)` if any input requires a gradient.
    func record(_ value: Tensor, _ inputs: [Var], _ back: @escaping (Tensor) throws -> Void) -> Var {
        let rg = gradEnabled && inputs.contains { $0.requiresGrad }
        let v = Var(value, requiresGrad: rg)
        if rg { tape.append((v, back)) }
        return v
    }

    /// Where to write `x`'s gradient: the buffer and whether to add into it (false: overwrite —
    /// the first contribution to a fresh workspace buffer, which the kernel must fully write).
    /// Nil if `x` takes no gradient.
    func gradTarget(_ x: Var) throws -> (Tensor, Bool)? {
        guard x.requiresGrad else { return nil }
        if x.external { return (x.gradBuffer!, true) }
        if x.written { return (x.gradBuffer!, true) }
        let g = try workspace.tensor(x.shape)
        x.gradBuffer = g
        x.written = true
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
        guard let (g, acc) = try gradTarget(loss) else { return }
        g.data[0] = acc ? g.data[0] + seed : seed
        for entry in tape.reversed() {
            guard let dy = entry.out.grad else { continue }
            try entry.back(dy)
        }
        tape.removeAll(keepingCapacity: true)
    }
}
