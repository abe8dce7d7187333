/// NumPy's .npy format (versions 1.0, 2.0 and 3.0): the magic "\x93NUMPY", a version, a
/// little-endian header length (2 bytes in 1.0, 4 in 2.0/3.0), a Python dict literal
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with spaces and a
/// newline, then the raw C-order data.
///
/// The header is parsed by a small bounded reader of exactly that literal — never evaluated,
/// never unpickled: object dtypes ('|O'), structured dtypes and Fortran order are FORMAT
/// errors. The header is at most `maxHeaderBytes`, the rank at most `maxRank`, the shape
/// product is overflow-checked and must describe exactly the bytes the file holds before
/// anything is allocated for the data.
public enum NPY {
    /// Largest header accepted (numpy itself refuses more than 10 000 bytes by default).
    public static let maxHeaderBytes = 65536
    /// Largest number of dimensions accepted (numpy allows 64).
    public static let maxRank = 32
    /// Largest file read.
    public static let maxFileBytes = 1 << 36

    /// An element type from the closed list this reader knows.
    public struct DType: Equatable, Sendable, CustomStringConvertible {
        /// 'u' unsigned integer, 'i' signed integer, 'f' IEEE float, 'b' bool.
        public let kind: UInt8
        /// Bytes per element.
        public let size: Int
        /// Whether multi-byte elements are stored big-endian.
        public let bigEndian: Bool

        /// numpy's spelling, e.g. "<f4", "|u1".
        public var description: String {
            "\(size == 1 ? "|" : bigEndian ? ">" : "<")\(Character(Unicode.Scalar(kind)))\(size)"
        }

        /// The element types accepted: b1, u1, i1, u2, i2, u4, i4, u8, i8, f4, f8.
        static func parse(_ s: String) -> DType? {
            let b = Array(s.utf8)
            guard b.count == 3 || b.count == 2 else { return nil }
            var i = 0
            var big = false
            if b.count == 3 {
                switch b[0] {
                case UInt8(ascii: "<"), UInt8(ascii: "="), UInt8(ascii: "|"): big = false
                case UInt8(ascii: ">"): big = true
                default: return nil
                }
                i = 1
            }
            let kind = b[i]
            guard let size = Int(String(decoding: b[(i + 1)...], as: UTF8.self)) else { return nil }
            switch (kind, size) {
            case (UInt8(ascii: "b"), 1), (UInt8(ascii: "u"), 1), (UInt8(ascii: "i"), 1),
                 (UInt8(ascii: "u"), 2), (UInt8(ascii: "i"), 2), (UInt8(ascii: "u"), 4), (UInt8(ascii: "i"), 4),
                 (UInt8(ascii: "u"), 8), (UInt8(ascii: "i"), 8), (UInt8(ascii: "f"), 4), (UInt8(ascii: "f"), 8):
                return DType(kind: kind, size: size, bigEndian: size > 1 && big)
            default: return nil
            }
        }
    }

    /// A parsed header: element type, shape, and where the data starts.
    public struct Header: Sendable {
        /// The element type.
        public let dtype: DType
        /// The dimensions (empty for a 0-d array, which holds one element).
        public let shape: [Int]
        /// Byte offset of the data in the file.
        public let dataOffset: Int
        /// Number of elements (the shape product).
        public let count: Int
    }

    // MARK: Parsing

