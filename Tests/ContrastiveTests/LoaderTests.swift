import Foundation
import Testing
import Contrastive

/// The engine's NPY reader (the test support has its own small `NPY` for fixtures).
typealias EngineNPY = Contrastive.NPY

/// A scratch folder removed at the end of a test.
final class TempDir {
    let url: URL
    init(_ tag: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("ctr-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    var path: String { url.path }
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let u = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard let f = fopen(u.path, "wb") else { throw ContrastiveError(.io, "cannot write \(u.path)") }
        let n = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
        guard n == bytes.count else { throw ContrastiveError(.io, "short write to \(u.path)") }
        return u.path
    }
}

/// The status a throwing body ends with (nil: it succeeded).
func statusOf(_ body: () throws -> Void) -> Status? {
    do { try body(); return nil } catch let e as ContrastiveError { return e.status } catch { return .internal }
}

/// The message a throwing body ends with ("" if it succeeded).
func messageOf(_ body: () throws -> Void) -> String {
    do { try body(); return "" } catch let e as ContrastiveError { return e.message } catch { return "\(error)" }
}

/// An NPY file: header (numpy's own layout, via EngineNPY.header) + data.
func npyBytes(descr: String, shape: [Int], data: [UInt8]) -> [UInt8] { EngineNPY.header(shape: shape, descr: descr) + data }

/// A raw header with an arbitrary dict text (for hostile headers).
func npyRaw(_ dict: String, major: UInt8 = 1, data: [UInt8] = []) -> [UInt8] {
    let d = Array(dict.utf8)
    var b: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, major, 0]
    if major == 1 { b += [UInt8(d.count & 0xFF), UInt8(d.count >> 8)] } else { b += [UInt8(d.count & 0xFF), UInt8(d.count >> 8), 0, 0] }
    return b + d + data
}

/// A deterministic test image: h × w × c bytes.
func pattern(_ h: Int, _ w: Int, _ c: Int, seed: Int = 0) -> [UInt8] {
    var px = [UInt8](repeating: 0, count: h * w * c)
    for y in 0..<h { for x in 0..<w { for k in 0..<c { px[(y * w + x) * c + k] = UInt8((x * 37 + y * 11 + k * 80 + seed * 13) % 256) } } }
    return px
}

@Suite("Loaders: CIFAR, NPY, PNG/JPEG image folders")
struct LoaderTests {
    // MARK: CIFAR

    /// A CIFAR record: label byte(s), then planar R, G, B planes whose values encode (channel, pixel).
    static func cifarRecord(labels: [UInt8], seed: Int) -> [UInt8] {
        var r = labels
        for c in 0..<3 { for p in 0..<1024 { r.append(UInt8((c * 100 + p + seed * 7) % 256)) } }
        return r
    }

    @Test("CIFAR-10: CHW → HWC, labels, several files in order, every truncation is FORMAT")
    func cifar10() throws {
        let dir = try TempDir("cifar")
        let a = try dir.write("data_batch_1.bin", Self.cifarRecord(labels: [3], seed: 0) + Self.cifarRecord(labels: [9], seed: 1))
        let b = try dir.write("data_batch_2.bin", Self.cifarRecord(labels: [0], seed: 2))
        let ds = try CIFAR.load(paths: [a, b], format: .cifar10)
        #expect(ds.count == 3 && ds.height == 32 && ds.width == 32 && ds.channels == 3)
        #expect(ds.labels == [3, 9, 0] && ds.numClasses == 10 && ds.classNames?[3] == "cat")
        // Pixel (y, x) channel c of record r sits at HWC offset ((y·32 + x)·3 + c).
        for r in 0..<3 { for (y, x) in [(0, 0), (0, 31), (5, 7), (31, 31)] { for c in 0..<3 {
            let p = y * 32 + x
            #expect(ds.pixels[r * 3072 + p * 3 + c] == UInt8((c * 100 + p + r * 7) % 256))
        } } }
        let full = Self.cifarRecord(labels: [1], seed: 0) + Self.cifarRecord(labels: [2], seed: 0)
        for cut in 0..<full.count {   // in memory (the file path is covered above and below)
            var px: [UInt8] = [], lb: [Int32] = []
            let s = statusOf { try CIFAR.append(Array(full[..<cut]), name: "cut", format: .cifar10, pixels: &px, labels: &lb) }
            #expect(s == (cut == 3073 ? nil : .format), "cut at \(cut)")
        }
        let cutFile = try dir.write("cut.bin", Array(full[..<5000]))
        #expect(messageOf { _ = try CIFAR.load(paths: [cutFile], format: .cifar10) }.contains("cut.bin"))
        let bad = try dir.write("bad.bin", Self.cifarRecord(labels: [1], seed: 0) + Self.cifarRecord(labels: [10], seed: 0))
        let m = messageOf { _ = try CIFAR.load(paths: [bad], format: .cifar10) }
        #expect(m.contains("bad.bin") && m.contains("record 1") && m.contains("label 10"), "\(m)")
        #expect(statusOf { _ = try CIFAR.load(paths: [a, dir.path + "/missing.bin"], format: .cifar10) } == .io)
        #expect(statusOf { _ = try CIFAR.load(paths: [], format: .cifar10) } == .invalidArgument)
        // A CIFAR-10 file read as CIFAR-100 (and vice versa) is a size error.
        #expect(statusOf { _ = try CIFAR.load(paths: [a], format: .cifar100Fine) } == .format)
    }

