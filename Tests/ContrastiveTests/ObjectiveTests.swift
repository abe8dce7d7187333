import Foundation
import Testing
import Contrastive

/// Fixed extra data (queues, codes, labels) for the objective cases, outside the checked inputs.
private func fixed(_ count: Int, seed: UInt64, scale: Double = 1) -> [Double] {
    var rng = SeededRNG(seed)
    return rng.normals(count, scale: scale)
}

private func unitRows(_ x: [Double], d: Int) -> [Double] {
    (0..<(x.count / d)).flatMap { ObjRef.normalize(ObjRef.row(x, $0, d)) }.map { Double(Float($0)) }
}

private func ntxentCase(_ name: String, n: Int, d: Int, k: Int = 0, tau: Float = 0.5, euclid: Bool = false,
                        decoupled: Bool = false, block: Int = 256, scale: Double = 1) -> OpCase {
    let queue = unitRows(fixed(max(k, 1) * d, seed: 99), d: d)
    let qt = try! Tensor(shape: [k, d], doubles: Array(queue.prefix(k * d)))
    return OpCase(
        name: "ntxent \(name)", shapes: [[n, d], [n, d]],
        engine: { g, v in
            try g.ntxent(v[0], v[1], queue: k > 0 ? qt : nil, temperature: tau,
                         similarity: euclid ? .negativeSquaredEuclidean : .cosine, decoupled: decoupled, blockRows: block)
        },
        reference: { x in [ObjRef.ntxent(x[0], x[1], queue: queue, n: n, d: d, k: k, tau: Double(tau), euclid: euclid, decoupled: decoupled)] },
        inputs: { rng in [rng.normals(n * d, scale: scale), rng.normals(n * d, scale: scale)] })
}

