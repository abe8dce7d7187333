import Foundation
import Testing
import Contrastive

/// Momentum encoders and the first methods: EMA rules, schedules, and golden loss traces of
/// seeded tiny runs (plain SGD in the test, since the optimizers come with the training issue).
@Suite("Methods and momentum encoders")
struct MethodTests {
    static func tinyConfig(head: MLPHead.Config) -> Model.Config {
        Model.Config(architecture: .convnet(ConvNet.Config(channels: [8, 16], inChannels: 3)), projector: head, seed: 5)
    }

    static func views(seed: UInt64, n: Int = 8) throws -> [Tensor] {
        var rng = SeededRNG(seed)
        let base = rng.normals(n * 3 * 8 * 8)
        return try (0..<2).map { _ in
            try Tensor(shape: [n, 3, 8, 8], doubles: base.map { $0 + 0.3 * rng.normal() })
        }
    }

    static func sgd(_ nets: [Network], lr: Float) {
        for net in nets {
            let v = net.params.flatValues, g = net.params.flatGrads!
            for i in 0..<v.count { v.data[i] -= lr * g.data[i] }
        }
    }

    /// Losses of `steps` SGD steps of `method` on fixed seeded views, single-threaded.
    static func trace(_ method: ContrastiveMethod, steps: Int, lr: Float) throws -> [Float] {
        try withThreads(1) {
            let g = try Graph()
            var losses: [Float] = []
            for s in 0..<steps {
                losses.append(try method.lossAndGradients(views: try views(seed: 100 + UInt64(s)), graph: g))
                sgd(method.trainableNetworks, lr: lr)
                try method.afterStep()
            }
            return losses
        }
    }

    @Test("cosine momentum schedule: τ_base at 0, τ_final at the end, monotone") func schedule() {
        let s = MomentumSchedule.cosine(base: 0.99, final: 1, totalSteps: 100)
        #expect(s.tau(step: 0) == 0.99)
        #expect(s.tau(step: 100) == 1 && s.tau(step: 150) == 1)
        #expect(abs(s.tau(step: 50) - 0.995) < 1e-6)
        #expect((0..<100).allSatisfy { s.tau(step: $0) <= s.tau(step: $0 + 1) })
        #expect(MomentumSchedule.constant(0.999).tau(step: 7) == 0.999)
    }

    @Test("EMA: one pass over the flat parameters, buffers copied, architectures checked") func ema() throws {
        let cfg = Self.tinyConfig(head: MLPHead.Config(layers: 2, hidden: 16, output: 8, batchNorm: true))
        let a = try Model(cfg)
        var c2 = cfg
        c2.seed = 9
        let b = try Model(c2)
        let before = b.network.params.flatValues.array, online = a.network.params.flatValues.array
        for i in 0..<a.network.buffers.totalCount { a.network.buffers.flatValues.data[i] = Float(i) }
        try EMA.update(target: b.network, online: a.network, tau: 0.9)
        let after = b.network.params.flatValues.array
        for i in stride(from: 0, to: after.count, by: 97) {
            #expect(abs(after[i] - (0.9 * before[i] + 0.1 * online[i])) <= 1e-6 * (1 + abs(before[i])))
        }
        #expect(b.network.buffers.flatValues.array == a.network.buffers.flatValues.array)
        try EMA.update(target: b.network, online: a.network, tau: 1)
        #expect(b.network.params.flatValues.array == after)
        let other = try Model(Self.tinyConfig(head: MLPHead.Config(layers: 2, hidden: 32, output: 8, batchNorm: true)))
        #expect(throws: ContrastiveError.self) { try EMA.update(target: other.network, online: a.network, tau: 0.5) }
        #expect(throws: ContrastiveError.self) { try EMA.update(target: b.network, online: a.network, tau: 1.5) }
    }

    @Test("SimCLR: golden losses of a seeded tiny run") func simclr() throws {
        let m = try SimCLR(model: try Model(Self.tinyConfig(head: MLPHead.Config(layers: 2, hidden: 32, output: 16, batchNorm: false))),
                           temperature: 0.2)
        let losses = try Self.trace(m, steps: 4, lr: 0.05)
        expectClose(losses, Self.goldenSimCLR, atol: 1e-4, rtol: 1e-4, "SimCLR losses")
        #expect(losses.last! < losses.first!)
        // Same seed, same thread count: bit-identical.
        let again = try SimCLR(model: try Model(Self.tinyConfig(head: MLPHead.Config(layers: 2, hidden: 32, output: 16, batchNorm: false))),
                               temperature: 0.2)
        #expect(try Self.trace(again, steps: 4, lr: 0.05) == losses)
    }

    @Test("BYOL: golden losses; the target follows the online network by EMA") func byol() throws {
        let cfg = Self.tinyConfig(head: MLPHead.Config(layers: 2, hidden: 32, output: 16, batchNorm: true))
        let m = try BYOL(config: cfg, predictor: MLPHead.Config(layers: 2, hidden: 32, output: 16, batchNorm: true),
                         momentum: .cosine(base: 0.9, final: 1, totalSteps: 10))
        #expect(m.target.network.params.flatValues.array == m.online.network.params.flatValues.array)
        let losses = try Self.trace(m, steps: 4, lr: 0.05)
        expectClose(losses, Self.goldenBYOL, atol: 1e-4, rtol: 1e-4, "BYOL losses")
        #expect(m.step == 4)
        #expect(m.target.network.params.flatValues.array != m.online.network.params.flatValues.array)
        #expect(losses.allSatisfy { $0 >= 0 && $0 <= 8 })
    }

    @Test("methods refuse bad input") func bad() throws {
        let noHead = Model.Config(architecture: .convnet(ConvNet.Config(channels: [4], inChannels: 3)))
        #expect(throws: ContrastiveError.self) { try SimCLR(model: try Model(noHead)) }
        #expect(throws: ContrastiveError.self) { try BYOL(config: noHead) }
        let m = try SimCLR(model: try Model(Self.tinyConfig(head: MLPHead.Config(layers: 1, hidden: 8, output: 8, batchNorm: false))))
        let v = try Self.views(seed: 1)
        #expect(throws: ContrastiveError.self) { try m.lossAndGradients(views: [v[0]], graph: try Graph()) }
        #expect(throws: ContrastiveError.self) { try m.lossAndGradients(views: [v[0], try Tensor(zeros: [3, 3, 8, 8])], graph: try Graph()) }
    }

    // Recorded once from this test (single thread); a change means the method's numbers changed.
    static let goldenSimCLR: [Float] = [2.676141, 2.6531892, 2.6828098, 2.6266446]
    static let goldenBYOL: [Float] = [3.317792, 2.5734713, 2.394523, 1.9234432]
}
