#if canImport(Glibc)
import Glibc
#endif

/// An owned, uninitialised, 64-byte-aligned buffer of `count` trivial values whose allocation
/// fails with `.outOfMemory` instead of trapping (the evaluation calls size their scratch from
/// user input). Freed when the object goes away.
public final class EvalBuffer<T> {
    /// First element.
    public let base: UnsafeMutablePointer<T>
    /// Number of elements.
    public let count: Int

    /// Allocate `count` elements (uninitialised); `what` names the buffer in the error.
    public init(_ count: Int, _ what: String) throws {
        let (bytes, o) = max(count, 1).multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        guard count >= 0, !o else { throw ContrastiveError(.outOfMemory, "\(what): \(count) elements is too large") }
        var p: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&p, 64, max(bytes, 64)) == 0, let q = p else {
            throw ContrastiveError(.outOfMemory, "\(what): could not allocate \(bytes) bytes")
        }
        base = q.bindMemory(to: T.self, capacity: max(count, 1))
        self.count = count
    }

    /// Allocate and fill with `value`.
    public convenience init(_ count: Int, _ what: String, repeating value: T) throws {
        try self.init(count, what)
        base.initialize(repeating: value, count: count)
    }

    deinit { free(base) }

    /// Element `i` (unchecked: callers index within `count`).
    @inlinable
    public subscript(i: Int) -> T {
        get { base[i] }
        set { base[i] = newValue }
    }
}

/// Argument checks shared by the evaluation calls (kNN, linear probe, retrieval, k-means,
/// top-k). Every message names the argument and, for element errors, the offending index.
public enum EvalCheck {
    /// A positive size (rows, dim, classes): INVALID_ARGUMENT naming `what` when < 1.
    public static func positive(_ v: Int, _ what: String) throws {
        guard v >= 1 else { throw ContrastiveError.invalid("\(what) = \(v) must be ≥ 1") }
    }

    /// rows × dim as an element count (< 2³¹), or OUT_OF_MEMORY; both sizes must be ≥ 1.
    public static func matrix(rows: Int, dim: Int, _ what: String) throws -> Int {
        guard rows >= 1 else { throw ContrastiveError.invalid("\(what) has \(rows) rows: the split must not be empty") }
        guard dim >= 1 else { throw ContrastiveError.invalid("\(what): dim = \(dim) must be ≥ 1") }
        return try checkedCount([rows, dim], what: what)
    }

    /// NUMERIC naming the first NaN/±Inf element of `x[0..<count]` as `what[row, col]`.
    public static func finite(_ x: UnsafePointer<Float>, count: Int, dim: Int, _ what: String) throws {
        var i = 0
        while i < count {
            let e = min(count, i + 4096)
            // s·0 is 0 for a finite sum and NaN when an element is ±∞ or NaN (or the sum
            // overflows — then the exact scan below finds nothing and the chunk passes).
            if !(Vec.sum(x + i, e - i) * 0).isNaN { i = e; continue }
            for j in i..<e where !x[j].isFinite {
                throw ContrastiveError(.numeric, "\(what)[\(j / max(dim, 1)), \(j % max(dim, 1))] is \(x[j]); features must be finite")
            }
            i = e
        }
    }

    /// INVALID_ARGUMENT unless every label is in 0..<numClasses.
    public static func labels(_ labels: UnsafePointer<Int32>, count: Int, numClasses: Int, _ what: String) throws {
        for i in 0..<count {
            let v = labels[i]
            guard v >= 0, Int(v) < numClasses else {
                throw ContrastiveError.invalid("\(what)[\(i)] = \(v) is out of range 0..<\(numClasses) (num_classes)")
            }
        }
    }

    /// SHAPE_MISMATCH unless a label array has one entry per row.
    public static func labelCount(_ labels: Int, rows: Int, _ what: String, _ features: String) throws {
        guard labels == rows else {
            throw ContrastiveError.shape("\(what) has \(labels) entries but \(features) has \(rows) rows")
        }
    }
}

/// Row-wise helpers of the evaluation calls.
public enum EvalRows {
    /// y = x / max(‖x‖₂, 1e-12) per row (n × d), computed in Double per row, written as Float.
    /// A zero row stays zero (its cosine with anything is 0).
    public static func l2Normalized(_ x: UnsafePointer<Float>, n: Int, d: Int, into y: UnsafeMutablePointer<Float>) {
        parallelFor(n, grain: max(1, 8192 / max(d, 1))) { rows in
            for i in rows {
                let xr = x + i * d, yr = y + i * d
                var s = 0.0
                for j in 0..<d { let v = Double(xr[j]); s += v * v }
                let inv = 1 / max(s.squareRoot(), 1e-12)
                for j in 0..<d { yr[j] = Float(Double(xr[j]) * inv) }
            }
        }
    }

    /// A similarity and a row index packed so that ascending order of the key is descending
    /// similarity, ties by ascending index (the ranking order used by kNN and retrieval).
    @inlinable
    public static func rankKey(_ s: Float, _ index: Int) -> UInt64 {
        // Map the float's bits onto an unsigned order (-0 and +0 are made equal), then invert.
        let b = (s == 0 ? Float(0) : s).bitPattern
        let ordered = (b & 0x8000_0000) != 0 ? ~b : b | 0x8000_0000
        return UInt64(~ordered) << 32 | UInt64(UInt32(truncatingIfNeeded: index))
    }

    /// Inverse of the index part of `rankKey`.
    @inlinable
    public static func rankIndex(_ key: UInt64) -> Int { Int(UInt32(truncatingIfNeeded: key)) }
}

extension EvalRows {
    /// The similarity stored in a `rankKey`.
    @inlinable
    public static func rankSimilarity(_ key: UInt64) -> Float {
        let ordered = ~UInt32(truncatingIfNeeded: key >> 32)
        let b = (ordered & 0x8000_0000) != 0 ? ordered & 0x7FFF_FFFF : ~ordered
        return Float(bitPattern: b)
    }

    /// Replace the root of the max-heap `h[0..<k]` by `key` and restore the heap.
    @inlinable
    public static func heapReplaceTop(_ h: UnsafeMutablePointer<UInt64>, _ k: Int, _ key: UInt64) {
        var i = 0
        while true {
            let l = 2 * i + 1
            if l >= k { break }
            var c = l
            if l + 1 < k && h[l + 1] > h[l] { c = l + 1 }
            if h[c] <= key { break }
            h[i] = h[c]
            i = c
        }
        h[i] = key
    }

    /// How many classes rank ahead of class `y` in `scores[0..<c]` (higher score first, ties
    /// by lower class index): 0 means `y` is the top-1 prediction, < K that it is in the top K.
    @inlinable
    public static func rankAhead<S: BinaryFloatingPoint>(_ scores: UnsafePointer<S>, _ c: Int, _ y: Int) -> Int {
        let sy = scores[y]
        var ahead = 0
        for j in 0..<c where scores[j] > sy || (scores[j] == sy && j < y) { ahead += 1 }
        return ahead
    }

    /// The highest-scoring class (lowest index among ties).
    @inlinable
    public static func argmax<S: BinaryFloatingPoint>(_ scores: UnsafePointer<S>, _ c: Int) -> Int {
        var best = 0
        for j in 1..<max(c, 1) where scores[j] > scores[best] { best = j }
        return best
    }
}

