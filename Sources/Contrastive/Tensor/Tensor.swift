#if canImport(Glibc)
import Glibc
#endif

/// Alignment of every float buffer the engine allocates (one AVX-512 line).
public let bufferAlignment = 64

/// Allocate `bytes` aligned bytes, or throw `.outOfMemory` (never traps).
@usableFromInline
func alignedAlloc(bytes: Int) throws -> UnsafeMutableRawPointer {
    var p: UnsafeMutableRawPointer? = nil
    let size = max(bytes, bufferAlignment)
    guard posix_memalign(&p, bufferAlignment, size) == 0, let q = p else {
        throw ContrastiveError(.outOfMemory, "could not allocate \(bytes) bytes")
    }
    return q
}

/// An owned, aligned float32 buffer. Parameters, optimizer state and anything that outlives
/// a training step live in one of these; per-step temporaries come from a `Workspace`.
public final class Storage {
    public let base: UnsafeMutablePointer<Float>
    public let count: Int

    /// Allocates `count` floats, zero-filled.
    public init(count: Int) throws {
        let (bytes, o) = count.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        guard count >= 0, !o else { throw ContrastiveError(.outOfMemory, "storage of \(count) floats is too large") }
        let raw = try alignedAlloc(bytes: bytes)
        memset(raw, 0, max(bytes, 1))
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
    }

    deinit { free(base) }
}

/// A contiguous row-major float32 tensor: a shape and a pointer.
///
/// Tensors are views; they do not own memory unless `owner` holds a `Storage`. A tensor
/// taken from a `Workspace` is valid until that workspace is reset. Layouts used by the
/// engine: images and feature maps NCHW, embeddings and logits (N, D), conv weights
/// (Cout, Cin, kh, kw), linear weights (out, in) — all as in PyTorch.
public struct Tensor {
    public let shape: [Int]
    public let data: UnsafeMutablePointer<Float>
    public let count: Int
    @usableFromInline let owner: AnyObject?

    /// A view over `data` with `shape`. The caller guarantees `data` holds `count` floats.
    public init(shape: [Int], data: UnsafeMutablePointer<Float>, owner: AnyObject? = nil) {
        self.shape = shape
        self.data = data
        var n = 1
        for d in shape { n *= d }
        self.count = n
        self.owner = owner
    }

    /// A new zero-filled tensor with its own storage.
    public init(zeros shape: [Int]) throws {
        let n = try checkedCount(shape)
        let s = try Storage(count: n)
        self.init(shape: shape, data: s.base, owner: s)
    }

    /// A new tensor holding a copy of `values`.
    public init(shape: [Int], values: [Float]) throws {
        let n = try checkedCount(shape)
        guard n == values.count else {
            throw ContrastiveError.shape("\(values.count) values for shape \(shape)")
        }
        try self.init(zeros: shape)
        values.withUnsafeBufferPointer { src in
            if n > 0 { data.update(from: src.baseAddress!, count: n) }
        }
    }

    public var rank: Int { shape.count }
    public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: data, count: count) }
    public var array: [Float] { Array(buffer) }

    /// Same memory, new shape with the same element count.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        guard let n = try? checkedCount(newShape), n == count else {
            throw ContrastiveError.shape("cannot reshape \(shape) to \(newShape)")
        }
        return Tensor(shape: newShape, data: data, owner: owner)
    }

    /// Rows `range` of the leading dimension (a view).
    public func slice(_ range: Range<Int>) -> Tensor {
        let inner = shape.isEmpty ? 1 : count / max(shape[0], 1)
        var s = shape
        s[0] = range.count
        return Tensor(shape: s, data: data + range.lowerBound * inner, owner: owner)
    }

    public func fill(_ v: Float) { data.update(repeating: v, count: count) }
    public func copy(from other: Tensor) { data.update(from: other.data, count: min(count, other.count)) }

    /// Whether every element is finite.
    public var allFinite: Bool {
        var ok = true
        for i in 0..<count where !data[i].isFinite { ok = false; break }
        return ok
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = buffer.prefix(6).map { "\($0)" }.joined(separator: ", ")
        return "Tensor\(shape)[\(head)\(count > 6 ? ", …" : "")]"
    }
}

/// A bump allocator for per-step temporaries (activations, gradients, im2col panels).
///
/// `reset()` makes all memory reusable. After a reset that followed growth into several
/// chunks, the chunks are merged into one of the high-water size, so from the second step on
/// a training step of fixed shape allocates nothing.
public final class Workspace {
    private var chunks: [(base: UnsafeMutableRawPointer, size: Int)] = []
    private var current = 0        // index of the chunk being filled
    private var offset = 0         // bytes used in the current chunk
    private var used = 0           // bytes handed out since the last reset
    public private(set) var highWater = 0
    /// Bytes currently reserved from the system.
    public var reservedBytes: Int { chunks.reduce(0) { $0 + $1.size } }

    public init(initialBytes: Int = 0) throws {
        if initialBytes > 0 { try addChunk(minimum: initialBytes) }
    }

    deinit { for c in chunks { free(c.base) } }

    private func addChunk(minimum: Int) throws {
        let size = max(minimum, 1 << 20)
        let base = try alignedAlloc(bytes: size)
        chunks.append((base, size))
    }

    /// `bytes` bytes aligned to 64, uninitialised.
    public func allocRaw(bytes: Int) throws -> UnsafeMutableRawPointer {
        let (r, o) = bytes.addingReportingOverflow(bufferAlignment - 1)
        guard bytes >= 0, !o else { throw ContrastiveError(.outOfMemory, "workspace request of \(bytes) bytes") }
        let need = r & ~(bufferAlignment - 1)
        while current < chunks.count, offset + need > chunks[current].size {
            current += 1
            offset = 0
        }
        if current == chunks.count {
            try addChunk(minimum: need)
            offset = 0
        }
        let p = chunks[current].base + offset
        offset += need
        used += need
        highWater = max(highWater, used)
        return p
    }

    /// An uninitialised float tensor valid until the next `reset()`.
    public func tensor(_ shape: [Int]) throws -> Tensor {
        let n = try checkedCount(shape)
        let raw = try allocRaw(bytes: n * MemoryLayout<Float>.stride)
        return Tensor(shape: shape, data: raw.bindMemory(to: Float.self, capacity: max(n, 1)))
    }

    /// A zero-filled float tensor valid until the next `reset()`.
    public func zeros(_ shape: [Int]) throws -> Tensor {
        let t = try tensor(shape)
        t.fill(0)
        return t
    }

    /// Uninitialised typed scratch (e.g. Int32 argmax indices) valid until `reset()`.
    public func scratch<T>(_ type: T.Type, count: Int) throws -> UnsafeMutablePointer<T> {
        let (b, o) = count.multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        guard count >= 0, !o else { throw ContrastiveError(.outOfMemory, "scratch of \(count) items") }
        return try allocRaw(bytes: b).bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// Make all memory reusable; merge chunks if the last step needed more than one.
    public func reset() {
        if chunks.count > 1 {
            for c in chunks { free(c.base) }
            chunks.removeAll()
            // If this fails the next allocation simply grows again.
            try? addChunk(minimum: highWater)
        }
        current = 0
        offset = 0
        used = 0
    }
}
