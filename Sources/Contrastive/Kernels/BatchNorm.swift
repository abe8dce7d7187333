/// Batch normalisation over (N, C, S): per channel c the statistics run over N·S elements,
/// S = H·W for feature maps and S = 1 for (N, D) embeddings. Semantics follow PyTorch:
/// normalisation uses the biased batch variance; running statistics are updated as
///   running = (1 − momentum)·running + momentum·batch, with the unbiased variance (M/(M−1)).
public enum BatchNorm {
    /// Training-mode forward. Writes y, the per-channel batch mean and 1/√(var+ε) (kept for
    /// backward), and updates the running statistics when given. With `relu`, y = max(BN(x), 0)
    /// in the same pass (a fused ReLU); with `residual` (shaped like x; needs `relu`),
    /// y = max(BN(x) + residual, 0) — a ResNet block's join — also in that pass.
    public static func forwardTrain(n: Int, c: Int, s: Int, x: UnsafePointer<Float>,
                                    gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                                    eps: Float, momentum: Float,
                                    runningMean: UnsafeMutablePointer<Float>?, runningVar: UnsafeMutablePointer<Float>?,
                                    y: UnsafeMutablePointer<Float>,
                                    saveMean: UnsafeMutablePointer<Float>, saveInvStd: UnsafeMutablePointer<Float>,
                                    relu: Bool = false, residual: UnsafePointer<Float>? = nil) {
        let m = n * s
        if s == 1 {
            // (N, D): accumulate row by row (contiguous), per-feature in Double.
            rowStatistics(n: n, d: c, x: x, mean: saveMean, invStd: saveInvStd, eps: eps, runningMean: runningMean, runningVar: runningVar, momentum: momentum)
            parallelFor(n, grain: max(1, 16384 / max(c, 1))) { rows in
                for i in rows {
                    applyRow(x + i * c, y + i * c, residual.map { $0 + i * c }, c, gamma, beta, saveMean, saveInvStd, relu)
                }
            }
            return
        }
        parallelFor(c) { chans in
            for ch in chans {
                var sum = 0.0
                for b in 0..<n { sum += Double(Vec.sum(x + (b * c + ch) * s, s)) }
                let mean = Float(sum / Double(max(m, 1)))
                var sq = 0.0
                for b in 0..<n { sq += Double(Vec.sumSquaredDeviation(x + (b * c + ch) * s, s, mean: mean)) }
                let v = sq / Double(max(m, 1))
                let inv = Float(1 / (v + Double(eps)).squareRoot())
                saveMean[ch] = mean
                saveInvStd[ch] = inv
                if let runningMean, let runningVar {
                    runningMean[ch] = (1 - momentum) * runningMean[ch] + momentum * mean
                    let unbiased = m > 1 ? v * Double(m) / Double(m - 1) : v
                    runningVar[ch] = (1 - momentum) * runningVar[ch] + momentum * Float(unbiased)
                }
                applyChannel(n: n, c: c, s: s, ch: ch, x: x, y: y, residual: residual, gamma: gamma, beta: beta,
                             mean: mean, invStd: inv, relu: relu)
            }
        }
    }

    /// y = BN(x) (with `relu`, max(BN(x), 0)) from statistics computed before — the output
    /// `forwardTrain` wrote, rebuilt bit for bit (the same arithmetic) from its saved mean and
    /// 1/√(var+ε). Used to rematerialise BN → ReLU results in backward.
    public static func applyTrain(n: Int, c: Int, s: Int, x: UnsafePointer<Float>,
                                  gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                                  mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>,
                                  y: UnsafeMutablePointer<Float>, relu: Bool) {
        if s == 1 {
            parallelFor(n, grain: max(1, 16384 / max(c, 1))) { rows in
                for i in rows { applyRow(x + i * c, y + i * c, nil, c, gamma, beta, mean, invStd, relu) }
            }
            return
        }
        parallelFor(c) { chans in
            for ch in chans {
                applyChannel(n: n, c: c, s: s, ch: ch, x: x, y: y, residual: nil, gamma: gamma, beta: beta,
                             mean: mean[ch], invStd: invStd[ch], relu: relu)
            }
        }
    }

    /// One (N, D) row of the training-mode output (shared by forward and `applyTrain`).
    @inline(__always)
    static func applyRow(_ xr: UnsafePointer<Float>, _ yr: UnsafeMutablePointer<Float>, _ rr: UnsafePointer<Float>?, _ c: Int,
                         _ gamma: UnsafePointer<Float>, _ beta: UnsafePointer<Float>,
                         _ mean: UnsafePointer<Float>, _ invStd: UnsafePointer<Float>, _ relu: Bool) {
        if let rr {
            for j in 0..<c { yr[j] = max((xr[j] - mean[j]) * invStd[j] * gamma[j] + beta[j] + rr[j], 0) }
        } else if relu { for j in 0..<c { yr[j] = max((xr[j] - mean[j]) * invStd[j] * gamma[j] + beta[j], 0) } }
        else { for j in 0..<c { yr[j] = (xr[j] - mean[j]) * invStd[j] * gamma[j] + beta[j] } }
    }

