// Augmenter behaviour: determinism, multi-crop shapes, presets and the text description,
// bad input, the PNG preview.
import Foundation
import Testing
import Contrastive

/// n random-ish colourful uint8 images h×w×c.
func augTestImages(n: Int, h: Int, w: Int, c: Int, seed: UInt64 = 3) -> [UInt8] {
    var rng = SeededRNG(seed)
    var out = [UInt8](repeating: 0, count: n * h * w * c)
    for i in 0..<out.count { out[i] = UInt8(truncatingIfNeeded: rng.next() >> 56) }
    return out
}

func augRun(_ aug: Augmenter, _ imgs: [UInt8], n: Int, h: Int, w: Int, c: Int, keys: [Int64]?, seed: UInt64 = 11, epoch: UInt64 = 0) throws -> [Float] {
    let total = try aug.outputCount(n: n, h: h, w: w, c: c)
    var out = [Float](repeating: .nan, count: total)
    try imgs.withUnsafeBufferPointer { ib in
        let batch = try ImageBatch(pixels: ib.baseAddress!, n: n, h: h, w: w, c: c)
        try out.withUnsafeMutableBufferPointer { ob in
            if let keys {
                try keys.withUnsafeBufferPointer { try aug.apply(batch, count: n, keys: $0.baseAddress, seed: seed, epoch: epoch, out: ob.baseAddress!, capacity: total) }
            } else {
                try aug.apply(batch, count: n, keys: nil, seed: seed, epoch: epoch, out: ob.baseAddress!, capacity: total)
            }
        }
    }
    return out
}

/// View v of image i from a view-major output.
func viewOf(_ out: [Float], aug: Augmenter, n: Int, h: Int, w: Int, c: Int, v: Int, i: Int) throws -> [Float] {
    var off = 0
    for u in 0..<v { let s = try aug.viewShape(u, h: h, w: w, c: c); off += n * s.0 * s.1 * s.2 }
    let s = try aug.viewShape(v, h: h, w: w, c: c)
    let per = s.0 * s.1 * s.2
    return Array(out[(off + i * per)..<(off + (i + 1) * per)])
}

@Suite("Augmenter", .serialized)
struct AugmentTests {
    @Test("same views whatever the thread count, batch split and order", arguments: ["simclr-cifar", "byol", "swav-cifar"])
    func determinism(_ preset: String) throws {
        let p = try AugmentPipeline.preset(preset, size: preset == "byol" ? 24 : 0)
        let aug = try Augmenter(pipeline: p)
        let (n, h, w, c) = (12, 28, 30, 3)
        let imgs = augTestImages(n: n, h: h, w: w, c: c)
        let keys = (0..<n).map { Int64(1000 + 7 * $0) }
        let one = try withThreads(1) { try augRun(aug, imgs, n: n, h: h, w: w, c: c, keys: keys) }
        let two = try withThreads(2) { try augRun(aug, imgs, n: n, h: h, w: w, c: c, keys: keys) }
        #expect(one == two, "1 vs 2 threads")
        #expect(!one.contains { !$0.isFinite })
        // Reversed order.
        var rimgs = [UInt8](), rkeys = [Int64]()
        let per = h * w * c
        for i in (0..<n).reversed() { rimgs += imgs[(i * per)..<((i + 1) * per)]; rkeys.append(keys[i]) }
        let rev = try augRun(aug, rimgs, n: n, h: h, w: w, c: c, keys: rkeys)
        // Split batch: first 5, then 7.
        let a = try augRun(aug, Array(imgs[0..<(5 * per)]), n: 5, h: h, w: w, c: c, keys: Array(keys[0..<5]))
        let b = try augRun(aug, Array(imgs[(5 * per)...]), n: 7, h: h, w: w, c: c, keys: Array(keys[5...]))
        for v in 0..<aug.viewCount {
            for i in 0..<n {
                let ref = try viewOf(one, aug: aug, n: n, h: h, w: w, c: c, v: v, i: i)
                #expect(try viewOf(rev, aug: aug, n: n, h: h, w: w, c: c, v: v, i: n - 1 - i) == ref, "reversed order, view \(v) image \(i)")
                let split = i < 5 ? try viewOf(a, aug: aug, n: 5, h: h, w: w, c: c, v: v, i: i)
                                  : try viewOf(b, aug: aug, n: 7, h: h, w: w, c: c, v: v, i: i - 5)
                #expect(split == ref, "split batch, view \(v) image \(i)")
            }
        }
        // Views differ from each other, and across epochs and seeds.
        #expect(try viewOf(one, aug: aug, n: n, h: h, w: w, c: c, v: 0, i: 0) != viewOf(one, aug: aug, n: n, h: h, w: w, c: c, v: 1, i: 0))
        let e1 = try augRun(aug, imgs, n: n, h: h, w: w, c: c, keys: keys, epoch: 1)
        #expect(e1 != one)
        let again = try augRun(aug, imgs, n: n, h: h, w: w, c: c, keys: keys)
        #expect(again == one, "run to run")
    }

