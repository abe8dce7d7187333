/// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
/// header length N, N bytes of JSON `{"name": {"dtype", "shape", "data_offsets": [b, e]}, …,
/// "__metadata__": {str: str}}`, then the data. Offsets are relative to the data and must tile
/// it exactly: sorted, contiguous, no holes, no overlap.
public enum Safetensors {
    /// The element types we read and write. Anything else is refused with `.format`.
    public enum DType: String, CaseIterable, Sendable {
        case f32 = "F32", f64 = "F64", f16 = "F16", bf16 = "BF16", i64 = "I64", i32 = "I32", u8 = "U8"
        public var size: Int {
            switch self { case .f32, .i32: return 4; case .f64, .i64: return 8; case .f16, .bf16: return 2; case .u8: return 1 }
        }
    }

    public struct Entry: Sendable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        public let count: Int
        /// Byte range within the data section.
        public let begin: Int, end: Int
    }

    /// Largest header accepted (the format's own limit is 100 MB).
    public static let maxHeaderBytes = 100 << 20
    public static let maxRank = 8

    /// A parsed, fully validated file held in memory.
    public final class File {
        public let entries: [Entry]
        public let metadata: [(String, String)]
        private let byName: [String: Int]
        private let bytes: [UInt8]
        private let dataStart: Int

        /// Parse and validate. Every size is checked against the real byte count first.
        public init(bytes: [UInt8]) throws {
            guard bytes.count >= 8 else { throw ContrastiveError(.format, "safetensors: file of \(bytes.count) bytes is shorter than its 8-byte header length") }
            var n: UInt64 = 0
            for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
            guard n >= 2, n <= UInt64(maxHeaderBytes) else { throw ContrastiveError(.format, "safetensors: header length \(n) outside [2, \(maxHeaderBytes)]") }
            let headerLen = Int(n)
            guard headerLen <= bytes.count - 8 else {
                throw ContrastiveError(.format, "safetensors: header length \(headerLen) exceeds the \(bytes.count - 8) bytes after it (truncated file?)")
            }
            let json = try bytes.withUnsafeBufferPointer { buf in
                try JSON.parse(UnsafeBufferPointer(rebasing: buf[8..<(8 + headerLen)]))
            }
            guard let items = json.objectValue else { throw ContrastiveError(.format, "safetensors: header is not a JSON object") }
            let dataSize = bytes.count - 8 - headerLen
            var entries: [Entry] = []
            var meta: [(String, String)] = []
            for (name, value) in items {
                if name == "__metadata__" {
                    guard let kv = value.objectValue else { throw ContrastiveError(.format, "safetensors: __metadata__ is not an object") }
                    for (k, v) in kv {
                        guard let s = v.stringValue else { throw ContrastiveError(.format, "safetensors: metadata value of \"\(k)\" is not a string") }
                        meta.append((k, s))
                    }
                    continue
                }
                guard !name.isEmpty, name.utf8.count <= 1024 else { throw ContrastiveError(.format, "safetensors: tensor name of \(name.utf8.count) bytes") }
                guard let dt = value["dtype"]?.stringValue else { throw ContrastiveError(.format, "safetensors: \(name): missing dtype") }
                guard let dtype = DType(rawValue: dt) else {
                    throw ContrastiveError(.format, "safetensors: \(name): unsupported dtype \(dt) (supported: \(DType.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                guard let shapeJ = value["shape"]?.arrayValue, shapeJ.count <= maxRank else {
                    throw ContrastiveError(.format, "safetensors: \(name): shape missing or rank above \(maxRank)")
                }
                var shape: [Int] = []
                for d in shapeJ {
                    guard let v = d.intValue, v >= 0, v <= Int64(Int32.max) else { throw ContrastiveError(.format, "safetensors: \(name): bad dimension in shape") }
                    shape.append(Int(v))
                }
                guard let offs = value["data_offsets"]?.arrayValue, offs.count == 2,
                      let b = offs[0].intValue, let e = offs[1].intValue, b >= 0, b <= e, e <= Int64(dataSize) else {
                    throw ContrastiveError(.format, "safetensors: \(name): data_offsets missing or outside the \(dataSize)-byte data section")
                }
                var count = 1
                for d in shape {
                    let (p, o) = count.multipliedReportingOverflow(by: d)
                    guard !o, p <= Int(Int32.max) else { throw ContrastiveError(.format, "safetensors: \(name): shape \(shape) too large") }
                    count = p
                }
                guard Int64(count) * Int64(dtype.size) == e - b else {
                    throw ContrastiveError(.format, "safetensors: \(name): \(e - b) bytes for shape \(shape) of \(dtype.rawValue) (needs \(count * dtype.size))")
                }
                entries.append(Entry(name: name, dtype: dtype, shape: shape, count: count, begin: Int(b), end: Int(e)))
            }
            // The data must be tiled exactly by the tensors.
            let sorted = entries.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
            var cursor = 0
            for e in sorted {
                guard e.begin == cursor else {
                    throw ContrastiveError(.format, e.begin < cursor ? "safetensors: \(e.name) overlaps another tensor" : "safetensors: hole in the data before \(e.name)")
                }
                cursor = e.end
            }
            guard cursor == dataSize else { throw ContrastiveError(.format, "safetensors: \(dataSize - cursor) bytes of data are not covered by any tensor") }
            self.entries = entries
            self.metadata = meta
            self.bytes = bytes
            self.dataStart = 8 + headerLen
            var idx: [String: Int] = [:]
            for (i, e) in entries.enumerated() { idx[e.name] = i }
            self.byName = idx
        }

        public convenience init(path: String, maxBytes: Int = 4 << 30) throws {
            try self.init(bytes: try FileIO.read(path, maxBytes: maxBytes))
        }

        public func entry(_ name: String) -> Entry? { byName[name].map { entries[$0] } }
        public func meta(_ key: String) -> String? { metadata.first { $0.0 == key }?.1 }

        /// Copy a tensor into `dst` as float32 (converting F64/F16/BF16/I64/I32/U8).
        public func read(_ e: Entry, into dst: UnsafeMutablePointer<Float>) {
            bytes.withUnsafeBytes { raw in
                let base = raw.baseAddress! + dataStart + e.begin
                for i in 0..<e.count {
                    switch e.dtype {
                    case .f32: dst[i] = base.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
                    case .f64: dst[i] = Float(base.loadUnaligned(fromByteOffset: 8 * i, as: Double.self))
                    case .f16: dst[i] = Float(Float16(bitPattern: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                    case .bf16: dst[i] = Float(bitPattern: UInt32(base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
                    case .i64: dst[i] = Float(base.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
                    case .i32: dst[i] = Float(base.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))
                    case .u8: dst[i] = Float(base.load(fromByteOffset: i, as: UInt8.self))
                    }
                }
            }
        }

        public func floats(_ name: String) -> [Float]? {
            guard let e = entry(name) else { return nil }
            var out = [Float](repeating: 0, count: e.count)
            out.withUnsafeMutableBufferPointer { read(e, into: $0.baseAddress!) }
            return out
        }
    }

    /// Builds a safetensors file: tensors in the order added, float32 or int64.
    public struct Writer {
        struct Item { let name: String; let dtype: DType; let shape: [Int]; let data: [UInt8] }
        var items: [Item] = []
        var names = Set<String>()
        public var metadata: [(String, String)] = []

        public init() {}

        public mutating func add(_ name: String, shape: [Int], floats: UnsafePointer<Float>) throws {
            let n = try checkedCount(shape, what: name)
            guard names.insert(name).inserted else { throw ContrastiveError.invalid("safetensors: duplicate tensor \(name)") }
            let data = Array(UnsafeRawBufferPointer(start: floats, count: n * 4))
            items.append(Item(name: name, dtype: .f32, shape: shape, data: data))
        }

        public mutating func add(_ name: String, shape: [Int], int64 values: [Int64]) throws {
            guard names.insert(name).inserted else { throw ContrastiveError.invalid("safetensors: duplicate tensor \(name)") }
            let data = values.withUnsafeBytes { Array($0) }
            items.append(Item(name: name, dtype: .i64, shape: shape, data: data))
        }

        /// The complete file contents.
        public func bytes() -> [UInt8] {
            var fields: [(String, JSON)] = []
            if !metadata.isEmpty { fields.append(("__metadata__", .object(metadata.map { ($0.0, .string($0.1)) }))) }
            var off = 0
            for it in items {
                fields.append((it.name, .object([
                    ("dtype", .string(it.dtype.rawValue)),
                    ("shape", .array(it.shape.map { JSON.int($0) })),
                    ("data_offsets", .array([JSON.int(off), JSON.int(off + it.data.count)])),
                ])))
                off += it.data.count
            }
            var header = Array(JSON.object(fields).text.utf8)
            while (8 + header.count) % 8 != 0 { header.append(0x20) }   // pad so the data is 8-byte aligned
            var out: [UInt8] = []
            out.reserveCapacity(8 + header.count + off)
            let n = UInt64(header.count)
            for i in 0..<8 { out.append(UInt8((n >> (8 * UInt64(i))) & 0xFF)) }
            out += header
            for it in items { out += it.data }
            return out
        }

        /// Write atomically (temporary file, fsync, rename).
        public func write(to path: String) throws {
            let b = bytes()
            try b.withUnsafeBytes { try FileIO.writeAtomically(path, parts: [$0]) }
        }
    }
}
