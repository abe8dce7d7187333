// `contrastive-bench embed`: ResNet-18 inference and fwd+bwd throughput and peak memory, next
// to PyTorch measured in the same run (Tests/Bench/torch_peer.py).
#if canImport(Glibc)
import Glibc
#endif
import Contrastive

/// Run a shell command and collect its `key=value` output lines.
func runPeer(_ command: String) -> [String: String] {
    var out: [String: String] = [:]
    guard let f = popen(command + " 2>/dev/null", "r") else { return out }
    var buf = [CChar](repeating: 0, count: 4096)
    while fgets(&buf, 4096, f) != nil {
        let line = String(cString: buf).trimmingCharacters(in: "\n")
        if let eq = line.firstIndex(of: "=") { out[String(line[..<eq])] = String(line[line.index(after: eq)...]) }
    }
    pclose(f)
    return out
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = self
        while s.last == set { s.removeLast() }
        return s
    }
}

/// Peak resident set size of this process so far, in MiB.
func peakRSSMiB() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_maxrss) / 1024
}

func resnet18Cifar(seed: UInt64 = 0) throws -> Model {
    try Model(Model.Config(architecture: .resnet(ResNet.Config(depth: 18, stem: .cifar)), seed: seed))
}

/// One training-style step: forward, mean of squares, backward (the peer does the same).
func fwdbwd(_ model: Model, _ x: Tensor, graph g: Graph) throws {
    model.network.params.zeroGrads()
    let ctx = ForwardContext(graph: g, network: model.network, training: true)
    let (f, _) = try model.forward(ctx, g.constant(x))
    let loss = try g.mean(try g.mul(f, f))
    if getenv("CTR_BENCH_MEMTRACE") != nil { print("after forward: in use \(g.workspace.inUseBytes >> 20) MiB, high water \(g.workspace.highWater >> 20) MiB") }
    try g.backward(loss)
    if getenv("CTR_BENCH_MEMTRACE") != nil { print("after backward: in use \(g.workspace.inUseBytes >> 20) MiB, high water \(g.workspace.highWater >> 20) MiB, reserved \(g.workspace.reservedBytes >> 20), system allocations \(g.workspace.systemAllocations)") }
    g.reset()
}

