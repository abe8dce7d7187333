// C ABI for the evaluation calls (kNN, linear probe, retrieval, k-means, clustering scores,
// top-k, effective rank). Marshalling only — every argument is validated here with
// non-trapping arithmetic; the arithmetic is in Contrastive/Eval.
#if canImport(Glibc)
import Glibc
#endif
import Contrastive
import CContrastiveHeader

// MARK: defaults

private func defaultKNN() -> ctr_knn_options {
    var o = ctr_knn_options()
    o.struct_size = UInt32(MemoryLayout<ctr_knn_options>.size)
    o.k = Int32(KNN.defaultK)
    o.temperature = KNN.defaultTemperature
    return o
}

private func defaultProbe() -> ctr_linear_probe_options {
    let d = LinearProbe.Options()
    var o = ctr_linear_probe_options()
    o.struct_size = UInt32(MemoryLayout<ctr_linear_probe_options>.size)
    o.solver = d.solver.rawValue
    o.l2 = d.l2
    o.standardize = d.standardize ? 1 : 0
    o.max_iterations = Int32(d.maxIterations)
    o.tolerance = d.tolerance
    o.epochs = Int32(d.epochs)
    o.batch_size = Int32(d.batchSize)
    o.learning_rate = d.learningRate
    o.momentum = d.momentum
    o.seed = d.seed
    return o
}

private func defaultRetrieval() -> ctr_retrieval_options {
    var o = ctr_retrieval_options()
    o.struct_size = UInt32(MemoryLayout<ctr_retrieval_options>.size)
    o.k = Int32(Retrieval.defaultK)
    return o
}

private func defaultKMeans() -> ctr_kmeans_options {
    var o = ctr_kmeans_options()
    o.struct_size = UInt32(MemoryLayout<ctr_kmeans_options>.size)
    o.max_iterations = 300
    o.tolerance = 1e-4
    o.seed = 0
    o.restarts = 1
    return o
}

@_cdecl("ctr_knn_options_default")
public func ctr_knn_options_default(_ o: UnsafeMutablePointer<ctr_knn_options>?) { o?.pointee = defaultKNN() }
@_cdecl("ctr_linear_probe_options_default")
public func ctr_linear_probe_options_default(_ o: UnsafeMutablePointer<ctr_linear_probe_options>?) { o?.pointee = defaultProbe() }
@_cdecl("ctr_retrieval_options_default")
public func ctr_retrieval_options_default(_ o: UnsafeMutablePointer<ctr_retrieval_options>?) { o?.pointee = defaultRetrieval() }
@_cdecl("ctr_kmeans_options_default")
public func ctr_kmeans_options_default(_ o: UnsafeMutablePointer<ctr_kmeans_options>?) { o?.pointee = defaultKMeans() }

// MARK: argument checks

/// A row count or dimension as a positive Int ≤ 2³¹ − 1.
private func size(_ v: Int64, _ name: String) throws -> Int {
    guard let i = Int(exactly: v), i >= 1 else { throw ContrastiveError.invalid("\(name) = \(v) must be ≥ 1") }
    guard i <= Int(Int32.max) else { throw ContrastiveError.invalid("\(name) = \(v) is larger than 2³¹ − 1") }
    return i
}

/// A required input pointer.
private func required<T>(_ p: UnsafePointer<T>?, _ name: String) throws -> UnsafePointer<T> {
    guard let p else { throw ContrastiveError.invalid("\(name) is NULL") }
    return p
}

/// A caller's result struct: validated up front (non-NULL, a sane struct_size); `store`
/// later writes the first struct_size bytes except struct_size itself.
private struct ResultSlot<T> {
    let raw: UnsafeMutableRawPointer
    let bytes: Int
    init(_ p: UnsafeMutablePointer<T>?, _ name: String) throws {
        guard let p else { throw ContrastiveError.invalid("result is NULL") }
        let declared = Int(UnsafeRawPointer(p).load(as: UInt32.self))
        guard declared >= 4, declared % 4 == 0 else {
            throw ContrastiveError.invalid("result->struct_size is \(declared); set it to sizeof(\(name))")
        }
        raw = UnsafeMutableRawPointer(p)
        bytes = min(declared, MemoryLayout<T>.size)
    }
    func store(_ value: T) {
        var v = value
        withUnsafeBytes(of: &v) { src in
            if bytes > 4, let base = src.baseAddress { (raw + 4).copyMemory(from: base + 4, byteCount: bytes - 4) }
        }
    }
}