    /// One channel of the (N, C, S) training-mode output (shared by forward and `applyTrain`).
    @inline(__always)
    static func applyChannel(n: Int, c: Int, s: Int, ch: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                             residual: UnsafePointer<Float>?, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                             mean: Float, invStd: Float, relu: Bool) {
        let sc = invStd * gamma[ch], sh = beta[ch] - mean * sc
        for b in 0..<n {
            let xp = x + (b * c + ch) * s, yp = y + (b * c + ch) * s
            if let residual {
                let rp = residual + (b * c + ch) * s
                for i in 0..<s { yp[i] = max(xp[i] * sc + sh + rp[i], 0) }
            } else if relu { for i in 0..<s { yp[i] = max(xp[i] * sc + sh, 0) } } else { for i in 0..<s { yp[i] = xp[i] * sc + sh } }
        }
    }

    static func rowStatistics(n: Int, d: Int, x: UnsafePointer<Float>, mean: UnsafeMutablePointer<Float>,
                              invStd: UnsafeMutablePointer<Float>, eps: Float,
                              runningMean: UnsafeMutablePointer<Float>?, runningVar: UnsafeMutablePointer<Float>?, momentum: Float) {
        parallelFor(d, grain: 64) { feats in
            let lo = feats.lowerBound, cnt = feats.count
            var acc = [Double](repeating: 0, count: cnt)
            for i in 0..<n { let xr = x + i * d + lo; for j in 0..<cnt { acc[j] += Double(xr[j]) } }
            for j in 0..<cnt { mean[lo + j] = Float(acc[j] / Double(max(n, 1))) }
            for j in 0..<cnt { acc[j] = 0 }
            for i in 0..<n { let xr = x + i * d + lo; for j in 0..<cnt { let t = Double(xr[j] - mean[lo + j]); acc[j] += t * t } }
            for j in 0..<cnt {
                let v = acc[j] / Double(max(n, 1))
                invStd[lo + j] = Float(1 / (v + Double(eps)).squareRoot())
                if let runningMean, let runningVar {
                    runningMean[lo + j] = (1 - momentum) * runningMean[lo + j] + momentum * mean[lo + j]
                    let unbiased = n > 1 ? v * Double(n) / Double(n - 1) : v
                    runningVar[lo + j] = (1 - momentum) * runningVar[lo + j] + momentum * Float(unbiased)
                }
            }
        }
    }

    /// Training-mode backward with x̂ = (x − mean)·invStd, M = N·S:
    ///   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ·invStd/M · (M·dy − dβ − x̂·dγ).
    /// With `mask` (the output of a fused ReLU), dy counts only where mask > 0.
    public static func backwardTrain(n: Int, c: Int, s: Int, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                     gamma: UnsafePointer<Float>, mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>,
                                     dx: UnsafeMutablePointer<Float>?, accumulateX: Bool,
                                     dgamma: UnsafeMutablePointer<Float>?, dbeta: UnsafeMutablePointer<Float>?, accumulateParams: Bool,
                                     mask: UnsafePointer<Float>? = nil) {
        let m = Float(n * s)
        if s == 1 {
            parallelFor(c, grain: 64) { feats in
                let lo = feats.lowerBound, cnt = feats.count
                var sdy = [Float](repeating: 0, count: cnt), sdyx = [Float](repeating: 0, count: cnt)
                // g = dy, or dy where mask > 0 (a fused ReLU), read in place.
                for i in 0..<n {
                    let xr = x + i * c + lo, gr = dy + i * c + lo, mr = mask.map { $0 + i * c + lo }
                    for j in 0..<cnt {
                        let g = mr.map { $0[j] > 0 ? gr[j] : 0 } ?? gr[j]
                        let xh = (xr[j] - mean[lo + j]) * invStd[lo + j]
                        sdy[j] += g; sdyx[j] += g * xh
                    }
                }
                for j in 0..<cnt {
                    if let dbeta { dbeta[lo + j] = accumulateParams ? dbeta[lo + j] + sdy[j] : sdy[j] }
                    if let dgamma { dgamma[lo + j] = accumulateParams ? dgamma[lo + j] + sdyx[j] : sdyx[j] }
                }
                if let dx {
                    for i in 0..<n {
                        let xr = x + i * c + lo, gr = dy + i * c + lo, dr = dx + i * c + lo, mr = mask.map { $0 + i * c + lo }
                        for j in 0..<cnt {
                            let f = lo + j
                            let g = mr.map { $0[j] > 0 ? gr[j] : 0 } ?? gr[j]
                            let xh = (xr[j] - mean[f]) * invStd[f]
                            let v = gamma[f] * invStd[f] / m * (m * g - sdy[j] - xh * sdyx[j])
                            dr[j] = accumulateX ? dr[j] + v : v
                        }
                    }
                }
            }
            return
        }
        parallelFor(c) { chans in
            for ch in chans {
                let mu = mean[ch], inv = invStd[ch]
                var sdy: Float = 0, sdyx: Float = 0
                for b in 0..<n {
                    let xp = x + (b * c + ch) * s, gp = dy + (b * c + ch) * s
                    let sg: Float, sgx: Float
                    if let mask { (sg, sgx) = Vec.maskedSumDot(gp, mask: mask + (b * c + ch) * s, xp, s) }
                    else { sg = Vec.sum(gp, s); sgx = Vec.dot(gp, xp, s) }
                    sdy += sg
                    sdyx += (sgx - mu * sg) * inv
                }
                if let dbeta { dbeta[ch] = accumulateParams ? dbeta[ch] + sdy : sdy }
                if let dgamma { dgamma[ch] = accumulateParams ? dgamma[ch] + sdyx : sdyx }
                guard let dx else { continue }
                let k = gamma[ch] * inv
                let a = sdy / m, bcoef = sdyx / m * inv
                for b in 0..<n {
                    let xp = x + (b * c + ch) * s, gp = dy + (b * c + ch) * s, dp = dx + (b * c + ch) * s
                    if let mask {
                        let mp = mask + (b * c + ch) * s
                        if accumulateX { for i in 0..<s { dp[i] += k * ((mp[i] > 0 ? gp[i] : 0) - a - (xp[i] - mu) * bcoef) } }
                        else { for i in 0..<s { dp[i] = k * ((mp[i] > 0 ? gp[i] : 0) - a - (xp[i] - mu) * bcoef) } }
                    } else if accumulateX {
                        for i in 0..<s { dp[i] += k * (gp[i] - a - (xp[i] - mu) * bcoef) }
                    } else {
                        for i in 0..<s { dp[i] = k * (gp[i] - a - (xp[i] - mu) * bcoef) }
                    }
                }
            }
        }
    }

