#if canImport(Glibc)
import Glibc
#endif

/// The `Contrast` kernels, symmetric form: the anchor-anchor similarities are symmetric
/// (s_ij = s_ji), so each row block computes only its columns from its own first row onwards —
/// half the similarity GEMM work in the forward pass and in the backward recomputation.
///
/// Forward: a row's log-sum-exp combines its own block's columns (row reduction) with the
/// entries earlier blocks computed in its column (column reductions merged online: running
/// max and rescaled sum). Backward: H_ij = ∂ℓ/∂s_ij + ∂ℓ/∂s_ji is symmetric, so block b's
/// part H_b (rows of b, columns from b on) gives both du_b += H_b·C and, for the later rows,
/// du_later += H_bᵀ·U_b. Everything is accumulated in a fixed block order (deterministic for a
/// fixed thread count).
extension Contrast {
    public static func forward(_ p: Prepared, positives: Positives, count: UnsafePointer<Int32>, temperature: Float,
                                        similarity: SimilarityKind, decoupled: Bool, blockRows: Int,
                                        lse: UnsafeMutablePointer<Float>, workspace: Workspace) throws -> Float {
        let m = p.m, ncol = p.m + p.k, half = m / 2, d = p.d
        let invT = 1 / temperature, euclid = similarity == .negativeSquaredEuclidean
        let b = Contrast.blockRows(blockRows, rows: m, columns: ncol)
        let s = try workspace.tensor([b, ncol])
        // Per anchor: this block's row part (max, Σexp) and the column part from earlier blocks;
        // positive-similarity sums likewise.
        let rowMax = try workspace.tensor([m]), rowSum = try workspace.tensor([m])
        let colMax = try workspace.tensor([m]), colSum = try workspace.zeros([m])
        let posSum = try workspace.zeros([m])
        let bm = try workspace.tensor([m]), bs = try workspace.tensor([m])
        colMax.fill(-.infinity)
        let sp = s.data, rmx = rowMax.data, rsm = rowSum.data, cmx = colMax.data, csm = colSum.data
        let ps = posSum.data, bmp = bm.data, bsp = bs.data
        var r0 = 0
        while r0 < m {
            let r1 = min(m, r0 + b), w = ncol - r0, rows = r1 - r0
            // Rows r0..<r1 against columns r0..<M+K only (the earlier columns were earlier blocks' rows).
            BLAS.sgemm(transA: false, transB: true, m: rows, n: w, k: d, alpha: euclid ? 2 * invT : invT,
                       a: p.cols.data + r0 * d, lda: d, b: p.cols.data + r0 * d, ldb: d, beta: 0, c: sp, ldc: w)
            if euclid {
                let sq = p.sq.data
                parallelFor(rows, grain: 1) { rr in
                    for r in rr { let row = sp + r * w, si = sq[r0 + r] * invT; for c in 0..<w { row[c] -= si + sq[r0 + c] * invT } }
                }
            }
            // Positive sums: row parts (columns ≥ r0) and column parts (rows of this block seen
            // from later anchors), read before any masking.
            parallelFor(rows, grain: 1) { rr in
                for r in rr {
                    let i = r0 + r, row = sp + r * w
                    switch positives {
                    case .pairs:
                        let j = (i + half) % m
                        if j >= r0 { ps[i] += row[j - r0] }
                    case .labels(let lab):
                        let l = lab[i]
                        for j in r0..<m where j != i && lab[j] == l { ps[i] += row[j - r0] }
                    }
                }
            }
            if r1 < m {
                parallelFor(m - r1, grain: 256) { cr in
                    for jj in cr {
                        let j = r1 + jj, c = j - r0
                        switch positives {
                        case .pairs:
                            let i = (j + half) % m
                            if i >= r0 && i < r1 { ps[j] += sp[(i - r0) * w + c] }
                        case .labels(let lab):
                            let l = lab[j]
                            for i in r0..<r1 where lab[i] == l { ps[j] += sp[(i - r0) * w + c] }
                        }
                    }
                }
            }
            // Masks: the diagonal, and the positives when decoupled (a symmetric mask, so the
            // same −∞ serves the row and the column reductions).
            parallelFor(rows, grain: 1) { rr in
                for r in rr {
                    let i = r0 + r, row = sp + r * w
                    row[i - r0] = -.infinity
                    if decoupled {
                        switch positives {
                        case .pairs:
                            let j = (i + half) % m
                            if j >= r0 { row[j - r0] = -.infinity }
                        case .labels(let lab):
                            let l = lab[i]
                            for j in r0..<m where j != i && lab[j] == l { row[j - r0] = -.infinity }
                        }
                    }
                    let mx = FastExp.max(row, w)
                    rmx[i] = mx
                    rsm[i] = mx.isFinite ? FastExp.sumExp(row, w, shift: mx) : 0
                }
            }
            // Column reductions for the later anchors, merged into their running (max, Σexp).
            if r1 < m {
                let parts = parallelParts(m - r1, grain: 64)
                ThreadPool.shared.run(parts: parts) { part in
                    let range = partRange(part, of: parts, m - r1)
                    let j0 = r1 + range.lowerBound, n = range.count
                    guard n > 0 else { return }
                    let c0 = j0 - r0
                    let mxp = bmp + j0, smp = bsp + j0
                    mxp.update(repeating: -.infinity, count: n)
                    smp.update(repeating: 0, count: n)
                    for r in 0..<rows {
                        let row = sp + r * w + c0
                        for t in 0..<n where row[t] > mxp[t] { mxp[t] = row[t] }
                    }
                    for r in 0..<rows {
                        let row = sp + r * w + c0
                        var t = 0
                        while t + 16 <= n {
                            let x = UnsafeRawPointer(row + t).loadUnaligned(as: FastExp.V.self)
                            let mv = UnsafeRawPointer(mxp + t).loadUnaligned(as: FastExp.V.self)
                            var acc = UnsafeRawPointer(smp + t).loadUnaligned(as: FastExp.V.self)
                            acc += FastExp.exp(x - mv)
                            UnsafeMutableRawPointer(smp + t).storeBytes(of: acc, as: FastExp.V.self)
                            t += 16
                        }
                        while t < n { smp[t] += FastExp.exp(row[t] - mxp[t]); t += 1 }
                    }
                    for t in 0..<n {
                        let j = j0 + t
                        let (a, sa) = (cmx[j], csm[j]), (bb, sb) = (mxp[t], smp[t])
                        if !bb.isFinite { continue }
                        if !a.isFinite { cmx[j] = bb; csm[j] = sb; continue }
                        let nm = Swift.max(a, bb)
                        csm[j] = sa * expf(a - nm) + sb * expf(bb - nm)
                        cmx[j] = nm
                    }
                }
            }
            r0 = r1
        }
        var total = 0.0, anchors = 0
        for i in 0..<m {
            let (a, sa, bb, sb) = (rmx[i], rsm[i], cmx[i], csm[i])
            let nm = Swift.max(a, bb)
            let l: Float
            if !nm.isFinite { l = nm }
            else { l = nm + logf((a.isFinite ? sa * expf(a - nm) : 0) + (bb.isFinite ? sb * expf(bb - nm) : 0)) }
            lse[i] = l
            if count[i] > 0 { total += Double(l - ps[i] / Float(count[i])); anchors += 1 }
        }
        return anchors > 0 ? Float(total / Double(anchors)) : 0
    }