/// An optional output array of `needed` elements: NULL is fine, otherwise the capacity must
/// hold `needed` (BUFFER_TOO_SMALL).
private func output<T>(_ p: UnsafeMutablePointer<T>?, capacity: UInt, needed: Int, _ name: String) throws -> UnsafeMutablePointer<T>? {
    guard let p else { return nil }
    guard Int(clamping: capacity) >= needed else {
        throw ContrastiveError(.bufferTooSmall, "\(name) holds \(capacity) elements, \(needed) needed")
    }
    return p
}

/// Train/test splits: non-NULL, sizes, rows × dim bounded.
private func splits(_ train: UnsafePointer<Float>?, _ trainLabels: UnsafePointer<Int32>?, _ nTrain: Int64,
                    _ test: UnsafePointer<Float>?, _ testLabels: UnsafePointer<Int32>?, _ nTest: Int64, _ dim: Int64)
    throws -> (UnsafePointer<Float>, UnsafePointer<Int32>, Int, UnsafePointer<Float>, UnsafePointer<Int32>, Int, Int) {
    let tr = try required(train, "train"), trl = try required(trainLabels, "train_labels")
    let te = try required(test, "test"), tel = try required(testLabels, "test_labels")
    let n1 = try size(nTrain, "n_train"), n2 = try size(nTest, "n_test"), d = try size(dim, "dim")
    _ = try checkedCount([n1, d], what: "train")
    _ = try checkedCount([n2, d], what: "test")
    return (tr, trl, n1, te, tel, n2, d)
}

private func classesArgument(_ c: Int32) throws -> Int {
    guard c >= 1 else { throw ContrastiveError.invalid("num_classes = \(c) must be ≥ 1") }
    return Int(c)
}

private func flag(_ v: Int32, _ name: String) throws -> Bool {
    guard v == 0 || v == 1 else { throw ContrastiveError.invalid("\(name) must be 0 or 1, got \(v)") }
    return v == 1
}

// MARK: kNN

@_cdecl("ctr_knn_evaluate")
public func ctr_knn_evaluate(_ train: UnsafePointer<Float>?, _ trainLabels: UnsafePointer<Int32>?, _ nTrain: Int64,
                             _ test: UnsafePointer<Float>?, _ testLabels: UnsafePointer<Int32>?, _ nTest: Int64,
                             _ dim: Int64, _ numClasses: Int32, _ opts: UnsafePointer<ctr_knn_options>?,
                             _ result: UnsafeMutablePointer<ctr_knn_result>?,
                             _ predictions: UnsafeMutablePointer<Int32>?, _ predictionsCapacity: UInt,
                             _ scores: UnsafeMutablePointer<Float>?, _ scoresCapacity: UInt) -> Int32 {
    guarded("ctr_knn_evaluate") {
        let o = try readOptions(UnsafeRawPointer(opts), defaults: defaultKNN(), name: "ctr_knn_options")
        let slot = try ResultSlot(result, "ctr_knn_result")
        let (tr, trl, n1, te, tel, n2, d) = try splits(train, trainLabels, nTrain, test, testLabels, nTest, dim)
        let c = try classesArgument(numClasses)
        let pred = try output(predictions, capacity: predictionsCapacity, needed: n2, "predictions")
        let sc = try output(scores, capacity: scoresCapacity, needed: try checkedCount([n2, c], what: "scores"), "scores")
        let r = try KNN.classify(train: tr, trainLabels: trl, trainCount: n1, test: te, testLabels: tel, testCount: n2, dim: d,
                                 numClasses: c, k: Int(o.k), temperature: o.temperature, predictions: pred, scores: sc)
        var v = ctr_knn_result()
        v.top1 = r.top1
        v.top5 = r.top5
        slot.store(v)
    }
}

// MARK: linear probe

