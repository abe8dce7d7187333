// TEMPORARY until the evaluation module lands: minimal kNN and effective rank with the
// signatures the trainer uses.
public enum KNN {
    public struct Result: Sendable { public var top1 = 0.0, top5 = 0.0 }
    public static func evaluate(train: UnsafePointer<Float>, trainLabels: [Int32], test: UnsafePointer<Float>, testLabels: [Int32],
                                dim: Int, numClasses: Int, k: Int = 200, temperature: Float = 0.1) throws -> Result {
        func unit(_ p: UnsafePointer<Float>, _ i: Int) -> [Float] {
            var s: Float = 0; for j in 0..<dim { s += p[i * dim + j] * p[i * dim + j] }
            let inv = 1 / max(s.squareRoot(), 1e-12); return (0..<dim).map { p[i * dim + $0] * inv }
        }
        let tr = (0..<trainLabels.count).map { unit(train, $0) }
        var c1 = 0, c5 = 0
        for i in 0..<testLabels.count {
            let q = unit(test, i)
            var sims = tr.enumerated().map { (j, t) -> (Float, Int) in var s: Float = 0; for a in 0..<dim { s += q[a] * t[a] }; return (s, j) }
            sims.sort { $0.0 > $1.0 }
            var score = [Double](repeating: 0, count: numClasses)
            for (s, j) in sims.prefix(k) { score[Int(trainLabels[j])] += Double(expf(s / temperature)) }
            let ranked = (0..<numClasses).sorted { score[$0] > score[$1] }
            if ranked[0] == Int(testLabels[i]) { c1 += 1 }
            if ranked.prefix(5).contains(Int(testLabels[i])) { c5 += 1 }
        }
        return Result(top1: Double(c1) / Double(testLabels.count), top5: Double(c5) / Double(testLabels.count))
    }
}
public enum EffectiveRank {
    public static func effectiveRank(_ x: UnsafePointer<Float>, n: Int, d: Int) throws -> Double { .nan }
}
#if canImport(Glibc)
import Glibc
#endif