    @Test("RNG: Philox4x32-10 known-answer vector and stream independence")
    func rng() {
        // Random123's kat_vectors: philox4x32 10 rounds, counter 0, key 0.
        let r = AugmentRNG.philox((0, 0, 0, 0), 0, 0)
        #expect(r.0 == 0x6627_e8d5 && r.1 == 0xe169_c58d && r.2 == 0xbc57_ac4c && r.3 == 0x9b00_dbd8)
        let r2 = AugmentRNG.philox((0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), 0xa409_3822, 0x299f_31d0)
        #expect(r2.0 == 0xd16c_fe09 && r2.1 == 0x94fd_cceb && r2.2 == 0x5001_e420 && r2.3 == 0x2412_6ea1)
        var a = AugmentRNG(seed: 1, epoch: 0, index: 5, view: 0), b = AugmentRNG(seed: 1, epoch: 0, index: 5, view: 1)
        var same = 0
        var sum = 0.0
        for _ in 0..<1000 { let u = a.uniform(); sum += u; if u == b.uniform() { same += 1 }; #expect(u >= 0 && u < 1) }
        #expect(same == 0)
        #expect(abs(sum / 1000 - 0.5) < 0.05)
    }

    @Test("multi-crop: SwAV 2×224 + 6×96 and 2×32 + 6×18")
    func multiCrop() throws {
        let swav = try Augmenter(pipeline: try AugmentPipeline.preset("swav"))
        #expect(swav.viewCount == 8)
        for v in 0..<8 {
            let s = try swav.viewShape(v, h: 256, w: 300, c: 3)
            #expect(s == (3, v < 2 ? 224 : 96, v < 2 ? 224 : 96) ? true : false, "view \(v): \(s)")
        }
        #expect(try swav.outputCount(n: 2, h: 256, w: 300, c: 3) == 2 * 3 * (2 * 224 * 224 + 6 * 96 * 96))
        let small = try Augmenter(pipeline: try AugmentPipeline.preset("swav-cifar"))
        let out = try augRun(small, augTestImages(n: 3, h: 32, w: 32, c: 3), n: 3, h: 32, w: 32, c: 3, keys: nil)
        #expect(out.count == 3 * 3 * (2 * 32 * 32 + 6 * 18 * 18))
        #expect(!out.contains { !$0.isFinite })
        let custom = try Augmenter(pipeline: try AugmentPipeline.preset("swav", size: 64, localSize: 24, locals: 2))
        #expect(custom.viewCount == 4)
        #expect(try custom.viewShape(3, h: 80, w: 80, c: 3) == (3, 24, 24) ? true : false)
    }

    @Test("presets round-trip through the text description", arguments: AugmentPipeline.presetNames)
    func roundTrip(_ name: String) throws {
        let p = try AugmentPipeline.preset(name)
        let text = p.description
        let q = try AugmentPipeline.parse(text)
        #expect(q == p, "\(name):\n\(text)")
        #expect(q.description == text)
    }

    @Test("preset parameters are the anchors' (DESIGN.md §7)")
    func presetParameters() throws {
        let byol = try AugmentPipeline.preset("byol")
        #expect(byol.views.count == 2)
        let blur1 = byol.views[0].ops.first { $0.kind == .blur }!, blur2 = byol.views[1].ops.first { $0.kind == .blur }!
        #expect(blur1.p == 1.0 && blur2.p == 0.1)
        #expect(byol.views[0].ops.contains { $0.kind == .solarize } == false)
        #expect(byol.views[1].ops.first { $0.kind == .solarize }!.p == 0.2)
        let moco = try AugmentPipeline.preset("mocov2")
        #expect(moco.views[0].ops[0].scale == (0.2, 1) ? true : false)
        let j = try AugmentPipeline.preset("simclr").views[0].ops.first { $0.kind == .jitter }!
        #expect(j.brightness == 0.8 && j.hue == 0.2 && j.p == 0.8)
        let jc = try AugmentPipeline.preset("simclr-cifar").views[0].ops.first { $0.kind == .jitter }!
        #expect(jc.brightness == 0.4 && jc.hue == 0.1)
        #expect(try AugmentPipeline.preset("simclr-cifar").views[0].ops.contains { $0.kind == .blur } == false)
    }

    @Test("a written description parses; every op runs on 1, 3 and 5 channels where allowed")
    func description() throws {
        let text = """
        # every op once
        precision float; normalize mean=0.5 std=0.25
        view: crop size=20x18 | resize size=24 | rot90 p=0.5 | rotate p=1 degrees=-20,20 interp=bilinear fill=0.5 | vflip p=0.5 | hflip | blur p=1 sigma=0.5,1 kernel=5 | solarize p=0.5 threshold=0.4 | equalize p=0.5
        view x2: rrc size=16x12 scale=0.3,0.9 ratio=0.5,2 | jitter p=1 brightness=0.2 contrast=0.3 saturation=0.4 hue=0.5 | grayscale p=0.5
        """
        let p = try AugmentPipeline.parse(text)
        #expect(p.views.count == 2 && p.views[1].copies == 2 && !p.quantize)
        #expect(try AugmentPipeline.parse(p.description) == p)
        let aug = try Augmenter(pipeline: p)
        for c in [1, 3] {
            let out = try augRun(aug, augTestImages(n: 4, h: 26, w: 22, c: c), n: 4, h: 26, w: 22, c: c, keys: nil)
            #expect(!out.contains { !$0.isFinite })
            #expect(try aug.viewShape(0, h: 26, w: 22, c: c) == (c, 24, 24) ? true : false)
            #expect(try aug.viewShape(1, h: 26, w: 22, c: c) == (c, 16, 12) ? true : false)
        }
        // Geometric + per-channel ops on 5 channels.
        let geo = try Augmenter(pipeline: try AugmentPipeline.parse(String(text.split(separator: "\n")[2])))
        let out5 = try augRun(geo, augTestImages(n: 2, h: 26, w: 22, c: 5), n: 2, h: 26, w: 22, c: 5, keys: nil)
        #expect(out5.count == 2 * 5 * 24 * 24)
    }

    func status(_ body: () throws -> Void) -> Status? {
        do { try body(); return nil } catch let e as ContrastiveError { return e.status } catch { return .internal }
    }

    @Test("bad descriptions and values give clear statuses")
    func badInput() throws {
        let format: [String] = [
            "view rrc size=32", "view: bogus p=1", "view: rrc size=3a2", "view: hflip p", "view: hflip q=1",
            "normalize mean=1", "precision double", "view x: hflip", "view: rrc", "view: hflip |", "frobnicate",
            "view: blur sigma=1,2,3", "view: rrc size=32 scale=0.1",
        ]
        for t in format { #expect(status { _ = try AugmentPipeline.parse(t) } == .format, "\(t)") }
        let invalid: [String] = [
            "view: hflip p=1.5", "view: hflip p=-0.1", "view: blur sigma=-1,2", "view: blur sigma=2,1", "view: jitter hue=0.7",
            "view: jitter brightness=-0.1", "view: rrc size=32 scale=0.9,0.1", "view: rrc size=0", "view: rrc size=32 p=0.5",
            "view: blur kernel=4", "view: solarize threshold=2", "view: rotate degrees=10,-10", "view: hflip p=nan",
            "normalize mean=0.5 std=0; view: hflip", "view x0: hflip", "", "view: rotate fill=2",
        ]
        for t in invalid { #expect(status { _ = try AugmentPipeline.parse(t) } == .invalidArgument, "\(t)") }
        #expect(status { _ = try AugmentPipeline.preset("simclr-imagenet") } == .invalidArgument)

        let aug = try Augmenter(pipeline: try AugmentPipeline.parse("view: crop size=40 | jitter p=1 brightness=0.5"))
        #expect(status { _ = try aug.viewShape(0, h: 32, w: 32, c: 3) } == .invalidArgument)   // crop larger than the image
        #expect(status { _ = try aug.viewShape(0, h: 48, w: 48, c: 4) } == .unsupported)       // jitter on 4 channels
        #expect(status { _ = try aug.viewShape(0, h: 0, w: 48, c: 3) } == .invalidArgument)    // zero-size image
        #expect(status { _ = try aug.viewShape(0, h: 48, w: 48, c: 0) } == .unsupported)
        let norm = try Augmenter(pipeline: try AugmentPipeline.parse("normalize mean=0.5,0.5 std=1,1; view: hflip"))
        #expect(status { _ = try norm.viewShape(0, h: 8, w: 8, c: 3) } == .shapeMismatch)
        // Too small an output buffer: an error before anything is written.
        let ok = try Augmenter(pipeline: try AugmentPipeline.preset("simclr-cifar"))
        let imgs = augTestImages(n: 2, h: 32, w: 32, c: 3)
        var out = [Float](repeating: 7, count: 100)
        let st = status {
            try imgs.withUnsafeBufferPointer { ib in
                let b = try ImageBatch(pixels: ib.baseAddress!, n: 2, h: 32, w: 32, c: 3)
                try out.withUnsafeMutableBufferPointer { try ok.apply(b, count: 2, keys: nil, seed: 0, epoch: 0, out: $0.baseAddress!, capacity: 100) }
            }
        }
        #expect(st == .bufferTooSmall)
        #expect(out.allSatisfy { $0 == 7 })
        // Tiny images: 1×1 works (RRC falls back, blur reflects).
        let tiny = try Augmenter(pipeline: try AugmentPipeline.preset("simclr", size: 8))
        let t = try augRun(tiny, [10, 200, 30], n: 1, h: 1, w: 1, c: 3, keys: nil)
        #expect(t.count == 2 * 3 * 64 && !t.contains { !$0.isFinite })
    }

    @Test("RandomResizedCrop boxes stay inside the image and follow scale")
    func rrcBoxes() {
        var rng = AugmentRNG(seed: 9, epoch: 0, index: 0, view: 0)
        var areaSum = 0.0
        for _ in 0..<2000 {
            let (t, l, h, w) = Geometry.rrcBox(h: 40, w: 50, scale: (0.08, 1), ratio: (0.75, 4.0 / 3.0), rng: &rng)
            #expect(t >= 0 && l >= 0 && h >= 1 && w >= 1 && t + h <= 40 && l + w <= 50)
            areaSum += Double(h * w) / 2000
        }
        let frac = areaSum / 2000
        #expect(frac > 0.35 && frac < 0.65, "mean area fraction \(frac)")
        // Impossible ratios fall back to a central crop with the ratio clamped.
        let (t, l, h, w) = Geometry.rrcBox(h: 10, w: 100, scale: (0.99, 1), ratio: (1, 1), rng: &rng)
        #expect(h == 10 && w == 10 && t == 0 && l == 45)
    }

    @Test("preview PNG: signature, IHDR, CRCs, stored deflate payload and Adler-32")
    func png() throws {
        let aug = try Augmenter(pipeline: try AugmentPipeline.preset("swav-cifar"))
        let imgs = augTestImages(n: 3, h: 32, w: 32, c: 3)
        let (rgb, w, h) = try imgs.withUnsafeBufferPointer { ib in
            try Preview.grid(aug, images: try ImageBatch(pixels: ib.baseAddress!, n: 3, h: 32, w: 32, c: 3), seed: 1, epoch: 0)
        }
        #expect(w == 9 * 34 + 2 && h == 3 * 34 + 2)
        let png = try PNG.encodeRGB(rgb, width: w, height: h)
        #expect(Array(png[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var pos = 8
        var idat = [UInt8](), types: [String] = []
        func be(_ p: Int) -> Int { Int(png[p]) << 24 | Int(png[p + 1]) << 16 | Int(png[p + 2]) << 8 | Int(png[p + 3]) }
        while pos < png.count {
            let len = be(pos)
            let type = String(decoding: png[(pos + 4)..<(pos + 8)], as: UTF8.self)
            let data = Array(png[(pos + 8)..<(pos + 8 + len)])
            let crc = PNG.crc32(png[(pos + 4)..<(pos + 8 + len)]) ^ 0xFFFF_FFFF
            #expect(UInt32(be(pos + 8 + len)) == crc, "CRC of \(type)")
            if type == "IHDR" { #expect(be(pos + 8) == w && be(pos + 12) == h && data[8] == 8 && data[9] == 2) }
            if type == "IDAT" { idat += data }
            types.append(type)
            pos += 12 + len
        }
        #expect(types == ["IHDR", "IDAT", "IEND"])
        // Inflate the stored blocks.
        var p = 2, raw = [UInt8](), final = false
        #expect(idat[0] == 0x78 && (Int(idat[0]) * 256 + Int(idat[1])) % 31 == 0)
        while !final {
            final = idat[p] & 1 == 1
            #expect(idat[p] >> 1 == 0)
            let n = Int(idat[p + 1]) | Int(idat[p + 2]) << 8
            #expect(n == ~(Int(idat[p + 3]) | Int(idat[p + 4]) << 8) & 0xFFFF)
            raw += idat[(p + 5)..<(p + 5 + n)]
            p += 5 + n
        }
        #expect(raw.count == h * (3 * w + 1))
        var a = 1, b = 0
        for x in raw { a = (a + Int(x)) % 65521; b = (b + a) % 65521 }
        let adler = Int(idat[p]) << 24 | Int(idat[p + 1]) << 16 | Int(idat[p + 2]) << 8 | Int(idat[p + 3])
        #expect(adler == b << 16 | a)
        #expect(Array(raw[1..<(1 + 3 * w)]) == Array(rgb[0..<(3 * w)]))
    }

    @Test("prefetcher yields the same batches as direct calls")
    func prefetcher() throws {
        let aug = try Augmenter(pipeline: try AugmentPipeline.preset("simclr-cifar"))
        let (n, h, w, c) = (10, 32, 32, 3)
        let imgs = augTestImages(n: n, h: h, w: w, c: c)
        let order = [3, 1, 4, 0, 9, 2, 6, 5, 8, 7]
        try imgs.withUnsafeBufferPointer { ib in
            let ds = try ImageBatch(pixels: ib.baseAddress!, n: n, h: h, w: w, c: c)
            let pf = try AugmentPrefetcher(augmenter: aug, dataset: ds, order: order, batchSize: 4, seed: 5, epoch: 2)
            #expect(pf.batchCount == 3)
            var seen = 0
            while let (rows, views) = try pf.next() {
                var sel = [UInt8]()
                for r in rows { sel += imgs[(r * h * w * c)..<((r + 1) * h * w * c)] }
                let direct = try augRun(aug, sel, n: rows.count, h: h, w: w, c: c, keys: rows.map { Int64($0) }, seed: 5, epoch: 2)
                #expect(Array(UnsafeBufferPointer(start: views, count: direct.count)) == direct)
                seen += rows.count
            }
            #expect(seen == n)
        }
    }
}
