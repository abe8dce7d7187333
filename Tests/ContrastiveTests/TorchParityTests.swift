import Foundation
import Testing
import Contrastive

/// Forward values and gradients against PyTorch (float64 references computed from float32
/// inputs by Tests/ContrastiveTests/Fixtures/gen_ops_fixtures.py; CI only reads the files).
///
/// Tolerances: forward |ours − torch| ≤ 1e-5 + 1e-4·|torch|, gradients ≤ 1e-4 + 1e-4·|torch|.
/// The engine computes in float32 with sums of ≤ 300 terms, so its relative error is ~1e-6;
/// PyTorch's float64 values are exact to that level. A wrong index or formula is off by O(1).
@Suite("Parity with PyTorch fixtures")
struct TorchParityTests {
    struct Case: CustomStringConvertible {
        let name: String
        var description: String { name }
    }

    static let cases: [Case] = Fixtures.opCases().map { Case(name: $0) }

    @Test("fixtures exist") func present() { #expect(Self.cases.count >= 19) }

    @Test("forward and backward match PyTorch", arguments: cases)
    func parity(_ c: Case) throws {
        let dir = Fixtures.dir("ops").appendingPathComponent(c.name)
        let meta = try Fixtures.meta(dir)
        func load(_ name: String) throws -> NPY { try NPY(dir.appendingPathComponent("\(name).npy")) }
        func has(_ name: String) -> Bool { FileManager.default.fileExists(atPath: dir.appendingPathComponent("\(name).npy").path) }
        func int(_ k: String) -> Int { Int(meta[k] ?? "") ?? 0 }
        func float(_ k: String) -> Float { Float(meta[k] ?? "") ?? 0 }

        let g = try Graph()
        var leaves: [String: Var] = [:]
        func leaf(_ name: String) throws -> Var {
            let a = try load(name)
            let v = try g.leaf(try Tensor(shape: a.shape, values: a.floats))
            leaves[name] = v
            return v
        }

        let op = meta["op"] ?? ""
        let y: Var
        var extra: [(String, Tensor)] = []
        switch op {
        case "conv2d":
            y = try g.conv2d(try leaf("x"), try leaf("w"), int("bias") == 1 ? try leaf("b") : nil,
                             stride: int("stride"), padding: int("padding"))
        case "batchnorm":
            let rm = try Tensor(shape: try load("running_mean_in").shape, values: try load("running_mean_in").floats)
            let rv = try Tensor(shape: try load("running_var_in").shape, values: try load("running_var_in").floats)
            y = try g.batchNorm(try leaf("x"), gamma: try leaf("gamma"), beta: try leaf("beta"), runningMean: rm, runningVar: rv,
                                training: int("training") == 1, momentum: float("momentum"), eps: float("eps"))
            extra = [("running_mean_out", rm), ("running_var_out", rv)]
        case "linear":
            y = try g.linear(try leaf("x"), try leaf("w"), try leaf("b"))
        case "maxpool":
            y = try g.maxPool2d(try leaf("x"), kernel: int("kernel"), stride: int("stride"), padding: int("padding"))
        case "avgpool":
            y = try g.globalAvgPool(try leaf("x"))
        case "log_softmax":
            y = try g.logSoftmax(try leaf("x"))
        case "cross_entropy":
            y = try g.crossEntropy(try leaf("x"), targets: try load("targets").ints)
        case "l2_normalize":
            y = try g.l2Normalize(try leaf("x"), eps: float("eps"))
        case "mse":
            y = try g.mse(try leaf("a"), try leaf("b"))
        case "relu":
            y = try g.relu(try leaf("x"))
        default:
            Issue.record("unknown op \(op) in fixture \(c.name)")
            return
        }

        let outName = has("y") ? "y" : "loss"
        expectClose(y.value.array, try load(outName).floats, atol: 1e-5, rtol: 1e-4, "\(c.name) \(outName)")
        for (name, t) in extra { expectClose(t.array, try load(name).floats, atol: 1e-5, rtol: 1e-4, "\(c.name) \(name)") }

        let dy = try load("dy")
        let loss = try g.sum(try g.mul(y, g.constant(try Tensor(shape: y.shape, values: dy.floats))))
        try g.backward(loss)
        var checked = 0
        for (name, v) in leaves where has("d" + name) {
            expectClose(v.grad?.array ?? [], try load("d" + name).floats, atol: 1e-4, rtol: 1e-4, "\(c.name) d\(name)")
            checked += 1
        }
        #expect(checked >= 1, "\(c.name): no gradient compared")
    }
}
