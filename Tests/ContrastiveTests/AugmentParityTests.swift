// Each augmentation op against torchvision.transforms.v2.functional with fixed parameters
// (fixtures from Fixtures/gen_augment_fixtures.py). Tolerances:
// - uint8 path: ≤ 1 grey level. torch's uint8 resize uses int16 fixed-point weights and the
//   colour ops floor/truncate float32 products (luma, blends, HSV) — a 1-ulp difference in a
//   product sitting on an integer boundary moves the result by one level. Most cases match
//   exactly; the test also bounds the share of differing values (≤ 5 %).
// - float path: |ours − torch| ≤ 1e-4 + 1e-4·|torch| on the 0…1 scale (float32 rounding of
//   differently ordered sums; equalize quantises internally, as torchvision).
import Foundation
import Testing
import Contrastive

struct AugmentFixture {
    let name: String
    let meta: [String: String]
    let x: NPY, yU8: NPY, yF32: NPY
    init(_ name: String) throws {
        let d = Fixtures.dir("augment").appendingPathComponent(name)
        self.name = name
        meta = try Fixtures.meta(d)
        x = try NPY(d.appendingPathComponent("x.npy"))
        yU8 = try NPY(d.appendingPathComponent("y_u8.npy"))
        yF32 = try NPY(d.appendingPathComponent("y_f32.npy"))
    }
    func d(_ k: String) -> Double { Double(meta[k] ?? "") ?? .nan }
    func i(_ k: String) -> Int { Int(meta[k] ?? "") ?? -1 }

    static func all() -> [String] {
        let d = Fixtures.dir("augment")
        let items = (try? FileManager.default.contentsOfDirectory(atPath: d.path)) ?? []
        return items.filter { !$0.hasPrefix(".") && !$0.hasSuffix(".txt") }.sorted()
    }
}

/// Run the op of a fixture through the engine on the planar 0…255 image; returns C×H×W floats.
func runFixtureOp(_ f: AugmentFixture, quantize: Bool) throws -> [Float] {
    let (H, W, C) = (f.x.shape[0], f.x.shape[1], f.x.shape[2])
    let s = try AugmentScratch()
    let a = try s.a.reserve(C * H * W), b = try s.b.reserve(4 * C * H * W + 4096), t = try s.t.reserve(4 * C * H * W + 4096)
    var p = f.x.bytes.withUnsafeBufferPointer { Plane.load($0.baseAddress!, h: H, w: W, c: C, top: 0, left: 0, ch: H, cw: W, into: a) }
    switch f.meta["op"] ?? "" {
    case "resized_crop":
        p = try Geometry.resizedCrop(p, top: f.i("top"), left: f.i("left"), ch: f.i("h"), cw: f.i("w"), oh: f.i("oh"), ow: f.i("ow"),
                                     dst: b, tmp: t, scratch: s, quantize: quantize)
    case "hflip": Geometry.hflip(p)
    case "vflip": Geometry.vflip(p)
    case "rotate":
        p = Geometry.rotate(p, degrees: f.d("angle"), bilinear: f.meta["interp"] == "bilinear", fill: Float(f.d("fill") * 255),
                            quantize: quantize, dst: b)
    case "brightness": Color.brightness(p, Float(f.d("factor")), quantize: quantize)
    case "contrast": try Color.contrast(p, Float(f.d("factor")), quantize: quantize)
    case "saturation": try Color.saturation(p, Float(f.d("factor")), quantize: quantize)
    case "hue": try Color.hue(p, Float(f.d("factor")), quantize: quantize)
    case "grayscale": try Color.grayscale(p, quantize: quantize)
    case "solarize": Color.solarize(p, threshold: Float(f.d("threshold")))
    case "equalize": Color.equalize(p, quantize: quantize)
    case "blur":
        p = try Blur.gaussian(p, k: f.i("kernel"), sigma: f.d("sigma"), quantize: quantize, tmp: t, dst: b, scratch: s)
    case "chain":
        p = try Geometry.resizedCrop(p, top: 2, left: 3, ch: 21, cw: 25, oh: 16, ow: 16, dst: b, tmp: t, scratch: s, quantize: quantize)
        Geometry.hflip(p)
        try Color.contrast(p, 1.21, quantize: quantize)
        try Color.hue(p, -0.07, quantize: quantize)
        Color.brightness(p, 0.83, quantize: quantize)
        try Color.saturation(p, 0.66, quantize: quantize)
    default: throw ContrastiveError.invalid("unknown fixture op \(f.meta["op"] ?? "")")
    }
    return Array(UnsafeBufferPointer(start: p.data, count: p.count))
}