    /// Eval-mode forward: y = (x − running_mean)/√(running_var + ε)·γ + β.
    public static func forwardEval(n: Int, c: Int, s: Int, x: UnsafePointer<Float>,
                                   gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                                   runningMean: UnsafePointer<Float>, runningVar: UnsafePointer<Float>, eps: Float,
                                   y: UnsafeMutablePointer<Float>, relu: Bool = false) {
        let total = n * c
        parallelFor(total, grain: max(1, 32768 / max(s, 1))) { r in
            for row in r {
                let ch = row % c
                let sc = gamma[ch] / (runningVar[ch] + eps).squareRoot()
                let sh = beta[ch] - runningMean[ch] * sc
                let xp = x + row * s, yp = y + row * s
                if relu { for i in 0..<s { yp[i] = max(xp[i] * sc + sh, 0) } } else { for i in 0..<s { yp[i] = xp[i] * sc + sh } }
            }
        }
    }

    /// Eval-mode backward (the statistics are constants).
    public static func backwardEval(n: Int, c: Int, s: Int, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                    gamma: UnsafePointer<Float>, runningMean: UnsafePointer<Float>, runningVar: UnsafePointer<Float>, eps: Float,
                                    dx: UnsafeMutablePointer<Float>?, accumulateX: Bool,
                                    dgamma: UnsafeMutablePointer<Float>?, dbeta: UnsafeMutablePointer<Float>?, accumulateParams: Bool) {
        parallelFor(c, grain: 8) { chans in
            for ch in chans {
                let inv = 1 / (runningVar[ch] + eps).squareRoot()
                let sc = gamma[ch] * inv, mu = runningMean[ch]
                var sdy: Float = 0, sdyx: Float = 0
                for b in 0..<n {
                    let xp = x + (b * c + ch) * s, gp = dy + (b * c + ch) * s
                    let sg = Vec.sum(gp, s)
                    sdy += sg
                    sdyx += (Vec.dot(gp, xp, s) - mu * sg) * inv
                    if let dx {
                        let dp = dx + (b * c + ch) * s
                        if accumulateX { for i in 0..<s { dp[i] += gp[i] * sc } } else { for i in 0..<s { dp[i] = gp[i] * sc } }
                    }
                }
                if let dbeta { dbeta[ch] = accumulateParams ? dbeta[ch] + sdy : sdy }
                if let dgamma { dgamma[ch] = accumulateParams ? dgamma[ch] + sdyx : sdyx }
            }
        }
    }

    /// Reference training forward in any float type (two-pass statistics).
    public static func reference<T: BinaryFloatingPoint>(n: Int, c: Int, s: Int, x: [T], gamma: [T], beta: [T], eps: T) -> [T] {
        var y = x
        let m = T(n * s)
        for ch in 0..<c {
            var mean: T = 0
            for b in 0..<n { for i in 0..<s { mean += x[(b * c + ch) * s + i] } }
            mean /= m
            var v: T = 0
            for b in 0..<n { for i in 0..<s { let d = x[(b * c + ch) * s + i] - mean; v += d * d } }
            v /= m
            let inv = 1 / (v + eps).squareRoot()
            for b in 0..<n { for i in 0..<s { let j = (b * c + ch) * s + i; y[j] = (x[j] - mean) * inv * gamma[ch] + beta[ch] } }
        }
        return y
    }
}
