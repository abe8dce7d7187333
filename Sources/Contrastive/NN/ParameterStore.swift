/// What a parameter is, for optimizers that treat kinds differently (LARS and weight decay
/// exclude biases and batch-norm parameters).
public enum ParameterRole: UInt8, Sendable {
    case weight, bias, normScale, normShift, other
    /// Whether weight decay / LARS adaptation apply by default.
    public var decays: Bool { self == .weight || self == .other }
}

/// Flat storage for a network's parameters and their gradients (llm.c-style).
///
/// Every parameter is a slice of one contiguous value block, and its gradient the same slice
/// of one gradient block, so an optimizer step, an EMA update, zeroing gradients, a gradient
/// norm or a checkpoint is a single loop over memory. Declare all parameters, then
/// `allocate()`; tensors handed out afterwards stay valid for the store's lifetime.
/// The same type holds non-trainable buffers (batch-norm running statistics) with `hasGrads: false`.
public final class ParameterStore {
    public struct Entry: Sendable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public let count: Int
        public let role: ParameterRole
    }

    public private(set) var entries: [Entry] = []
    private var index: [String: Int] = [:]
    public private(set) var totalCount = 0
    public let hasGrads: Bool
    private var values: Storage?
    private var grads: Storage?

    public init(hasGrads: Bool = true) { self.hasGrads = hasGrads }

    /// Declare a parameter; returns its index. Names must be unique.
    @discardableResult
    public func declare(_ name: String, shape: [Int], role: ParameterRole) throws -> Int {
        guard values == nil else { throw ContrastiveError(.internal, "parameter \(name) declared after allocation") }
        guard index[name] == nil else { throw ContrastiveError.invalid("duplicate parameter name \(name)") }
        let n = try checkedCount(shape, what: name)
        let (t, o) = totalCount.addingReportingOverflow(n)
        guard !o, t <= Int(Int32.max) else { throw ContrastiveError(.outOfMemory, "too many parameters") }
        entries.append(Entry(name: name, shape: shape, offset: totalCount, count: n, role: role))
        index[name] = entries.count - 1
        totalCount = t
        return entries.count - 1
    }

    /// Allocate the value (and gradient) blocks, zero-filled.
    public func allocate() throws {
        guard values == nil else { return }
        values = try Storage(count: totalCount)
        if hasGrads { grads = try Storage(count: totalCount) }
    }

    public var isAllocated: Bool { values != nil }
    public func indexOf(_ name: String) -> Int? { index[name] }

    /// The whole value block as one flat tensor (for optimizers, EMA, checkpoints).
    public var flatValues: Tensor { Tensor(shape: [totalCount], data: values!.base, owner: values) }
    /// The whole gradient block (nil for buffer stores).
    public var flatGrads: Tensor? { grads.map { Tensor(shape: [totalCount], data: $0.base, owner: $0) } }

    public func value(_ i: Int) -> Tensor {
        let e = entries[i]
        return Tensor(shape: e.shape, data: values!.base + e.offset, owner: values)
    }

    public func grad(_ i: Int) -> Tensor? {
        guard let g = grads else { return nil }
        let e = entries[i]
        return Tensor(shape: e.shape, data: g.base + e.offset, owner: g)
    }

    public func zeroGrads() { if let g = grads { g.base.update(repeating: 0, count: totalCount) } }

    /// Bind parameter i into a graph: a leaf whose gradient accumulates into the flat block
    /// (or a constant when the graph records no gradients or the store has none).
    public func bind(_ i: Int, in graph: Graph) throws -> Var {
        if hasGrads && graph.gradEnabled { return try graph.leaf(value(i), grad: grad(i)) }
        return graph.constant(value(i))
    }
}
