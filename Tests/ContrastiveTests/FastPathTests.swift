import Testing
import Contrastive

/// Specialised kernels against the general kernels they replace, on the same inputs —
/// including the values where they could differ (ties, NaN, −∞, odd sizes).
@Suite("Fast paths agree with their general kernels", .serialized)
struct FastPathTests {
    @Test("max-pool 2×2/2: values and argmax equal the general loop (ties, NaN, −∞, odd sizes)",
          arguments: [(3, 4, 8, 8), (2, 3, 5, 7), (1, 2, 2, 2), (2, 1, 9, 4)])
    func maxPool2x2(_ shape: (Int, Int, Int, Int)) throws {
        let (n, c, h, w) = shape
        let g = try MaxPool2D.Geometry(n: n, c: c, h: h, w: w, k: 2, stride: 2, pad: 0)
        var rng = SeededRNG(7)
        var x = (0..<(n * c * h * w)).map { _ in Float(Int(rng.normal() * 2)) / 2 }   // many ties
        for i in stride(from: 3, to: x.count, by: 11) { x[i] = .nan }
        for i in stride(from: 5, to: x.count, by: 13) { x[i] = -.infinity }
        for i in 0..<min(4, x.count) { x[i] = -.infinity }                           // an all −∞ window
        let count = n * c * g.ho * g.wo
        var y1 = [Float](repeating: 0, count: count), y2 = y1
        var a1 = [Int32](repeating: -1, count: count), a2 = a1
        MaxPool2D.forward(g, x: x, y: &y1, argmax: &a1)
        MaxPool2D.reference(g, x: x, y: &y2, argmax: &a2)
        #expect(a1 == a2)
        #expect(zip(y1, y2).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) })
        #expect(x.count <= 8 || y1.contains { $0.isNaN })   // the NaN rule was exercised
    }
}