    @Test("CIFAR-100: fine labels by default, coarse on request, both ranges checked")
    func cifar100() throws {
        let dir = try TempDir("cifar100")
        let f = try dir.write("train.bin", Self.cifarRecord(labels: [4, 99], seed: 0) + Self.cifarRecord(labels: [19, 0], seed: 1))
        let fine = try CIFAR.load(paths: [f], format: .cifar100Fine)
        #expect(fine.labels == [99, 0] && fine.numClasses == 100 && fine.classNames?[99] == "worm")
        let coarse = try CIFAR.load(paths: [f], format: .cifar100Coarse)
        #expect(coarse.labels == [4, 19] && coarse.numClasses == 20 && coarse.classNames?[19] == "vehicles_2")
        #expect(coarse.pixels == fine.pixels && fine.pixels[3 * 5 + 1] == UInt8((100 + 5) % 256))
        let bad = try dir.write("bad.bin", Self.cifarRecord(labels: [20, 5], seed: 0))
        #expect(statusOf { _ = try CIFAR.load(paths: [bad], format: .cifar100Fine) } == .format)
        let bad2 = try dir.write("bad2.bin", Self.cifarRecord(labels: [2, 100], seed: 0))
        #expect(statusOf { _ = try CIFAR.load(paths: [bad2], format: .cifar100Coarse) } == .format)
        #expect(CIFAR.cifar100FineNames.count == 100 && CIFAR.cifar100FineNames == CIFAR.cifar100FineNames.sorted())
        #expect(CIFAR.cifar100CoarseNames.count == 20 && Set(CIFAR.cifar100CoarseNames).count == 20)
    }

    // MARK: NPY