@Suite("Augment parity with torchvision")
struct AugmentParityTests {
    @Test("fixtures are present")
    func present() {
        #expect(AugmentFixture.all().count >= 20)
    }

    @Test("uint8 path within 1 grey level", arguments: AugmentFixture.all())
    func uint8Path(_ name: String) throws {
        let f = try AugmentFixture(name)
        let ours = try runFixtureOp(f, quantize: true)
        let ref = f.yU8.bytes
        #expect(ours.count == ref.count, "\(name): \(ours.count) values, expected \(ref.count)")
        guard ours.count == ref.count else { return }
        var worst: Float = 0, differ = 0
        for i in 0..<ours.count {
            #expect(ours[i] == ours[i].rounded() && ours[i] >= 0 && ours[i] <= 255, "\(name): value \(ours[i]) is not a uint8 level")
            let d = abs(ours[i] - Float(ref[i]))
            worst = max(worst, d)
            if d > 0 { differ += 1 }
        }
        print("augment parity \(name): uint8 path, \(differ) of \(ours.count) values differ by \(Int(worst)) level(s)")
        #expect(worst <= 1, "\(name): worst difference \(worst) grey levels")
        #expect(Double(differ) <= 0.05 * Double(ours.count), "\(name): \(differ) of \(ours.count) values differ by one level")
    }

    @Test("float path within 1e-4", arguments: AugmentFixture.all())
    func floatPath(_ name: String) throws {
        let f = try AugmentFixture(name)
        var ours = try runFixtureOp(f, quantize: false).map { $0 / 255 }
        if name == "chain" {
            // The fixture's float chain ends with Normalize.
            let mean: [Float] = [0.4914, 0.4822, 0.4465], std: [Float] = [0.247, 0.243, 0.261]
            let hw = ours.count / 3
            for k in 0..<3 { for q in 0..<hw { ours[k * hw + q] = (ours[k * hw + q] - mean[k]) / std[k] } }
        }
        expectClose(ours, f.yF32.floats, atol: 1e-4, rtol: 1e-4, name)
    }

    @Test("normalisation of the augmenter matches ToDtype(scale) + Normalize on the uint8 chain")
    func normalisation() throws {
        // A pipeline with no random op: resize-only, so the output is ToDtype + Normalize of
        // the resized uint8 image (checked against the engine's own resize, itself checked above).
        let f = try AugmentFixture("chain")
        let (H, W, C) = (f.x.shape[0], f.x.shape[1], f.x.shape[2])
        let p = try AugmentPipeline.parse("normalize mean=0.4914,0.4822,0.4465 std=0.247,0.243,0.261\nview: resize size=16")
        let aug = try Augmenter(pipeline: p)
        var out = [Float](repeating: 0, count: 3 * 16 * 16)
        try f.x.bytes.withUnsafeBufferPointer { xb in
            let batch = try ImageBatch(pixels: xb.baseAddress!, n: 1, h: H, w: W, c: C)
            try out.withUnsafeMutableBufferPointer { try aug.apply(batch, count: 1, keys: nil, seed: 1, epoch: 0, out: $0.baseAddress!, capacity: $0.count) }
        }
        let s = try AugmentScratch()
        let a = try s.a.reserve(C * H * W), b = try s.b.reserve(4096), t = try s.t.reserve(8192)
        let pl = f.x.bytes.withUnsafeBufferPointer { Plane.load($0.baseAddress!, h: H, w: W, c: C, top: 0, left: 0, ch: H, cw: W, into: a) }
        let r = try Geometry.resizedCrop(pl, top: 0, left: 0, ch: H, cw: W, oh: 16, ow: 16, dst: b, tmp: t, scratch: s, quantize: true)
        let mean: [Float] = [0.4914, 0.4822, 0.4465], std: [Float] = [0.247, 0.243, 0.261]
        var expect = [Float](repeating: 0, count: 768)
        for k in 0..<3 { for q in 0..<256 { expect[k * 256 + q] = (r.data[k * 256 + q] * Float(1.0 / 255.0) - mean[k]) / std[k] } }
        expectClose(out, expect, atol: 1e-5, rtol: 1e-5, "normalize")
    }
}
