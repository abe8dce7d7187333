extension EmbeddingQueue {
    /// For each row of z (N × D): the support row with the largest cosine similarity
    /// (NNCLR's nearest neighbour; ties go to the lowest index). Returns an (N, D) tensor of
    /// the support rows as stored (normalised when the queue normalises).
    public func nearestNeighbours(of z: Tensor, workspace: Workspace) throws -> Tensor {
        guard z.shape.count == 2, z.shape[1] == dim else { throw ContrastiveError.shape("nearest neighbours: \(z.shape) for a queue of dim \(dim)") }
        guard filled >= 1 else { throw ContrastiveError.invalid("nearest neighbours: the support queue is empty") }
        let n = z.shape[0], support = contents, k = support.shape[0]
        _ = try checkedCount([n, k], what: "nearest neighbours")
        let zn = try workspace.tensor([n, dim]), norms = try workspace.tensor([n])
        Rows.l2Normalize(n: n, d: dim, x: z.data, eps: Contrast.normEps, y: zn.data, norms: norms.data)
        // Support rows normalised too, so the argmax is over cosines even for a raw queue.
        let sn = try workspace.tensor([k, dim]), sNorms = try workspace.tensor([k])
        Rows.l2Normalize(n: k, d: dim, x: support.data, eps: Contrast.normEps, y: sn.data, norms: sNorms.data)
        let sim = try workspace.tensor([n, k])
        BLAS.sgemm(transA: false, transB: true, m: n, n: k, k: dim, alpha: 1, a: zn.data, lda: dim, b: sn.data, ldb: dim,
                   beta: 0, c: sim.data, ldc: k)
        let out = try workspace.tensor([n, dim])
        for i in 0..<n {
            let r = sim.data + i * k
            var best = 0
            for j in 1..<max(k, 1) where r[j] > r[best] { best = j }
            (out.data + i * dim).update(from: support.data + best * dim, count: dim)
        }
        return out
    }
}

extension Graph {
    /// NNCLR (solo-learn's `nnclr_loss_func`): the nearest neighbours `nn` (N, D) of one view's
    /// projections, taken from the support queue (no gradient), against the other view's
    /// predictions p (N, D): loss = CE(n̂·p̂ᵀ/τ, arange(N)) — each neighbour's positive is the
    /// prediction of its own sample, the other N − 1 predictions are negatives.
    public func nnclr(nn: Tensor, _ p: Var, temperature: Float = 0.2) throws -> Var {
        guard temperature.isFinite, temperature > 0 else {
            throw ContrastiveError.invalid("nnclr: temperature \(temperature) must be a positive number")
        }
        guard nn.shape.count == 2, nn.shape == p.shape, nn.shape[0] >= 1 else {
            throw ContrastiveError.shape("nnclr: neighbours \(nn.shape) and predictions \(p.shape) must both be (N, D)")
        }
        let n = nn.shape[0]
        let a = try l2Normalize(constant(nn)), b = try l2Normalize(p)
        let logits = try scale(try similarity(a, b), 1 / temperature)
        return try crossEntropy(logits, targets: (0..<n).map { Int32($0) })
    }
}
