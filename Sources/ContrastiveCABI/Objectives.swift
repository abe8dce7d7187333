// C ABI for the objectives: losses and gradients for caller embeddings. Marshalling only —
// every argument is validated here, the arithmetic is in Contrastive/Objectives.
#if canImport(Glibc)
import Glibc
#endif
import Contrastive
import CContrastiveHeader

// MARK: defaults

private func defaultNTXent() -> ctr_ntxent_options {
    var o = ctr_ntxent_options()
    o.struct_size = UInt32(MemoryLayout<ctr_ntxent_options>.size)
    o.temperature = 0.5
    o.similarity = 0
    o.decoupled = 0
    o.queue = nil
    o.queue_size = 0
    return o
}

private func defaultSupCon() -> ctr_supcon_options {
    var o = ctr_supcon_options()
    o.struct_size = UInt32(MemoryLayout<ctr_supcon_options>.size)
    o.temperature = 0.1
    o.similarity = 0
    return o
}

private func defaultBarlow() -> ctr_barlow_twins_options {
    var o = ctr_barlow_twins_options()
    o.struct_size = UInt32(MemoryLayout<ctr_barlow_twins_options>.size)
    o.lambda = 5e-3
    o.scale = 0.025
    return o
}

private func defaultVICReg() -> ctr_vicreg_options {
    var o = ctr_vicreg_options()
    o.struct_size = UInt32(MemoryLayout<ctr_vicreg_options>.size)
    o.invariance = 25
    o.variance = 25
    o.covariance = 1
    o.eps = 1e-4
    o.gamma = 1
    return o
}

private func defaultSinkhorn() -> ctr_sinkhorn_options {
    var o = ctr_sinkhorn_options()
    o.struct_size = UInt32(MemoryLayout<ctr_sinkhorn_options>.size)
    o.epsilon = 0.05
    o.iterations = 3
    o.use_double = 0
    return o
}

@_cdecl("ctr_ntxent_options_default")
public func ctr_ntxent_options_default(_ o: UnsafeMutablePointer<ctr_ntxent_options>?) { o?.pointee = defaultNTXent() }
@_cdecl("ctr_supcon_options_default")
public func ctr_supcon_options_default(_ o: UnsafeMutablePointer<ctr_supcon_options>?) { o?.pointee = defaultSupCon() }
@_cdecl("ctr_barlow_twins_options_default")
public func ctr_barlow_twins_options_default(_ o: UnsafeMutablePointer<ctr_barlow_twins_options>?) { o?.pointee = defaultBarlow() }
@_cdecl("ctr_vicreg_options_default")
public func ctr_vicreg_options_default(_ o: UnsafeMutablePointer<ctr_vicreg_options>?) { o?.pointee = defaultVICReg() }
@_cdecl("ctr_sinkhorn_options_default")
public func ctr_sinkhorn_options_default(_ o: UnsafeMutablePointer<ctr_sinkhorn_options>?) { o?.pointee = defaultSinkhorn() }

// MARK: argument checks

/// A row count or dimension as a positive Int (also bounded so rows × dim fits a tensor).
private func positive(_ v: Int64, _ name: String) throws -> Int {
    guard let i = Int(exactly: v), i >= 1 else { throw ContrastiveError.invalid("\(name) = \(v) must be ≥ 1") }
    guard i <= Int(Int32.max) else { throw ContrastiveError.invalid("\(name) = \(v) is larger than 2³¹ − 1") }
    return i
}

/// Two views of (n1, dim) and (n2, dim): validated, equal row counts, rows × dim bounded.
private func pairShape(_ a: UnsafePointer<Float>?, _ b: UnsafePointer<Float>?, _ n1: Int64, _ n2: Int64, _ dim: Int64,
                       names: (String, String), loss: UnsafeMutablePointer<Float>?) throws -> (UnsafePointer<Float>, UnsafePointer<Float>, Int, Int) {
    guard let a else { throw ContrastiveError.invalid("\(names.0) is NULL") }
    guard let b else { throw ContrastiveError.invalid("\(names.1) is NULL") }
    guard loss != nil else { throw ContrastiveError.invalid("loss is NULL") }
    let r1 = try positive(n1, "n1"), r2 = try positive(n2, "n2"), d = try positive(dim, "dim")
    guard r1 == r2 else {
        throw ContrastiveError.shape("\(names.0) has \(r1) rows and \(names.1) \(r2): the views must describe the same samples")
    }
    _ = try checkedCount([2 * r1, d], what: "embeddings")
    return (a, b, r1, d)
}

