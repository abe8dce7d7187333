import Foundation
import Testing
import Contrastive

/// The evaluation calls (Sources/Contrastive/Eval) against numpy / scikit-learn fixtures
/// (Tests/ContrastiveTests/Fixtures/gen_eval_fixtures.py), hand-computed tiny cases, and bad
/// input. Tolerances are given (and explained) at each comparison.
@Suite("Evaluation: kNN, linear probe, retrieval, k-means, clustering, top-k, effective rank")
struct EvalTests {
    // MARK: fixture helpers

    struct Case {
        let dir: URL
        let meta: [String: String]
        init(_ name: String) throws {
            dir = Fixtures.dir("eval").appendingPathComponent(name)
            meta = try Fixtures.meta(dir)
        }
        func npy(_ n: String) throws -> NPY { try NPY(dir.appendingPathComponent("\(n).npy")) }
        func floats(_ n: String) throws -> [Float] { try npy(n).floats }
        func ints(_ n: String) throws -> [Int32] { try npy(n).ints }
        func double(_ k: String) -> Double { Double(meta[k] ?? "") ?? .nan }
        func int(_ k: String) -> Int { Int(meta[k] ?? "") ?? -1 }
    }

    static func close(_ a: Double, _ e: Double, atol: Double, rtol: Double) -> Bool { abs(a - e) <= atol + rtol * abs(e) }

    // MARK: kNN

    @Test("kNN matches the numpy reference (accuracies, predictions, scores)",
          arguments: ["knn_k20_t007", "knn_k200_t01", "knn_k5_3classes"])
    func knnFixture(_ name: String) throws {
        let c = try Case(name)
        let train = try c.floats("train"), test = try c.floats("test")
        let yTrain = try c.ints("train_labels"), yTest = try c.ints("test_labels")
        let classes = c.int("classes"), d = try c.npy("train").shape[1]
        var pred = [Int32](repeating: -1, count: yTest.count)
        var scores = [Float](repeating: -1, count: yTest.count * classes)
        let r = try train.withUnsafeBufferPointer { tr in
            try test.withUnsafeBufferPointer { te in
                try yTrain.withUnsafeBufferPointer { ytr in
                    try yTest.withUnsafeBufferPointer { yte in
                        try KNN.classify(train: tr.baseAddress!, trainLabels: ytr.baseAddress!, trainCount: yTrain.count,
                                         test: te.baseAddress!, testLabels: yte.baseAddress!, testCount: yTest.count, dim: d,
                                         numClasses: classes, k: c.int("k"), temperature: Float(c.double("temperature")),
                                         predictions: &pred, scores: &scores)
                    }
                }
            }
        }
        // Accuracies and predictions are discrete: exact. (Float32 cosines differ from the
        // float64 reference by ~1e-7; the fixtures have no neighbour or vote that close.)
        #expect(r.top1 == c.double("top1"), "\(name) top1")
        #expect(r.top5 == c.double("top5"), "\(name) top5")
        #expect(pred == (try c.ints("predictions")), "\(name) predictions")
        // Normalised scores: float32 cosines (error ~1e-7) through exp(s/T) with T ≥ 0.07 give a
        // relative error ≤ ~2e-6; 1e-5 + 1e-5·|ref| leaves margin.
        expectClose(scores, try c.floats("scores"), atol: 1e-5, rtol: 1e-5, "\(name) scores")
        // The trainer's entry point gives the same accuracies.
        let e = try train.withUnsafeBufferPointer { tr in
            try test.withUnsafeBufferPointer { te in
                try KNN.evaluate(train: tr.baseAddress!, trainLabels: yTrain, test: te.baseAddress!, testLabels: yTest, dim: d,
                                 numClasses: classes, k: c.int("k"), temperature: Float(c.double("temperature")))
            }
        }
        #expect(e == r)
    }

