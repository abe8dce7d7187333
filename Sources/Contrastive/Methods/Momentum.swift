#if canImport(Glibc)
import Glibc
#endif

/// The momentum τ of a momentum (EMA) encoder at a given step.
public enum MomentumSchedule: Sendable, Equatable {
    /// τ fixed (MoCo: 0.999).
    case constant(Float)
    /// BYOL's cosine increase: τ_k = τ_final − (τ_final − τ_base)·(cos(πk/K) + 1)/2, k = step,
    /// K = total steps (τ_base at step 0, τ_final at K and after).
    case cosine(base: Float, final: Float, totalSteps: Int)

    public func tau(step: Int) -> Float {
        switch self {
        case .constant(let t): return t
        case .cosine(let b, let f, let total):
            guard total > 0 else { return f }
            let k = Double(min(max(step, 0), total))
            return Float(Double(f) - (Double(f) - Double(b)) * (cos(Double.pi * k / Double(total)) + 1) / 2)
        }
    }

    func validate() throws {
        switch self {
        case .constant(let t):
            guard t.isFinite, t >= 0, t <= 1 else { throw ContrastiveError.invalid("momentum τ \(t) must be in [0, 1]") }
        case .cosine(let b, let f, let total):
            guard b.isFinite, f.isFinite, b >= 0, b <= 1, f >= 0, f <= 1, total >= 1 else {
                throw ContrastiveError.invalid("cosine momentum: τ_base \(b), τ_final \(f) in [0, 1] and ≥ 1 total steps needed")
            }
        }
    }
}

/// Exponential moving average of a network's parameters into a target network of the same
/// architecture: θ_t ← τ·θ_t + (1 − τ)·θ_o over the flat parameter block (one loop), and the
/// buffers (BN running statistics) copied, as solo-learn's `MomentumUpdater` does.
public enum EMA {
    public static func update(target: Network, online: Network, tau: Float) throws {
        guard tau.isFinite, tau >= 0, tau <= 1 else { throw ContrastiveError.invalid("EMA: τ \(tau) must be in [0, 1]") }
        guard target.params.totalCount == online.params.totalCount, target.buffers.totalCount == online.buffers.totalCount,
              target.params.entries.map(\.shape) == online.params.entries.map(\.shape) else {
            throw ContrastiveError.shape("EMA: the target (\(target.params.totalCount) parameters) and the online network (\(online.params.totalCount)) differ in architecture")
        }
        let t = target.params.flatValues, o = online.params.flatValues
        let tp = t.data, op = o.data, a = 1 - tau
        parallelFor(t.count, grain: Pointwise.grain) { r in for i in r { tp[i] = tau * tp[i] + a * op[i] } }
        if target.buffers.totalCount > 0 {
            target.buffers.flatValues.data.update(from: online.buffers.flatValues.data, count: target.buffers.totalCount)
        }
    }

    /// θ_t ← θ_o (and the buffers): the target's initialisation.
    public static func copy(into target: Network, from online: Network) throws {
        try update(target: target, online: online, tau: 0)
    }
}