let objectiveCases: [OpCase] = {
    var cases: [OpCase] = [
        ntxentCase("cosine n4 d5", n: 4, d: 5),
        ntxentCase("cosine n5 d3 blocks of 3 (multi-block, partial last)", n: 5, d: 3, block: 3),
        ntxentCase("cosine n6 d20 τ 0.1 blocks of 4 (SIMD widths)", n: 9, d: 20, tau: 0.1, block: 4),
        ntxentCase("cosine + queue k7", n: 3, d: 4, k: 7, block: 2),
        ntxentCase("decoupled (DCL)", n: 4, d: 5, decoupled: true, block: 3),
        ntxentCase("decoupled + queue, n1", n: 1, d: 4, k: 3, decoupled: true),
        ntxentCase("euclidean", n: 4, d: 3, tau: 1, euclid: true, block: 3, scale: 0.4),
        ntxentCase("euclidean + queue", n: 3, d: 3, k: 4, tau: 2, euclid: true, scale: 0.4),
        ntxentCase("euclidean + queue, blocks of 2", n: 5, d: 3, k: 4, tau: 2, euclid: true, block: 2, scale: 0.4),
        ntxentCase("n1 (one pair, positive only)", n: 1, d: 3),
    ]
    let labels: [Int32] = [0, 1, 0, 2, 1, 0, 3, 3]
    cases.append(OpCase(
        name: "supcon (a singleton label is not an anchor)", shapes: [[8, 5]],
        engine: { g, v in try g.supcon(v[0], labels: labels, temperature: 0.3, blockRows: 3) },
        reference: { x in [ObjRef.contrast(rows: (0..<8).map { ObjRef.row(x[0], $0, 5) }, extra: [], label: labels.map(Int.init),
                                           tau: 0.3, euclid: false, decoupled: false)] }))
    let mq = unitRows(fixed(6 * 4, seed: 7), d: 4)
    let mqt = try! Tensor(shape: [6, 4], doubles: mq)
    cases.append(OpCase(
        name: "moco (q and k both take gradients)", shapes: [[5, 4], [5, 4]],
        engine: { g, v in try g.moco(v[0], v[1], queue: mqt, temperature: 0.2, blockRows: 2) },
        reference: { x in [ObjRef.moco(x[0], x[1], queue: mq, n: 5, d: 4, kq: 6, tau: 0.2)] }))
    cases.append(OpCase(
        name: "moco, empty queue", shapes: [[3, 4], [3, 4]],
        engine: { g, v in try g.moco(v[0], v[1], queue: try Tensor(zeros: [0, 4]), temperature: 0.5) },
        reference: { _ in [0] }))
    cases.append(OpCase(
        name: "byol", shapes: [[4, 6], [4, 6]],
        engine: { g, v in try g.byol(v[0], v[1]) },
        reference: { x in [2 - 2 * ObjRef.meanCos(x[0], x[1], n: 4, d: 6)] }))
    cases.append(OpCase(
        name: "byol symmetric", shapes: [[3, 5], [3, 5], [3, 5], [3, 5]],
        engine: { g, v in try g.byolSymmetric(p1: v[0], z1: v[1], p2: v[2], z2: v[3]) },
        reference: { x in [4 - 2 * ObjRef.meanCos(x[0], x[3], n: 3, d: 5) - 2 * ObjRef.meanCos(x[2], x[1], n: 3, d: 5)] },
        skipGrad: [1, 3]))
    cases.append(OpCase(
        name: "simsiam (stop-gradient on z)", shapes: [[4, 6], [4, 6]],
        engine: { g, v in try g.simsiam(v[0], v[1]) },
        reference: { x in [-ObjRef.meanCos(x[0], x[1], n: 4, d: 6)] },
        skipGrad: [1]))
    cases.append(OpCase(
        name: "barlow twins", shapes: [[6, 4], [6, 4]],
        engine: { g, v in try g.barlowTwins(v[0], v[1], lambda: 5e-3, scale: 0.025) },
        reference: { x in [ObjRef.barlow(x[0], x[1], n: 6, d: 4, lambda: 5e-3, scale: 0.025)] }))
    cases.append(OpCase(
        name: "barlow twins λ 0.3 (off-diagonal weight visible)", shapes: [[5, 3], [5, 3]],
        engine: { g, v in try g.barlowTwins(v[0], v[1], lambda: 0.3, scale: 1) },
        reference: { x in [ObjRef.barlow(x[0], x[1], n: 5, d: 3, lambda: 0.3, scale: 1)] }))
    // Column scales away from std 1, so no column sits at the kink of relu(1 − std).
    let colScale: [Double] = [0.4, 2.5, 0.5, 3]
    cases.append(OpCase(
        name: "vicreg 25/25/1", shapes: [[6, 4], [6, 4]],
        engine: { g, v in try g.vicreg(v[0], v[1]) },
        reference: { x in [ObjRef.vicreg(x[0], x[1], n: 6, d: 4)] },
        inputs: { rng in (0..<2).map { _ in rng.normals(24).enumerated().map { Double(Float($1 * colScale[$0 % 4])) } } }))
    let codes = (0..<2).map { c -> [Double] in
        ObjRef.sinkhorn(fixed(4 * 5, seed: 40 + UInt64(c), scale: 0.1), b: 4, k: 5, eps: 0.05, iters: 3).map { Double(Float($0)) }
    }
    let codeTensors = codes.map { try! Tensor(shape: [4, 5], doubles: $0) }
    cases.append(OpCase(
        name: "swav swapped prediction, 2 global + 2 local crops", shapes: [[4, 5], [4, 5], [4, 5], [4, 5]],
        engine: { g, v in try g.swav(scores: v, codes: codeTensors, temperature: 0.1) },
        reference: { x in [ObjRef.swav(scores: x, codes: codes, b: 4, k: 5, tau: 0.1)] },
        inputs: { rng in (0..<4).map { _ in rng.normals(20, scale: 0.3) } }))
    let nn = unitRows(fixed(4 * 3, seed: 5), d: 3)
    let nnt = try! Tensor(shape: [4, 3], doubles: nn)
    cases.append(OpCase(
        name: "nnclr (neighbours fixed)", shapes: [[4, 3]],
        engine: { g, v in try g.nnclr(nn: nnt, v[0], temperature: 0.2) },
        reference: { x in
            let p = (0..<4).map { ObjRef.normalize(ObjRef.row(x[0], $0, 3)) }
            var s = 0.0
            for i in 0..<4 {
                let logits = p.map { ObjRef.dot(ObjRef.row(nn, i, 3), $0) / 0.2 }
                s += ObjRef.logSumExp(logits) - logits[i]
            }
            return [s / 4]
        }))
    return cases
}()

@Suite("Objectives")
struct ObjectiveTests {
    @Test("value and finite-difference gradient against the naive Double reference", arguments: objectiveCases)
    func gradient(_ op: OpCase) throws { try gradCheck(op) }

    @Test("the same cases single-threaded") func oneThread() throws {
        try withThreads(1) { for c in objectiveCases.prefix(4) { try gradCheck(c, seed: 3) } }
    }

    @Test("simsiam and byolSymmetric pass no gradient to the targets") func stopGradient() throws {
        let g = try Graph()
        var rng = SeededRNG(2)
        let p = try g.leaf(try Tensor(shape: [3, 4], doubles: rng.normals(12)))
        let z = try g.leaf(try Tensor(shape: [3, 4], doubles: rng.normals(12)))
        try g.backward(try g.simsiam(p, z))
        #expect(z.grad == nil)
        #expect(p.grad != nil)
    }

