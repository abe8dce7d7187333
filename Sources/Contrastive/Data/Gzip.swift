import CZlib

/// gzip (and zlib) decompression with a hard bound on the output size, so a small hostile
/// file cannot expand into an unbounded allocation.
public enum Gzip {
    /// Whether `bytes` start with the gzip magic number.
    public static func isGzip(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B }

    /// Inflate a gzip stream; throws `.format` for corrupt or truncated input and when the
    /// output would exceed `maxOutput` bytes.
    public static func decompress(_ input: [UInt8], maxOutput: Int) throws -> [UInt8] {
        var stream = z_stream()
        // 16 + MAX_WBITS: expect a gzip header.
        guard inflateInit2_(&stream, 16 + 15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ContrastiveError(.internal, "zlib: inflateInit failed")
        }
        defer { inflateEnd(&stream) }
        var out = [UInt8]()
        out.reserveCapacity(min(maxOutput, max(input.count * 4, 1 << 16)))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var status: Int32 = Z_OK
        try input.withUnsafeBufferPointer { inBuf in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.avail_in = UInt32(inBuf.count)
            repeat {
                try chunk.withUnsafeMutableBufferPointer { c in
                    stream.next_out = c.baseAddress
                    stream.avail_out = UInt32(c.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    guard status == Z_OK || status == Z_STREAM_END || (status == Z_BUF_ERROR && stream.avail_in > 0) else {
                        throw ContrastiveError(.format, status == Z_BUF_ERROR ? "gzip: truncated data" : "gzip: corrupt data (zlib status \(status))")
                    }
                    let produced = c.count - Int(stream.avail_out)
                    guard out.count + produced <= maxOutput else {
                        throw ContrastiveError(.format, "gzip: decompresses to more than the \(maxOutput) bytes allowed")
                    }
                    out.append(contentsOf: c[0..<produced])
                    if produced == 0 && stream.avail_in == 0 && status != Z_STREAM_END {
                        throw ContrastiveError(.format, "gzip: truncated data")
                    }
                }
            } while status != Z_STREAM_END
        }
        return out
    }
}
