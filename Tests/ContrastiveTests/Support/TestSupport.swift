import Foundation
import Testing
import Contrastive

/// Deterministic generator for test data (SplitMix64).
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Standard normal (Box–Muller), rounded to Float so the value is exact in both precisions.
    mutating func normal() -> Double {
        let u1 = max(Double.random(in: 0..<1, using: &self), 1e-12), u2 = Double.random(in: 0..<1, using: &self)
        return Double(Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)))
    }
    mutating func normals(_ n: Int, scale: Double = 1) -> [Double] {
        (0..<n).map { _ in Double(Float(normal() * scale)) }
    }
}

/// Fixture files live beside the tests (Tests/ContrastiveTests/Fixtures).
enum Fixtures {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func dir(_ name: String) -> URL { root.appendingPathComponent(name) }

    /// Cases under Fixtures/ops (one folder each).
    static func opCases() -> [String] {
        let d = dir("ops")
        let items = (try? FileManager.default.contentsOfDirectory(atPath: d.path)) ?? []
        return items.filter { !$0.hasPrefix(".") }.sorted()
    }

    static func meta(_ caseDir: URL) throws -> [String: String] {
        let text = try String(contentsOf: caseDir.appendingPathComponent("meta.txt"), encoding: .utf8)
        var m: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { m[parts[0]] = parts[1] }
        }
        return m
    }
}

/// A tiny NPY reader for the committed fixtures ('<f4', '<i4' and '<u1'/'|u1', C order). Test-only.
struct NPY {
    var shape: [Int]
    var floats: [Float] = []
    var ints: [Int32] = []
    var bytes: [UInt8] = []

    init(_ url: URL) throws {
        let data = try Data(contentsOf: url)
        let bytes = [UInt8](data)
        guard bytes.count > 10, bytes[0] == 0x93, String(bytes: bytes[1..<6], encoding: .ascii) == "NUMPY" else {
            throw ContrastiveError(.format, "\(url.lastPathComponent): not an NPY file")
        }
        let major = bytes[6]
        let headerLen: Int, start: Int
        if major == 1 { headerLen = Int(bytes[8]) | Int(bytes[9]) << 8; start = 10 }
        else { headerLen = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24; start = 12 }
        let header = String(bytes: bytes[start..<(start + headerLen)], encoding: .ascii) ?? ""
        guard header.contains("'fortran_order': False") else { throw ContrastiveError(.format, "fortran order") }
        let shapeText = header.components(separatedBy: "'shape': (")[1].components(separatedBy: ")")[0]
        shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let count = shape.reduce(1, *)
        let body = Array(bytes[(start + headerLen)...])
        if header.contains("'<f4'") {
            guard body.count >= count * 4 else { throw ContrastiveError(.format, "truncated") }
            floats = body.withUnsafeBytes { raw in (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
        } else if header.contains("'<i4'") {
            guard body.count >= count * 4 else { throw ContrastiveError(.format, "truncated") }
            ints = body.withUnsafeBytes { raw in (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self) } }
        } else if header.contains("'<u1'") || header.contains("'|u1'") {
            guard body.count >= count else { throw ContrastiveError(.format, "truncated") }
            self.bytes = Array(body[0..<count])
        } else {
            throw ContrastiveError(.format, "unsupported dtype in \(header)")
        }
    }
}

/// Compare `actual` with `expected` elementwise: |a − e| ≤ atol + rtol·|e|. Reports the worst element.
func expectClose(_ actual: [Float], _ expected: [Double], atol: Double, rtol: Double, _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
    guard actual.count == expected.count else { return }
    var worst = 0.0, worstIndex = -1
    for i in 0..<actual.count {
        let a = Double(actual[i]), e = expected[i]
        let excess = abs(a - e) - (atol + rtol * abs(e))
        if !(excess <= 0) && (worstIndex < 0 || excess > worst || excess.isNaN) { worst = excess; worstIndex = i }
    }
    if worstIndex >= 0 {
        Issue.record("\(what): element \(worstIndex) is \(actual[worstIndex]), expected \(expected[worstIndex]) (atol \(atol), rtol \(rtol))",
                     sourceLocation: sourceLocation)
    }
}

func expectClose(_ actual: [Float], _ expected: [Float], atol: Double, rtol: Double, _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    expectClose(actual, expected.map(Double.init), atol: atol, rtol: rtol, what, sourceLocation: sourceLocation)
}

/// ‖a − b‖ / ‖b‖
func relativeError(_ a: [Float], _ b: [Float]) -> Double {
    var num = 0.0, den = 0.0
    for i in 0..<min(a.count, b.count) { let d = Double(a[i]) - Double(b[i]); num += d * d; den += Double(b[i]) * Double(b[i]) }
    return (num / max(den, 1e-300)).squareRoot()
}

extension Tensor {
    init(shape: [Int], doubles: [Double]) throws { try self.init(shape: shape, values: doubles.map { Float($0) }) }
}

/// Run `body` with the engine on `n` threads, restoring the previous count.
func withThreads<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
    let saved = ThreadPool.shared.threads
    ThreadPool.shared.setThreads(n)
    defer { ThreadPool.shared.setThreads(saved) }
    return try body()
}
