/// Full training-state checkpoints (safetensors, written atomically) and exact resume.
///
/// Layout: every network of the method under its name (`online.conv1.weight`,
/// `target.bn1.running_var`, `predictor.predictor.0.weight`, `prototypes.prototypes.weight`, ...),
/// optimizer state as flat tensors `optimizer.<i>.<name>`, queues as `queue.<name>`, and in
/// `__metadata__`: format, method, the run's configuration, the position (epoch, step in
/// epoch, global step, skipped steps), each optimizer's and the method's step count, each
/// queue's ring position, the epoch history, and the encoder's architecture.
extension Trainer {
    static let checkpointFormat = "libcontrastive-train"

    /// Every tensor of the training state, by checkpoint name.
    func stateTensors() -> [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        for (name, net) in method.stateNetworks {
            for (i, e) in net.params.entries.enumerated() { out.append(("\(name).\(e.name)", net.params.value(i))) }
            for (i, e) in net.buffers.entries.enumerated() { out.append(("\(name).\(e.name)", net.buffers.value(i))) }
        }
        for (i, opt) in optimizers.enumerated() {
            for (n, t) in opt.state { out.append(("optimizer.\(i).\(n)", t)) }
        }
        for (name, q) in method.stateQueues { out.append(("queue.\(name)", q.storage)) }
        return out
    }

    var stateMetadata: [(String, String)] {
        var m: [(String, String)] = [("format", Trainer.checkpointFormat), ("library_version", Version.string)]
        m += config.summary.map { ("config.\($0.0)", $0.1) }
        m += model.metadata.filter { $0.0 != "format" && $0.0 != "library_version" }.map { ("model.\($0.0)", $0.1) }
        m += [("epoch", "\(epoch)"), ("step_in_epoch", "\(stepInEpoch)"), ("global_step", "\(globalStep)"),
              ("skipped_steps", "\(skippedSteps)"), ("consecutive_skips", "\(consecutiveSkips)"),
              ("method_step", "\(method.stepCount)"),
              ("epoch_loss_sum", "\(epochLossSum.bitPattern)"), ("epoch_loss_count", "\(epochLossCount)")]
        for (i, opt) in optimizers.enumerated() { m.append(("optimizer.\(i).steps", "\(opt.steps)")) }
        for (name, q) in method.stateQueues { m += [("queue.\(name).pointer", "\(q.pointer)"), ("queue.\(name).filled", "\(q.filled)")] }
        m.append(("history", history.map { e in
            "\(e.epoch),\(e.meanLoss.bitPattern),\(e.effectiveRank.bitPattern),\(e.knnTop1.bitPattern),\(e.knnTop5.bitPattern),\(e.seconds.bitPattern),\(e.skippedSteps)"
        }.joined(separator: ";")))
        return m
    }

    /// Write the whole training state atomically (temp file, fsync, rename): a failed write
    /// leaves an existing file at `path` intact.
    public func save(to path: String) throws {
        var w = Safetensors.Writer()
        w.metadata = stateMetadata
        for (name, t) in stateTensors() { try w.add(name, shape: t.shape, floats: t.data) }
        try w.write(to: path)
    }

