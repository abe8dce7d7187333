// `contrastive-bench layers`: where a fwd+bwd step of the ConvNet (32×32×3 and 28×28×1) and
// of ResNet-18's 3×3 layers spends its time, kernel by kernel, at batch 256.
#if canImport(Glibc)
import Glibc
#endif
import Contrastive

func benchLayers(reps: Int, batch: Int) throws {
    let ws = try Workspace()
    if getenv("CTR_BENCH_GENERAL") != nil { Conv2D.useStagedIm2col = false; MaxPool2D.useFastPath = false; Winograd.enabled = false }   // A/B aid
    if getenv("CTR_BENCH_NO_WINOGRAD") != nil { Winograd.useFused = false }   // A/B aid: the direct fused kernels
    print("bench-layers: \(ThreadPool.shared.threads) thread(s), batch \(batch), median of \(reps) runs, ms per batch")
    print(pad("op", 34) + pad("fwd", 9) + pad("bwd-data", 10) + pad("bwd-wt", 9) + pad("sum", 9) + "GFLOP/s")
    var total = 0.0
    func conv(_ cin: Int, _ cout: Int, _ hw: Int, stride: Int = 1, k: Int = 3, needDX: Bool = true) throws {
        let p = k / 2
        let g = try ConvGeometry(n: batch, cin: cin, h: hw, w: hw, cout: cout, kh: k, kw: k, sh: stride, sw: stride, ph: p, pw: p)
        let x = try randomTensor([batch, cin, hw, hw], seed: 3), w = try randomTensor([cout, cin, k, k], seed: 4)
        let y = try Tensor(zeros: [batch, cout, g.ho, g.wo]), dy = try randomTensor([batch, cout, g.ho, g.wo], seed: 5)
        let dx = try Tensor(zeros: x.shape), dw = try Tensor(zeros: w.shape)
        let tf = try median(reps: reps) { try Conv2D.forward(g, x: x.data, w: w.data, bias: nil, y: y.data, workspace: ws); ws.reset() }
        let td = needDX ? try median(reps: reps) {
            try Conv2D.backward(g, x: x.data, w: w.data, dy: dy.data, dx: dx.data, accumulateX: false, dw: nil, db: nil, accumulateW: false, workspace: ws); ws.reset()
        } : 0
        let tw = try median(reps: reps) {
            try Conv2D.backward(g, x: x.data, w: w.data, dy: dy.data, dx: nil, accumulateX: false, dw: dw.data, db: nil, accumulateW: false, workspace: ws); ws.reset()
        }
        let s = tf + td + tw
        total += s
        // The forward product alone, as one GEMM over all N·Ho·Wo columns (a lower bound).
        let cols = batch * g.outPlane
        let bm = try randomTensor([g.k, cols], seed: 14), cm = try Tensor(zeros: [g.cout, cols])
        let tg = median(reps: reps) {
            BLAS.sgemm(transA: false, transB: false, m: g.cout, n: cols, k: g.k, alpha: 1, a: w.data, lda: g.k, b: bm.data, ldb: cols, beta: 0, c: cm.data, ldc: cols)
        }
        let fl = g.flops / 1e9 * (needDX ? 3 : 2)
        print(pad("conv \(cin)→\(cout) \(k)×\(k)/\(stride) @\(hw)²", 34) + pad(fmt(tf * 1000, 2), 9) + pad(fmt(td * 1000, 2), 10)
              + pad(fmt(tw * 1000, 2), 9) + pad(fmt(s * 1000, 2), 9) + pad(fmt(fl / s), 9) + "gemm-only fwd \(fmt(tg * 1000, 2)) ms")
    }
    func bnReLU(_ c: Int, _ hw: Int) throws {
        let n = batch, s = hw * hw
        let x = try randomTensor([n, c, hw, hw], seed: 6), y = try Tensor(zeros: x.shape), dy = try randomTensor(x.shape, seed: 7)
        let dx = try Tensor(zeros: x.shape)
        let gamma = try randomTensor([c], seed: 8), beta = try randomTensor([c], seed: 9)
        let mean = try Tensor(zeros: [c]), inv = try Tensor(zeros: [c]), dg = try Tensor(zeros: [c]), db = try Tensor(zeros: [c])
        let tf = median(reps: reps) {
            BatchNorm.forwardTrain(n: n, c: c, s: s, x: x.data, gamma: gamma.data, beta: beta.data, eps: 1e-5, momentum: 0.1,
                                   runningMean: nil, runningVar: nil, y: y.data, saveMean: mean.data, saveInvStd: inv.data)
            Pointwise.relu(y.data, y.data, y.count)
        }
        let tb = median(reps: reps) {
            BatchNorm.backwardTrain(n: n, c: c, s: s, x: x.data, dy: dy.data, gamma: gamma.data, mean: mean.data, invStd: inv.data,
                                    dx: dx.data, accumulateX: false, dgamma: dg.data, dbeta: db.data, accumulateParams: false, mask: y.data)
        }
        total += tf + tb
        print(pad("bn+relu \(c) @\(hw)²", 34) + pad(fmt(tf * 1000, 2), 9) + pad(fmt(tb * 1000, 2), 10) + pad("", 9) + pad(fmt((tf + tb) * 1000, 2), 9))
    }
    func pool(_ c: Int, _ hw: Int) throws {
        let g = try MaxPool2D.Geometry(n: batch, c: c, h: hw, w: hw, k: 2, stride: 2, pad: 0)
        let x = try randomTensor([batch, c, hw, hw], seed: 10), y = try Tensor(zeros: [batch, c, g.ho, g.wo])
        let idx = UnsafeMutablePointer<Int32>.allocate(capacity: y.count); defer { idx.deallocate() }
        let dx = try Tensor(zeros: x.shape)
        let tr = median(reps: reps) { MaxPool2D.reference(g, x: x.data, y: y.data, argmax: idx) }
        let tf = median(reps: reps) { MaxPool2D.forward(g, x: x.data, y: y.data, argmax: idx) }
        let tb = median(reps: reps) { MaxPool2D.backward(g, dy: y.data, argmax: idx, dx: dx.data, accumulate: false) }
        total += tf + tb
        print(pad("maxpool 2×2 \(c) @\(hw)²", 34) + pad(fmt(tf * 1000, 2), 9) + pad(fmt(tb * 1000, 2), 10) + pad("", 9) + pad(fmt((tf + tb) * 1000, 2), 9) + "general loop fwd \(fmt(tr * 1000, 2)) ms")
    }
    for (name, cin, hw) in [("ConvNet 32-64-128-256 on 32×32×3", 3, 32), ("ConvNet 32-64-128-256 on 28×28×1", 1, 28)] {
        print("— \(name)")
        total = 0
        var c = cin, s = hw
        for (i, co) in [32, 64, 128, 256].enumerated() {
            try conv(c, co, s, needDX: i > 0)
            try bnReLU(co, s)
            if i < 3 { try pool(co, s); s /= 2 }
            c = co
        }
        print(pad("  total", 34) + pad("", 28) + fmt(total * 1000, 2) + " ms = \(fmt(total * 1000 / Double(batch), 3)) ms/img")
    }
    print("— ResNet-18 CIFAR (one of each shape)")
    total = 0
    try conv(3, 64, 32, needDX: false)
    try conv(64, 64, 32)
    try conv(64, 128, 32, stride: 2)
    try conv(128, 128, 16)
    try conv(128, 256, 16, stride: 2)
    try conv(256, 256, 8)
    try conv(256, 512, 8, stride: 2)
    try conv(512, 512, 4)
    try conv(64, 128, 32, stride: 2, k: 1)
    try bnReLU(64, 32)
}
