// The evaluation table of a run: linear probe and weighted kNN on frozen features of the
#if canImport(Glibc)
import Glibc
#endif
// trained encoder, next to raw pixels and a randomly initialised encoder of the same
// architecture (the two baselines features must beat), plus the 2-D PCA of test embeddings.
import Contrastive

/// One row of the evaluation table.
struct EvalRow {
    var name: String
    var dim: Int
    var linearTop1 = Double.nan, linearTop5 = Double.nan
    var knnTop1 = Double.nan, knnTop5 = Double.nan
    var seconds = 0.0
}

/// 2-D projection of test embeddings with their labels (for the report).
struct Scatter {
    var points: [(Float, Float)]
    var labels: [Int32]
}

final class Evaluation {
    let train: ImageDataset, test: ImageDataset
    let k: Int, t: Float
    let classes: Int
    var scatter: Scatter?

    init(train: ImageDataset, test: ImageDataset, limit: Int, k: Int, t: Float) throws {
        self.train = try DataSpec.limit(train, limit)
        self.test = test
        guard k >= 1 else { throw CLIError("--knn-k must be ≥ 1") }
        self.k = min(k, self.train.count)
        self.t = t
        classes = max(train.numClasses, test.numClasses)
        guard test.channels == train.channels, test.height == train.height, test.width == train.width else {
            throw CLIError("test images are \(test.height)×\(test.width)×\(test.channels), training images \(train.height)×\(train.width)×\(train.channels)")
        }
    }

    /// Linear probe (L-BFGS, L2 1e-4, standardised features) and kNN on given features.
    func score(_ name: String, trainF: [Float], testF: [Float], dim: Int) throws -> EvalRow {
        let t0 = monotonic()
        var row = EvalRow(name: name, dim: dim)
        let tl = train.labels!, sl = test.labels!
        try trainF.withUnsafeBufferPointer { a in
            try testF.withUnsafeBufferPointer { b in
                try tl.withUnsafeBufferPointer { la in
                    try sl.withUnsafeBufferPointer { lb in
                        var o = LinearProbe.Options()
                        o.maxIterations = 300
                        let lin = try LinearProbe.run(train: a.baseAddress!, trainLabels: la.baseAddress!, trainCount: train.count,
                                                      test: b.baseAddress!, testLabels: lb.baseAddress!, testCount: test.count,
                                                      dim: dim, numClasses: classes, options: o)
                        row.linearTop1 = lin.top1; row.linearTop5 = lin.top5
                        let knn = try KNN.classify(train: a.baseAddress!, trainLabels: la.baseAddress!, trainCount: train.count,
                                                   test: b.baseAddress!, testLabels: lb.baseAddress!, testCount: test.count,
                                                   dim: dim, numClasses: classes, k: k, temperature: t)
                        row.knnTop1 = knn.top1; row.knnTop5 = knn.top5
                    }
                }
            }
        }
        row.seconds = monotonic() - t0
        return row
    }

    static func pixels(_ d: ImageDataset) -> [Float] { d.pixels.map { Float($0) / 255 } }

    /// Raw pixels, a random-init encoder, and the trained encoder.
    func compare(trainer: Trainer, baselines: Bool = true) throws -> [EvalRow] {
        var rows: [EvalRow] = []
        let d = trainer.model.backbone.featureDim
        if baselines { try addBaselines(&rows, trainer: trainer, d: d) }
        fputs("evaluating: trained encoder…\n", stderr)
        let testF = try trainer.embed(test, rows: Array(0..<test.count), output: .backbone)
        rows.append(try score("\(trainer.config.method.rawValue) encoder", trainF: try trainer.embed(train, rows: Array(0..<train.count), output: .backbone),
                              testF: testF, dim: d))
        scatter = Self.pca(testF, n: test.count, d: d, labels: test.labels!, maxPoints: 2000)
        return rows
    }

    private func addBaselines(_ rows: inout [EvalRow], trainer: Trainer, d: Int) throws {
        fputs("evaluating: raw pixels…\n", stderr)
        rows.append(try score("raw pixels", trainF: Self.pixels(train), testF: Self.pixels(test), dim: train.imageBytes))
        let random = try Model(Model.Config(architecture: trainer.model.config.architecture, projector: nil, seed: 4242))
        fputs("evaluating: random-init encoder…\n", stderr)
        rows.append(try score("random-init encoder", trainF: try trainer.embed(train, rows: Array(0..<train.count), output: .backbone, using: random),
                              testF: try trainer.embed(test, rows: Array(0..<test.count), output: .backbone, using: random), dim: d))
    }

    static func format(_ rows: [EvalRow]) -> String {
        func pct(_ v: Double) -> String { v.isFinite ? formatFixed(v * 100, 2) + "%" : "–" }
        var s = "features".rightPad(24) + "dim".leftPad(6, " ") + "linear top-1".leftPad(14, " ") + "linear top-5".leftPad(14, " ")
            + "kNN top-1".leftPad(12, " ") + "kNN top-5".leftPad(12, " ") + "\n"
        for r in rows {
            s += r.name.rightPad(24) + "\(r.dim)".leftPad(6, " ") + pct(r.linearTop1).leftPad(14, " ") + pct(r.linearTop5).leftPad(14, " ")
                + pct(r.knnTop1).leftPad(12, " ") + pct(r.knnTop5).leftPad(12, " ") + "\n"
        }
        return s
    }

    /// Top-2 principal components (power iteration with deflation on the d×d covariance, in
    /// Double) of the first `maxPoints` rows.
    static func pca(_ x: [Float], n: Int, d: Int, labels: [Int32], maxPoints: Int) -> Scatter {
        let m = min(n, maxPoints)
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<m { for j in 0..<d { mean[j] += Double(x[i * d + j]) } }
        for j in 0..<d { mean[j] /= Double(max(m, 1)) }
        var cov = [Double](repeating: 0, count: d * d)
        var row = [Double](repeating: 0, count: d)
        for i in 0..<m {
            for j in 0..<d { row[j] = Double(x[i * d + j]) - mean[j] }
            for a in 0..<d where row[a] != 0 { let ra = row[a]; for b in a..<d { cov[a * d + b] += ra * row[b] } }
        }
        for a in 0..<d { for b in 0..<a { cov[a * d + b] = cov[b * d + a] } }
        var comps: [[Double]] = []
        for c in 0..<2 {
            var v = (0..<d).map { Double(($0 * 7 + c * 13) % 11) - 5 }
            for _ in 0..<200 {
                var w = [Double](repeating: 0, count: d)
                for a in 0..<d { var s = 0.0; for b in 0..<d { s += cov[a * d + b] * v[b] }; w[a] = s }
                for p in comps { let dot = zip(w, p).reduce(0) { $0 + $1.0 * $1.1 }; for a in 0..<d { w[a] -= dot * p[a] } }
                let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
                guard norm > 0 else { break }
                v = w.map { $0 / norm }
            }
            comps.append(v)
        }
        var pts: [(Float, Float)] = []
        for i in 0..<m {
            var p0 = 0.0, p1 = 0.0
            for j in 0..<d { let c = Double(x[i * d + j]) - mean[j]; p0 += c * comps[0][j]; p1 += c * comps[1][j] }
            pts.append((Float(p0), Float(p1)))
        }
        return Scatter(points: pts, labels: Array(labels.prefix(m)))
    }
}