    public static func backward(_ p: Prepared, positives: Positives, count: UnsafePointer<Int32>, temperature: Float,
                                         similarity: SimilarityKind, decoupled: Bool, blockRows: Int,
                                         lse: UnsafePointer<Float>, g: Float, workspace: Workspace,
                                         dst: (Int) -> (UnsafeMutablePointer<Float>, Bool)) throws {
        let m = p.m, ncol = p.m + p.k, d = p.d, half = m / 2
        let invT = 1 / temperature, euclid = similarity == .negativeSquaredEuclidean
        var anchors = 0
        for i in 0..<m where count[i] > 0 { anchors += 1 }
        guard anchors > 0 else {
            for i in 0..<m { let (q, acc) = dst(i); if !acc { q.update(repeating: 0, count: d) } }
            return
        }
        let sc = try workspace.tensor([m]), wgt = try workspace.tensor([m])
        for i in 0..<m {
            sc.data[i] = count[i] > 0 ? g / Float(anchors) : 0
            wgt.data[i] = count[i] > 0 ? sc.data[i] / Float(count[i]) : 0
        }
        let b = Contrast.blockRows(blockRows, rows: m, columns: ncol)
        let s = try workspace.tensor([b, ncol])
        let du = try workspace.zeros([m, d])
        let rs = try workspace.zeros([m])
        let sp = s.data, scp = sc.data, wp = wgt.data, rsp = rs.data, dup = du.data, cols = p.cols.data
        var r0 = 0
        while r0 < m {
            let r1 = min(m, r0 + b), w = ncol - r0, rows = r1 - r0
            BLAS.sgemm(transA: false, transB: true, m: rows, n: w, k: d, alpha: euclid ? 2 * invT : invT,
                       a: cols + r0 * d, lda: d, b: cols + r0 * d, ldb: d, beta: 0, c: sp, ldc: w)
            if euclid {
                let sq = p.sq.data
                parallelFor(rows, grain: 1) { rr in
                    for r in rr { let row = sp + r * w, si = sq[r0 + r] * invT; for c in 0..<w { row[c] -= si + sq[r0 + c] * invT } }
                }
            }
            parallelFor(rows, grain: 1) { rr in
                for r in rr {
                    let i = r0 + r, row = sp + r * w
                    let li = lse[i], si = scp[i]
                    let liv = FastExp.V(repeating: li), siv = FastExp.V(repeating: si)
                    let na = m - r0   // anchor columns in this block's range
                    var acc = FastExp.V(repeating: 0)
                    var c = 0
                    while c + 16 <= na {
                        let x = UnsafeRawPointer(row + c).loadUnaligned(as: FastExp.V.self)
                        let lj = UnsafeRawPointer(lse + r0 + c).loadUnaligned(as: FastExp.V.self)
                        let sj = UnsafeRawPointer(scp + r0 + c).loadUnaligned(as: FastExp.V.self)
                        let h = siv * FastExp.exp(x - liv) + sj * FastExp.exp(x - lj)
                        UnsafeMutableRawPointer(row + c).storeBytes(of: h, as: FastExp.V.self)
                        acc += h
                        c += 16
                    }
                    var tail: Float = 0
                    while c < na {
                        let h = si * FastExp.exp(row[c] - li) + scp[r0 + c] * FastExp.exp(row[c] - lse[r0 + c])
                        row[c] = h; tail += h; c += 1
                    }
                    while c + 16 <= w {
                        let x = UnsafeRawPointer(row + c).loadUnaligned(as: FastExp.V.self)
                        let h = siv * FastExp.exp(x - liv)
                        UnsafeMutableRawPointer(row + c).storeBytes(of: h, as: FastExp.V.self)
                        acc += h
                        c += 16
                    }
                    while c < w { let h = si * FastExp.exp(row[c] - li); row[c] = h; tail += h; c += 1 }
                    var sum = acc.sum() + tail
                    sum -= row[i - r0]; row[i - r0] = 0
                    func fix(_ j: Int) {
                        let v = -(wp[i] + wp[j]), cc = j - r0
                        if decoupled { sum += v - row[cc]; row[cc] = v } else { sum += v; row[cc] += v }
                    }
                    switch positives {
                    case .pairs:
                        let j = (i + half) % m
                        if j >= r0 { fix(j) }
                    case .labels(let lab):
                        let l = lab[i]
                        for j in r0..<m where j != i && lab[j] == l { fix(j) }
                    }
                    rsp[i] += sum
                }
            }
            let alpha = euclid ? 2 * invT : invT
            // Rows of this block: H_b · C[r0...]
            BLAS.sgemm(transA: false, transB: false, m: rows, n: d, k: w, alpha: alpha, a: sp, lda: w,
                       b: cols + r0 * d, ldb: d, beta: 1, c: dup + r0 * d, ldc: d)
            if r1 < m {
                // Later rows: H_b[:, r1 − r0 ..< m − r0]ᵀ · U_b, and their share of the row sums.
                BLAS.sgemm(transA: true, transB: false, m: m - r1, n: d, k: rows, alpha: alpha, a: sp + (r1 - r0), lda: w,
                           b: cols + r0 * d, ldb: d, beta: 1, c: dup + r1 * d, ldc: d)
                if euclid {
                    parallelFor(m - r1, grain: 256) { cr in
                        for jj in cr { let c = r1 - r0 + jj; var t: Float = 0; for r in 0..<rows { t += sp[r * w + c] }; rsp[r1 + jj] += t }
                    }
                }
            }
            r0 = r1
        }
        let dests = (0..<m).map { dst($0) }
        let norms = p.norms.data
        parallelFor(m, grain: 8) { rr in
            for i in rr {
                let dr = dup + i * d
                let (q, accum) = dests[i]
                if euclid {
                    let zi = cols + i * d, k = 2 * invT * rsp[i]
                    for t in 0..<d { let v = dr[t] - k * zi[t]; q[t] = accum ? q[t] + v : v }
                } else {
                    let u = cols + i * d, nrm = norms[i]
                    if nrm > normEps {
                        let ug = Vec.dot(u, dr, d), inv = 1 / nrm
                        for t in 0..<d { let v = (dr[t] - u[t] * ug) * inv; q[t] = accum ? q[t] + v : v }
                    } else {
                        let inv = 1 / normEps
                        for t in 0..<d { let v = dr[t] * inv; q[t] = accum ? q[t] + v : v }
                    }
                }
            }
        }
    }
}