    @Test("FastExp agrees with exp to 2 ulp and gives 0 below −87") func fastExp() {
        var worst = 0.0
        var x: Float = -87
        while x < 87.9 {   // the last lanes reach 87.96, below the 88 clamp
            let v = FastExp.exp(FastExp.V((0..<16).map { x + Float($0) * 0.0037 }))
            for l in 0..<16 {
                let ref = Foundation.exp(Double(x + Float(l) * 0.0037))
                worst = max(worst, abs(Double(v[l]) - ref) / ref)
            }
            x += 0.0591
        }
        #expect(worst < 2.4e-7, "worst relative error \(worst)")
        #expect(FastExp.exp(-Float.infinity) == 0)
        #expect(FastExp.exp(Float(-100)) == 0)
    }

    @Test("NT-Xent is deterministic and does not depend on the block size beyond rounding") func blocks() throws {
        var rng = SeededRNG(11)
        let n = 40, d = 16
        let a = rng.normals(n * d), b = rng.normals(n * d)
        func run(_ block: Int) throws -> (Float, [Float]) {
            let g = try Graph()
            let z1 = try g.leaf(try Tensor(shape: [n, d], doubles: a)), z2 = try g.leaf(try Tensor(shape: [n, d], doubles: b))
            let l = try g.ntxent(z1, z2, temperature: 0.2, blockRows: block)
            try g.backward(l)
            return (l.value.data[0], z1.grad!.array + z2.grad!.array)
        }
        let (l1, g1) = try run(256), (l1b, g1b) = try run(256), (l2, g2) = try run(7)
        #expect(l1 == l1b && g1 == g1b)
        #expect(abs(l1 - l2) <= 1e-6 * abs(l1))
        #expect(relativeError(g2, g1) < 1e-5)
    }

    @Test("NT-Xent memory stays O(N·d + block·2N), not (2N)²") func memory() throws {
        var rng = SeededRNG(12)
        let n = 1024, d = 32
        let ws = try Workspace()
        let g = try Graph(workspace: ws)
        let z1 = try g.leaf(try Tensor(shape: [n, d], doubles: rng.normals(n * d)))
        let z2 = try g.leaf(try Tensor(shape: [n, d], doubles: rng.normals(n * d)))
        try g.backward(try g.ntxent(z1, z2, temperature: 0.5, blockRows: 128))
        let full = (2 * n) * (2 * n) * 4
        #expect(ws.highWater < full / 8, "workspace high-water \(ws.highWater) bytes vs \(full) for the full matrix")
        #expect(z1.grad!.allFinite)
        // Very wide problems take fewer rows per block: the scratch stays ≤ 64 MiB.
        #expect(Contrast.blockRows(256, rows: 1 << 22, columns: 1 << 23) == 2)
        #expect(Contrast.blockRows(256, rows: 1 << 30, columns: 1 << 30) == 1)
        #expect(Contrast.blockRows(256, rows: 100, columns: 200) == 100)
    }

    @Test("large logits (τ = 0.01) stay finite: the log-sum-exp subtracts the maximum") func stability() throws {
        var rng = SeededRNG(13)
        let g = try Graph()
        let z1 = try g.leaf(try Tensor(shape: [8, 4], doubles: rng.normals(32)))
        let z2 = try g.leaf(try Tensor(shape: [8, 4], doubles: rng.normals(32)))
        let l = try g.ntxent(z1, z2, temperature: 0.01)
        try g.backward(l)
        #expect(l.value.data[0].isFinite && z1.grad!.allFinite && z2.grad!.allFinite)
        let e = try Graph()
        let big = try e.leaf(try Tensor(shape: [4, 3], doubles: rng.normals(12, scale: 30)))
        let big2 = try e.leaf(try Tensor(shape: [4, 3], doubles: rng.normals(12, scale: 30)))
        let le = try e.ntxent(big, big2, temperature: 0.05, similarity: .negativeSquaredEuclidean)
        try e.backward(le)
        #expect(le.value.data[0].isFinite && big.grad!.allFinite)
    }

