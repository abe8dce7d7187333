import Foundation
import Testing
import Contrastive

/// A small conv net step used by several tests: returns the loss and the flat gradients.
func tinyNetworkStep(_ store: ParameterStore, _ stats: ParameterStore, graph g: Graph, x: Tensor, targets: [Int32]) throws -> Float {
    let w1 = try store.bind(0, in: g), gam = try store.bind(1, in: g), bet = try store.bind(2, in: g)
    let w2 = try store.bind(3, in: g), w3 = try store.bind(4, in: g), b3 = try store.bind(5, in: g)
    var h = try g.conv2d(g.constant(x), w1, stride: 1, padding: 1)
    h = try g.relu(try g.batchNorm(h, gamma: gam, beta: bet, runningMean: stats.value(0), runningVar: stats.value(1), training: g.gradEnabled))
    h = try g.maxPool2d(h, kernel: 2, stride: 2)
    h = try g.relu(try g.conv2d(h, w2, stride: 2, padding: 1))
    let f = try g.l2Normalize(try g.globalAvgPool(h))
    let loss = try g.crossEntropy(try g.scale(try g.linear(f, w3, b3), 5), targets: targets)
    if g.gradEnabled { try g.backward(loss) }
    return loss.value.data[0]
}

func makeTinyNetwork(seed: UInt64) throws -> (ParameterStore, ParameterStore) {
    let p = ParameterStore()
    try p.declare("conv1.weight", shape: [8, 3, 3, 3], role: .weight)
    try p.declare("bn1.weight", shape: [8], role: .normScale)
    try p.declare("bn1.bias", shape: [8], role: .normShift)
    try p.declare("conv2.weight", shape: [16, 8, 3, 3], role: .weight)
    try p.declare("fc.weight", shape: [10, 16], role: .weight)
    try p.declare("fc.bias", shape: [10], role: .bias)
    try p.allocate()
    var rng = SeededRNG(seed)
    let v = p.flatValues
    for i in 0..<v.count { v.data[i] = Float(rng.normal() * 0.3) }
    p.value(1).fill(1); p.value(2).fill(0)
    let s = ParameterStore(hasGrads: false)
    try s.declare("bn1.running_mean", shape: [8], role: .other)
    try s.declare("bn1.running_var", shape: [8], role: .other)
    try s.allocate()
    s.value(1).fill(1)
    return (p, s)
}

func tinyBatch(n: Int, seed: UInt64) throws -> (Tensor, [Int32]) {
    var rng = SeededRNG(seed)
    let x = try Tensor(shape: [n, 3, 12, 12], doubles: rng.normals(n * 3 * 144))
    return (x, (0..<n).map { Int32($0 % 10) })
}

@Suite("Engine: tape, workspace, parameters, threads", .serialized)
struct EngineTests {
    @Test("a training step of fixed shape allocates nothing after the first")
    func workspaceReuse() throws {
        let (p, s) = try makeTinyNetwork(seed: 3)
        let (x, t) = try tinyBatch(n: 6, seed: 4)
        let g = try Graph()
        var reserved: [Int] = []
        for _ in 0..<4 {
            p.zeroGrads()
            _ = try tinyNetworkStep(p, s, graph: g, x: x, targets: t)
            g.reset()
            reserved.append(g.workspace.reservedBytes)
        }
        #expect(reserved[1] == reserved[2] && reserved[2] == reserved[3], "workspace grew after step 1: \(reserved)")
        #expect(g.workspace.highWater <= reserved[3])
    }

