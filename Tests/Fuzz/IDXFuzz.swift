// libFuzzer target for the IDX parser and the bounded gzip reader under it.
// Built by `make fuzz-idx`; findings go to Tests/ContrastiveTests/Fixtures/idx-corpus/,
// which the Swift tests replay.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if Gzip.isGzip(bytes) {
        guard let inflated = try? Gzip.decompress(bytes, maxOutput: 1 << 22) else { return 0 }
        bytes = inflated
    }
    if let (dims, slice) = try? IDX.parse(bytes, name: "fuzz") {
        if dims.count >= 3, dims.count <= 4, dims[1] >= 1, dims[2] >= 1 {
            _ = try? ImageDataset(pixels: Array(slice), count: dims[0], height: dims[1], width: dims[2],
                                  channels: dims.count == 4 ? dims[3] : 1, labels: nil)
        }
    }
    return 0
}
