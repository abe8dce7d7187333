// libFuzzer target for the NPY parser: the header reader and the data decoding of every
// loader path (images, labels, float32). Built by `make fuzz-npy`; findings go to
// Tests/ContrastiveTests/Fixtures/npy-corpus/, which the Swift tests replay.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? NPY.parseAll(bytes, name: "fuzz")
    return 0
}
