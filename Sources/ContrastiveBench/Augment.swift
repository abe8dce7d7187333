// contrastive-bench augment — two-view SimCLR augmentation throughput (source images/s) at
// 32×32 and 96×96, the prefetcher overlapping a simulated training step, and torchvision v2
// measured in the same run (Tests/Bench/augment_torchvision.py through $BENCH_PYTHON or python3).
#if canImport(Glibc)
import Glibc
#endif
import Contrastive

private func randomImages(_ n: Int, _ side: Int, seed: UInt64) -> [UInt8] {
    var s = seed
    return (0..<(n * side * side * 3)).map { _ in
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(truncatingIfNeeded: s >> 56)
    }
}

/// Run the torchvision script; returns its key=value lines.
private func torchvision(_ args: String) -> [String: String] {
    let py = getenv("BENCH_PYTHON").map { String(cString: $0) } ?? "python3"
    let cmd = "\(py) Tests/Bench/augment_torchvision.py \(args) 2>&1"
    guard let f = popen(cmd, "r") else { return [:] }
    var out: [String: String] = [:]
    var line = [CChar](repeating: 0, count: 4096)
    while fgets(&line, 4096, f) != nil {
        let s = String(cString: line).split(separator: "\n").first.map(String.init) ?? ""
        for part in s.split(separator: " ") {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { out[String(kv[0])] = String(kv[1]) } else { print("  torchvision: \(s)"); break }
        }
    }
    pclose(f)
    return out
}

func benchAugment(reps: Int) throws {
    let threads = ThreadPool.shared.threads
    let batch = 512
    print("bench-augment: two-view SimCLR augmentation, uint8 HWC in → float NCHW normalised out, batch \(batch), \(threads) thread(s), median of \(reps)")
    var ours: [Int: Double] = [:]
    for side in [32, 96] {
        let pipe = side == 32 ? try AugmentPipeline.preset("simclr-cifar") : try AugmentPipeline.preset("simclr", size: side)
        let aug = try Augmenter(pipeline: pipe)
        let imgs = randomImages(batch, side, seed: UInt64(side))
        let out = try Storage(count: try aug.outputCount(n: batch, h: side, w: side, c: 3))
        var epoch: UInt64 = 0
        let t = try imgs.withUnsafeBufferPointer { ib -> Double in
            let b = try ImageBatch(pixels: ib.baseAddress!, n: batch, h: side, w: side, c: 3)
            return try median(reps: reps) {
                epoch += 1
                try aug.apply(b, count: batch, keys: nil, seed: 1, epoch: epoch, out: out.base, capacity: out.count)
            }
        }
        ours[side] = Double(batch) / t
        print("  ours \(side)×\(side): \(fmt(Double(batch) / t)) source images/s (\(fmt(t * 1000, 2)) ms per batch)")
    }

    // Prefetch overlap: 16 batches of 256 at 32×32; the "training step" sleeps as long as one
    // batch takes to augment, so serial = aug + step, overlapped ≈ max(aug, step).
    do {
        let n = 4096, side = 32, bs = 256
        let aug = try Augmenter(pipeline: try AugmentPipeline.preset("simclr-cifar"))
        let imgs = randomImages(n, side, seed: 5)
        try imgs.withUnsafeBufferPointer { ib in
            let ds = try ImageBatch(pixels: ib.baseAddress!, n: n, h: side, w: side, c: 3)
            let out = try Storage(count: try aug.outputCount(n: bs, h: side, w: side, c: 3))
            let step = Double(bs) / ours[32]!
            let stepUS = useconds_t(step * 1e6)
            let order = Array(0..<n)
            var s = now()
            for b in 0..<(n / bs) {
                let keys = (0..<bs).map { Int64(b * bs + $0) }
                try keys.withUnsafeBufferPointer { kp in
                    let rows = Array(b * bs..<(b + 1) * bs)
                    try rows.withUnsafeBufferPointer { rp in
                        try aug.apply(ds, count: bs, rows: rp.baseAddress, keys: kp.baseAddress, seed: 1, epoch: 0, out: out.base, capacity: out.count)
                    }
                }
                usleep(stepUS)
            }
            let serial = now() - s
            s = now()
            let pf = try AugmentPrefetcher(augmenter: aug, dataset: ds, order: order, batchSize: bs, seed: 1, epoch: 0)
            while try pf.next() != nil { usleep(stepUS) }
            let overlapped = now() - s
            let batches = Double(n / bs)
            print("  prefetch (32×32, \(n / bs) batches of \(bs), simulated step \(fmt(step * 1000, 2)) ms): serial \(fmt(serial * 1000, 1)) ms, "
                  + "prefetched \(fmt(overlapped * 1000, 1)) ms (\(fmt(serial / overlapped, 2))× faster; step-only floor \(fmt(batches * step * 1000, 1)) ms)")
        }
    }

    print("  torchvision v2 (same pipelines, per-sample, one process, best of default threads and 1 thread):")
    let tv = torchvision("32:1024 96:256")
    var ratios: [Double] = []
    print(pad("size", 10) + pad("ours img/s", 14) + pad("torchvision img/s", 20) + "ratio")
    for side in [32, 96] {
        let o = ours[side]!
        if let t = tv["tv_\(side)"].flatMap(Double.init), t > 0 {
            ratios.append(o / t)
            print(pad("\(side)×\(side)", 10) + pad(fmt(o), 14) + pad(fmt(t), 20) + fmt(o / t, 1))
        } else {
            print(pad("\(side)×\(side)", 10) + pad(fmt(o), 14) + pad("n/a", 20) + "n/a")
        }
    }
    if let info = tv["torch"] { print("  torch \(info), threads \(tv["threads"] ?? "?")") }
    if ratios.count == 2 {
        print("ratio = geometric mean of the 32×32 and 96×96 ratios")
        print("augment_vs_torchvision=\(fmt((ratios[0] * ratios[1]).squareRoot(), 1))")
    } else {
        print("torchvision could not be run (set BENCH_PYTHON to a Python with torch + torchvision)")
        print("augment_vs_torchvision=nan")
    }
}