func benchEmbed(reps: Int, peer: String?) throws {
    let threads = ThreadPool.shared.threads
    // A/B aid: CTR_BENCH_GENERAL=1 runs the general kernels in place of the fast paths.
    if getenv("CTR_BENCH_GENERAL") != nil { Conv2D.useStagedIm2col = false; MaxPool2D.useFastPath = false; Winograd.enabled = false }
    if getenv("CTR_BENCH_CONVNET_ONLY") != nil {   // profiling aid: the ConvNet fwd+bwd step alone
        let cn = try Model(Model.Config(architecture: .convnet(ConvNet.Config())))
        let x = try randomTensor([256, 3, 32, 32], seed: 13), g = try Graph()
        let t = try median(reps: reps) { try fwdbwd(cn, x, graph: g) } / 256
        print("convnet fwd+bwd \(fmt(t * 1000, 3)) ms/img")
        return
    }
    if getenv("CTR_BENCH_AB") != nil { try benchFastPathsAB(reps: reps); return }
    print("bench-embed: \(threads) thread(s), median of \(reps) runs; OpenBLAS kernels \(openBLASCore()); PyTorch peer: \(peer ?? "none")")
    // Memory first, in a clean process state: growth of peak RSS over one batch-256 R18 fwd+bwd.
    let memModel = try resnet18Cifar()
    let xm = try randomTensor([256, 3, 32, 32], seed: 11)
    let gm = try Graph()
    let warm = try randomTensor([2, 3, 32, 32], seed: 12)
    try fwdbwd(memModel, warm, graph: gm)
    let before = peakRSSMiB()
    try fwdbwd(memModel, xm, graph: gm)
    let ourGrowth = peakRSSMiB() - before
    let ourWorkspace = Double(gm.workspace.reservedBytes) / 1048576
    let torchMem = peer.map { runPeer("\($0) memory --threads \(threads)") } ?? [:]
    // Settled: peak RSS growth after four more steps (the workspace cache keeps what repeated steps need).
    for _ in 0..<4 { try fwdbwd(memModel, xm, graph: gm) }
    let ourSettled = peakRSSMiB() - before
    if getenv("CTR_BENCH_MEMORY_ONLY") != nil {
        print("peak memory growth, R18 fwd+bwd batch 256: ours \(fmt(ourGrowth)) MiB, after 5 steps \(fmt(ourSettled)) MiB (workspace reserved \(fmt(ourWorkspace)) MiB, peak live \(fmt(Double(gm.workspace.highWater) / 1048576)) MiB)   torch \(torchMem["torch_memory_peak_growth_mb"] ?? "?"), after 5 steps \(torchMem["torch_memory_peak_growth_settled_mb"] ?? "?") MiB")
        return
    }

    // Inference throughput at batch 256.
    let model = try resnet18Cifar()
    model.embedChunk = 256
    let x = try randomTensor([256, 3, 32, 32], seed: 13)
    var out = [Float](repeating: 0, count: 256 * 512)
    let tEmbed = try out.withUnsafeMutableBufferPointer { o in
        try median(reps: reps) {
            try model.embed(images: x.data, n: 256, c: 3, h: 32, w: 32, output: .backbone, normalize: false, out: o.baseAddress!)
        }
    }
    let ours = 256 / tEmbed
    let torchEmbed = peer.map { runPeer("\($0) embed --threads \(threads) --reps \(reps)") } ?? [:]

    // fwd+bwd seconds per image.
    let g = try Graph()
    let tR18 = try median(reps: max(1, reps / 2)) { try fwdbwd(model, x, graph: g) } / 256
    let cn = try Model(Model.Config(architecture: .convnet(ConvNet.Config())))
    let tCN = try median(reps: reps) { try fwdbwd(cn, x, graph: g) } / 256
    var cfg28 = ConvNet.Config(); cfg28.inChannels = 1
    let cn28 = try Model(Model.Config(architecture: .convnet(cfg28)))
    let x28 = try randomTensor([256, 1, 28, 28], seed: 15)
    let tCN28 = try median(reps: reps) { try fwdbwd(cn28, x28, graph: g) } / 256
    let torchFB = peer.map { runPeer("\($0) fwdbwd --threads \(threads) --reps \(max(1, reps / 2))") } ?? [:]

    func num(_ d: [String: String], _ k: String) -> Double? { d[k].flatMap(Double.init) }
    let tNCHW = num(torchEmbed, "torch_embed_nchw_img_s"), tCL = num(torchEmbed, "torch_embed_channels_last_img_s")
    let torchBest = max(tNCHW ?? 0, tCL ?? 0)
    print("torch: \(torchEmbed["torch_version"] ?? "not available")")
    print(pad("ResNet-18 cifar inference, batch 256", 44) + "ours \(fmt(ours)) img/s" +
          (torchBest > 0 ? "   torch NCHW \(fmt(tNCHW ?? 0)), channels-last \(fmt(tCL ?? 0)) img/s" : ""))
    let tb18 = num(torchFB, "torch_fwdbwd_resnet18_best_s_per_img"), tbCN = num(torchFB, "torch_fwdbwd_convnet_best_s_per_img")
    print(pad("fwd+bwd ResNet-18, batch 256", 44) + "ours \(fmt(tR18 * 1000, 2)) ms/img" +
          (tb18.map { "   torch \(fmt($0 * 1000, 2)) ms/img   ratio \(fmt($0 / tR18, 2))" } ?? ""))
    print(pad("fwd+bwd ConvNet 32-64-128-256, batch 256", 44) + "ours \(fmt(tCN * 1000, 3)) ms/img" +
          (tbCN.map { "   torch \(fmt($0 * 1000, 3)) ms/img   ratio \(fmt($0 / tCN, 2))" } ?? ""))
    let tbCN28 = num(torchFB, "torch_fwdbwd_convnet28_best_s_per_img")
    print(pad("fwd+bwd ConvNet on 28×28×1, batch 256", 44) + "ours \(fmt(tCN28 * 1000, 3)) ms/img" +
          (tbCN28.map { "   torch \(fmt($0 * 1000, 3)) ms/img   ratio \(fmt($0 / tCN28, 2))" } ?? ""))
    let tm = num(torchMem, "torch_memory_peak_growth_mb"), tms = num(torchMem, "torch_memory_peak_growth_settled_mb")
    print(pad("peak memory growth, R18 fwd+bwd batch 256", 44) + "ours \(fmt(ourGrowth)) MiB (workspace \(fmt(ourWorkspace)) MiB)" +
          (tm.map { "   torch \(fmt($0)) MiB   ratio \(fmt(ourGrowth / $0, 3))" } ?? ""))
    print(pad("  after 5 steps", 44) + "ours \(fmt(ourSettled)) MiB" +
          (tms.map { "   torch \(fmt($0)) MiB   ratio \(fmt(ourSettled / $0, 3))" } ?? ""))
    if torchBest > 0 {
        print("embed_vs_torch=\(fmt(ours / torchBest, 3))")
    } else {
        print("embed_vs_torch=unavailable (no PyTorch peer)")
    }
}