private func temperatureArgument(_ t: Float) throws -> Float {
    guard t.isFinite, t > 0 else { throw ContrastiveError.invalid("temperature \(t) must be a positive finite number") }
    return t
}

private func similarityArgument(_ s: Int32) throws -> SimilarityKind {
    guard let k = SimilarityKind(rawValue: s) else {
        throw ContrastiveError.invalid("similarity \(s) is not a ctr_similarity (0 cosine, 1 negative squared Euclidean)")
    }
    return k
}

private func flag(_ v: Int32, _ name: String) throws -> Bool {
    guard v == 0 || v == 1 else { throw ContrastiveError.invalid("\(name) must be 0 or 1, got \(v)") }
    return v == 1
}

// MARK: losses

@_cdecl("ctr_ntxent")
public func ctr_ntxent(_ z1: UnsafePointer<Float>?, _ z2: UnsafePointer<Float>?, _ n1: Int64, _ n2: Int64, _ dim: Int64,
                       _ opts: UnsafePointer<ctr_ntxent_options>?, _ loss: UnsafeMutablePointer<Float>?,
                       _ dz1: UnsafeMutablePointer<Float>?, _ dz2: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded("ctr_ntxent") {
        let o = try readOptions(UnsafeRawPointer(opts), defaults: defaultNTXent(), name: "ctr_ntxent_options")
        let (a, b, n, d) = try pairShape(z1, z2, n1, n2, dim, names: ("z1", "z2"), loss: loss)
        let tau = try temperatureArgument(o.temperature)
        let sim = try similarityArgument(o.similarity)
        let decoupled = try flag(o.decoupled, "decoupled")
        guard let k = Int(exactly: o.queue_size), k >= 0, k <= Int(Int32.max) else {
            throw ContrastiveError.invalid("queue_size \(o.queue_size) must be in 0...2³¹ − 1")
        }
        if k > 0 && o.queue == nil { throw ContrastiveError.invalid("queue is NULL with queue_size \(k)") }
        _ = try checkedCount([2 * n + k, d], what: "embeddings and queue")
        if decoupled && 2 * n - 2 + k < 1 {
            throw ContrastiveError.invalid("the decoupled loss needs a negative: n ≥ 2 or a queue")
        }
        var inputs = [ObjectiveCall.Input("z1", a, [n, d], grad: dz1), ObjectiveCall.Input("z2", b, [n, d], grad: dz2)]
        if k > 0, let q = o.queue { inputs.append(ObjectiveCall.Input("queue", q, [k, d], grad: nil)) }
        let value = try ObjectiveCall.run(inputs) { g, v in
            try g.ntxent(v[0], v[1], queue: k > 0 ? v[2].value : nil, temperature: tau, similarity: sim, decoupled: decoupled)
        }
        loss!.pointee = value
    }
}

@_cdecl("ctr_supcon")
public func ctr_supcon(_ z: UnsafePointer<Float>?, _ labels: UnsafePointer<Int32>?, _ n: Int64, _ dim: Int64,
                       _ opts: UnsafePointer<ctr_supcon_options>?, _ loss: UnsafeMutablePointer<Float>?,
                       _ dz: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded("ctr_supcon") {
        let o = try readOptions(UnsafeRawPointer(opts), defaults: defaultSupCon(), name: "ctr_supcon_options")
        guard let z else { throw ContrastiveError.invalid("z is NULL") }
        guard let labels else { throw ContrastiveError.invalid("labels is NULL") }
        guard let loss else { throw ContrastiveError.invalid("loss is NULL") }
        let m = try positive(n, "n"), d = try positive(dim, "dim")
        _ = try checkedCount([m, d], what: "embeddings")
        let tau = try temperatureArgument(o.temperature)
        let sim = try similarityArgument(o.similarity)
        let lab = Array(UnsafeBufferPointer(start: labels, count: m))
        if let bad = lab.firstIndex(where: { $0 < 0 }) {
            throw ContrastiveError.invalid("labels[\(bad)] = \(lab[bad]) is out of range (labels must be ≥ 0)")
        }
        loss.pointee = try ObjectiveCall.run([ObjectiveCall.Input("z", z, [m, d], grad: dz)]) { g, v in
            try g.supcon(v[0], labels: lab, temperature: tau, similarity: sim)
        }
    }
}