    @Test("workspace: a miss borrows an idle block up to twice its size; a repeated pattern settles without new allocations")
    func workspaceBestFit() throws {
        let ws = try Workspace()
        do { _ = try ws.block(bytes: 3 << 20) }            // cached: one 3 MiB block
        let before = ws.systemAllocations
        do {
            let lent = try ws.block(bytes: 2 << 20)        // no 2 MiB block cached: the 3 MiB one serves
            #expect(ws.systemAllocations == before)
            let fresh = try ws.block(bytes: 1 << 20)       // 3 MiB is more than twice 1 MiB: a new block
            #expect(ws.systemAllocations == before + 1)
            withExtendedLifetime((lent, fresh)) {}
        }
        // Sizes and lifetimes repeated round after round: allocations stop after a few rounds.
        let sizes = [5, 9, 3, 7, 12, 2, 6].map { $0 << 20 }
        var counts: [Int] = []
        for _ in 0..<6 {
            var live: [Workspace.Block] = []
            for (i, b) in sizes.enumerated() {
                live.append(try ws.block(bytes: b))
                if i % 2 == 1 { live.removeFirst() }
            }
            counts.append(ws.systemAllocations)
        }
        #expect(counts[4] == counts[5], "allocations per round did not settle: \(counts)")
        #expect(ws.inUseBytes == 0)
    }

    @Test("same thread count → bit-identical loss, gradients and running statistics", arguments: [1, 2])
    func determinism(threads: Int) throws {
        try withThreads(threads) {
            var results: [([Float], [Float], Float)] = []
            for _ in 0..<2 {
                let (p, s) = try makeTinyNetwork(seed: 11)
                let (x, t) = try tinyBatch(n: 64, seed: 12)
                let g = try Graph()
                let loss = try tinyNetworkStep(p, s, graph: g, x: x, targets: t)
                results.append((p.flatGrads!.array, s.flatValues.array, loss))
            }
            #expect(results[0].0 == results[1].0)
            #expect(results[0].1 == results[1].1)
            #expect(results[0].2 == results[1].2)
        }
    }

    @Test("1 and 2 threads agree to float32 round-off")
    func threadCountsAgree() throws {
        func run(_ n: Int) throws -> [Float] {
            try withThreads(n) {
                let (p, s) = try makeTinyNetwork(seed: 5)
                let (x, t) = try tinyBatch(n: 32, seed: 6)
                _ = try tinyNetworkStep(p, s, graph: try Graph(), x: x, targets: t)
                return p.flatGrads!.array
            }
        }
        let a = try run(1), b = try run(2)
        #expect(relativeError(a, b) < 1e-5)
    }

    @Test("gradients accumulate across backward passes until zeroed")
    func accumulation() throws {
        let (p, s) = try makeTinyNetwork(seed: 7)
        let (x, t) = try tinyBatch(n: 4, seed: 8)
        let g = try Graph()
        _ = try tinyNetworkStep(p, s, graph: g, x: x, targets: t); g.reset()
        let once = p.flatGrads!.array
        _ = try tinyNetworkStep(p, s, graph: g, x: x, targets: t); g.reset()
        let twice = p.flatGrads!.array
        // Running statistics changed between the passes but train-mode BN does not use them.
        expectClose(twice, once.map { 2 * $0 }, atol: 1e-6, rtol: 1e-5, "2× accumulated gradient")
        p.zeroGrads()
        #expect(p.flatGrads!.array.allSatisfy { $0 == 0 })
    }

    @Test("no-grad mode records nothing and leaves gradients alone")
    func noGrad() throws {
        let (p, s) = try makeTinyNetwork(seed: 9)
        let (x, t) = try tinyBatch(n: 4, seed: 10)
        let g = try Graph()
        let runningBefore = s.flatValues.array
        try g.withoutGrad {
            _ = try tinyNetworkStep(p, s, graph: g, x: x, targets: t)
            #expect(g.tapeLength == 0)
        }
        #expect(p.flatGrads!.array.allSatisfy { $0 == 0 })
        #expect(s.flatValues.array == runningBefore, "eval-mode BN must not touch running statistics")
    }

    @Test("backward needs a scalar that depends on a gradient-requiring value")
    func backwardErrors() throws {
        let g = try Graph()
        let a = try g.leaf(try Tensor(shape: [2], values: [1, 2]))
        #expect(throws: ContrastiveError.self) { try g.backward(a) }
        let c = g.constant(try Tensor(shape: [1], values: [3]))
        #expect(throws: ContrastiveError.self) { try g.backward(c) }
    }

