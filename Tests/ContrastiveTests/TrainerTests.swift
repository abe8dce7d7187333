import Foundation
import Testing
import Contrastive

/// The trainer: loss goes down, exact resume (end of epoch and mid-epoch, every method with
/// state: EMA targets, queues, prototypes, optimizer moments), NaN/divergence guard, cancel,
/// gradient accumulation, bad input, checkpoint faults.
@Suite("Trainer", .serialized)
struct TrainerTests {
    static func tinyConfig(_ method: TrainConfig.Method, epochs: Int = 2, batch: Int = 16) -> TrainConfig {
        var c = TrainConfig.preset(method)
        c.model = Model.Config(architecture: .convnet(ConvNet.Config(channels: [8, 16], inChannels: 3)),
                               projector: MLPHead.Config(layers: 2, hidden: 32, output: 16, batchNorm: method != .simclr && method != .mocov2),
                               seed: 3)
        c.epochs = epochs
        c.batchSize = batch
        c.queueSize = 64
        c.prototypes = 10
        c.freezePrototypesEpochs = 1
        c.rankSamples = 32
        c.knnMaxTrain = 48
        c.seed = 11
        return c
    }

    static func data(_ n: Int = 64, seed: UInt64 = 1) throws -> ImageDataset { try ProceduralShapes.make(count: n, size: 16, seed: seed) }

    static func weights(_ t: Trainer) -> [[Float]] {
        t.method.stateNetworks.map { $0.network.params.flatValues.array + $0.network.buffers.flatValues.array }
    }

    func tmp(_ name: String) -> String { NSTemporaryDirectory() + "ctr-trainer-\(getpid())-\(name)" }

    @Test("SimCLR on the procedural set: finite metrics, loss goes down, kNN and rank reported")
    func simclrLearns() throws {
        try withThreads(2) {
            var c = Self.tinyConfig(.simclr, epochs: 6, batch: 32)
            c.learningRate = 1.0
            let all = try Self.data(160)
            let (train, val) = try all.split(validationFraction: 0.2, seed: 1)
            let t = try Trainer(config: c, dataset: train, validation: val)
            var steps: [StepMetrics] = []
            try t.fit { ev in if case .step(let m) = ev { steps.append(m) }; return true }
            #expect(steps.count == t.totalSteps && t.isFinished)
            #expect(steps.allSatisfy { $0.loss.isFinite && $0.gradNorm.isFinite && $0.embeddingStd.isFinite && !$0.skipped })
            #expect(t.history.count == 6)
            let first = t.history.first!.meanLoss, last = t.history.last!.meanLoss
            #expect(last < first, "mean loss \(first) → \(last)")
            #expect(t.history.allSatisfy { $0.knnTop1 >= 0 && $0.knnTop1 <= 1 && $0.knnTop5 >= $0.knnTop1 })
            // Learning rate: warm-up then cosine to 0 at the last step.
            #expect(steps[0].learningRate == 0 && steps.last!.learningRate < steps[steps.count / 2].learningRate)
        }
    }

    @Test("exact resume: 2 epochs == 1 + save + load + 1, and mid-epoch, for every stateful method",
          arguments: [TrainConfig.Method.simclr, .mocov2, .byol, .swav, .nnclr])
    func exactResume(method: TrainConfig.Method) throws {
        try withThreads(2) {
            var c = Self.tinyConfig(method)
            if method == .swav { c.swavQueueStartEpoch = 1; c.queueSize = 32 }
            let d = try Self.data()
            let full = try Trainer(config: c, dataset: d)
            try full.fit()
            let ref = Self.weights(full)

            for stopAt in [4, 5] {   // end of epoch 1 (4 steps per epoch) and mid-epoch 2
                let a = try Trainer(config: c, dataset: d)
                for _ in 0..<stopAt { _ = try a.step() }
                let path = tmp("\(method.rawValue)-\(stopAt).safetensors")
                defer { unlink(path) }
                try a.save(to: path)
                let b = try Trainer(config: c, dataset: d)
                try b.load(from: path)
                #expect(b.globalStep == stopAt && b.epoch == stopAt / 4)
                try b.fit()
                #expect(Self.weights(b) == ref, "\(method) resumed at step \(stopAt) differs")
                #expect(b.history.count == full.history.count)
                #expect(b.history.map(\.meanLoss) == full.history.map(\.meanLoss))
            }
        }
    }

