import Foundation
import Testing
import Contrastive

/// A small IDX file: magic, dims, data.
func idxBytes(_ dims: [UInt32], data: [UInt8]) -> [UInt8] {
    var b: [UInt8] = [0, 0, 0x08, UInt8(dims.count)]
    for d in dims { b += [UInt8(d >> 24), UInt8((d >> 16) & 0xFF), UInt8((d >> 8) & 0xFF), UInt8(d & 0xFF)] }
    return b + data
}

func gzipBytes(_ data: [UInt8]) throws -> [UInt8] {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ctr-gz-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let f = dir.appendingPathComponent("x")
    try Data(data).write(to: f)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/gzip")
    p.arguments = ["-n", "-9", f.path]
    try p.run(); p.waitUntilExit()
    return [UInt8](try Data(contentsOf: dir.appendingPathComponent("x.gz")))
}

@Suite("Datasets: IDX (+gzip), splits, bad files")
struct DataTests {
    static let fashion = "/usr/share/datasets/fashion-mnist"

    @Test("Fashion-MNIST from Debian's dataset-fashion-mnist: 60k/10k, 28×28, ten balanced classes",
          .enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")))
    func fashionMNIST() throws {
        let train = try IDX.load(images: "\(Self.fashion)/train-images-idx3-ubyte.gz", labels: "\(Self.fashion)/train-labels-idx1-ubyte.gz")
        #expect(train.count == 60000 && train.height == 28 && train.width == 28 && train.channels == 1)
        #expect(train.numClasses == 10)
        #expect(Array(train.labels!.prefix(10)) == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
        #expect(train.pixels[0..<784].reduce(0) { $0 + Int($1) } == 76247)
        #expect(train.pixels[(59999 * 784)...].reduce(0) { $0 + Int($1) } == 16684)
        var hist = [Int](repeating: 0, count: 10)
        for l in train.labels! { hist[Int(l)] += 1 }
        #expect(hist == [Int](repeating: 6000, count: 10))
        let test = try IDX.load(images: "\(Self.fashion)/t10k-images-idx3-ubyte.gz", labels: nil)
        #expect(test.count == 10000 && test.labels == nil && test.pixels[0..<784].reduce(0) { $0 + Int($1) } == 33456)
    }

    @Test("seeded split: disjoint, complete, deterministic, fraction respected")
    func split() throws {
        let n = 103
        let ds = try ImageDataset(pixels: (0..<n).map { UInt8($0) }, count: n, height: 1, width: 1, channels: 1,
                                  labels: (0..<n).map { Int32($0 % 7) })
        let (a, b) = try ds.split(validationFraction: 0.2, seed: 5)
        #expect(b.count == 21 && a.count == 82)
        #expect(Set(a.pixels).union(Set(b.pixels)).count == n && Set(a.pixels).isDisjoint(with: Set(b.pixels)))
        let (a2, _) = try ds.split(validationFraction: 0.2, seed: 5)
        #expect(a.pixels == a2.pixels)
        let (a3, _) = try ds.split(validationFraction: 0.2, seed: 6)
        #expect(a.pixels != a3.pixels)
        #expect(a.labels! == a.pixels.map { Int32(Int($0) % 7) })
        #expect(throws: ContrastiveError.self) { _ = try ds.split(validationFraction: 1.5, seed: 0) }
    }

    @Test("IDX files: raw and gzip parse; every truncation and corruption is a clear error")
    func idxFiles() throws {
        let images = idxBytes([3, 2, 2], data: Array(0..<12))
        let labels = idxBytes([3], data: [1, 0, 4])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ctr-idx-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ name: String, _ b: [UInt8]) throws -> String { let u = dir.appendingPathComponent(name); try Data(b).write(to: u); return u.path }
        let ip = try write("i", images), lp = try write("l", labels)
        let ds = try IDX.load(images: ip, labels: lp)
        #expect(ds.count == 3 && ds.numClasses == 5 && ds.pixels == Array(0..<12))
        let gz = try write("i.gz", try gzipBytes(images))
        #expect(try IDX.load(images: gz, labels: lp).pixels == ds.pixels)

        func status(_ body: () throws -> Void) -> Status? {
            do { try body(); return nil } catch let e as ContrastiveError { return e.status } catch { return .internal }
        }
        for cut in 0..<images.count {
            let p = try write("cut", Array(images[0..<cut]))
            #expect(status { _ = try IDX.load(images: p, labels: nil) } == .format, "cut at \(cut)")
        }
        let gzb = try gzipBytes(images)
        for cut in 0..<gzb.count {
            let p = try write("cutgz", Array(gzb[0..<cut]))
            #expect(status { _ = try IDX.load(images: p, labels: nil) } == .format, "gzip cut at \(cut)")
        }
        #expect(status { _ = try IDX.load(images: try write("m", [1, 0, 8, 3] + Array(images[4...])), labels: nil) } == .format)
        #expect(status { _ = try IDX.load(images: try write("t", [0, 0, 0x0D, 3] + Array(images[4...])), labels: nil) } == .format)
        #expect(status { _ = try IDX.load(images: try write("h", idxBytes([0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], data: [1])), labels: nil) } == .format)
        #expect(status { _ = try IDX.load(images: ip, labels: try write("l2", idxBytes([4], data: [0, 1, 2, 3]))) } == .format)
        #expect(status { _ = try IDX.load(images: ip, labels: ip) } == .format)
        #expect(status { _ = try IDX.load(images: dir.appendingPathComponent("missing").path, labels: nil) } == .io)
        #expect(status { _ = try IDX.load(images: dir.path, labels: nil) } == .io)
        // A gzip bomb is cut off at the limit instead of filling memory.
        let bomb = try gzipBytes([UInt8](repeating: 0, count: 4 << 20))
        #expect(throws: ContrastiveError.self) { _ = try Gzip.decompress(bomb, maxOutput: 1 << 20) }
        #expect(try Gzip.decompress(bomb, maxOutput: 8 << 20).count == 4 << 20)
    }

    @Test("IDX regression corpus (fuzzer seeds and findings) is handled without crashing")
    func idxCorpus() throws {
        let dir = Fixtures.dir("idx-corpus")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        #expect(files.count >= 4)
        for f in files {
            var bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent(f)))
            // Every input either parses or is refused with FORMAT — never another status.
            do {
                if Gzip.isGzip(bytes) { bytes = try Gzip.decompress(bytes, maxOutput: 1 << 22) }
                _ = try IDX.parse(bytes, name: f)
            } catch let e as ContrastiveError {
                #expect(e.status == .format, "\(f): \(e)")
            }
        }
    }
}
