/// The IDX format of MNIST and Fashion-MNIST: a magic number 0x0000TTDD (type TT, DD
/// dimensions), DD big-endian uint32 sizes, then the data. Only unsigned bytes (0x08) are
/// read; files may be gzip-compressed. Every size is checked against the bytes present.
public enum IDX {
    /// Largest decompressed file accepted.
    public static let maxBytes = 1 << 32

    /// Parse an IDX file's bytes (already decompressed): its dimensions and the data slice.
    public static func parse(_ bytes: [UInt8], name: String) throws -> (dims: [Int], data: ArraySlice<UInt8>) {
        guard bytes.count >= 4 else { throw ContrastiveError(.format, "\(name): \(bytes.count) bytes, too short for an IDX header") }
        guard bytes[0] == 0, bytes[1] == 0 else { throw ContrastiveError(.format, "\(name): not an IDX file (bad magic)") }
        guard bytes[2] == 0x08 else { throw ContrastiveError(.format, "\(name): IDX element type 0x\(String(bytes[2], radix: 16)) is not unsigned byte (0x08)") }
        let nd = Int(bytes[3])
        guard nd >= 1, nd <= 4 else { throw ContrastiveError(.format, "\(name): \(nd) dimensions (1 to 4 supported)") }
        guard bytes.count >= 4 + 4 * nd else { throw ContrastiveError(.format, "\(name): truncated IDX header") }
        var dims: [Int] = []
        for d in 0..<nd {
            let o = 4 + 4 * d
            dims.append(Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3]))
        }
        guard let need = try? checkedByteCount(dims) else {
            throw ContrastiveError(.format, "\(name): dimensions \(dims) describe more data than any file may hold")
        }
        let start = 4 + 4 * nd
        guard bytes.count - start == need else {
            throw ContrastiveError(.format, "\(name): \(bytes.count - start) data bytes for dimensions \(dims) (\(need) expected)")
        }
        return (dims, bytes[start...])
    }

    /// Read a file, gunzipping it when it starts with the gzip magic.
    public static func readFile(_ path: String) throws -> [UInt8] {
        let raw = try FileIO.read(path, maxBytes: maxBytes)
        return Gzip.isGzip(raw) ? try Gzip.decompress(raw, maxOutput: maxBytes) : raw
    }

    /// Images (N, H, W) or (N, H, W, C) with optional labels (N) → a dataset.
    public static func load(images: String, labels: String?) throws -> ImageDataset {
        let (dims, data) = try parse(try readFile(images), name: images)
        guard dims.count == 3 || dims.count == 4 else {
            throw ContrastiveError(.format, "\(images): images need 3 or 4 dimensions, found \(dims)")
        }
        guard dims[1] >= 1, dims[2] >= 1 else { throw ContrastiveError(.format, "\(images): empty images \(dims)") }
        var lab: [Int32]? = nil
        if let labels {
            let (ld, ldata) = try parse(try readFile(labels), name: labels)
            guard ld.count == 1 else { throw ContrastiveError(.format, "\(labels): labels need 1 dimension, found \(ld)") }
            guard ld[0] == dims[0] else {
                throw ContrastiveError(.format, "\(labels) holds \(ld[0]) labels for the \(dims[0]) images of \(images)")
            }
            lab = ldata.map { Int32($0) }
        }
        return try ImageDataset(pixels: Array(data), count: dims[0], height: dims[1], width: dims[2],
                                channels: dims.count == 4 ? dims[3] : 1, labels: lab)
    }
}