    /// Restore the training state from `save`'s file. The checkpoint must come from the same
    /// method and architecture (else `.format`, naming what differs); everything is checked
    /// before anything changes, so on failure the trainer is as it was.
    public func load(from path: String) throws {
        let f = try Safetensors.File(path: path)
        guard f.meta("format") == Trainer.checkpointFormat else {
            throw ContrastiveError(.format, "\(path) is not a training checkpoint (format \(f.meta("format") ?? "missing")); model checkpoints load with Model.load")
        }
        var problems: [String] = []
        if let m = f.meta("config.method"), m != config.method.rawValue {
            problems.append("checkpoint of method \(m), the trainer runs \(config.method.rawValue)")
        }
        for (k, v) in model.metadata where ["arch", "stem", "in_channels", "width", "channels", "projector"].contains(k) {
            if let theirs = f.meta("model.\(k)"), theirs != v { problems.append("model \(k) is \(theirs) in the checkpoint, \(v) here") }
        }
        let expected = stateTensors()
        var names = Set<String>()
        for (name, t) in expected {
            names.insert(name)
            guard let e = f.entry(name) else { problems.append("missing \(name)"); continue }
            if e.shape != t.shape { problems.append("\(name) has shape \(e.shape), expected \(t.shape)") }
        }
        for e in f.entries where !names.contains(e.name) { problems.append("unexpected \(e.name)") }
        func int(_ key: String, _ range: ClosedRange<Int>) -> Int {
            guard let s = f.meta(key), let v = Int(s), range.contains(v) else { problems.append("metadata \(key) is missing or out of range"); return 0 }
            return v
        }
        let ep = int("epoch", 0...config.epochs), sie = int("step_in_epoch", 0...max(stepsPerEpoch - 1, 0))
        let gs = int("global_step", 0...Int(Int32.max)), sk = int("skipped_steps", 0...Int(Int32.max))
        let cs = int("consecutive_skips", 0...Int(Int32.max)), ms = int("method_step", 0...Int(Int32.max))
        let lc = int("epoch_loss_count", 0...Int(Int32.max))
        let ls = f.meta("epoch_loss_sum").flatMap(UInt64.init).map(Double.init(bitPattern:)) ?? 0
        let osteps = optimizers.indices.map { int("optimizer.\($0).steps", 0...Int(Int32.max)) }
        let qpos = method.stateQueues.map { (name, q) in (int("queue.\(name).pointer", 0...(q.capacity - 1)), int("queue.\(name).filled", 0...q.capacity)) }
        var hist: [EpochMetrics] = []
        if let h = f.meta("history"), !h.isEmpty {
            for item in h.split(separator: ";") {
                let p = item.split(separator: ",")
                guard p.count == 7, let e = Int(p[0]), let a = UInt64(p[1]), let b = UInt64(p[2]), let c = UInt64(p[3]),
                      let d = UInt64(p[4]), let s = UInt64(p[5]), let k = Int(p[6]) else { problems.append("metadata history is malformed"); break }
                var m = EpochMetrics()
                m.epoch = e; m.meanLoss = Double(bitPattern: a); m.effectiveRank = Double(bitPattern: b)
                m.knnTop1 = Double(bitPattern: c); m.knnTop5 = Double(bitPattern: d); m.seconds = Double(bitPattern: s); m.skippedSteps = k
                hist.append(m)
            }
        }
        guard problems.isEmpty else {
            let shown = problems.prefix(12).joined(separator: "; ")
            throw ContrastiveError(.format, "checkpoint does not fit this trainer: \(shown)\(problems.count > 12 ? " (and \(problems.count - 12) more)" : "")")
        }
        var staged: [[Float]] = []
        for (name, _) in expected {
            let v = f.floats(name)!
            if let bad = v.firstIndex(where: { !$0.isFinite }) {
                throw ContrastiveError(.numeric, "checkpoint tensor \(name) holds a non-finite value at \(bad)")
            }
            staged.append(v)
        }
        // Commit.
        for ((_, t), v) in zip(expected, staged) { v.withUnsafeBufferPointer { t.data.update(from: $0.baseAddress!, count: v.count) } }
        for (opt, s) in zip(optimizers, osteps) { opt.restoreSteps(s) }
        for ((_, q), p) in zip(method.stateQueues, qpos) { try q.restore(pointer: p.0, filled: p.1) }
        method.stepCount = ms
        method.discardStep()
        epoch = ep; stepInEpoch = sie; globalStep = gs; skippedSteps = sk; consecutiveSkips = cs
        epochLossSum = ls; epochLossCount = lc
        history = hist
        current = nil
        if let swav = method as? SwAV, config.swavQueueStartEpoch >= 0 { swav.useQueue = epoch >= config.swavQueueStartEpoch }
    }

    /// Save the encoder alone (backbone under torchvision's names; with `includeHead`, the
    /// projector too) — loads into torchvision / `Model.load`.
    public func exportEncoder(to path: String, includeHead: Bool = false) throws {
        try model.save(to: path, includeHead: includeHead)
    }
}

extension Optimizer {
    func restoreSteps(_ s: Int) {
        switch self {
        case let o as SGD: o.steps = s
        case let o as LARS: o.steps = s
        case let o as AdamW: o.steps = s
        default: break
        }
    }
}
