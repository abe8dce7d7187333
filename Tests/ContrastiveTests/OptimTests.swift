import Foundation
import Testing
import Contrastive

@Suite("Optimizers, schedules and EMA against PyTorch trajectories")
struct OptimTests {
    static let cases = ["sgd_momentum_wd", "sgd_nesterov", "sgd_exclude_bias_bn", "adamw", "lars", "lars_clip"]

    func makeOptimizer(_ name: String, _ store: ParameterStore) throws -> Optimizer {
        switch name {
        case "sgd_momentum_wd": return try SGD(store: store, momentum: 0.9, weightDecay: 1e-2)
        case "sgd_nesterov": return try SGD(store: store, momentum: 0.9, nesterov: true, weightDecay: 1e-3)
        case "sgd_exclude_bias_bn": return try SGD(store: store, momentum: 0.9, weightDecay: 0.05, decayNormAndBias: false)
        case "adamw": return try AdamW(store: store, weightDecay: 0.05)
        case "lars": return try LARS(store: store, momentum: 0.9, weightDecay: 1e-4, eta: 0.02)
        default: return try LARS(store: store, momentum: 0.9, weightDecay: 1e-2, eta: 0.02, clip: true)
        }
    }

    /// Four steps with PyTorch's gradients and warm-up cosine rates; parameters must follow
    /// PyTorch's float64 trajectory to 1e-5 relative (float32 state; four steps of O(1) updates).
    @Test("trajectory matches PyTorch", arguments: cases)
    func trajectory(_ name: String) throws {
        let dir = Fixtures.dir("optim").appendingPathComponent(name)
        let store = ParameterStore()
        try store.declare("weight", shape: [4, 3], role: .weight)
        try store.declare("bias", shape: [4], role: .bias)
        try store.declare("bn_weight", shape: [4], role: .normScale)
        try store.allocate()
        let names = ["weight", "bias", "bn_weight"]
        func load(_ f: String) throws -> [Float] { try NPY(dir.appendingPathComponent("\(f).npy")).floats }
        for (i, n) in names.enumerated() { store.value(i).copy(from: try Tensor(shape: [store.entries[i].count], values: try load("p0_\(n)"))) }
        let opt = try makeOptimizer(name, store)
        let schedule = LRSchedule.warmupCosine(warmupSteps: 2, totalSteps: 4)
        let rates = try load("lr")
        for k in 0..<4 {
            let lr = schedule.rate(base: 0.5, step: k)
            #expect(abs(lr - rates[k]) <= 1e-6, "lr at step \(k)")
            for (i, n) in names.enumerated() { store.grad(i)!.copy(from: try Tensor(shape: [store.entries[i].count], values: try load("grad\(k)_\(n)"))) }
            try opt.step(store, lr: lr)
            for (i, n) in names.enumerated() {
                expectClose(store.value(i).array, try load("p\(k + 1)_\(n)"), atol: 1e-6, rtol: 1e-5, "\(name) step \(k + 1) \(n)")
            }
        }
        #expect(opt.steps == 4)
    }

    @Test("schedules: warm-up cosine endpoints, step decay, scaling rules, validation")
    func schedules() throws {
        let s = LRSchedule.warmupCosine(warmupSteps: 10, totalSteps: 110, startFactor: 0.1, minFactor: 0.01)
        #expect(abs(s.rate(base: 1, step: 0) - 0.1) < 1e-6)
        #expect(abs(s.rate(base: 1, step: 10) - 1) < 1e-6)
        #expect(abs(s.rate(base: 1, step: 60) - (0.01 + 0.99 * 0.5)) < 1e-5)
        #expect(abs(s.rate(base: 1, step: 110) - 0.01) < 1e-6)
        #expect(abs(s.rate(base: 1, step: 500) - 0.01) < 1e-6)
        let st = LRSchedule.step(milestones: [3, 6], gamma: 0.1)
        #expect(st.rate(base: 1, step: 2) == 1 && abs(st.rate(base: 1, step: 3) - 0.1) < 1e-7 && abs(st.rate(base: 1, step: 7) - 0.01) < 1e-8)
        #expect(LRScaling.linear.scaled(0.3, batch: 512) == 0.6)
        #expect(abs(LRScaling.squareRoot.scaled(0.3, batch: 1024) - 0.6) < 1e-6)
        #expect(throws: ContrastiveError.self) { try LRSchedule.warmupCosine(warmupSteps: 5, totalSteps: 2).validate() }
        #expect(throws: ContrastiveError.self) { try LRSchedule.step(milestones: [5, 2], gamma: 0.1).validate() }
    }

    @Test("optimizer hyper-parameters are validated")
    func validation() throws {
        let a = ParameterStore()
        try a.declare("w", shape: [3], role: .weight)
        try a.allocate()
        #expect(throws: ContrastiveError.self) { _ = try SGD(store: a, momentum: -1) }
        #expect(throws: ContrastiveError.self) { _ = try SGD(store: a, momentum: 0, nesterov: true) }
        #expect(throws: ContrastiveError.self) { _ = try AdamW(store: a, eps: 0) }
        #expect(throws: ContrastiveError.self) { _ = try LARS(store: a, eta: .nan) }
    }
}
