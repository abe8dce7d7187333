import Foundation
import Testing
import Contrastive

/// Objective values and gradients against PyTorch (solo-learn's formulations with full
/// similarity matrices, float64; Tests/ContrastiveTests/Fixtures/gen_objective_fixtures.py).
///
/// Tolerances: loss ≤ 1e-5 + 1e-5·|torch|, gradients ≤ 1e-5 + 1e-4·|torch| (Sinkhorn codes
/// 1e-6 + 1e-4·|torch|). The engine works in float32 over at most a few hundred terms per
/// sum (relative error ~1e-6); the vectorised exp adds ≤ 2 ulp. A wrong mask, scale or index
/// shows up at O(1e-2) or more.
@Suite("Objectives: parity with PyTorch fixtures")
struct ObjectiveParityTests {
    static let cases: [String] = {
        let d = Fixtures.dir("objectives")
        let items = (try? FileManager.default.contentsOfDirectory(atPath: d.path)) ?? []
        return items.filter { !$0.hasPrefix(".") && !$0.hasSuffix(".txt") }.sorted()
    }()

    @Test("fixtures exist") func present() { #expect(Self.cases.count >= 14) }

    @Test("loss and gradients match PyTorch", arguments: cases)
    func parity(_ name: String) throws {
        let dir = Fixtures.dir("objectives").appendingPathComponent(name)
        let meta = try Fixtures.meta(dir)
        func load(_ n: String) throws -> NPY { try NPY(dir.appendingPathComponent("\(n).npy")) }
        func tensor(_ n: String) throws -> Tensor { let a = try load(n); return try Tensor(shape: a.shape, values: a.floats) }
        func float(_ k: String) -> Float { Float(meta[k] ?? "") ?? .nan }
        let g = try Graph()
        var leaves: [String: Var] = [:]
        func leaf(_ n: String) throws -> Var { let v = try g.leaf(try tensor(n)); leaves[n] = v; return v }
        let loss: Var
        switch meta["op"] ?? "" {
        case "ntxent":
            let q = FileManager.default.fileExists(atPath: dir.appendingPathComponent("queue.npy").path) ? try tensor("queue") : nil
            loss = try g.ntxent(try leaf("z1"), try leaf("z2"), queue: q, temperature: float("temperature"),
                                similarity: meta["euclidean"] == "1" ? .negativeSquaredEuclidean : .cosine,
                                decoupled: meta["decoupled"] == "1", blockRows: 5)
        case "supcon":
            loss = try g.supcon(try leaf("z"), labels: try load("labels").ints, temperature: float("temperature"), blockRows: 4)
        case "moco":
            loss = try g.moco(try leaf("q"), try leaf("k"), queue: try tensor("queue"), temperature: float("temperature"), blockRows: 4)
        case "byol": loss = try g.byol(try leaf("p"), try leaf("z"))
        case "simsiam": loss = try g.simsiam(try leaf("p"), try leaf("z"))
        case "barlow": loss = try g.barlowTwins(try leaf("z1"), try leaf("z2"), lambda: float("lambda"), scale: float("scale"))
        case "vicreg": loss = try g.vicreg(try leaf("z1"), try leaf("z2"))
        case "swav":
            loss = try g.swav(scores: try (0..<4).map { try leaf("p\($0)") }, codes: [try tensor("q0"), try tensor("q1")],
                              temperature: float("temperature"))
        case "nnclr": loss = try g.nnclr(nn: try tensor("nn"), try leaf("p"), temperature: float("temperature"))
        case "sinkhorn":
            let s = try load("scores")
            for double in [false, true] {
                var out = [Float](repeating: 0, count: s.floats.count)
                try s.floats.withUnsafeBufferPointer { sp in
                    try out.withUnsafeMutableBufferPointer { op in
                        try Sinkhorn.codes(scores: sp.baseAddress!, b: s.shape[0], k: s.shape[1], epsilon: float("epsilon"),
                                           iterations: Int(meta["iterations"] ?? "3")!, double: double, out: op.baseAddress!)
                    }
                }
                expectClose(out, try load("codes").floats, atol: 1e-6, rtol: 1e-4, "sinkhorn codes (float64 \(double))")
            }
            return
        default:
            Issue.record("unknown op in \(name)")
            return
        }
        expectClose(loss.value.array, try load("loss").floats, atol: 1e-5, rtol: 1e-5, "\(name) loss")
        try g.backward(loss)
        for (n, v) in leaves {
            let path = dir.appendingPathComponent("d\(n).npy").path
            if FileManager.default.fileExists(atPath: path) {
                expectClose(v.grad?.array ?? [], try load("d\(n)").floats, atol: 1e-5, rtol: 1e-4, "\(name) d\(n)")
            } else {
                #expect(v.grad == nil, "\(name): \(n) takes no gradient in PyTorch")
            }
        }
    }
}