    @Test("kNN hand-computed: votes, tie-breaking, top-5 with fewer classes")
    func knnTiny() throws {
        // Train rows on the unit circle; query (1, 0). Similarities: row0 1, row1 0.6, row2 0.6,
        // row3 −1. k = 3 takes rows 0, 1, 2 (rows 1 and 2 tie; both are in).
        let train: [Float] = [2, 0,  0.6, 0.8,  0.6, -0.8,  -3, 0]
        let query: [Float] = [5, 0]
        // Labels: row0 → 1, rows 1 and 2 → 0. T = 1: class 1 gets e¹ = 2.718, class 0 2·e^0.6 = 3.644.
        var pred: [Int32] = [-1]
        var scores: [Float] = [0, 0]
        let r = try KNN.classify(train: train, trainLabels: [1, 0, 0, 1], trainCount: 4, test: query, testLabels: [1], testCount: 1,
                                 dim: 2, numClasses: 2, k: 3, temperature: 1, predictions: &pred, scores: &scores)
        #expect(pred == [0])
        #expect(r.top1 == 0 && r.top5 == 1)
        let e1 = exp(1.0), e06 = 2 * exp(0.6)
        #expect(Self.close(Double(scores[1]), e1 / (e1 + e06), atol: 1e-6, rtol: 0))
        // T = 0.1: class 1 (e^10) wins.
        let r2 = try KNN.classify(train: train, trainLabels: [1, 0, 0, 1], trainCount: 4, test: query, testLabels: [1], testCount: 1,
                                  dim: 2, numClasses: 2, k: 3, temperature: 0.1, predictions: &pred)
        #expect(pred == [1] && r2.top1 == 1)
        // k = 2 with the tie at 0.6: the lower index (row 1) is kept, so both votes are certain.
        _ = try KNN.classify(train: train, trainLabels: [1, 0, 2, 1], trainCount: 4, test: query, testLabels: [1], testCount: 1,
                             dim: 2, numClasses: 3, k: 2, temperature: 1, predictions: &pred, scores: nil)
        var sc3: [Float] = [0, 0, 0]
        _ = try KNN.classify(train: train, trainLabels: [1, 0, 2, 1], trainCount: 4, test: query, testLabels: [1], testCount: 1,
                             dim: 2, numClasses: 3, k: 2, temperature: 1, scores: &sc3)
        #expect(sc3[2] == 0 && sc3[0] > 0)
        // Equal votes: the lower class index is predicted. Rows 1 and 2 are symmetric about the query.
        _ = try KNN.classify(train: Array(train[2..<6]), trainLabels: [1, 0], trainCount: 2, test: query, testLabels: [0], testCount: 1,
                             dim: 2, numClasses: 2, k: 2, temperature: 1, predictions: &pred)
        #expect(pred == [0])
        // Extremely small T does not overflow (weights are shifted by the top similarity).
        let r3 = try KNN.classify(train: train, trainLabels: [1, 0, 0, 1], trainCount: 4, test: query, testLabels: [1], testCount: 1,
                                  dim: 2, numClasses: 2, k: 4, temperature: 1e-6, scores: &scores)
        #expect(r3.top1 == 1 && scores.allSatisfy { $0.isFinite })
    }

