// libFuzzer target for the safetensors parser (and the JSON reader under it).
// Built by `make fuzz-safetensors` from this file plus the engine's IO sources:
// any crash, hang or sanitizer report is a bug; findings go to
// Tests/ContrastiveTests/Fixtures/safetensors-corpus/ where the Swift tests replay them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let file = try? Safetensors.File(bytes: bytes) {
        // Exercise the readers on whatever validated.
        for e in file.entries.prefix(16) { _ = file.floats(e.name) }
        _ = file.metadata.count
    }
    return 0
}