@_cdecl("ctr_linear_probe")
public func ctr_linear_probe(_ train: UnsafePointer<Float>?, _ trainLabels: UnsafePointer<Int32>?, _ nTrain: Int64,
                             _ test: UnsafePointer<Float>?, _ testLabels: UnsafePointer<Int32>?, _ nTest: Int64,
                             _ dim: Int64, _ numClasses: Int32, _ opts: UnsafePointer<ctr_linear_probe_options>?,
                             _ result: UnsafeMutablePointer<ctr_linear_probe_result>?,
                             _ weights: UnsafeMutablePointer<Float>?, _ weightsCapacity: UInt,
                             _ bias: UnsafeMutablePointer<Float>?, _ biasCapacity: UInt) -> Int32 {
    guarded("ctr_linear_probe") {
        let o = try readOptions(UnsafeRawPointer(opts), defaults: defaultProbe(), name: "ctr_linear_probe_options")
        let slot = try ResultSlot(result, "ctr_linear_probe_result")
        let (tr, trl, n1, te, tel, n2, d) = try splits(train, trainLabels, nTrain, test, testLabels, nTest, dim)
        let c = try classesArgument(numClasses)
        let w = try output(weights, capacity: weightsCapacity, needed: try checkedCount([c, d], what: "weights"), "weights")
        let b = try output(bias, capacity: biasCapacity, needed: c, "bias")
        guard let solver = LinearProbe.Solver(rawValue: o.solver) else {
            throw ContrastiveError.invalid("solver \(o.solver) is not a ctr_probe_solver (0 L-BFGS, 1 SGD)")
        }
        var p = LinearProbe.Options()
        p.solver = solver
        p.l2 = o.l2
        p.standardize = try flag(o.standardize, "standardize")
        p.maxIterations = Int(o.max_iterations)
        p.tolerance = o.tolerance
        p.epochs = Int(o.epochs)
        p.batchSize = Int(o.batch_size)
        p.learningRate = o.learning_rate
        p.momentum = o.momentum
        p.seed = o.seed
        let r = try LinearProbe.run(train: tr, trainLabels: trl, trainCount: n1, test: te, testLabels: tel, testCount: n2, dim: d,
                                    numClasses: c, options: p, weights: w, bias: b)
        var v = ctr_linear_probe_result()
        v.iterations = Int32(clamping: r.iterations)
        v.top1 = r.top1
        v.top5 = r.top5
        v.train_top1 = r.trainTop1
        v.loss = r.loss
        slot.store(v)
    }
}

// MARK: retrieval

@_cdecl("ctr_retrieval_map")
public func ctr_retrieval_map(_ train: UnsafePointer<Float>?, _ trainLabels: UnsafePointer<Int32>?, _ nTrain: Int64,
                              _ test: UnsafePointer<Float>?, _ testLabels: UnsafePointer<Int32>?, _ nTest: Int64,
                              _ dim: Int64, _ opts: UnsafePointer<ctr_retrieval_options>?,
                              _ result: UnsafeMutablePointer<ctr_retrieval_result>?,
                              _ ap: UnsafeMutablePointer<Double>?, _ apCapacity: UInt) -> Int32 {
    guarded("ctr_retrieval_map") {
        let o = try readOptions(UnsafeRawPointer(opts), defaults: defaultRetrieval(), name: "ctr_retrieval_options")
        let slot = try ResultSlot(result, "ctr_retrieval_result")
        let (tr, trl, n1, te, tel, n2, d) = try splits(train, trainLabels, nTrain, test, testLabels, nTest, dim)
        let apOut = try output(ap, capacity: apCapacity, needed: n2, "average_precision")
        let r = try Retrieval.evaluate(train: tr, trainLabels: trl, trainCount: n1, test: te, testLabels: tel, testCount: n2,
                                       dim: d, k: Int(o.k), averagePrecision: apOut)
        var v = ctr_retrieval_result()
        v.num_queries = Int32(clamping: r.queries)
        v.num_without_relevant = Int32(clamping: r.queriesWithoutRelevant)
        v.map = r.meanAveragePrecision
        v.map_at_k = r.meanAveragePrecisionAtK
        v.precision_at_k = r.precisionAtK
        v.recall_at_1 = r.recallAt1
        v.recall_at_k = r.recallAtK
        slot.store(v)
    }
}

// MARK: k-means, clustering scores