    @Test("kNN blocks: more rows than one similarity block, bit-identical reruns")
    func knnBlocks() throws {
        var rng = SeededRNG(7)
        let nTrain = 5000, nTest = 300, d = 8
        let train = rng.normals(nTrain * d).map { Float($0) }, test = rng.normals(nTest * d).map { Float($0) }
        let yTrain = (0..<nTrain).map { Int32($0 % 7) }, yTest = (0..<nTest).map { Int32($0 % 7) }
        var p1 = [Int32](repeating: 0, count: nTest), p2 = p1
        var s1 = [Float](repeating: 0, count: nTest * 7), s2 = s1
        _ = try KNN.classify(train: train, trainLabels: yTrain, trainCount: nTrain, test: test, testLabels: yTest, testCount: nTest,
                             dim: d, numClasses: 7, k: 50, temperature: 0.1, predictions: &p1, scores: &s1)
        _ = try KNN.classify(train: train, trainLabels: yTrain, trainCount: nTrain, test: test, testLabels: yTest, testCount: nTest,
                             dim: d, numClasses: 7, k: 50, temperature: 0.1, predictions: &p2, scores: &s2)
        #expect(p1 == p2 && s1 == s2)
        // Against a naive Double reference for a few rows.
        for i in [0, 137, 299] {
            let q = Array(test[(i * d)..<((i + 1) * d)])
            let qn = ObjRef.normalize(q.map(Double.init))
            var sims: [(Double, Int)] = []
            for j in 0..<nTrain { sims.append((ObjRef.dot(qn, ObjRef.normalize(train[(j * d)..<((j + 1) * d)].map(Double.init))), j)) }
            sims.sort { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
            var votes = [Double](repeating: 0, count: 7)
            for (s, j) in sims.prefix(50) { votes[Int(yTrain[j])] += exp(s / 0.1) }
            let total = votes.reduce(0, +)
            // float32 vs float64 cosines: ≤ 1e-5 relative on the normalised scores.
            expectClose(Array(s1[(i * 7)..<((i + 1) * 7)]), votes.map { $0 / total }, atol: 1e-5, rtol: 1e-5, "row \(i)")
        }
    }

    @Test("kNN bad input: every case is a ContrastiveError with the documented status")
    func knnBadInput() throws {
        let train: [Float] = [1, 0, 0, 1, 1, 1], test: [Float] = [1, 0]
        func status(_ body: () throws -> Void) -> Status? {
            do { try body(); return nil } catch let e as ContrastiveError { return e.status } catch { return .internal }
        }
        func run(train tr: [Float] = train, yTrain: [Int32] = [0, 1, 1], test te: [Float] = test, yTest: [Int32] = [0],
                 dim: Int = 2, classes: Int = 2, k: Int = 2, t: Float = 0.1) -> Status? {
            status { _ = try KNN.evaluate(train: tr, trainLabels: yTrain, test: te, testLabels: yTest, dim: dim, numClasses: classes, k: k, temperature: t) }
        }
        #expect(run() == nil)
        #expect(run(k: 4) == .invalidArgument)            // k larger than the training set
        #expect(run(k: 0) == .invalidArgument)
        #expect(run(t: 0) == .invalidArgument)
        #expect(run(t: .nan) == .invalidArgument)
        #expect(run(classes: 0) == .invalidArgument)
        #expect(run(yTrain: [0, 2, 1]) == .invalidArgument) // label out of range
        #expect(run(yTest: [-1]) == .invalidArgument)
        #expect(run(yTrain: []) == .invalidArgument)        // empty split
        #expect(run(yTest: []) == .invalidArgument)
        #expect(run(dim: 0) == .invalidArgument)
        #expect(run(train: [1, 0, .nan, 1, 1, 1]) == .numeric)
        #expect(run(test: [.infinity, 0]) == .numeric)
        do {
            _ = try KNN.evaluate(train: train, trainLabels: [0, 1, 1], test: test, testLabels: [0], dim: 2, numClasses: 2, k: 9)
        } catch let e as ContrastiveError {
            #expect(e.message.contains("larger than the training set"))
        }
    }

    // MARK: linear probe

    static func probe(_ c: Case, _ o: LinearProbe.Options, weights: inout [Float], bias: inout [Float]) throws -> LinearProbe.Result {
        let train = try c.floats("train"), test = try c.floats("test")
        let yTrain = try c.ints("train_labels"), yTest = try c.ints("test_labels")
        let d = try c.npy("train").shape[1]
        return try LinearProbe.run(train: train, trainLabels: yTrain, trainCount: yTrain.count, test: test, testLabels: yTest,
                                   testCount: yTest.count, dim: d, numClasses: c.int("classes"), options: o,
                                   weights: &weights, bias: &bias)
    }

    @Test("linear probe (L-BFGS) reaches scikit-learn's optimum", arguments: ["linear_6classes", "linear_3classes"])
    func linearFixture(_ name: String) throws {
        let c = try Case(name)
        let classes = c.int("classes"), d = try c.npy("train").shape[1]
        var o = LinearProbe.Options()
        o.l2 = c.double("l2")
        o.tolerance = 1e-6
        o.maxIterations = 1000
        var w = [Float](repeating: 0, count: classes * d), b = [Float](repeating: 0, count: classes)
        let r = try Self.probe(c, o, weights: &w, bias: &b)
        // The objective is strictly convex (λ > 0), so both solvers find the same W. The loss
        // agrees to float32 precision of the logits (≈1e-6 relative); the weights to ~1e-3
        // relative (max|∇L| ≤ 1e-6 leaves ‖ΔW‖ ≲ 1e-6/λ_min(Hessian) with λ ≥ 1e-3).
        #expect(Self.close(r.loss, c.double("loss"), atol: 1e-6, rtol: 1e-5), "\(name) loss \(r.loss) vs \(c.double("loss"))")
        expectClose(w, try c.floats("weights_raw"), atol: 2e-3, rtol: 2e-3, "\(name) raw weights")
        // Biases: the intercept is unpenalised, so only differences between classes matter.
        let bRef = try c.floats("bias_raw")
        let mb = b.reduce(0, +) / Float(classes), mr = bRef.reduce(0, +) / Float(classes)
        expectClose(b.map { $0 - mb }, bRef.map { $0 - mr }, atol: 5e-3, rtol: 2e-3, "\(name) raw bias (centred)")
        // Accuracies: exact unless a test row sits on a decision boundary (none here).
        #expect(r.top1 == c.double("top1") && r.top5 == c.double("top5") && r.trainTop1 == c.double("train_top1"),
                "\(name): \(r) vs \(c.meta)")
        // Bit-identical reruns.
        var w2 = w, b2 = b
        let r2 = try Self.probe(c, o, weights: &w2, bias: &b2)
        #expect(r2 == r && w2 == w && b2 == b)
    }