@_cdecl("ctr_byol_loss")
public func ctr_byol_loss(_ p: UnsafePointer<Float>?, _ z: UnsafePointer<Float>?, _ n1: Int64, _ n2: Int64, _ dim: Int64,
                          _ loss: UnsafeMutablePointer<Float>?, _ dp: UnsafeMutablePointer<Float>?,
                          _ dz: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded("ctr_byol_loss") {
        let (a, b, n, d) = try pairShape(p, z, n1, n2, dim, names: ("p", "z"), loss: loss)
        loss!.pointee = try ObjectiveCall.run([ObjectiveCall.Input("p", a, [n, d], grad: dp),
                                               ObjectiveCall.Input("z", b, [n, d], grad: dz)]) { g, v in try g.byol(v[0], v[1]) }
    }
}

@_cdecl("ctr_moco_loss")
public func ctr_moco_loss(_ q: UnsafePointer<Float>?, _ k: UnsafePointer<Float>?, _ n1: Int64, _ n2: Int64, _ dim: Int64,
                          _ queue: UnsafePointer<Float>?, _ queueSize: Int64, _ temperature: Float,
                          _ loss: UnsafeMutablePointer<Float>?, _ dq: UnsafeMutablePointer<Float>?,
                          _ dk: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded("ctr_moco_loss") {
        let (a, b, n, d) = try pairShape(q, k, n1, n2, dim, names: ("q", "k"), loss: loss)
        let tau = try temperatureArgument(temperature)
        guard let kq = Int(exactly: queueSize), kq >= 0, kq <= Int(Int32.max) else {
            throw ContrastiveError.invalid("queue_size \(queueSize) must be in 0...2³¹ − 1")
        }
        if kq > 0 && queue == nil { throw ContrastiveError.invalid("queue is NULL with queue_size \(kq)") }
        _ = try checkedCount([kq, d], what: "queue")
        var inputs = [ObjectiveCall.Input("q", a, [n, d], grad: dq), ObjectiveCall.Input("k", b, [n, d], grad: dk)]
        if kq > 0, let queue { inputs.append(ObjectiveCall.Input("queue", queue, [kq, d], grad: nil)) }
        loss!.pointee = try ObjectiveCall.run(inputs) { g, v in
            try g.moco(v[0], v[1], queue: kq > 0 ? v[2].value : try Tensor(zeros: [0, d]), temperature: tau)
        }
    }
}

@_cdecl("ctr_barlow_twins")
public func ctr_barlow_twins(_ z1: UnsafePointer<Float>?, _ z2: UnsafePointer<Float>?, _ n1: Int64, _ n2: Int64, _ dim: Int64,
                             _ opts: UnsafePointer<ctr_barlow_twins_options>?, _ loss: UnsafeMutablePointer<Float>?,
                             _ dz1: UnsafeMutablePointer<Float>?, _ dz2: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded("ctr_barlow_twins") {
        let o = try readOptions(UnsafeRawPointer(opts), defaults: defaultBarlow(), name: "ctr_barlow_twins_options")
        let (a, b, n, d) = try pairShape(z1, z2, n1, n2, dim, names: ("z1", "z2"), loss: loss)
        guard n >= 2 else { throw ContrastiveError.invalid("Barlow Twins needs n ≥ 2 rows (batch statistics), got \(n)") }
        guard o.lambda.isFinite, o.lambda >= 0 else { throw ContrastiveError.invalid("lambda \(o.lambda) must be ≥ 0") }
        guard o.scale.isFinite, o.scale > 0 else { throw ContrastiveError.invalid("scale \(o.scale) must be > 0") }
        _ = try checkedCount([d, d], what: "the dim × dim cross-correlation")
        loss!.pointee = try ObjectiveCall.run([ObjectiveCall.Input("z1", a, [n, d], grad: dz1),
                                               ObjectiveCall.Input("z2", b, [n, d], grad: dz2)]) { g, v in
            try g.barlowTwins(v[0], v[1], lambda: o.lambda, scale: o.scale)
        }
    }
}

