#if canImport(Glibc)
import Glibc
#endif

/// Optimizers over a `ParameterStore`'s flat value and gradient blocks. Per-parameter state
/// (momentum buffers, Adam moments) lives in flat blocks of the same layout, so a step is one
/// pass per tensor, and the state saves and loads as a few flat tensors.
public protocol Optimizer: AnyObject {
    /// Apply one update with learning rate `lr` from the store's current gradients.
    func step(_ store: ParameterStore, lr: Float) throws
    /// Steps taken so far.
    var steps: Int { get }
    /// Named flat state tensors (for checkpoints), plus `steps`.
    var state: [(String, Tensor)] { get }
}

/// Per-tensor L2 norm in Double, summed in a fixed order (deterministic).
func norm(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var s = 0.0, i = 0
    while i < n { let e = min(i + 4096, n); s += Double(Vec.dot(p + i, p + i, e - i)); i = e }
    return Float(s.squareRoot())
}

func checkHyper(_ name: String, _ v: Float, min: Float = 0, max: Float = .greatestFiniteMagnitude) throws {
    guard v.isFinite, v >= min, v <= max else { throw ContrastiveError.invalid("\(name) = \(v) outside [\(min), \(max)]") }
}

/// SGD with momentum (PyTorch's formulation: the first step seeds the buffer with the update),
/// optional Nesterov and dampening, and L2 weight decay — on every tensor, or, with
/// `decayNormAndBias: false`, only on weights (biases and BN γ/β excluded).
public final class SGD: Optimizer {
    public let momentum: Float, dampening: Float, nesterov: Bool, weightDecay: Float, decayNormAndBias: Bool
    public internal(set) var steps = 0
    let velocity: Storage

    public init(store: ParameterStore, momentum: Float = 0.9, dampening: Float = 0, nesterov: Bool = false,
                weightDecay: Float = 0, decayNormAndBias: Bool = true) throws {
        try checkHyper("momentum", momentum, max: 1)
        try checkHyper("dampening", dampening, max: 1)
        try checkHyper("weight_decay", weightDecay)
        guard !nesterov || (momentum > 0 && dampening == 0) else {
            throw ContrastiveError.invalid("Nesterov momentum needs momentum > 0 and no dampening")
        }
        self.momentum = momentum; self.dampening = dampening; self.nesterov = nesterov
        self.weightDecay = weightDecay; self.decayNormAndBias = decayNormAndBias
        velocity = try Storage(count: store.totalCount)
    }

    public var state: [(String, Tensor)] { [("momentum_buffer", Tensor(shape: [velocity.count], data: velocity.base, owner: velocity))] }

    public func step(_ store: ParameterStore, lr: Float) throws {
        guard let grads = store.flatGrads else { throw ContrastiveError.invalid("SGD: the store holds no gradients") }
        guard store.totalCount == velocity.count else { throw ContrastiveError.shape("SGD: state for \(velocity.count) values, store has \(store.totalCount)") }
        let first = steps == 0
        let p = store.flatValues.data, g = grads.data, v = velocity.base
        for e in store.entries {
            let wd = (decayNormAndBias || e.role.decays) ? weightDecay : 0
            let mom = momentum, damp = dampening, nest = nesterov
            let o = e.offset
            parallelFor(e.count, grain: 1 << 14) { r in
                for j in r {
                    let i = o + j
                    var d = g[i] + wd * p[i]
                    if mom != 0 {
                        let b = first ? d : mom * v[i] + (1 - damp) * d
                        v[i] = b
                        d = nest ? d + mom * b : b
                    }
                    p[i] -= lr * d
                }
            }
        }
        steps += 1
    }
}

/// LARS (You et al. 2017) as solo-learn uses it: for each tensor, with ‖p‖ and ‖g‖ non-zero,
/// the update is η‖p‖ / (‖g‖ + wd‖p‖ + ε) · (g + wd·p) (optionally clipped to at most `lr`,
/// i.e. the factor becomes min(factor/lr, 1)), then SGD momentum. Biases and BN parameters
/// (1-D tensors) are excluded from both the adaptation and weight decay when
/// `excludeNormAndBias` is set (SimCLR, BYOL).
public final class LARS: Optimizer {
    public let momentum: Float, weightDecay: Float, eta: Float, eps: Float, clip: Bool, excludeNormAndBias: Bool, nesterov: Bool
    public internal(set) var steps = 0
    let velocity: Storage