    @Test("linear probe (SGD) approaches the same optimum, deterministically")
    func linearSGD() throws {
        let c = try Case("linear_6classes")
        var o = LinearProbe.Options()
        o.solver = .sgd
        o.l2 = c.double("l2")
        o.epochs = 60
        o.batchSize = 32
        o.learningRate = 0.05
        var w = [Float](repeating: 0, count: 60), b = [Float](repeating: 0, count: 6)
        let r = try Self.probe(c, o, weights: &w, bias: &b)
        // Mini-batch noise with a cosine decay to 0: the final loss is within 1 % of the optimum
        // and the accuracies within 2 rows of scikit-learn's.
        #expect(r.loss >= c.double("loss") - 1e-6 && r.loss <= c.double("loss") * 1.01, "SGD loss \(r.loss) vs \(c.double("loss"))")
        #expect(abs(r.top1 - c.double("top1")) <= 2.0 / 120 + 1e-12)
        #expect(r.iterations == 60 * 10)
        var w2 = w, b2 = b
        let r2 = try Self.probe(c, o, weights: &w2, bias: &b2)
        #expect(r2 == r && w2 == w)
        o.seed = 1
        let r3 = try Self.probe(c, o, weights: &w2, bias: &b2)
        #expect(w2 != w && abs(r3.loss - r.loss) < 0.01 * r.loss)
    }

    @Test("linear probe bad input")
    func linearBadInput() throws {
        let x: [Float] = [0, 1, 1, 0, 1, 1, 0, 0]
        func status(_ o: LinearProbe.Options = .init(), x tr: [Float] = x, y: [Int32] = [0, 1, 1, 0], n: Int = 4, test te: [Float] = x,
                    yt: [Int32] = [0, 1, 1, 0], nt: Int = 4, d: Int = 2, c: Int = 2) -> Status? {
            do { _ = try LinearProbe.run(train: tr, trainLabels: y, trainCount: n, test: te, testLabels: yt, testCount: nt, dim: d, numClasses: c, options: o); return nil }
            catch let e as ContrastiveError { return e.status } catch { return .internal }
        }
        #expect(status() == nil)
        #expect(status(c: 0) == .invalidArgument)
        #expect(status(y: [0, 2, 1, 0]) == .invalidArgument)
        #expect(status(yt: [0, 1, -1, 0]) == .invalidArgument)
        #expect(status(n: 0) == .invalidArgument)
        #expect(status(nt: 0) == .invalidArgument)
        #expect(status(x: [0, 1, 1, .nan, 1, 1, 0, 0]) == .numeric)
        var o = LinearProbe.Options(); o.l2 = -1
        #expect(status(o) == .invalidArgument)
        o = .init(); o.maxIterations = 0
        #expect(status(o) == .invalidArgument)
        o = .init(); o.solver = .sgd; o.batchSize = 0
        #expect(status(o) == .invalidArgument)
        o = .init(); o.solver = .sgd; o.momentum = 1
        #expect(status(o) == .invalidArgument)
        o = .init(); o.solver = .sgd; o.learningRate = .infinity
        #expect(status(o) == .invalidArgument)
        o = .init(); o.solver = .sgd; o.learningRate = 1e30
        #expect(status(o) == .numeric)        // diverges: reported, not returned as garbage
    }

