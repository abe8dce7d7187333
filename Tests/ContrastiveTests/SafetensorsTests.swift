import Foundation
import Testing
import Contrastive

/// A safetensors file from a raw header string and data bytes.
func rawSafetensors(_ header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
    let h = Array(header.utf8)
    let n = declaredLength ?? UInt64(h.count)
    return (0..<8).map { UInt8((n >> (8 * UInt64($0))) & 0xFF) } + h + data
}

func parseStatus(_ bytes: [UInt8]) -> (Status?, String) {
    do { _ = try Safetensors.File(bytes: bytes); return (nil, "") }
    catch let e as ContrastiveError { return (e.status, e.message) }
    catch { return (.internal, "\(error)") }
}

@Suite("safetensors: format, validation, hostile input")
struct SafetensorsTests {
    func sample() throws -> [UInt8] {
        var w = Safetensors.Writer()
        w.metadata = [("arch", "test"), ("note", "quote \" backslash \\ newline \n é")]
        let a: [Float] = [1, -2, 3.5, .pi, 0, -0.0]
        try a.withUnsafeBufferPointer { try w.add("a.weight", shape: [2, 3], floats: $0.baseAddress!) }
        try w.add("n", shape: [], int64: [42])
        let b: [Float] = [7]
        try b.withUnsafeBufferPointer { try w.add("b", shape: [1], floats: $0.baseAddress!) }
        return w.bytes()
    }

    @Test("writer output parses back with values, dtypes, metadata; data is 8-byte aligned")
    func roundTrip() throws {
        let bytes = try sample()
        let f = try Safetensors.File(bytes: bytes)
        #expect(f.entries.map(\.name) == ["a.weight", "n", "b"])
        #expect(f.floats("a.weight") == [1, -2, 3.5, .pi, 0, -0.0])
        #expect(f.entry("n")?.dtype == .i64 && f.floats("n") == [42])
        #expect(f.meta("note") == "quote \" backslash \\ newline \n é")
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        #expect((8 + n) % 8 == 0)
    }

    @Test("files written by the official safetensors library decode in every supported dtype")
    func officialWriter() throws {
        let dir = Fixtures.dir("safetensors-interop")
        let f = try Safetensors.File(path: dir.appendingPathComponent("torch_written.safetensors").path)
        #expect(f.meta("written_by") == "safetensors.torch")
        for name in ["f32", "f64", "f16", "bf16", "i64", "i32", "u8", "scalar_i64"] {
            let expected = try NPY(dir.appendingPathComponent("expected_\(name).npy"))
            #expect(f.entry(name)?.shape == expected.shape, "\(name) shape")
            #expect(f.floats(name) == expected.floats, "\(name) values")
        }
    }

    @Test("a file cut at every byte is refused with a status, never a crash")
    func truncation() throws {
        let bytes = try sample()
        for cut in 0..<bytes.count {
            let (s, _) = parseStatus(Array(bytes[0..<cut]))
            #expect(s == .format, "cut at \(cut)")
        }
    }

    @Test("hostile headers", arguments: [
        ("huge header length", rawSafetensors("{}", declaredLength: 1 << 62), "header length"),
        ("header longer than file", rawSafetensors("{}", declaredLength: 100), "exceeds"),
        ("not an object", rawSafetensors("[1,2]"), "not a JSON object"),
        ("unknown dtype", rawSafetensors(#"{"a":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}}"#, data: [0]), "unsupported dtype"),
        ("duplicate names", rawSafetensors(#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#, data: [0, 0]), "duplicate"),
        ("overlapping offsets", rawSafetensors(#"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}"#, data: [0, 0, 0]), "overlaps"),
        ("hole", rawSafetensors(#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#, data: [0, 0]), "hole"),
        ("uncovered tail", rawSafetensors(#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, data: [0, 0]), "not covered"),
        ("offsets past the data", rawSafetensors(#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: [0, 0]), "outside"),
        ("size mismatch", rawSafetensors(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), "needs 12"),
        ("huge shape", rawSafetensors(#"{"a":{"dtype":"F32","shape":[2147483647,2147483647],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "too large"),
        ("negative dimension", rawSafetensors(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "bad dimension"),
        ("rank 9", rawSafetensors(#"{"a":{"dtype":"U8","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,1]}}"#, data: [0]), "rank"),
        ("deep nesting", rawSafetensors(String(repeating: "[", count: 100) + String(repeating: "]", count: 100)), "nesting"),
        ("metadata not strings", rawSafetensors(#"{"__metadata__":{"a":1}}"#), "not a string"),
        ("bad escape", rawSafetensors(#"{"a\q":1}"#), "escape"),
        ("trailing garbage", rawSafetensors(#"{} x"#), "trailing"),
        ("invalid UTF-8", rawSafetensors("{\"\u{1}\":1}"), "control"),
    ] as [(String, [UInt8], String)])
    func hostile(_ c: (String, [UInt8], String)) {
        let (s, m) = parseStatus(c.1)
        #expect(s == .format, "\(c.0): status \(String(describing: s))")
        #expect(m.contains(c.2), "\(c.0): message '\(m)' should mention '\(c.2)'")
    }

    @Test("random byte flips never crash the parser")
    func mutations() throws {
        let bytes = try sample()
        var rng = SeededRNG(77)
        for _ in 0..<3000 {
            var m = bytes
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                m[Int.random(in: 0..<m.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            let (s, msg) = parseStatus(m)
            #expect(s == nil || s == .format, "mutation gave \(String(describing: s)): \(msg)")
        }
    }

    @Test("regression corpus (fuzzer findings and seeds) is handled without crashing")
    func corpus() throws {
        let dir = Fixtures.dir("safetensors-corpus")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        #expect(!files.isEmpty)
        for f in files {
            let data = try Data(contentsOf: dir.appendingPathComponent(f))
            let (s, msg) = parseStatus([UInt8](data))
            #expect(s == nil || s == .format, "\(f) gave \(String(describing: s)): \(msg)")
        }
    }

    @Test("atomic write: a failed write leaves the previous file intact")
    func atomicity() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ctr-st-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("x.safetensors").path
        var w = Safetensors.Writer()
        let v: [Float] = [1, 2]
        try v.withUnsafeBufferPointer { try w.add("v", shape: [2], floats: $0.baseAddress!) }
        try w.write(to: path)
        // Writing into a folder that does not exist fails without touching anything else.
        #expect(throws: ContrastiveError.self) { try w.write(to: dir.appendingPathComponent("missing/x.safetensors").path) }
        // A read-only folder: the temporary file cannot be created; the old file survives.
        chmod(dir.path, 0o500)
        defer { chmod(dir.path, 0o700) }
        if getuid() != 0 {   // root ignores permissions
            #expect(throws: ContrastiveError.self) { try w.write(to: path) }
        }
        chmod(dir.path, 0o700)
        #expect(try Safetensors.File(path: path).floats("v") == [1, 2])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }
}