@_cdecl("ctr_kmeans")
public func ctr_kmeans(_ x: UnsafePointer<Float>?, _ n: Int64, _ dim: Int64, _ k: Int32, _ opts: UnsafePointer<ctr_kmeans_options>?,
                       _ result: UnsafeMutablePointer<ctr_kmeans_result>?,
                       _ assignments: UnsafeMutablePointer<Int32>?, _ assignmentsCapacity: UInt,
                       _ centroids: UnsafeMutablePointer<Float>?, _ centroidsCapacity: UInt) -> Int32 {
    guarded("ctr_kmeans") {
        let o = try readOptions(UnsafeRawPointer(opts), defaults: defaultKMeans(), name: "ctr_kmeans_options")
        let slot = try ResultSlot(result, "ctr_kmeans_result")
        let xp = try required(x, "x")
        let rows = try size(n, "n"), d = try size(dim, "dim")
        _ = try checkedCount([rows, d], what: "x")
        guard k >= 1, Int(k) <= rows else { throw ContrastiveError.invalid("k = \(k) must be in 1...n (n = \(rows))") }
        let a = try output(assignments, capacity: assignmentsCapacity, needed: rows, "assignments_out")
        let cOut = try output(centroids, capacity: centroidsCapacity, needed: try checkedCount([Int(k), d], what: "centroids"), "centroids_out")
        let r = try KMeans.fit(xp, n: rows, d: d, k: Int(k), maxIterations: Int(o.max_iterations), tolerance: o.tolerance,
                               seed: o.seed, restarts: Int(o.restarts), assignments: a, centroids: cOut)
        var v = ctr_kmeans_result()
        v.iterations = Int32(clamping: r.iterations)
        v.converged = r.converged ? 1 : 0
        v.inertia = r.inertia
        slot.store(v)
    }
}

@_cdecl("ctr_clustering_scores")
public func ctr_clustering_scores(_ labels: UnsafePointer<Int32>?, _ assignments: UnsafePointer<Int32>?, _ n: Int64,
                                  _ result: UnsafeMutablePointer<ctr_clustering_result>?) -> Int32 {
    guarded("ctr_clustering_scores") {
        let slot = try ResultSlot(result, "ctr_clustering_result")
        let l = try required(labels, "labels"), a = try required(assignments, "assignments")
        let rows = try size(n, "n")
        let r = try ClusteringScores.evaluate(labels: l, assignments: a, n: rows)
        var v = ctr_clustering_result()
        v.num_classes = Int32(clamping: r.numClasses)
        v.num_clusters = Int32(clamping: r.numClusters)
        v.nmi = r.nmi
        v.ari = r.ari
        v.purity = r.purity
        slot.store(v)
    }
}

// MARK: top-k, effective rank

@_cdecl("ctr_topk_accuracy")
public func ctr_topk_accuracy(_ scores: UnsafePointer<Float>?, _ labels: UnsafePointer<Int32>?, _ n: Int64, _ numClasses: Int32,
                              _ k: Int32, _ accuracy: UnsafeMutablePointer<Double>?) -> Int32 {
    guarded("ctr_topk_accuracy") {
        let s = try required(scores, "scores"), l = try required(labels, "labels")
        guard let accuracy else { throw ContrastiveError.invalid("accuracy is NULL") }
        let rows = try size(n, "n")
        let c = try classesArgument(numClasses)
        _ = try checkedCount([rows, c], what: "scores")
        guard k >= 1 else { throw ContrastiveError.invalid("k = \(k) must be ≥ 1") }
        accuracy.pointee = try TopK.accuracy(scores: s, labels: l, n: rows, numClasses: c, k: Int(k))
    }
}

@_cdecl("ctr_effective_rank")
public func ctr_effective_rank(_ x: UnsafePointer<Float>?, _ n: Int64, _ dim: Int64, _ centered: Int32,
                               _ rank: UnsafeMutablePointer<Double>?) -> Int32 {
    guarded("ctr_effective_rank") {
        let xp = try required(x, "x")
        guard let rank else { throw ContrastiveError.invalid("rank is NULL") }
        let rows = try size(n, "n"), d = try size(dim, "dim")
        _ = try checkedCount([rows, d], what: "x")
        let c = try flag(centered, "centered")
        rank.pointee = try EffectiveRank.effectiveRank(xp, n: rows, d: d, centered: c)
    }
}
