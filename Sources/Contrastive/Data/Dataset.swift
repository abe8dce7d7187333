#if canImport(Glibc)
import Glibc
#endif

/// A dataset of uint8 images, N × H × W × C (interleaved channels), with optional integer labels.
/// Images are held in one contiguous block; subsets copy.
public final class ImageDataset {
    public let count: Int, height: Int, width: Int, channels: Int
    public let pixels: [UInt8]
    public let labels: [Int32]?
    /// 1 + the largest label (0 without labels), or the number of class names when larger.
    public let numClasses: Int
    /// Names of the classes in label order (image folders: the class folder names; CIFAR: the
    /// dataset's published names), or nil when the source has none.
    public let classNames: [String]?

    public var imageBytes: Int { height * width * channels }

    /// Checks the shape against `pixels.count`, the label count and that labels are ≥ 0.
    public init(pixels: [UInt8], count: Int, height: Int, width: Int, channels: Int, labels: [Int32]?,
                classNames: [String]? = nil) throws {
        guard count >= 0, height >= 1, width >= 1, channels >= 1, height <= 65536, width <= 65536, channels <= 4096 else {
            throw ContrastiveError.invalid("dataset: \(count) images of \(height)×\(width)×\(channels)")
        }
        let need = try checkedByteCount([count, height, width, channels])
        guard pixels.count == need else { throw ContrastiveError.shape("dataset: \(pixels.count) bytes for \(count) images of \(height)×\(width)×\(channels)") }
        if let labels {
            guard labels.count == count else { throw ContrastiveError.shape("dataset: \(labels.count) labels for \(count) images") }
            if let bad = labels.firstIndex(where: { $0 < 0 }) { throw ContrastiveError.invalid("dataset: label \(labels[bad]) of image \(bad) is negative") }
        }
        self.pixels = pixels; self.count = count; self.height = height; self.width = width; self.channels = channels
        self.labels = labels
        self.classNames = classNames
        // In Int: a label of Int32.max must not overflow the Int32 `+ 1`.
        numClasses = max(labels.map { Int($0.max() ?? -1) + 1 } ?? 0, labels == nil ? 0 : classNames?.count ?? 0)
    }

    /// The images at `indices`, in that order.
    public func subset(_ indices: [Int]) throws -> ImageDataset {
        let b = imageBytes
        var px = [UInt8](repeating: 0, count: indices.count * b)
        for (j, i) in indices.enumerated() {
            guard i >= 0, i < count else { throw ContrastiveError.invalid("dataset: index \(i) outside 0..<\(count)") }
            px.withUnsafeMutableBufferPointer { dst in pixels.withUnsafeBufferPointer { src in
                (dst.baseAddress! + j * b).update(from: src.baseAddress! + i * b, count: b)
            } }
        }
        return try ImageDataset(pixels: px, count: indices.count, height: height, width: width, channels: channels,
                                labels: labels.map { l in indices.map { l[$0] } }, classNames: classNames)
    }

    /// A seeded random split into (train, validation) with round(fraction·N) validation images.
    public func split(validationFraction f: Double, seed: UInt64) throws -> (train: ImageDataset, validation: ImageDataset) {
        guard f.isFinite, f >= 0, f <= 1 else { throw ContrastiveError.invalid("split: fraction \(f) outside [0, 1]") }
        var order = Array(0..<count)
        var rng = CounterRNG(seed: seed, stream: 0x5B117)
        for i in stride(from: count - 1, to: 0, by: -1) {   // Fisher–Yates
            let j = Int(rng.next() % UInt64(i + 1))
            order.swapAt(i, j)
        }
        let nv = Int((Double(count) * f).rounded())
        return (try subset(Array(order[nv...]).sorted()), try subset(Array(order[..<nv]).sorted()))
    }
}

/// Check that `bytes` can be allocated (a malloc probe, freed at once) before an array of that
/// size is created: Swift arrays trap when allocation fails, a thrown OUT_OF_MEMORY does not.
func probeAllocation(_ bytes: Int, what: String) throws {
    guard bytes > 0 else { return }
    guard let p = malloc(bytes) else {
        throw ContrastiveError(.outOfMemory, "\(what): cannot allocate \(bytes) bytes")
    }
    free(p)
}

/// Overflow-checked product of sizes for byte buffers (no 2³¹ element limit).
func checkedByteCount(_ dims: [Int]) throws -> Int {
    var n = 1
    for d in dims {
        let (p, o) = n.multipliedReportingOverflow(by: d)
        guard d >= 0, !o, p <= 1 << 40 else { throw ContrastiveError(.outOfMemory, "size \(dims) is too large") }
        n = p
    }
    return n
}