    public init(store: ParameterStore, momentum: Float = 0.9, weightDecay: Float = 0, eta: Float = 0.02, eps: Float = 1e-8,
                clip: Bool = false, excludeNormAndBias: Bool = true, nesterov: Bool = false) throws {
        try checkHyper("momentum", momentum, max: 1)
        try checkHyper("weight_decay", weightDecay)
        try checkHyper("eta", eta)
        try checkHyper("eps", eps)
        guard !nesterov || momentum > 0 else { throw ContrastiveError.invalid("Nesterov momentum needs momentum > 0") }
        self.momentum = momentum; self.weightDecay = weightDecay; self.eta = eta; self.eps = eps
        self.clip = clip; self.excludeNormAndBias = excludeNormAndBias; self.nesterov = nesterov
        velocity = try Storage(count: store.totalCount)
    }

    public var state: [(String, Tensor)] { [("momentum_buffer", Tensor(shape: [velocity.count], data: velocity.base, owner: velocity))] }

    public func step(_ store: ParameterStore, lr: Float) throws {
        guard let grads = store.flatGrads else { throw ContrastiveError.invalid("LARS: the store holds no gradients") }
        guard store.totalCount == velocity.count else { throw ContrastiveError.shape("LARS: state for \(velocity.count) values, store has \(store.totalCount)") }
        let first = steps == 0
        let p = store.flatValues.data, g = grads.data, v = velocity.base
        for e in store.entries {
            let o = e.offset
            var scale: Float = 1, wd: Float = 0
            let excluded = excludeNormAndBias && e.shape.count == 1
            if !excluded {
                let pn = norm(p + o, e.count), gn = norm(g + o, e.count)
                if pn != 0 && gn != 0 {
                    var f = eta * pn / (gn + pn * weightDecay + eps)
                    if clip { f = min(f / lr, 1) }
                    scale = f
                    wd = weightDecay
                }
            }
            let mom = momentum, nest = nesterov
            parallelFor(e.count, grain: 1 << 14) { r in
                for j in r {
                    let i = o + j
                    var d = (g[i] + wd * p[i]) * scale
                    if mom != 0 {
                        let b = first ? d : mom * v[i] + d
                        v[i] = b
                        d = nest ? d + mom * b : b
                    }
                    p[i] -= lr * d
                }
            }
        }
        steps += 1
    }
}

/// AdamW (Loshchilov & Hutter; PyTorch's torch.optim.AdamW): decoupled weight decay
/// p ← p(1 − lr·wd), then Adam with bias-corrected moments. `decayNormAndBias: false`
/// exempts biases and BN parameters from the decay.
public final class AdamW: Optimizer {
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float, decayNormAndBias: Bool
    public internal(set) var steps = 0
    let m: Storage, v: Storage

    public init(store: ParameterStore, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                weightDecay: Float = 0.01, decayNormAndBias: Bool = true) throws {
        try checkHyper("beta1", beta1, max: 0.99999)
        try checkHyper("beta2", beta2, max: 0.99999999)
        try checkHyper("eps", eps)
        try checkHyper("weight_decay", weightDecay)
        guard eps > 0 else { throw ContrastiveError.invalid("eps must be > 0") }
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay; self.decayNormAndBias = decayNormAndBias
        m = try Storage(count: store.totalCount)
        v = try Storage(count: store.totalCount)
    }

    public var state: [(String, Tensor)] {
        [("exp_avg", Tensor(shape: [m.count], data: m.base, owner: m)), ("exp_avg_sq", Tensor(shape: [v.count], data: v.base, owner: v))]
    }

    public func step(_ store: ParameterStore, lr: Float) throws {
        guard let grads = store.flatGrads else { throw ContrastiveError.invalid("AdamW: the store holds no gradients") }
        guard store.totalCount == m.count else { throw ContrastiveError.shape("AdamW: state for \(m.count) values, store has \(store.totalCount)") }
        steps += 1
        let t = Float(steps)
        let c1 = 1 - powf(beta1, t), c2 = 1 - powf(beta2, t)
        let p = store.flatValues.data, g = grads.data, mp = m.base, vp = v.base
        let b1 = beta1, b2 = beta2, ep = eps
        let stepSize = lr / c1, c2s = c2.squareRoot()
        for e in store.entries {
            let decay: Float = 1 - lr * ((decayNormAndBias || e.role.decays) ? weightDecay : 0)
            let o = e.offset
            parallelFor(e.count, grain: 1 << 14) { r in
                for j in r {
                    let i = o + j
                    p[i] *= decay
                    mp[i] = b1 * mp[i] + (1 - b1) * g[i]
                    vp[i] = b2 * vp[i] + (1 - b2) * g[i] * g[i]
                    p[i] -= stepSize * mp[i] / (vp[i].squareRoot() / c2s + ep)
                }
            }
        }
    }
}