    @Test("shape and argument errors throw instead of trapping")
    func opErrors() throws {
        let g = try Graph()
        let x = try g.leaf(try Tensor(zeros: [2, 3, 4, 4]))
        let w = try g.leaf(try Tensor(zeros: [5, 2, 3, 3]))
        let m = try g.leaf(try Tensor(zeros: [2, 3]))
        func status(_ body: () throws -> Void) -> Status? {
            do { try body(); return nil } catch let e as ContrastiveError { return e.status } catch { return .internal }
        }
        #expect(status { _ = try g.conv2d(x, w) } == .shapeMismatch)
        #expect(status { _ = try g.conv2d(x, try g.leaf(try Tensor(zeros: [5, 3, 9, 9]))) } == .shapeMismatch)
        #expect(status { _ = try g.conv2d(x, try g.leaf(try Tensor(zeros: [5, 3, 3, 3])), stride: 0) } == .invalidArgument)
        #expect(status { _ = try g.linear(m, try g.leaf(try Tensor(zeros: [3, 2]))) } == .shapeMismatch)
        #expect(status { _ = try g.crossEntropy(m, targets: [0, 3]) } == .invalidArgument)
        #expect(status { _ = try g.crossEntropy(m, targets: [0]) } == .shapeMismatch)
        #expect(status { _ = try g.add(m, x) } == .shapeMismatch)
        #expect(status { _ = try g.split(m, sizes: [1, 2]) } == .shapeMismatch)
        #expect(status { _ = try g.maxPool2d(x, kernel: 9, stride: 1) } == .shapeMismatch)
        #expect(status { _ = try g.reshape(m, [4]) } == .shapeMismatch)
        #expect(status { _ = try g.scale(m, .nan) } == .invalidArgument)
        #expect(status { _ = try g.batchNorm(try g.leaf(try Tensor(zeros: [1, 3])), gamma: try g.leaf(try Tensor(zeros: [3])),
                                              beta: try g.leaf(try Tensor(zeros: [3])), runningMean: nil, runningVar: nil, training: true) } == .invalidArgument)
        #expect(status { _ = try Tensor(zeros: [1 << 20, 1 << 20]) } == .outOfMemory)
        #expect(status { _ = try Tensor(zeros: [-1, 2]) } == .invalidArgument)
    }

    @Test("NaN propagates through the ops (it is detected by the caller, never hidden)")
    func nanPropagates() throws {
        let g = try Graph()
        let x = try Tensor(zeros: [2, 1, 4, 4])
        x.data[5] = .nan
        let y = try g.globalAvgPool(try g.maxPool2d(g.constant(x), kernel: 2, stride: 2))
        #expect(y.value.data[0].isNaN)
        #expect(!y.value.allFinite)
    }

    @Test("parameter store: flat layout, duplicate names refused, binding follows grad mode")
    func parameterStore() throws {
        let p = ParameterStore()
        try p.declare("a", shape: [2, 3], role: .weight)
        try p.declare("b", shape: [4], role: .bias)
        #expect(throws: ContrastiveError.self) { try p.declare("a", shape: [1], role: .weight) }
        try p.allocate()
        #expect(p.totalCount == 10)
        #expect(p.value(1).data == p.flatValues.data + 6)
        #expect(p.grad(1)!.data == p.flatGrads!.data + 6)
        #expect(!p.entries[1].role.decays && p.entries[0].role.decays)
        let g = try Graph()
        #expect(try p.bind(0, in: g).requiresGrad)
        g.gradEnabled = false
        #expect(!(try p.bind(0, in: g).requiresGrad))
    }

    @Test("thread pool: static partition covers every index exactly once, nested calls run inline")
    func threadPool() throws {
        try withThreads(2) {
            let n = 10_007
            var hits = [Int32](repeating: 0, count: n)
            hits.withUnsafeMutableBufferPointer { h in
                let base = h.baseAddress!
                parallelFor(n) { r in
                    for i in r { base[i] += 1 }
                    parallelFor(3) { _ in }   // nested: must not deadlock
                }
            }
            #expect(hits.allSatisfy { $0 == 1 })
            #expect(partRange(0, of: 2, 5) == 0..<2 && partRange(1, of: 2, 5) == 2..<5)
        }
    }
}
