/// Loss and gradients for embeddings held in caller memory — the engine side of the
/// user-facing objective calls (`ctr_ntxent`, ...): the inputs are wrapped (never written),
/// checked to be finite, the loss runs on a fresh graph, and the gradients are copied into the
/// caller's buffers only once everything succeeded and is finite, so a failing call leaves
/// them untouched.
public enum ObjectiveCall {
    public struct Input {
        public let name: String
        public let data: UnsafePointer<Float>
        public let shape: [Int]
        /// Where ∂loss/∂input goes (shape's element count), or nil.
        public let grad: UnsafeMutablePointer<Float>?
        public init(_ name: String, _ data: UnsafePointer<Float>, _ shape: [Int], grad: UnsafeMutablePointer<Float>?) {
            self.name = name; self.data = data; self.shape = shape; self.grad = grad
        }
    }

    /// Throw NUMERIC naming the first non-finite value of `data`.
    public static func requireFinite(_ name: String, _ data: UnsafePointer<Float>, count: Int) throws {
        var i = 0
        while i < count {
            let e = min(count, i + 4096)
            // s·0 is 0 for a finite sum and NaN when an element is ±∞ or NaN (or the sum
            // overflows — then the exact scan below finds nothing): one vectorised sum per chunk.
            if !(Vec.sum(data + i, e - i) * 0).isNaN { i = e; continue }
            for j in i..<e where !data[j].isFinite {
                throw ContrastiveError(.numeric, "\(name)[\(j)] is \(data[j]); embeddings must be finite")
            }
            i = e
        }
    }

    /// Run `body` on leaves made from `inputs`; returns the loss and fills the gradients.
    public static func run(_ inputs: [Input], _ body: (Graph, [Var]) throws -> Var) throws -> Float {
        for x in inputs {
            let n = try checkedCount(x.shape, what: x.name)
            try requireFinite(x.name, x.data, count: n)
        }
        let g = try Graph()
        let wantGrad = inputs.contains { $0.grad != nil }
        g.gradEnabled = wantGrad
        let leaves = try inputs.map { x -> Var in
            let t = Tensor(shape: x.shape, data: UnsafeMutablePointer(mutating: x.data))
            return x.grad != nil ? try g.leaf(t) : g.constant(t)
        }
        let loss = try body(g, leaves)
        let value = loss.value.data[0]
        guard value.isFinite else {
            throw ContrastiveError(.numeric, "the loss is \(value) (inputs too large for the temperature?)")
        }
        guard wantGrad else { return value }
        if loss.requiresGrad { try g.backward(loss) }
        for (x, v) in zip(inputs, leaves) where x.grad != nil {
            if let gr = v.grad {
                try requireFinite("∂loss/∂\(x.name)", UnsafePointer(gr.data), count: gr.count)
            }
        }
        for (x, v) in zip(inputs, leaves) {
            guard let dst = x.grad else { continue }
            if let gr = v.grad { dst.update(from: gr.data, count: gr.count) }
            else { dst.update(repeating: 0, count: v.value.count) }
        }
        return value
    }
}