    // MARK: retrieval

    @Test("retrieval matches average_precision_score and the mAP@k reference")
    func retrievalFixture() throws {
        let c = try Case("retrieval")
        let train = try c.floats("train"), test = try c.floats("test")
        let yTrain = try c.ints("train_labels"), yTest = try c.ints("test_labels")
        var ap = [Double](repeating: 0, count: yTest.count)
        let r = try Retrieval.evaluate(train: train, trainLabels: yTrain, trainCount: yTrain.count, test: test, testLabels: yTest,
                                       testCount: yTest.count, dim: try c.npy("train").shape[1], k: c.int("k"), averagePrecision: &ap)
        // Rankings are identical (no near-ties), so the means agree to Double rounding.
        #expect(Self.close(r.meanAveragePrecision, c.double("map"), atol: 1e-12, rtol: 1e-12), "mAP \(r.meanAveragePrecision)")
        #expect(Self.close(r.meanAveragePrecisionAtK, c.double("map_at_k"), atol: 1e-12, rtol: 1e-12))
        #expect(Self.close(r.precisionAtK, c.double("precision_at_k"), atol: 1e-12, rtol: 1e-12))
        #expect(Self.close(r.recallAt1, c.double("recall_at_1"), atol: 1e-12, rtol: 1e-12))
        #expect(Self.close(r.recallAtK, c.double("recall_at_k"), atol: 1e-12, rtol: 1e-12))
        #expect(r.queries == c.int("queries") && r.queriesWithoutRelevant == c.int("skipped"))
        #expect(ap[0] == -1)
    }