@_cdecl("ctr_vicreg")
public func ctr_vicreg(_ z1: UnsafePointer<Float>?, _ z2: UnsafePointer<Float>?, _ n1: Int64, _ n2: Int64, _ dim: Int64,
                       _ opts: UnsafePointer<ctr_vicreg_options>?, _ loss: UnsafeMutablePointer<Float>?,
                       _ dz1: UnsafeMutablePointer<Float>?, _ dz2: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded("ctr_vicreg") {
        let o = try readOptions(UnsafeRawPointer(opts), defaults: defaultVICReg(), name: "ctr_vicreg_options")
        let (a, b, n, d) = try pairShape(z1, z2, n1, n2, dim, names: ("z1", "z2"), loss: loss)
        guard n >= 2 else { throw ContrastiveError.invalid("VICReg needs n ≥ 2 rows (batch statistics), got \(n)") }
        for (name, v) in [("invariance", o.invariance), ("variance", o.variance), ("covariance", o.covariance), ("gamma", o.gamma)] {
            guard v.isFinite, v >= 0 else { throw ContrastiveError.invalid("\(name) \(v) must be a finite number ≥ 0") }
        }
        guard o.eps.isFinite, o.eps > 0 else { throw ContrastiveError.invalid("eps \(o.eps) must be > 0") }
        _ = try checkedCount([d, d], what: "the dim × dim covariance")
        loss!.pointee = try ObjectiveCall.run([ObjectiveCall.Input("z1", a, [n, d], grad: dz1),
                                               ObjectiveCall.Input("z2", b, [n, d], grad: dz2)]) { g, v in
            try g.vicreg(v[0], v[1], invariance: o.invariance, variance: o.variance, covariance: o.covariance, eps: o.eps, gamma: o.gamma)
        }
    }
}

@_cdecl("ctr_sinkhorn")
public func ctr_sinkhorn(_ scores: UnsafePointer<Float>?, _ b: Int64, _ k: Int64, _ opts: UnsafePointer<ctr_sinkhorn_options>?,
                         _ codes: UnsafeMutablePointer<Float>?, _ capacity: UInt) -> Int32 {
    guarded("ctr_sinkhorn") {
        let o = try readOptions(UnsafeRawPointer(opts), defaults: defaultSinkhorn(), name: "ctr_sinkhorn_options")
        guard let scores else { throw ContrastiveError.invalid("scores is NULL") }
        guard let codes else { throw ContrastiveError.invalid("codes is NULL") }
        let rows = try positive(b, "b"), protos = try positive(k, "k")
        guard protos <= Sinkhorn.maxPrototypes else {
            throw ContrastiveError.invalid("k = \(protos) prototypes is more than CTR_SINKHORN_MAX_PROTOTYPES (\(Sinkhorn.maxPrototypes))")
        }
        let count = try checkedCount([rows, protos], what: "scores")
        guard o.epsilon.isFinite, o.epsilon > 0 else { throw ContrastiveError.invalid("epsilon \(o.epsilon) must be a positive finite number") }
        guard o.iterations >= 1, o.iterations <= 1000 else { throw ContrastiveError.invalid("iterations \(o.iterations) outside 1...1000") }
        let double = try flag(o.use_double, "use_double")
        guard Int(clamping: capacity) >= count else {
            throw ContrastiveError(.bufferTooSmall, "codes holds \(capacity) floats, \(count) needed (\(rows) × \(protos))")
        }
        try ObjectiveCall.requireFinite("scores", scores, count: count)
        // Into a temporary first, so a failure leaves the caller's buffer untouched.
        guard let raw = malloc(count * MemoryLayout<Float>.stride) else {
            throw ContrastiveError(.outOfMemory, "codes: \(count) floats")
        }
        defer { free(raw) }
        let tmp = raw.bindMemory(to: Float.self, capacity: count)
        try Sinkhorn.codes(scores: scores, b: rows, k: protos, epsilon: o.epsilon, iterations: Int(o.iterations), double: double, out: tmp)
        try ObjectiveCall.requireFinite("codes", UnsafePointer(tmp), count: count)
        codes.update(from: tmp, count: count)
    }
}