    @Test("same seed and thread count: bit-identical; other seed: different") func determinism() throws {
        try withThreads(2) {
            let c = Self.tinyConfig(.byol, epochs: 1)
            let d = try Self.data()
            let a = try Trainer(config: c, dataset: d), b = try Trainer(config: c, dataset: d)
            try a.fit(); try b.fit()
            #expect(Self.weights(a) == Self.weights(b))
            var c2 = c
            c2.seed = 12
            let e = try Trainer(config: c2, dataset: d)
            try e.fit()
            #expect(Self.weights(e) != Self.weights(a))
        }
    }

    @Test("divergence never reaches the weights: skipped steps, then NUMERIC with weights intact")
    func divergence() throws {
        var c = Self.tinyConfig(.simclr, epochs: 1)
        c.optimizer = .sgd
        c.schedule = .constant
        c.lrScaling = .none
        c.learningRate = 3e38
        c.maxSkippedSteps = 3
        let t = try Trainer(config: c, dataset: try Self.data())
        var skipped = 0
        var lastGood = Self.weights(t)
        do {
            try t.fit { ev in
                if case .step(let m) = ev { if m.skipped { skipped += 1 } else { lastGood = Self.weights(t) } }
                return true
            }
            Issue.record("a diverging run must stop")
        } catch let e as ContrastiveError {
            #expect(e.status == .numeric)
            #expect(e.message.contains("non-finite"))
        }
        #expect(skipped == 2 && t.skippedSteps == 3)
        let final = Self.weights(t)
        #expect(final == lastGood, "no skipped update may land")
        #expect(final.allSatisfy { $0.allSatisfy(\.isFinite) })

        c.nonFinite = .stop
        let s = try Trainer(config: c, dataset: try Self.data())
        #expect(throws: ContrastiveError.self) { try s.fit() }
        #expect(s.skippedSteps == 1)
        #expect(Self.weights(s).allSatisfy { $0.allSatisfy(\.isFinite) })
    }