    @Test("retrieval hand-computed")
    func retrievalTiny() throws {
        // Query (1, 0); train similarities 1, 0.8, 0.6, 0 (rows 0..3), relevant rows 1 and 3.
        // Ranks 2 and 4: AP = (1/2 + 2/4)/2 = 0.5; AP@2 = (1/2)/min(2, 2) = 0.25; P@2 = 0.5.
        let train: [Float] = [1, 0, 0.8, 0.6, 0.6, 0.8, 0, 1]
        let r = try Retrieval.evaluate(train: train, trainLabels: [0, 1, 0, 1], trainCount: 4, test: [2, 0], testLabels: [1], testCount: 1, dim: 2, k: 2)
        #expect(r.meanAveragePrecision == 0.5 && r.meanAveragePrecisionAtK == 0.25 && r.precisionAtK == 0.5)
        #expect(r.recallAt1 == 0 && r.recallAtK == 1 && r.queries == 1)
        // No query has a relevant row: all means 0.
        let r2 = try Retrieval.evaluate(train: train, trainLabels: [0, 0, 0, 0], trainCount: 4, test: [2, 0], testLabels: [1], testCount: 1, dim: 2, k: 2)
        #expect(r2.queries == 0 && r2.queriesWithoutRelevant == 1 && r2.meanAveragePrecision == 0)
        #expect(throws: ContrastiveError.self) {
            _ = try Retrieval.evaluate(train: train, trainLabels: [0, 1, 0, 1], trainCount: 4, test: [2, 0], testLabels: [1], testCount: 1, dim: 2, k: 5)
        }
        #expect(throws: ContrastiveError.self) {
            _ = try Retrieval.evaluate(train: train, trainLabels: [0, 1, 0, 1], trainCount: 4, test: [.nan, 0], testLabels: [1], testCount: 1, dim: 2, k: 1)
        }
    }

    // MARK: clustering scores and k-means

    @Test("clustering scores match scikit-learn", arguments: ["clustering", "clustering_close"])
    func clusteringFixture(_ name: String) throws {
        let c = try Case(name)
        let y = try c.ints("labels"), a = try c.ints("assignments")
        let r = try ClusteringScores.evaluate(labels: y, assignments: a, n: y.count)
        // Double sums over ≤ 35 contingency cells: agreement to ~1e-15; 1e-12 leaves margin.
        #expect(Self.close(r.nmi, c.double("nmi"), atol: 1e-12, rtol: 1e-12), "\(name) nmi \(r.nmi)")
        #expect(Self.close(r.ari, c.double("ari"), atol: 1e-12, rtol: 1e-12), "\(name) ari \(r.ari)")
        #expect(Self.close(r.purity, c.double("purity"), atol: 1e-12, rtol: 0))
        #expect(r.numClasses == c.int("num_classes") && r.numClusters == c.int("num_clusters"))
    }

    @Test("clustering scores hand-computed and edge cases")
    func clusteringTiny() throws {
        let same = try ClusteringScores.evaluate(labels: [0, 0, 1, 1], assignments: [5, 5, 2, 2], n: 4)
        #expect(same.nmi == 1 && same.ari == 1 && same.purity == 1)
        let one = try ClusteringScores.evaluate(labels: [3, 3, 3], assignments: [0, 0, 0], n: 3)
        #expect(one.nmi == 1 && one.ari == 1)
        // Everything in one cluster vs two classes: NMI 0, ARI 0, purity 1/2.
        let lumped = try ClusteringScores.evaluate(labels: [0, 0, 1, 1], assignments: [0, 0, 0, 0], n: 4)
        #expect(lumped.nmi == 0 && lumped.ari == 0 && lumped.purity == 0.5)
        // sklearn: adjusted_rand_score([0,0,1,1],[0,1,0,1]) = -0.5
        let crossed = try ClusteringScores.evaluate(labels: [0, 0, 1, 1], assignments: [0, 1, 0, 1], n: 4)
        #expect(Self.close(crossed.ari, -0.5, atol: 1e-15, rtol: 0) && crossed.nmi == 0)
        #expect(throws: ContrastiveError.self) { _ = try ClusteringScores.evaluate(labels: [0, -1], assignments: [0, 0], n: 2) }
        #expect(throws: ContrastiveError.self) { _ = try ClusteringScores.evaluate(labels: [0], assignments: [-2], n: 1) }
        #expect(throws: ContrastiveError.self) { _ = try ClusteringScores.evaluate(labels: [], assignments: [], n: 0) }
    }

    @Test("k-means finds scikit-learn's clustering of separated blobs; deterministic")
    func kmeansFixture() throws {
        let c = try Case("kmeans_blobs")
        let x = try c.floats("x"), ref = try c.ints("labels")
        let n = ref.count, d = try c.npy("x").shape[1], k = c.int("k")
        var a = [Int32](repeating: -1, count: n), cent = [Float](repeating: 0, count: k * d)
        let r = try KMeans.fit(x, n: n, d: d, k: k, seed: 3, restarts: 3, assignments: &a, centroids: &cent)
        // Same partition (up to renaming) …
        let agree = try ClusteringScores.evaluate(labels: ref, assignments: a, n: n)
        #expect(agree.ari == 1, "ARI vs sklearn \(agree.ari)")
        // … so the same inertia, up to float32 centroids (relative ~1e-7 per coordinate): 1e-5.
        #expect(Self.close(r.inertia, c.double("inertia"), atol: 0, rtol: 1e-5), "inertia \(r.inertia) vs \(c.double("inertia"))")
        #expect(r.converged)
        // Fixed point: each row is at its nearest centroid; each centroid is its rows' mean.
        for i in 0..<n {
            func dist(_ t: Int) -> Double { (0..<d).reduce(0) { $0 + pow(Double(x[i * d + $1]) - Double(cent[t * d + $1]), 2) } }
            let best = (0..<k).min { dist($0) < dist($1) }!
            #expect(Int(a[i]) == best || abs(dist(best) - dist(Int(a[i]))) < 1e-6)
        }
        var a2 = a, c2 = cent
        let r2 = try KMeans.fit(x, n: n, d: d, k: k, seed: 3, restarts: 3, assignments: &a2, centroids: &c2)
        #expect(r2 == r && a2 == a && c2 == cent)
    }

    @Test("k-means edge cases and bad input")
    func kmeansTiny() throws {
        // Duplicated points: k = n still works (empty clusters are re-seeded); inertia 0 for k = n distinct.
        let x: [Float] = [0, 0, 1, 1, 5, 5, 6, 6]
        var a = [Int32](repeating: 0, count: 4)
        let r = try KMeans.fit(x, n: 4, d: 2, k: 4, assignments: &a)
        #expect(r.inertia == 0 && Set(a).count == 4)
        let r2 = try KMeans.fit(x, n: 4, d: 2, k: 2, seed: 1, restarts: 4, assignments: &a)
        #expect(r2.inertia == 2 && a[0] == a[1] && a[2] == a[3] && a[0] != a[2])
        let r1 = try KMeans.fit(x, n: 4, d: 2, k: 1)
        #expect(r1.inertia == 52)   // mean (3, 3): 18 + 8 + 8 + 18
        for bad in [{ _ = try KMeans.fit(x, n: 4, d: 2, k: 5) }, { _ = try KMeans.fit(x, n: 4, d: 2, k: 0) },
                    { _ = try KMeans.fit(x, n: 4, d: 2, k: 2, maxIterations: 0) }, { _ = try KMeans.fit(x, n: 4, d: 2, k: 2, tolerance: -1) },
                    { _ = try KMeans.fit(x, n: 4, d: 2, k: 2, restarts: 0) }, { _ = try KMeans.fit(x, n: 0, d: 2, k: 1) }] as [() throws -> Void] {
            #expect(throws: ContrastiveError.self) { try bad() }
        }
        #expect { _ = try KMeans.fit([0, .nan], n: 1, d: 2, k: 1) } throws: { ($0 as? ContrastiveError)?.status == .numeric }
    }

    // MARK: top-k

    @Test("top-k accuracy matches top_k_accuracy_score")
    func topkFixture() throws {
        let c = try Case("topk")
        let s = try c.floats("scores"), y = try c.ints("labels")
        let acc = try TopK.accuracies(scores: s, labels: y, n: y.count, numClasses: c.int("classes"), ks: [1, 2, 3, 5])
        // Discrete counts: exact.
        #expect(acc == [c.double("top1"), c.double("top2"), c.double("top3"), c.double("top5")])
    }

    @Test("top-k ties, K ≥ C, bad input")
    func topkTiny() throws {
        // Row 0: classes 0 and 2 tie at the top; label 2 ranks behind class 0 (lower index first).
        let s: [Float] = [3, 1, 3,  0, 2, 1]
        #expect(try TopK.accuracy(scores: s, labels: [2, 1], n: 2, numClasses: 3, k: 1) == 0.5)
        #expect(try TopK.accuracy(scores: s, labels: [0, 1], n: 2, numClasses: 3, k: 1) == 1)
        #expect(try TopK.accuracy(scores: s, labels: [2, 0], n: 2, numClasses: 3, k: 2) == 0.5)
        #expect(try TopK.accuracy(scores: s, labels: [1, 0], n: 2, numClasses: 3, k: 7) == 1)
        #expect(throws: ContrastiveError.self) { _ = try TopK.accuracy(scores: s, labels: [3, 0], n: 2, numClasses: 3, k: 1) }
        #expect(throws: ContrastiveError.self) { _ = try TopK.accuracy(scores: s, labels: [0, 0], n: 2, numClasses: 3, k: 0) }
        #expect { _ = try TopK.accuracy(scores: [0, .nan, 1, 1, 1, 1], labels: [0, 0], n: 2, numClasses: 3, k: 1) }
            throws: { ($0 as? ContrastiveError)?.status == .numeric }
    }

    // MARK: effective rank

    @Test("effective rank matches numpy's SVD", arguments: ["erank_full", "erank_low", "erank_wide", "erank_scaled"])
    func erankFixture(_ name: String) throws {
        let c = try Case(name)
        let x = try c.floats("x"), shape = try c.npy("x").shape
        let e = try EffectiveRank.effectiveRank(x, n: shape[0], d: shape[1])
        let ec = try EffectiveRank.effectiveRank(x, n: shape[0], d: shape[1], centered: true)
        // Double Gram + dsyevd: eigenvalues to ~1e-14·λ_max, so σ (and the entropy) to ~1e-7
        // relative at the smallest kept σ; rank-deficient cases drop the noise eigenvalues.
        #expect(Self.close(e, c.double("erank"), atol: 0, rtol: 1e-6), "\(name): \(e) vs \(c.double("erank"))")
        #expect(Self.close(ec, c.double("erank_centered"), atol: 0, rtol: 1e-6), "\(name) centred: \(ec) vs \(c.double("erank_centered"))")
    }

    @Test("effective rank hand-computed and bad input")
    func erankTiny() throws {
        let eye: [Float] = [1, 0, 0, 0, 1, 0, 0, 0, 1]
        #expect(Self.close(try EffectiveRank.effectiveRank(eye, n: 3, d: 3), 3, atol: 1e-12, rtol: 0))
        let line: [Float] = [1, 2, 2, 4, -3, -6]
        #expect(Self.close(try EffectiveRank.effectiveRank(line, n: 3, d: 2), 1, atol: 1e-12, rtol: 0))
        #expect(try EffectiveRank.effectiveRank([0, 0, 0, 0], n: 2, d: 2) == 0)
        // σ = (2, 1): p = (2/3, 1/3), erank = exp(H).
        let h = -(2.0 / 3 * log(2.0 / 3) + 1.0 / 3 * log(1.0 / 3))
        #expect(Self.close(try EffectiveRank.effectiveRank([2, 0, 0, 1], n: 2, d: 2), exp(h), atol: 1e-12, rtol: 0))
        #expect(throws: ContrastiveError.self) { _ = try EffectiveRank.effectiveRank(eye, n: 0, d: 3) }
        #expect { _ = try EffectiveRank.effectiveRank([1, .infinity], n: 1, d: 2) } throws: { ($0 as? ContrastiveError)?.status == .numeric }
    }

    // MARK: timing (not a test: EVAL_BENCH=1 prints the linear probe's time on 60000 × 512)

    @Test("linear probe timing on 60000 × 512 (EVAL_BENCH=1)", .enabled(if: ProcessInfo.processInfo.environment["EVAL_BENCH"] == "1"))
    func probeTiming() throws {
        let n = 60000, nt = 10000, d = 512, c = 10
        var rng = CounterRNG(seed: 1, stream: 2)
        var centers = [Float](repeating: 0, count: c * d)
        for i in 0..<(c * d) { centers[i] = rng.normal() * 0.15 }
        func make(_ m: Int) -> ([Float], [Int32]) {
            var x = [Float](repeating: 0, count: m * d), y = [Int32](repeating: 0, count: m)
            for i in 0..<m { let k = Int(rng.next() % 10); y[i] = Int32(k); for j in 0..<d { x[i * d + j] = centers[k * d + j] + rng.normal() } }
            return (x, y)
        }
        let (x, y) = make(n), (xt, yt) = make(nt)
        for solver in [LinearProbe.Solver.lbfgs, .sgd] {
            var o = LinearProbe.Options()
            o.solver = solver
            o.epochs = 30
            let t0 = Date()
            let r = try LinearProbe.run(train: x, trainLabels: y, trainCount: n, test: xt, testLabels: yt, testCount: nt, dim: d, numClasses: c, options: o)
            print("linear probe \(solver) 60000×512, \(ThreadPool.shared.threads) threads: \(String(format: "%.2f", Date().timeIntervalSince(t0))) s, \(r)")
        }
        // Peer in the same run: the sgemm alone (256-row blocks × all 60000 rows, as kNN does).
        let sims = try Storage(count: 256 * n)
        let tg = Date()
        x.withUnsafeBufferPointer { xp in
            xt.withUnsafeBufferPointer { tp in
                for i0 in stride(from: 0, to: nt, by: 256) {
                    BLAS.sgemm(transA: false, transB: true, m: min(256, nt - i0), n: n, k: d, alpha: 1, a: tp.baseAddress! + i0 * d, lda: d,
                               b: xp.baseAddress!, ldb: d, beta: 0, c: sims.base, ldc: n)
                }
            }
        }
        print("sgemm alone 10000×60000×512: \(String(format: "%.2f", Date().timeIntervalSince(tg))) s")
        let t1 = Date()
        let k = try KNN.evaluate(train: x, trainLabels: y, test: xt, testLabels: yt, dim: d, numClasses: c)
        print("kNN 60000→10000 ×512 k=200: \(String(format: "%.2f", Date().timeIntervalSince(t1))) s, \(k)")
        let t2 = Date()
        let e = try EffectiveRank.effectiveRank(x, n: n, d: d)
        print("effective rank 60000×512: \(String(format: "%.2f", Date().timeIntervalSince(t2))) s, \(e)")
    }
}