    /// Parse and validate the header of a whole .npy file held in `bytes`; `name` is used in
    /// messages. Checks that the data is exactly `count × dtype.size` bytes.
    public static func parseHeader(_ bytes: [UInt8], name: String) throws -> Header {
        func bad(_ m: String) -> ContrastiveError { ContrastiveError(.format, "\(name): \(m)") }
        guard bytes.count >= 10 else { throw bad("\(bytes.count) bytes, too short for an NPY header") }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]   // \x93NUMPY
        guard Array(bytes[0..<6]) == magic else { throw bad("not an NPY file (bad magic)") }
        let major = bytes[6], minor = bytes[7]
        guard minor == 0, major >= 1, major <= 3 else { throw bad("NPY format version \(major).\(minor) is not supported (1.0, 2.0, 3.0)") }
        let headerLen: Int, start: Int
        if major == 1 {
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8
            start = 10
        } else {
            guard bytes.count >= 12 else { throw bad("truncated NPY header") }
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            start = 12
        }
        guard headerLen <= maxHeaderBytes else { throw bad("header of \(headerLen) bytes (at most \(maxHeaderBytes) accepted)") }
        guard bytes.count - start >= headerLen else { throw bad("truncated NPY header (\(headerLen) bytes announced, \(bytes.count - start) present)") }
        var p = HeaderParser(bytes: bytes[start..<(start + headerLen)], name: name)
        let (descr, fortran, shape) = try p.parseDict()
        guard let fortran else { throw bad("header has no 'fortran_order'") }
        guard let descr else { throw bad("header has no 'descr'") }
        guard let shape else { throw bad("header has no 'shape'") }
        switch descr {
        case .text(let s):
            if s.contains("O") { throw bad("object arrays ('\(s)') need pickle, which is never used; save plain numeric arrays") }
            guard let dt = DType.parse(s) else { throw bad("dtype '\(s)' is not supported (b1, u1, i1, u2, i2, u4, i4, u8, i8, f4, f8)") }
            guard !fortran else { throw bad("Fortran-order arrays are not supported; save with np.ascontiguousarray") }
            guard shape.count <= maxRank else { throw bad("\(shape.count) dimensions (at most \(maxRank))") }
            var n = 1
            for d in shape {
                let (q, o) = n.multipliedReportingOverflow(by: d)
                guard !o, q <= maxFileBytes else { throw bad("shape \(shape) describes more data than any file may hold") }
                n = q
            }
            let (need, o) = n.multipliedReportingOverflow(by: dt.size)
            guard !o, need <= maxFileBytes else { throw bad("shape \(shape) describes more data than any file may hold") }
            let have = bytes.count - start - headerLen
            guard have == need else {
                throw bad("\(have) data bytes for shape \(shape) of \(dt) (\(need) expected)\(have < need ? ": truncated" : "")")
            }
            return Header(dtype: dt, shape: shape, dataOffset: start + headerLen, count: n)
        case .structured:
            throw bad("structured dtypes are not supported")
        }
    }

    enum Descr { case text(String), structured }

    /// A reader for the one dict literal numpy writes; anything else is FORMAT.
    struct HeaderParser {
        let bytes: ArraySlice<UInt8>
        let name: String
        var i: Int

        init(bytes: ArraySlice<UInt8>, name: String) { self.bytes = bytes; self.name = name; i = bytes.startIndex }

        func bad(_ m: String) -> ContrastiveError { ContrastiveError(.format, "\(name): malformed NPY header: \(m)") }

        var atEnd: Bool { i >= bytes.endIndex }
        var peek: UInt8? { atEnd ? nil : bytes[i] }

        mutating func skipSpace() {
            while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 }
        }

        mutating func expect(_ c: UInt8) throws {
            skipSpace()
            guard peek == c else { throw bad("expected '\(Character(Unicode.Scalar(c)))' at byte \(i - bytes.startIndex)") }
            i += 1
        }

        mutating func string() throws -> String {
            skipSpace()
            guard let q = peek, q == UInt8(ascii: "'") || q == UInt8(ascii: "\"") else { throw bad("expected a string at byte \(i - bytes.startIndex)") }
            i += 1
            let s = i
            while let c = peek, c != q {
                guard c >= 0x20, c < 0x7F, c != UInt8(ascii: "\\") else { throw bad("unsupported character in a string") }
                guard i - s < 64 else { throw bad("string longer than 64 bytes") }
                i += 1
            }
            guard !atEnd else { throw bad("unterminated string") }
            let out = String(decoding: bytes[s..<i], as: UTF8.self)
            i += 1
            return out
        }

        mutating func word() -> String {
            let s = i
            while let c = peek, (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")), i - s < 8 { i += 1 }
            return String(decoding: bytes[s..<i], as: UTF8.self)
        }

        mutating func integer() throws -> Int {
            skipSpace()
            let s = i
            while let c = peek, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                guard i - s < 19 else { throw bad("dimension with more than 19 digits") }
                i += 1
            }
            guard i > s, let v = Int(String(decoding: bytes[s..<i], as: UTF8.self)) else { throw bad("expected a dimension at byte \(i - bytes.startIndex)") }
            if peek == UInt8(ascii: "L") { i += 1 }   // Python 2 longs
            return v
        }

        mutating func tuple() throws -> [Int] {
            try expect(UInt8(ascii: "("))
            var dims: [Int] = []
            var comma = false
            skipSpace()
            if peek == UInt8(ascii: ")") { i += 1; return dims }
            while true {
                guard dims.count < NPY.maxRank else { throw bad("more than \(NPY.maxRank) dimensions") }
                dims.append(try integer())
                skipSpace()
                if peek == UInt8(ascii: ")") { i += 1; break }
                try expect(UInt8(ascii: ","))
                comma = true
                skipSpace()
                if peek == UInt8(ascii: ")") { i += 1; break }
            }
            // "(5)" is an int in Python, not a tuple; numpy never writes it.
            guard dims.count != 1 || comma else { throw bad("shape (\(dims[0])) is not a tuple") }
            return dims
        }

        /// The dict; each of the three keys at most once, no other keys.
        mutating func parseDict() throws -> (Descr?, Bool?, [Int]?) {
            var descr: Descr? = nil, fortran: Bool? = nil, shape: [Int]? = nil
            try expect(UInt8(ascii: "{"))
            while true {
                skipSpace()
                if peek == UInt8(ascii: "}") { i += 1; break }
                let key = try string()
                try expect(UInt8(ascii: ":"))
                skipSpace()
                switch key {
                case "descr":
                    guard descr == nil else { throw bad("duplicate key 'descr'") }
                    if peek == UInt8(ascii: "[") { descr = .structured; return (descr, fortran ?? false, shape ?? []) }
                    descr = .text(try string())
                case "fortran_order":
                    guard fortran == nil else { throw bad("duplicate key 'fortran_order'") }
                    switch word() {
                    case "True": fortran = true
                    case "False": fortran = false
                    default: throw bad("fortran_order is not True or False")
                    }
                case "shape":
                    guard shape == nil else { throw bad("duplicate key 'shape'") }
                    shape = try tuple()
                default:
                    throw bad("unexpected key '\(key)'")
                }
                skipSpace()
                if peek == UInt8(ascii: "}") { i += 1; break }
                try expect(UInt8(ascii: ","))
            }
            skipSpace()
            guard atEnd else { throw bad("bytes after the dict") }
            return (descr, fortran, shape)
        }
    }

    // MARK: Reading

    /// Read `path`, parse its header and drop the header bytes in place (no second copy of the
    /// data). Returns the header and the raw data bytes.
    public static func readRaw(_ path: String) throws -> (Header, [UInt8]) {
        var bytes = try FileIO.read(path, maxBytes: maxFileBytes)
        let h = try parseHeader(bytes, name: path)
        bytes.removeSubrange(0..<h.dataOffset)
        return (h, bytes)
    }

    /// Images from a uint8 array of shape (N, H, W) (one channel) or (N, H, W, C).
    public static func readImages(_ path: String) throws -> (count: Int, height: Int, width: Int, channels: Int, pixels: [UInt8]) {
        let (h, data) = try readRaw(path)
        guard h.dtype.kind == UInt8(ascii: "u"), h.dtype.size == 1 else {
            throw ContrastiveError(.format, "\(path): images must be uint8 ('|u1'), found '\(h.dtype)'")
        }
        guard h.shape.count == 3 || h.shape.count == 4 else {
            throw ContrastiveError(.format, "\(path): images need shape (N, H, W) or (N, H, W, C), found \(h.shape)")
        }
        let c = h.shape.count == 4 ? h.shape[3] : 1
        guard h.shape[1] >= 1, h.shape[2] >= 1, h.shape[1] <= 65536, h.shape[2] <= 65536, c >= 1, c <= 4096 else {
            throw ContrastiveError(.format, "\(path): image shape \(h.shape) is empty or too large (H, W ≤ 65536, 1 ≤ C ≤ 4096)")
        }
        return (h.shape[0], h.shape[1], h.shape[2], c, data)
    }

    /// Labels from an integer array of shape (N,) (any of u1, i1, u2, i2, u4, i4, u8, i8);
    /// every value must lie in 0…Int32.max.
    public static func readLabels(_ path: String) throws -> [Int32] {
        let (h, data) = try readRaw(path)
        return try decodeLabels(h, data, offset: 0, name: path)
    }

    /// The labels of an integer (N,) array whose data starts at `offset` of `data`.
    static func decodeLabels(_ h: Header, _ data: [UInt8], offset: Int, name path: String) throws -> [Int32] {
        guard h.dtype.kind == UInt8(ascii: "u") || h.dtype.kind == UInt8(ascii: "i") else {
            throw ContrastiveError(.format, "\(path): labels must be integers (int32, int64, uint8, ...), found '\(h.dtype)'")
        }
        guard h.shape.count == 1 else { throw ContrastiveError(.format, "\(path): labels need shape (N,), found \(h.shape)") }
        guard data.count - offset == h.count * h.dtype.size else { throw ContrastiveError(.internal, "\(path): label data size") }
        var out = [Int32](repeating: 0, count: h.count)
        let size = h.dtype.size, signed = h.dtype.kind == UInt8(ascii: "i"), big = h.dtype.bigEndian
        for k in 0..<h.count {
            var u: UInt64 = 0
            let o = offset + k * size
            for b in 0..<size {
                let byte = UInt64(data[o + (big ? b : size - 1 - b)])
                u = u << 8 | byte
            }
            var v: Int64
            if signed {
                let shift = UInt64(64 - 8 * size)
                v = Int64(bitPattern: u << shift) >> Int64(shift)
            } else {
                guard u <= UInt64(Int32.max) else { throw ContrastiveError(.format, "\(path): label \(u) of image \(k) is above \(Int32.max)") }
                v = Int64(u)
            }
            guard v >= 0, v <= Int64(Int32.max) else { throw ContrastiveError(.format, "\(path): label \(v) of image \(k) is outside 0…\(Int32.max)") }
            out[k] = Int32(v)
        }
        return out
    }

    /// Parse a whole file held in memory and decode its data the way the loaders would
    /// (uint8 rank 3/4 → images, integer rank 1 → labels, floats → float32). For the fuzzer
    /// and the regression corpus; returns the header.
    @discardableResult
    public static func parseAll(_ bytes: [UInt8], name: String) throws -> Header {
        let h = try parseHeader(bytes, name: name)
        if h.dtype.kind == UInt8(ascii: "f") {
            _ = try decodeFloat32(h, Array(bytes[h.dataOffset...]), name: name)
        } else if h.shape.count == 1 {
            _ = try decodeLabels(h, bytes, offset: h.dataOffset, name: name)
        } else if h.dtype.size == 1 && h.dtype.kind == UInt8(ascii: "u") && (h.shape.count == 3 || h.shape.count == 4) {
            let c = h.shape.count == 4 ? h.shape[3] : 1
            guard h.shape[1] >= 1, h.shape[2] >= 1, h.shape[1] <= 65536, h.shape[2] <= 65536, c >= 1, c <= 4096 else {
                throw ContrastiveError(.format, "\(name): image shape \(h.shape) is empty or too large")
            }
            _ = try ImageDataset(pixels: Array(bytes[h.dataOffset...]), count: h.shape[0], height: h.shape[1], width: h.shape[2],
                                 channels: c, labels: nil)
        }
        return h
    }

    /// A dataset from an images .npy and an optional labels .npy (same N).
    public static func load(images: String, labels: String?) throws -> ImageDataset {
        let im = try readImages(images)
        var lab: [Int32]? = nil
        if let labels {
            let l = try readLabels(labels)
            guard l.count == im.count else {
                throw ContrastiveError(.format, "\(labels) holds \(l.count) labels for the \(im.count) images of \(images)")
            }
            lab = l
        }
        return try ImageDataset(pixels: im.pixels, count: im.count, height: im.height, width: im.width,
                                channels: im.channels, labels: lab)
    }

    /// A float array of any shape (C order) as (shape, values): float32 is read as is (either
    /// byte order), float64 is rounded to float32.
    public static func readFloat32(_ path: String) throws -> (shape: [Int], values: [Float]) {
        let (h, data) = try readRaw(path)
        return (h.shape, try decodeFloat32(h, data, name: path))
    }

    /// The data of a float32/float64 array (its header `h`) as float32 values.
    static func decodeFloat32(_ h: Header, _ data: [UInt8], name: String) throws -> [Float] {
        guard h.dtype.kind == UInt8(ascii: "f") else {
            throw ContrastiveError(.format, "\(name): expected a float32 array ('<f4'), found '\(h.dtype)'")
        }
        var out = [Float](repeating: 0, count: h.count)
        let big = h.dtype.bigEndian
        data.withUnsafeBytes { src in
            if h.dtype.size == 4 {
                for k in 0..<h.count {
                    let u = src.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self)
                    out[k] = Float(bitPattern: big ? UInt32(bigEndian: u) : UInt32(littleEndian: u))
                }
            } else {
                for k in 0..<h.count {
                    let u = src.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self)
                    out[k] = Float(Double(bitPattern: big ? UInt64(bigEndian: u) : UInt64(littleEndian: u)))
                }
            }
        }
        return out
    }

    // MARK: Writing

    /// The header bytes (magic, version, length, padded dict) of a little-endian float32 C-order
    /// array of `shape`: version 1.0, or 2.0 when the dict needs more than 65535 bytes; the
    /// data then starts at a multiple of 64, as numpy writes it.
    public static func header(shape: [Int], descr: String = "<f4") -> [UInt8] {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }".utf8)
        var prefix = 10
        var total = (prefix + dict.count + 1 + 63) / 64 * 64
        if total - prefix > 65535 {   // too long for version 1.0's 2-byte length
            prefix = 12
            total = (prefix + dict.count + 1 + 63) / 64 * 64
        }
        let v2 = prefix == 12
        dict += [UInt8](repeating: 0x20, count: total - prefix - dict.count - 1)
        dict.append(0x0A)
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, v2 ? 2 : 1, 0]
        let n = dict.count
        out += v2 ? [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24)]
                  : [UInt8(n & 0xFF), UInt8(n >> 8)]
        return out + dict
    }

    /// Write `floats` as a float32 array of `shape` to `path` atomically (temporary file,
    /// fsync, rename — an existing file is left intact on failure).
    public static func write(path: String, shape: [Int], floats: [Float]) throws {
        guard shape.count <= maxRank, shape.allSatisfy({ $0 >= 0 }) else {
            throw ContrastiveError.invalid("NPY.write: shape \(shape) (at most \(maxRank) non-negative dimensions)")
        }
        let n = try checkedByteCount(shape)
        guard n == floats.count else { throw ContrastiveError.shape("NPY.write: \(floats.count) values for shape \(shape)") }
        let head = header(shape: shape)
        #if _endian(big)
        let le = floats.map { $0.bitPattern.littleEndian }
        try head.withUnsafeBytes { h in try le.withUnsafeBytes { d in try FileIO.writeAtomically(path, parts: [h, d]) } }
        #else
        try head.withUnsafeBytes { h in try floats.withUnsafeBytes { d in try FileIO.writeAtomically(path, parts: [h, d]) } }
        #endif
    }
}