    @Test("NPY float32: write → read round trips bit-exactly for several shapes; header aligned to 64")
    func npyFloatRoundTrip() throws {
        let dir = try TempDir("npy")
        for shape in [[], [0], [5], [2, 3], [2, 3, 4], [1, 1, 1, 1, 7]] {
            let n = shape.reduce(1, *)
            let values = (0..<n).map { Float($0) * 0.37 - 1.5 } + []
            let p = dir.path + "/x.npy"
            try EngineNPY.write(path: p, shape: shape, floats: values)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: p)))
            #expect(bytes[6] == 1 && (bytes.count - 4 * n) % 64 == 0 && bytes[bytes.count - 4 * n - 1] == 0x0A)
            let (s, v) = try EngineNPY.readFloat32(p)
            #expect(s == shape && v.map(\.bitPattern) == values.map(\.bitPattern), "\(shape)")
        }
        #expect(statusOf { try EngineNPY.write(path: dir.path + "/y.npy", shape: [2, 2], floats: [1]) } == .shapeMismatch)
        #expect(statusOf { try EngineNPY.write(path: dir.path + "/none/y.npy", shape: [1], floats: [1]) } == .io)
        // float64 is narrowed; big-endian float32 is swapped.
        var f8: [UInt8] = []
        for v in [1.5, -2.25] { withUnsafeBytes(of: v.bitPattern.littleEndian) { f8 += $0 } }
        let p8 = try dir.write("f8.npy", npyBytes(descr: "<f8", shape: [2], data: f8))
        #expect(try EngineNPY.readFloat32(p8).values == [1.5, -2.25])
        var be: [UInt8] = []
        withUnsafeBytes(of: Float(3.5).bitPattern.bigEndian) { be += $0 }
        #expect(try EngineNPY.readFloat32(try dir.write("be.npy", npyBytes(descr: ">f4", shape: [1], data: be))).values == [3.5])
        #expect(statusOf { _ = try EngineNPY.readFloat32(try dir.write("i4.npy", npyBytes(descr: "<i4", shape: [1], data: [1, 0, 0, 0]))) } == .format)
    }

    @Test("NPY writer output loads in numpy (when python3 with numpy is present)",
          .enabled(if: FileManager.default.fileExists(atPath: "/usr/bin/python3")))
    func npyNumpyInterop() throws {
        let dir = try TempDir("npy-np")
        let p = dir.path + "/e.npy"
        try EngineNPY.write(path: p, shape: [3, 2], floats: [1, 2, 3, 4, 5, 6.5])
        let proc = Process()
        proc.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        proc.arguments = ["-c", """
            import sys
            try:
                import numpy as np
            except ImportError:
                sys.exit(3)
            a = np.load(sys.argv[1], allow_pickle=False)
            assert a.dtype == np.float32 and a.shape == (3, 2) and a[2, 1] == 6.5, (a.dtype, a.shape)
            np.save(sys.argv[2], np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
            np.save(sys.argv[3], np.array([7, 0], dtype=np.int64))
            """, p, dir.path + "/im.npy", dir.path + "/lb.npy"]
        try proc.run(); proc.waitUntilExit()
        if proc.terminationStatus == 3 { return }   // no numpy: nothing to compare with
        #expect(proc.terminationStatus == 0)
        let ds = try EngineNPY.load(images: dir.path + "/im.npy", labels: dir.path + "/lb.npy")
        #expect(ds.count == 2 && ds.height == 3 && ds.width == 4 && ds.channels == 1 && ds.pixels == Array(0..<24) && ds.labels == [7, 0])
    }

    @Test("NPY images and labels: shapes, label dtypes, mismatches")
    func npyImages() throws {
        let dir = try TempDir("npy-im")
        let im4 = try dir.write("im4.npy", npyBytes(descr: "|u1", shape: [2, 3, 4, 3], data: pattern(6, 4, 3)))
        let im3 = try dir.write("im3.npy", npyBytes(descr: "|u1", shape: [2, 3, 4], data: Array(0..<24)))
        let l8 = try dir.write("l8.npy", npyBytes(descr: "<i8", shape: [2], data: [5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]))
        let l4 = try dir.write("l4.npy", npyBytes(descr: ">i4", shape: [2], data: [0, 0, 1, 2, 0, 0, 0, 3]))
        let l1 = try dir.write("l1.npy", npyBytes(descr: "|u1", shape: [2], data: [200, 4]))
        let d4 = try EngineNPY.load(images: im4, labels: l8)
        #expect(d4.count == 2 && d4.height == 3 && d4.width == 4 && d4.channels == 3 && d4.pixels == pattern(6, 4, 3) && d4.labels == [5, 1])
        #expect(try EngineNPY.load(images: im3, labels: l4).labels == [258, 3])
        #expect(try EngineNPY.load(images: im3, labels: l1).labels == [200, 4])
        // The largest label accepted (numClasses is computed without Int32 overflow).
        let lmax = try dir.write("lmax.npy", npyBytes(descr: "<i4", shape: [2], data: [0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F]))
        #expect(try EngineNPY.load(images: im3, labels: lmax).numClasses == Int(Int32.max) + 1)
        #expect(try EngineNPY.load(images: im3, labels: nil).channels == 1)
        let neg = try dir.write("neg.npy", npyBytes(descr: "<i4", shape: [2], data: [0, 0, 0, 0, 255, 255, 255, 255]))
        #expect(messageOf { _ = try EngineNPY.load(images: im3, labels: neg) }.contains("image 1"))
        let l3 = try dir.write("l3.npy", npyBytes(descr: "|u1", shape: [3], data: [0, 1, 2]))
        #expect(statusOf { _ = try EngineNPY.load(images: im3, labels: l3) } == .format)
        let big = try dir.write("big.npy", npyBytes(descr: "<u8", shape: [1], data: [0, 0, 0, 0x80, 0, 0, 0, 0]))
        #expect(statusOf { _ = try EngineNPY.load(images: im3, labels: big) } == .format)
        let fl = try dir.write("fl.npy", npyBytes(descr: "<f4", shape: [2, 3, 4], data: [UInt8](repeating: 0, count: 96)))
        #expect(statusOf { _ = try EngineNPY.load(images: fl, labels: nil) } == .format)
        let flab = try dir.write("flab.npy", npyBytes(descr: "<f4", shape: [2], data: [UInt8](repeating: 0, count: 8)))
        #expect(statusOf { _ = try EngineNPY.load(images: im3, labels: flab) } == .format)
        let r2 = try dir.write("r2.npy", npyBytes(descr: "|u1", shape: [2, 12], data: Array(0..<24)))
        #expect(statusOf { _ = try EngineNPY.load(images: r2, labels: nil) } == .format)
        #expect(statusOf { _ = try EngineNPY.load(images: dir.path + "/missing.npy", labels: nil) } == .io)
        // Every truncation of a valid file is FORMAT.
        let whole = npyBytes(descr: "|u1", shape: [2, 3, 4], data: Array(0..<24))
        for cut in 0..<whole.count {
            #expect(statusOf { try EngineNPY.parseAll(Array(whole[..<cut]), name: "cut") } == .format, "cut at \(cut)")
            if cut % 16 == 0 {
                let p = try dir.write("cut.npy", Array(whole[..<cut]))
                #expect(statusOf { _ = try EngineNPY.load(images: p, labels: nil) } == .format, "file cut at \(cut)")
            }
        }
        #expect(statusOf { _ = try EngineNPY.load(images: try dir.write("long.npy", whole + [0]), labels: nil) } == .format)
    }

    @Test("NPY hostile headers: huge shapes, bad dtypes, Fortran order, pickle, malformed dicts → FORMAT")
    func npyHostile() throws {
        let d = "'descr': '|u1', 'fortran_order': False"
        let cases: [(String, [UInt8])] = [
            ("huge shape", npyRaw("{\(d), 'shape': (4611686018427387904, 4611686018427387904), }")),
            ("overflowing product", npyRaw("{\(d), 'shape': (3037000500, 3037000500, 3037000500), }")),
            ("shape bigger than the file", npyRaw("{\(d), 'shape': (1000000, 32, 32, 3), }", data: [1, 2, 3])),
            ("20-digit dimension", npyRaw("{\(d), 'shape': (99999999999999999999,), }")),
            ("negative dimension", npyRaw("{\(d), 'shape': (-1, 2, 2), }")),
            ("not a tuple", npyRaw("{\(d), 'shape': (4), }", data: [1, 2, 3, 4])),
            ("40 dimensions", npyRaw("{\(d), 'shape': (\(Array(repeating: "1", count: 40).joined(separator: ","))), }", data: [0])),
            ("pickle", npyRaw("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", data: [0x80, 2, 0x4E, 0x2E])),
            ("object big-endian", npyRaw("{'descr': '>O8', 'fortran_order': False, 'shape': (1,), }")),
            ("complex", npyRaw("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0, 0, 0, 0, 0])),
            ("unicode", npyRaw("{'descr': '<U4', 'fortran_order': False, 'shape': (1,), }")),
            ("structured", npyRaw("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0])),
            ("fortran", npyRaw("{'descr': '|u1', 'fortran_order': True, 'shape': (1, 2, 2), }", data: [1, 2, 3, 4])),
            ("missing shape", npyRaw("{\(d), }")),
            ("duplicate key", npyRaw("{\(d), 'shape': (1,), 'shape': (1,), }", data: [0])),
            ("unknown key", npyRaw("{\(d), 'shape': (1,), 'x': 1, }", data: [0])),
            ("fortran None", npyRaw("{'descr': '|u1', 'fortran_order': None, 'shape': (1,), }", data: [0])),
            ("unterminated", npyRaw("{'descr': '|u1")),
            ("trailing text", npyRaw("{\(d), 'shape': (1,), } x", data: [0])),
            ("escape", npyRaw("{'descr': '\\x7c\\x75\\x31', 'fortran_order': False, 'shape': (1,), }", data: [0])),
            ("version 4", npyRaw("{\(d), 'shape': (1,), }", major: 4, data: [0])),
            ("header length past the end", [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 0xFF, 0xFF, 0x7B]),
            ("huge v2 header", [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0, 0xFF, 0xFF, 0xFF, 0x7F, 0x7B]),
            ("bad magic", [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x5A, 1, 0, 0, 0]),
        ]
        for (what, bytes) in cases {
            #expect(statusOf { _ = try EngineNPY.parseHeader(bytes, name: what) } == .format, "\(what)")
        }
        #expect(messageOf { _ = try EngineNPY.parseHeader(cases[7].1, name: "p") }.contains("pickle"))
        #expect(messageOf { _ = try EngineNPY.parseHeader(cases[12].1, name: "f") }.contains("Fortran"))
        // Version 2.0 and 3.0 headers and Python-2 longs are accepted.
        let v2 = npyRaw("{'descr': '<f4', 'fortran_order': False, 'shape': (1L,), }", major: 2, data: [0, 0, 0x80, 0x3F])
        #expect(try EngineNPY.parseHeader(v2, name: "v2").shape == [1])
        let v3 = npyRaw("{\"descr\": \"|u1\", \"fortran_order\": False, \"shape\": (2, 1)}", major: 3, data: [1, 2])
        #expect(try EngineNPY.parseHeader(v3, name: "v3").count == 2)
    }

    @Test("NPY regression corpus (fuzzer seeds and findings) parses or is refused with FORMAT")
    func npyCorpus() throws {
        let dir = Fixtures.dir("npy-corpus")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        #expect(files.count >= 4)
        for f in files {
            let bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent(f)))
            do {
                try EngineNPY.parseAll(bytes, name: f)
            } catch let e as ContrastiveError {
                #expect(e.status == .format, "\(f): \(e)")
            }
        }
    }

    // MARK: PNG / JPEG

    @Test("PNG round trips losslessly for 1–4 channels; JPEG within a few levels")
    func codecRoundTrips() throws {
        for c in 1...4 {
            let img = try DecodedImage(pixels: pattern(9, 13, c), height: 9, width: 13, channels: c)
            let back = try ImageCodec.decode(try ImageCodec.encodePNG(img), name: "png\(c)")
            #expect(back.channels == c && back.height == 9 && back.width == 13 && back.pixels == img.pixels)
        }
        for c in [1, 3] {
            // Smooth content so JPEG's error stays small.
            var px = [UInt8](repeating: 0, count: 16 * 24 * c)
            for y in 0..<16 { for x in 0..<24 { for k in 0..<c { px[(y * 24 + x) * c + k] = UInt8(60 + x * 4 + y * 2 + k * 20) } } }
            let img = try DecodedImage(pixels: px, height: 16, width: 24, channels: c)
            let back = try ImageCodec.decode(try ImageCodec.encodeJPEG(img, quality: 98), name: "jpg\(c)")
            #expect(back.channels == c && back.height == 16 && back.width == 24)
            let maxDiff = zip(back.pixels, px).map { abs(Int($0) - Int($1)) }.max() ?? 0
            #expect(maxDiff <= 6, "JPEG max difference \(maxDiff)")
        }
    }

    @Test("PNG and JPEG: every truncation and many corruptions are FORMAT errors, never a crash")
    func codecHostile() throws {
        let img = try DecodedImage(pixels: pattern(8, 8, 3), height: 8, width: 8, channels: 3)
        for (kind, file) in [("png", try ImageCodec.encodePNG(img)), ("jpeg", try ImageCodec.encodeJPEG(img, quality: 80))] {
            for cut in 0..<file.count {
                #expect(statusOf { _ = try ImageCodec.decode(Array(file[..<cut]), name: "\(kind) cut") } == .format, "\(kind) cut at \(cut)")
            }
            var rng = SeededRNG(7)
            for trial in 0..<400 {   // flip random bytes: decode or FORMAT
                var b = file
                for _ in 0..<(1 + trial % 4) { b[Int.random(in: 0..<b.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng) }
                let s = statusOf { _ = try ImageCodec.decode(b, name: "\(kind) flip") }
                #expect(s == nil || s == .format, "\(kind) trial \(trial): \(String(describing: s))")
            }
        }
        // Huge dimensions are refused from the header, before anything is allocated.
        var png = try ImageCodec.encodePNG(img)
        png[16...23] = [0, 0x01, 0x86, 0xA0, 0, 0x01, 0x86, 0xA0]   // IHDR 100000 × 100000 (CRC now wrong too)
        #expect(statusOf { _ = try ImageCodec.decode(png, name: "huge png") } == .format)
        let big = try DecodedImage(pixels: pattern(64, 64, 1), height: 64, width: 64, channels: 1)
        #expect(messageOf { _ = try ImageCodec.decode(try ImageCodec.encodePNG(big), name: "x", maxSide: 32) }.contains("larger"))
        #expect(messageOf { _ = try ImageCodec.decode(try ImageCodec.encodeJPEG(big), name: "x", maxBytes: 1000) }.contains("bytes"))
        var jpg = try ImageCodec.encodeJPEG(img)
        if let sof = (0..<(jpg.count - 8)).first(where: { jpg[$0] == 0xFF && jpg[$0 + 1] == 0xC0 }) {
            jpg[(sof + 5)...(sof + 8)] = [0x75, 0x30, 0x75, 0x30]   // 30000 × 30000
            #expect(messageOf { _ = try ImageCodec.decode(jpg, name: "huge jpeg") }.contains("larger"))
        } else {
            Issue.record("no SOF0 marker in the encoded JPEG")
        }
        #expect(statusOf { _ = try ImageCodec.decode(Array("GIF89a......".utf8), name: "gif") } == .format)
    }

    // MARK: Folders

    /// root/b/…, root/a/… (sorted: a = 0, b = 1), mixed sizes, PNG and JPEG, a stray text file.
    static func makeFolder(_ dir: TempDir) throws {
        let rgb = try DecodedImage(pixels: [UInt8](repeating: 0, count: 12 * 16 * 3).enumerated().map { i, _ in i % 3 == 0 ? 200 : 50 },
                                   height: 12, width: 16, channels: 3)
        let grey = try DecodedImage(pixels: [UInt8](repeating: 90, count: 10 * 10), height: 10, width: 10, channels: 1)
        let rgba = try DecodedImage(pixels: [UInt8](repeating: 0, count: 8 * 8 * 4).enumerated().map { i, _ in i % 4 == 3 ? 0 : 120 },
                                    height: 8, width: 8, channels: 4)
        try dir.write("b/one.png", try ImageCodec.encodePNG(rgb))
        try dir.write("b/sub/two.JPG", try ImageCodec.encodeJPEG(grey, quality: 95))
        try dir.write("a/zz.png", try ImageCodec.encodePNG(rgba))
        try dir.write("a/readme.txt", Array("not an image".utf8))
        try dir.write("a/.hidden.png", Array("hidden".utf8))
    }

    @Test("image folder: sorted classes, recursion, channel conversion, antialiased resize")
    func folder() throws {
        let dir = try TempDir("folder")
        try Self.makeFolder(dir)
        var o = ImageFolder.Options()
        o.height = 6; o.width = 8
        let ds = try ImageFolder.load(root: dir.path, options: o)
        #expect(ds.count == 3 && ds.height == 6 && ds.width == 8 && ds.channels == 3)
        #expect(ds.labels == [0, 1, 1] && ds.classNames == ["a", "b"] && ds.numClasses == 2)
        let b = ds.imageBytes
        // Constant images stay constant through the resize; alpha is dropped; grey is copied.
        #expect(ds.pixels[0..<b].allSatisfy { $0 == 120 })
        #expect(stride(from: b, to: 2 * b, by: 3).allSatisfy { ds.pixels[$0] == 200 && ds.pixels[$0 + 1] == 50 && ds.pixels[$0 + 2] == 50 })
        #expect(ds.pixels[(2 * b)...].allSatisfy { abs(Int($0) - 90) <= 2 })
        o.channels = 1
        let g = try ImageFolder.load(root: dir.path, options: o)
        #expect(g.channels == 1 && g.pixels[0..<48].allSatisfy { $0 == 120 })
        // PIL's luma for (200, 50, 50): (19595·200 + 38470·50 + 7471·50 + 32768) >> 16 = 95.
        #expect(g.pixels[48..<96].allSatisfy { $0 == 95 })
        // Flat layout of one class folder: unlabelled.
        var f = ImageFolder.Options(); f.layout = .flat; f.height = 4; f.width = 4
        let flat = try ImageFolder.load(root: dir.path + "/b", options: f)
        #expect(flat.count == 1 && flat.labels == nil && flat.classNames == nil)
        // The resize agrees with the augmentation's resize on a non-trivial image.
        let px = pattern(20, 30, 3)
        let dir2 = try TempDir("folder2")
        try dir2.write("x.png", try ImageCodec.encodePNG(try DecodedImage(pixels: px, height: 20, width: 30, channels: 3)))
        var r = ImageFolder.Options(); r.height = 7; r.width = 11
        let one = try ImageFolder.load(root: dir2.path, options: r)
        #expect(one.count == 1 && one.pixels.count == 7 * 11 * 3)
        let mean = Double(one.pixels.reduce(0) { $0 + Int($1) }) / Double(one.pixels.count)
        let mean0 = Double(px.reduce(0) { $0 + Int($1) }) / Double(px.count)
        #expect(abs(mean - mean0) < 12, "means \(mean) vs \(mean0)")
        // Same size kept when asked for none.
        let keep = try ImageFolder.load(root: dir2.path, options: ImageFolder.Options())
        #expect(keep.height == 20 && keep.width == 30 && keep.pixels == px)
    }

    @Test("image folder errors: mixed sizes, corrupt file named, empty class, missing root, bad options")
    func folderErrors() throws {
        let dir = try TempDir("folder-err")
        try Self.makeFolder(dir)
        #expect(statusOf { _ = try ImageFolder.load(root: dir.path, options: ImageFolder.Options()) } == .shapeMismatch)
        var o = ImageFolder.Options(); o.height = 8; o.width = 8
        try dir.write("b/broken.png", Array(try ImageCodec.encodePNG(try DecodedImage(pixels: pattern(8, 8, 3), height: 8, width: 8, channels: 3)).prefix(40)))
        let m = messageOf { _ = try ImageFolder.load(root: dir.path, options: o) }
        #expect(m.contains("broken.png"), "\(m)")
        try FileManager.default.removeItem(atPath: dir.path + "/b/broken.png")
        try dir.write("b/fake.jpeg", Array("plain text".utf8))
        #expect(messageOf { _ = try ImageFolder.load(root: dir.path, options: o) }.contains("fake.jpeg"))
        try FileManager.default.removeItem(atPath: dir.path + "/b/fake.jpeg")
        try FileManager.default.createDirectory(atPath: dir.path + "/c", withIntermediateDirectories: true)
        #expect(messageOf { _ = try ImageFolder.load(root: dir.path, options: o) }.contains("'c'"))
        try FileManager.default.removeItem(atPath: dir.path + "/c")
        #expect(try ImageFolder.load(root: dir.path, options: o).count == 3)
        #expect(statusOf { _ = try ImageFolder.load(root: dir.path + "/nope", options: o) } == .io)
        #expect(statusOf { _ = try ImageFolder.load(root: dir.path + "/a/zz.png", options: o) } == .io)
        let empty = try TempDir("folder-empty")
        #expect(statusOf { _ = try ImageFolder.load(root: empty.path, options: o) } == .format)
        var bad = o; bad.channels = 2
        #expect(statusOf { _ = try ImageFolder.load(root: dir.path, options: bad) } == .invalidArgument)
        bad = o; bad.width = 0
        #expect(statusOf { _ = try ImageFolder.load(root: dir.path, options: bad) } == .invalidArgument)
        bad = o; bad.height = 20000; bad.width = 20000
        #expect(statusOf { _ = try ImageFolder.load(root: dir.path, options: bad) } == .invalidArgument)
    }

    @Test("image folder: many files (parallel parts) load in sorted order; the first bad file in order is reported")
    func folderParallel() throws {
        let dir = try TempDir("folder-many")
        for k in 0..<48 {
            let img = try DecodedImage(pixels: [UInt8](repeating: UInt8(k * 5), count: 6 * 9 * 3), height: 6, width: 9, channels: 3)
            let data = k % 2 == 0 ? try ImageCodec.encodePNG(img) : try ImageCodec.encodeJPEG(img, quality: 100)
            try dir.write("c\(k % 3)/img\(String(k + 100)).\(k % 2 == 0 ? "png" : "jpg")", data)
        }
        var o = ImageFolder.Options(); o.height = 3; o.width = 4
        let ds = try ImageFolder.load(root: dir.path, options: o)
        #expect(ds.count == 48 && ds.classNames == ["c0", "c1", "c2"] && ds.labels == (0..<48).map { Int32($0 / 16) })
        // Class c0 holds k = 0, 3, 6, ...: image j of class m is k = 3·j + m, constant 5k.
        for i in 0..<48 {
            let k = 3 * (i % 16) + i / 16
            let v = ds.pixels[i * ds.imageBytes..<(i + 1) * ds.imageBytes]
            #expect(v.allSatisfy { abs(Int($0) - k * 5) <= 1 }, "image \(i)")
        }
        try dir.write("c2/img190.png", Array("junk".utf8))   // late in the order
        try dir.write("c1/img105.png", [0x89, 0x50, 0x4E, 0x47])   // earlier: this one is reported
        let m = messageOf { _ = try ImageFolder.load(root: dir.path, options: o) }
        #expect(m.contains("c1/img105.png"), "\(m)")
    }

    @Test("committed image fixtures decode to the pattern they were made from (regenerate: CTR_WRITE_IMAGE_FIXTURES=1)")
    func imageFixtures() throws {
        let dir = Fixtures.dir("images")
        let rgb = try DecodedImage(pixels: Self.fixturePattern(c: 3), height: 12, width: 16, channels: 3)
        let grey = try DecodedImage(pixels: Self.fixturePattern(c: 1), height: 12, width: 16, channels: 1)
        if ProcessInfo.processInfo.environment["CTR_WRITE_IMAGE_FIXTURES"] == "1" {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("classes/red"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("classes/grey"), withIntermediateDirectories: true)
            try Data(try ImageCodec.encodeJPEG(rgb, quality: 95)).write(to: dir.appendingPathComponent("classes/red/rgb.jpg"))
            try Data(try ImageCodec.encodeJPEG(grey, quality: 95)).write(to: dir.appendingPathComponent("classes/grey/grey.jpeg"))
            try Data(try ImageCodec.encodePNG(rgb)).write(to: dir.appendingPathComponent("classes/red/rgb.png"))
        }
        let j = try ImageCodec.decode([UInt8](try Data(contentsOf: dir.appendingPathComponent("classes/red/rgb.jpg"))), name: "rgb.jpg")
        #expect(j.channels == 3 && (zip(j.pixels, rgb.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 99) <= 8)
        let p = try ImageCodec.decode([UInt8](try Data(contentsOf: dir.appendingPathComponent("classes/red/rgb.png"))), name: "rgb.png")
        #expect(p.pixels == rgb.pixels)
        let g = try ImageCodec.decode([UInt8](try Data(contentsOf: dir.appendingPathComponent("classes/grey/grey.jpeg"))), name: "grey.jpeg")
        #expect(g.channels == 1 && (zip(g.pixels, grey.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 99) <= 8)
    }

    /// The fixture images: a smooth 12 × 16 gradient, red-heavy in colour.
    static func fixturePattern(c: Int) -> [UInt8] {
        var px = [UInt8](repeating: 0, count: 12 * 16 * c)
        for y in 0..<12 { for x in 0..<16 { for k in 0..<c { px[(y * 16 + x) * c + k] = UInt8(c == 1 ? 40 + 8 * x + 4 * y : [180 + 2 * x, 40 + 3 * y, 30 + x][k]) } } }
        return px
    }
}