    @Test("bad arguments are errors, not traps") func badArguments() throws {
        let g = try Graph()
        let a = try g.leaf(try Tensor(zeros: [3, 4])), b = try g.leaf(try Tensor(zeros: [2, 4]))
        for tau: Float in [0, -1, .nan, .infinity] {
            #expect(throws: ContrastiveError.self) { try g.ntxent(a, a, temperature: tau) }
        }
        #expect(throws: ContrastiveError.self) { try g.ntxent(a, b) }
        #expect(throws: ContrastiveError.self) { try g.ntxent(a, a, queue: try Tensor(zeros: [5, 3])) }
        #expect(throws: ContrastiveError.self) { try g.supcon(a, labels: [0, 1]) }
        #expect(throws: ContrastiveError.self) { try g.supcon(a, labels: [0, -1, 2]) }
        #expect(throws: ContrastiveError.self) { try g.barlowTwins(try g.leaf(try Tensor(zeros: [1, 4])), try g.leaf(try Tensor(zeros: [1, 4]))) }
        #expect(throws: ContrastiveError.self) { try g.moco(a, b, queue: try Tensor(zeros: [5, 4])) }
        let q = try EmbeddingQueue(capacity: 4, dim: 4)
        #expect(throws: ContrastiveError.self) { try q.push(try Tensor(zeros: [5, 4])) }
        var s = [Float](repeating: 0, count: 12)
        s.withUnsafeMutableBufferPointer { p in
            #expect(throws: ContrastiveError.self) { try Sinkhorn.codes(scores: p.baseAddress!, b: 3, k: 4, epsilon: 0, out: p.baseAddress!) }
            #expect(throws: ContrastiveError.self) { try Sinkhorn.codes(scores: p.baseAddress!, b: 1, k: Sinkhorn.maxPrototypes + 1, out: p.baseAddress!) }
        }
    }
}

@Suite("Sinkhorn-Knopp and queues")
struct SinkhornQueueTests {
    @Test("codes match the reference and have the marginals", arguments: [false, true])
    func sinkhorn(_ double: Bool) throws {
        var rng = SeededRNG(21)
        let b = 24, k = 10
        let s = rng.normals(b * k, scale: 0.05)
        let sf = s.map { Float($0) }
        var out = [Float](repeating: 0, count: b * k)
        try sf.withUnsafeBufferPointer { sp in
            try out.withUnsafeMutableBufferPointer { op in
                try Sinkhorn.codes(scores: sp.baseAddress!, b: b, k: k, epsilon: 0.05, iterations: 3, double: double, out: op.baseAddress!)
            }
        }
        expectClose(out, ObjRef.sinkhorn(s, b: b, k: k, eps: 0.05, iters: 3), atol: 1e-6, rtol: 2e-5, "sinkhorn codes")
        for i in 0..<b {   // rows sum to 1 after the final rescale (exactly up to rounding)
            let r = (0..<k).reduce(0.0) { $0 + Double(out[i * k + $1]) }
            #expect(abs(r - 1) < 1e-5, "row \(i) sums to \(r)")
        }
    }

    @Test("many iterations reach column sums B/K; extreme scores stay finite") func marginals() throws {
        var rng = SeededRNG(22)
        let b = 64, k = 16
        for (scale, iters) in [(0.5, 50), (40.0, 3)] {
            let s = rng.normals(b * k, scale: scale).map { Float($0) }
            var out = [Float](repeating: 0, count: b * k)
            try s.withUnsafeBufferPointer { sp in
                try out.withUnsafeMutableBufferPointer { op in
                    try Sinkhorn.codes(scores: sp.baseAddress!, b: b, k: k, epsilon: 0.05, iterations: iters, out: op.baseAddress!)
                }
            }
            #expect(out.allSatisfy { $0.isFinite && $0 >= 0 })
            if iters == 50 {
                for j in 0..<k {
                    let c = (0..<b).reduce(0.0) { $0 + Double(out[$1 * k + j]) }
                    #expect(abs(c - Double(b) / Double(k)) < 1e-3 * Double(b) / Double(k), "column \(j) sums to \(c)")
                }
            }
        }
    }

    @Test("FIFO queue: wrap-around, normalised rows, nearest neighbours") func queue() throws {
        let q = try EmbeddingQueue(capacity: 5, dim: 2)
        func batch(_ v: [Float]) throws -> Tensor { try Tensor(shape: [v.count / 2, 2], values: v) }
        try q.push(try batch([3, 4, 0, 2, 5, 0]))                 // rows 0..2
        #expect(q.filled == 3 && q.pointer == 3)
        #expect(q.contents.shape == [3, 2])
        #expect(q.contents.array == [0.6, 0.8, 0, 1, 1, 0])
        try q.push(try batch([0, -1, -1, 0, 0, 3]))               // rows 3, 4, then 0 (wrap)
        #expect(q.filled == 5 && q.pointer == 1)
        #expect(q.storage.array == [0, 1, 0, 1, 1, 0, 0, -1, -1, 0])
        let nn = try q.nearestNeighbours(of: try batch([-2, 0.1, 0.1, -3]), workspace: try Workspace())
        #expect(nn.array == [-1, 0, 0, -1])
        q.fillRandom(seed: 1)
        for i in 0..<5 {
            let r = Array(q.storage.array[(2 * i)..<(2 * i + 2)])
            #expect(abs(r[0] * r[0] + r[1] * r[1] - 1) < 1e-6)
        }
    }
}
