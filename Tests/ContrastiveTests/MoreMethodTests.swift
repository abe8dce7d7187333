import Foundation
import Testing
import Contrastive

/// Golden loss traces and the per-step rules of MoCo v2, SimSiam, Barlow Twins, VICReg, SupCon,
/// NNCLR and SwAV on seeded tiny runs (single thread, plain SGD).
@Suite("Methods: golden traces and step rules")
struct MoreMethodTests {
    static let bnHead = MLPHead.Config(layers: 2, hidden: 32, output: 16, batchNorm: true)
    static var config: Model.Config { MethodTests.tinyConfig(head: bnHead) }
    static let smallPredictor = MLPHead.Config(layers: 2, hidden: 24, output: 16, batchNorm: true)

    struct Case: CustomStringConvertible {
        let name: String
        let make: () throws -> ContrastiveMethod
        let golden: [Float]
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "MoCo v2+", make: { try MoCoV2(config: config, queueSize: 24, temperature: 0.2, momentum: .constant(0.9)) },
             golden: [0.6378064, 1.0870996, 1.6526499, 1.6087272]),
        Case(name: "SimSiam", make: { try SimSiam(config: config, predictor: smallPredictor) }, golden: [0.093932614, -0.023435695, -0.020287808, 0.034900527]),
        Case(name: "Barlow Twins", make: { try BarlowTwinsMethod(config: config) }, golden: [0.24604216, 0.056294635, 0.43488047, 0.12170499]),
        Case(name: "VICReg", make: { try VICRegMethod(config: config) }, golden: [18.1901, 15.426018, 16.276857, 14.803239]),
        Case(name: "SupCon", make: {
            let m = try SupConMethod(config: config)
            m.labels = [0, 1, 2, 0, 1, 2, 3, 3]
            return m
        }, golden: [6.075103, 2.2513106, 2.3466597, 3.0015073]),
        Case(name: "NNCLR", make: { try NNCLR(config: config, queueSize: 32, predictor: smallPredictor) }, golden: [2.890614, 2.0532568, 2.392211, 1.7650642]),
        Case(name: "SwAV", make: { try SwAV(config: config, prototypes: 10, freezePrototypesSteps: 2) }, golden: [2.7627308, 1.9635878, 2.3824508, 1.940187]),
    ]

    @Test("golden losses of a seeded tiny run", arguments: cases)
    func golden(_ c: Case) throws {
        let losses = try MethodTests.trace(try c.make(), steps: 4, lr: 0.05)
        expectClose(losses, c.golden, atol: 1e-4, rtol: 1e-4, "\(c.name) losses")
        #expect(try MethodTests.trace(try c.make(), steps: 4, lr: 0.05) == losses, "\(c.name) is not deterministic")
    }

    @Test("MoCo: keys pushed after the step (one queue per view), EMA target, batch larger than the queue refused")
    func mocoRules() throws {
        let m = try MoCoV2(config: Self.config, queueSize: 12, momentum: .constant(0.5))
        let v = try MethodTests.views(seed: 3)
        _ = try m.lossAndGradients(views: v, graph: try Graph())
        #expect(m.queues[0].pointer == 0)
        try m.afterStep()
        #expect(m.queues[0].pointer == 8 && m.queues[1].pointer == 8 && m.step == 1)
        for i in 0..<8 {   // pushed keys are unit rows
            let r = Array(m.queues[1].storage.array[(i * 16)..<(i * 16 + 16)])
            #expect(abs(r.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)
        }
        let small = try MoCoV2(config: Self.config, queueSize: 4)
        #expect(throws: ContrastiveError.self) { try small.lossAndGradients(views: v, graph: try Graph()) }
    }

    @Test("SwAV: prototypes frozen for the first steps, rows renormalised, queue joins Sinkhorn, local crops")
    func swavRules() throws {
        let m = try SwAV(config: Self.config, prototypes: 6, freezePrototypesSteps: 1, queueSize: 8)
        m.useQueue = true
        let v = try MethodTests.views(seed: 4)
        var rng = SeededRNG(5)
        let local = try Tensor(shape: [8, 3, 6, 6], doubles: rng.normals(8 * 3 * 36))
        let g = try Graph()
        _ = try m.lossAndGradients(views: v + [local], graph: g)
        #expect(m.trainableNetworks[1].params.flatGrads!.array.allSatisfy { $0 == 0 })   // frozen at step 0
        MethodTests.sgd(m.trainableNetworks, lr: 0.5)
        try m.afterStep()
        _ = try m.lossAndGradients(views: v + [local], graph: g)                          // queue now full: joins
        #expect(m.trainableNetworks[1].params.flatGrads!.array.contains { $0 != 0 })
        MethodTests.sgd(m.trainableNetworks, lr: 0.5)
        try m.afterStep()
        let w = m.trainableNetworks[1].params.flatValues.array
        for r in 0..<6 {
            let row = w[(r * 16)..<(r * 16 + 16)]
            #expect(abs(row.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)
        }
        #expect(throws: ContrastiveError.self) { try SwAV(config: Self.config, prototypes: Sinkhorn.maxPrototypes + 1) }
    }

    @Test("NNCLR pushes the first view's projections; SupCon needs one label per image")
    func nnclrSupcon() throws {
        let m = try NNCLR(config: Self.config, queueSize: 16, predictor: Self.smallPredictor)
        let v = try MethodTests.views(seed: 6)
        _ = try m.lossAndGradients(views: v, graph: try Graph())
        try m.afterStep()
        #expect(m.support.pointer == 8)
        let s = try SupConMethod(config: Self.config)
        s.labels = [0, 1]
        #expect(throws: ContrastiveError.self) { try s.lossAndGradients(views: v, graph: try Graph()) }
    }
}