/// CTR_BENCH_AB=1: the fast paths (max-pool 2×2, staged im2col, Winograd) against the general
/// kernels, alternating in one process so that both see the same load; prints the median and
/// range of the per-pair time ratios general/fast (> 1: the fast paths are faster).
func benchFastPathsAB(reps: Int) throws {
    // CTR_BENCH_AB=folded: only the folded inference path (BN in the conv, epilogue) against conv → BN → add-ReLU.
    // CTR_BENCH_AB=winograd: the fused Winograd kernel where it applies (fast) against the fused im2col kernel.
    let mode = String(cString: getenv("CTR_BENCH_AB")), foldedOnly = mode == "folded" || mode == "winograd"
    func setFast(_ on: Bool) {
        if mode == "winograd" { Winograd.useFused = on; return }
        useFoldedInference = on
        if !foldedOnly { Conv2D.useStagedIm2col = on; MaxPool2D.useFastPath = on; Winograd.enabled = on }
    }
    let g = try Graph()
    var cfg28 = ConvNet.Config(); cfg28.inChannels = 1
    let cn = try Model(Model.Config(architecture: .convnet(ConvNet.Config())))
    let cn28 = try Model(Model.Config(architecture: .convnet(cfg28)))
    let r18 = try resnet18Cifar()
    r18.embedChunk = 256
    let x = try randomTensor([256, 3, 32, 32], seed: 13), x28 = try randomTensor([256, 1, 28, 28], seed: 15)
    var out = [Float](repeating: 0, count: 256 * 512)
    let cases: [(String, () throws -> Void)] = [
        ("ConvNet 32×32×3 fwd+bwd", { try fwdbwd(cn, x, graph: g) }),
        ("ConvNet 28×28×1 fwd+bwd", { try fwdbwd(cn28, x28, graph: g) }),
        ("ResNet-18 inference", { try out.withUnsafeMutableBufferPointer { o in
            try r18.embed(images: x.data, n: 256, c: 3, h: 32, w: 32, output: .backbone, normalize: false, out: o.baseAddress!) } }),
        ("ResNet-18 fwd+bwd", { try fwdbwd(r18, x, graph: g) }),
    ]
    print("fast paths vs general kernels, alternating, batch 256 (ratio = general time / fast time)")
    for (name, body) in cases {
        setFast(true); try body(); setFast(false); try body()
        var ratios: [Double] = [], tf: [Double] = [], tg: [Double] = []
        for _ in 0..<(name.hasPrefix("ResNet-18 fwd") ? max(1, reps / 2) : reps) {
            setFast(true); var s = now(); try body(); let a = now() - s
            setFast(false); s = now(); try body(); let b = now() - s
            tf.append(a); tg.append(b); ratios.append(b / a)
        }
        setFast(true)
        ratios.sort(); tf.sort(); tg.sort()
        print(pad(name, 28) + "fast \(fmt(tf[tf.count / 2] * 1000, 1)) ms, general \(fmt(tg[tg.count / 2] * 1000, 1)) ms per batch; ratio median \(fmt(ratios[ratios.count / 2], 3)) (range \(fmt(ratios.first!, 3))–\(fmt(ratios.last!, 3)))")
    }
}
