// `contrastive-bench loss`: NT-Xent forward+backward (d = 128, τ 0.5, cosine) for N = 256,
// 1024, 4096 pairs and Sinkhorn-Knopp for B = 4096, K = 3000, next to PyTorch measured in the
// same run (Tests/Bench/loss_torch.py), with peak memory: ours is the workspace high-water
// mark of one step (every temporary the loss allocates, gradients included), torch's the
// growth of its process's peak RSS over one step.
#if canImport(Glibc)
import Glibc
#endif
import Contrastive

func benchLoss(reps: Int, python: String?) throws {
    let threads = ThreadPool.shared.threads
    print("bench-loss: \(threads) thread(s), median of \(reps) runs; PyTorch peer: \(python.map { "\($0) Tests/Bench/loss_torch.py" } ?? "none")")
    let d = 128
    print(pad("workload", 34) + pad("ours ms", 10) + pad("torch ms", 10) + pad("speed-up", 10) + pad("ours MiB", 10) + "torch MiB")
    var ratio4096: Double? = nil
    var torchVersion = "not available"
    for n in [256, 1024, 4096] {
        let z1 = try randomTensor([n, d], seed: 21), z2 = try randomTensor([n, d], seed: 22)
        let ws = try Workspace()
        let g = try Graph(workspace: ws)
        let g1 = try Tensor(zeros: [n, d]), g2 = try Tensor(zeros: [n, d])
        var loss: Float = 0
        func step() throws {
            let a = try g.leaf(z1, grad: g1), b = try g.leaf(z2, grad: g2)
            let l = try g.ntxent(a, b, temperature: 0.5)
            loss = l.value.data[0]
            try g.backward(l)
            g.reset()
        }
        let t = try median(reps: n >= 4096 ? reps : 3 * reps) { try step() }
        let mem = Double(ws.highWater) / 1048576
        let peer = python.map { runPeer("\($0) Tests/Bench/loss_torch.py ntxent --n \(n) --d \(d) --threads \(threads) --reps \(n >= 4096 ? reps : 3 * reps)") } ?? [:]
        if let v = peer["torch_version"] { torchVersion = v }
        let tt = peer["torch_s"].flatMap(Double.init), tm = peer["torch_peak_growth_mb"].flatMap(Double.init)
        let tl = peer["torch_loss"].flatMap(Float.init)
        print(pad("NT-Xent fwd+bwd N=\(n) d=\(d)", 34) + pad(fmt(t * 1000, 2), 10) + pad(tt.map { fmt($0 * 1000, 2) } ?? "-", 10)
              + pad(tt.map { fmt($0 / t, 2) + "×" } ?? "-", 10) + pad(fmt(mem, 1), 10) + (tm.map { fmt($0, 1) } ?? "-")
              + "   loss \(loss)" + (tl.map { " (torch \($0), other inputs)" } ?? ""))
        if n == 4096, let tt { ratio4096 = tt / t }
    }
    // Sinkhorn: scores of normalised 128-d embeddings against normalised prototypes.
    let b = 4096, k = 3000
    let e = try randomTensor([b, d], seed: 31), p = try randomTensor([k, d], seed: 32)
    let en = try Tensor(zeros: [b, d]), pn = try Tensor(zeros: [k, d]), norms = try Tensor(zeros: [max(b, k)])
    Rows.l2Normalize(n: b, d: d, x: e.data, eps: 1e-12, y: en.data, norms: norms.data)
    Rows.l2Normalize(n: k, d: d, x: p.data, eps: 1e-12, y: pn.data, norms: norms.data)
    let scores = try Tensor(zeros: [b, k]), codes = try Tensor(zeros: [b, k])
    BLAS.sgemm(transA: false, transB: true, m: b, n: k, k: d, alpha: 1, a: en.data, lda: d, b: pn.data, ldb: d, beta: 0, c: scores.data, ldc: k)
    let before = peakRSSMiB()
    try Sinkhorn.codes(scores: scores.data, b: b, k: k, out: codes.data)
    let sMem = peakRSSMiB() - before
    let ts = try median(reps: reps) { try Sinkhorn.codes(scores: scores.data, b: b, k: k, out: codes.data) }
    let tsd = try median(reps: reps) { try Sinkhorn.codes(scores: scores.data, b: b, k: k, double: true, out: codes.data) }
    let peer = python.map { runPeer("\($0) Tests/Bench/loss_torch.py sinkhorn --b \(b) --k \(k) --threads \(threads) --reps \(reps)") } ?? [:]
    let tt = peer["torch_s"].flatMap(Double.init), tm = peer["torch_peak_growth_mb"].flatMap(Double.init)
    print(pad("Sinkhorn B=\(b) K=\(k), 3 iters", 34) + pad(fmt(ts * 1000, 2), 10) + pad(tt.map { fmt($0 * 1000, 2) } ?? "-", 10)
          + pad(tt.map { fmt($0 / ts, 2) + "×" } ?? "-", 10) + pad(fmt(sMem, 1), 10) + (tm.map { fmt($0, 1) } ?? "-"))
    print(pad("Sinkhorn, float64 option", 34) + pad(fmt(tsd * 1000, 2), 10))
    print("torch: \(torchVersion); ours MiB = workspace high-water of one step (NT-Xent) or peak-RSS growth (Sinkhorn)")
    if let r = ratio4096 {
        print("ntxent_vs_torch_4096=\(fmt(r, 3))")
    } else {
        print("ntxent_vs_torch_4096=unavailable (no PyTorch peer)")
    }
}
