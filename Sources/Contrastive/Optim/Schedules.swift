#if canImport(Glibc)
import Glibc
#endif

/// Learning-rate schedules, evaluated per optimizer step.
public enum LRSchedule: Sendable, Equatable {
    /// The base rate throughout.
    case constant
    /// Linear warm-up from `startFactor`·base over `warmupSteps`, then cosine decay to
    /// `minFactor`·base at `totalSteps` (solo-learn's LinearWarmupCosineAnnealingLR, per step).
    case warmupCosine(warmupSteps: Int, totalSteps: Int, startFactor: Float = 0, minFactor: Float = 0)
    /// Multiply by `gamma` at each milestone step (torch's MultiStepLR).
    case step(milestones: [Int], gamma: Float)

    /// The rate at step `t` (0-based) for a base rate.
    public func rate(base: Float, step t: Int) -> Float {
        switch self {
        case .constant:
            return base
        case let .warmupCosine(w, total, start, minF):
            if t < w {
                let f = Float(t) / Float(max(w, 1))
                return base * (start + (1 - start) * f)
            }
            let span = max(total - w, 1)
            let p = min(Float(t - w) / Float(span), 1)
            let minLR = base * minF
            return minLR + (base - minLR) * 0.5 * (1 + cosf(.pi * p))
        case let .step(milestones, gamma):
            let passed = milestones.filter { t >= $0 }.count
            return base * powf(gamma, Float(passed))
        }
    }

    public func validate() throws {
        switch self {
        case .constant: return
        case let .warmupCosine(w, total, start, minF):
            guard w >= 0, total >= 1, w <= total, start >= 0, start <= 1, minF >= 0, minF <= 1 else {
                throw ContrastiveError.invalid("warm-up cosine schedule: warm-up \(w) of \(total) steps, start factor \(start), min factor \(minF)")
            }
        case let .step(ms, gamma):
            guard gamma > 0, gamma.isFinite, ms.allSatisfy({ $0 >= 0 }), ms == ms.sorted() else {
                throw ContrastiveError.invalid("step schedule: milestones must be sorted and non-negative, gamma > 0")
            }
        }
    }
}

/// How a base learning rate grows with the batch size (reference batch 256).
public enum LRScaling: Sendable {
    case none
    /// base · batch / 256 (Goyal et al.; SimCLR with SGD/LARS)
    case linear
    /// base · √(batch / 256) (SimCLR's square-root rule for small batches)
    case squareRoot

    public func scaled(_ base: Float, batch: Int) -> Float {
        switch self {
        case .none: return base
        case .linear: return base * Float(batch) / 256
        case .squareRoot: return base * (Float(batch) / 256).squareRoot()
        }
    }
}