    @Test("the callback cancels; fit continues afterwards") func cancel() throws {
        let c = Self.tinyConfig(.simclr, epochs: 1)
        let t = try Trainer(config: c, dataset: try Self.data())
        var seen = 0
        do {
            try t.fit { _ in seen += 1; return seen < 2 }
            Issue.record("expected cancellation")
        } catch let e as ContrastiveError { #expect(e.status == .cancelled) }
        #expect(t.globalStep == 2)
        try t.fit()
        #expect(t.isFinished && t.globalStep == 4)
    }

    @Test("gradient accumulation: micro-batches averaged, deterministic") func accumulation() throws {
        try withThreads(2) {
            var c = Self.tinyConfig(.mocov2, epochs: 1)
            c.accumulation = 2
            let d = try Self.data()
            let a = try Trainer(config: c, dataset: d), b = try Trainer(config: c, dataset: d)
            var losses: [Float] = []
            try a.fit { ev in if case .step(let m) = ev { losses.append(m.loss) }; return true }
            try b.fit()
            #expect(losses.count == 4 && losses.allSatisfy(\.isFinite))
            #expect(Self.weights(a) == Self.weights(b))
            var c1 = c
            c1.accumulation = 1
            let u = try Trainer(config: c1, dataset: d)
            try u.fit()
            #expect(Self.weights(u) != Self.weights(a))
        }
    }

    @Test("bad input: empty/too-small datasets, channel mismatch, other method's checkpoint, bad options")
    func badInput() throws {
        let d = try Self.data()
        var c = Self.tinyConfig(.simclr)
        c.batchSize = 128
        #expect(throws: ContrastiveError.self) { _ = try Trainer(config: c, dataset: d) }
        c = Self.tinyConfig(.simclr)
        c.accumulation = 3
        #expect(throws: ContrastiveError.self) { _ = try Trainer(config: c, dataset: d) }
        c = Self.tinyConfig(.simclr)
        c.learningRate = .nan
        #expect(throws: ContrastiveError.self) { _ = try Trainer(config: c, dataset: d) }
        let grey = try ImageDataset(pixels: [UInt8](repeating: 0, count: 64 * 16 * 16), count: 64, height: 16, width: 16, channels: 1, labels: nil)
        #expect(throws: ContrastiveError.self) { _ = try Trainer(config: Self.tinyConfig(.simclr), dataset: grey) }
        #expect(throws: ContrastiveError.self) { _ = try Trainer(config: Self.tinyConfig(.supcon), dataset: grey) }

        let simclr = try Trainer(config: Self.tinyConfig(.simclr), dataset: d)
        let byol = try Trainer(config: Self.tinyConfig(.byol), dataset: d)
        let path = tmp("byol.safetensors")
        defer { unlink(path) }
        try byol.save(to: path)
        let before = Self.weights(simclr)
        do { try simclr.load(from: path); Issue.record("loading BYOL into SimCLR must fail") } catch let e as ContrastiveError {
            #expect(e.status == .format)
            #expect(e.message.contains("method byol"))
        }
        #expect(Self.weights(simclr) == before)
        // A model checkpoint is not a training checkpoint.
        let mp = tmp("model.safetensors")
        defer { unlink(mp) }
        try simclr.exportEncoder(to: mp)
        #expect(throws: ContrastiveError.self) { try simclr.load(from: mp) }
        // Truncated training checkpoints: every prefix is refused, nothing changes.
        let sp = tmp("simclr.safetensors")
        defer { unlink(sp) }
        try simclr.save(to: sp)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: sp)))
        let cut = tmp("cut.safetensors")
        defer { unlink(cut) }
        for len in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 97)) {
            try Data(bytes[..<len]).write(to: URL(fileURLWithPath: cut))
            #expect(throws: ContrastiveError.self) { try simclr.load(from: cut) }
        }
        #expect(Self.weights(simclr) == before)
    }

    @Test("a failed checkpoint write (file size limit) leaves the previous checkpoint intact")
    func failedWrite() throws {
        let t = try Trainer(config: Self.tinyConfig(.simclr, epochs: 1), dataset: try Self.data())
        let path = tmp("keep.safetensors")
        defer { unlink(path) }
        try t.save(to: path)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        _ = try t.step()
        signal(SIGXFSZ, SIG_IGN)
        var old = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
        var small = old
        small.rlim_cur = 4096
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &small)
        var status: Status? = nil
        do { try t.save(to: path) } catch let e as ContrastiveError { status = e.status }
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
        #expect(status == .io)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == original)
        let dir = (path as NSString).deletingLastPathComponent
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("ctr-trainer-\(getpid())-keep.safetensors.") }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
    }

    @Test("bring-your-own batch and encoder export that loads as a model") func ownBatchAndExport() throws {
        let c = Self.tinyConfig(.simclr)
        let t = try Trainer(config: c, dataset: nil, imageSize: (16, 16))
        let d = try Self.data(16)
        let m = try d.pixels.withUnsafeBufferPointer { p in
            try t.step(images: try ImageBatch(pixels: p.baseAddress!, n: 16, h: 16, w: 16, c: 3))
        }
        #expect(m.loss.isFinite && t.globalStep == 1)
        let path = tmp("enc.safetensors")
        defer { unlink(path) }
        try t.exportEncoder(to: path, includeHead: false)
        var mc = c.model
        mc.projector = nil
        let model = try Model(mc)
        try model.load(from: path)
        #expect(model.network.params.flatValues.array == Array(t.model.network.params.flatValues.array.prefix(model.network.params.totalCount)))
    }
}
