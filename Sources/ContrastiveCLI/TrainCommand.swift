// `contrastive train`: pre-train, checkpoint every epoch, write metrics (CSV + JSON), evaluate
// against the raw-pixel and random-initialisation baselines, write the HTML report.
#if canImport(Glibc)
import Glibc
#endif
import Contrastive

enum TrainCommand {
    static let usage = """
    usage: contrastive train [options]
      --method M          simclr (default), mocov2, byol, swav, simsiam, barlow, vicreg, nnclr, supcon
      --data SPEC         training images (default fashion-mnist); SPEC is one of
    \(DataSpec.help)
      --test-data SPEC    labelled test split for evaluation (default: the dataset's own, if any)
      --limit N           use the first N training images
      --arch A            convnet (default), resnet18, resnet34, resnet50, resnet101, resnet152
      --stem S            cifar (default) or imagenet (ResNets)
      --width W           ResNet width multiplier (default 1)
      --channels LIST     ConvNet stage channels (default 32,64,128,256)
      --head-layers N --head-hidden N --head-out N   projection head (default: the method's)
      --epochs N (default 3) --batch N (default 256) --accumulation N (default 1) --seed N
      --optimizer O       sgd, lars, adamw (default: the method's)
      --lr X --weight-decay X --momentum X --warmup-epochs X --schedule cosine|constant|step
      --temperature X --queue-size N --tau-base X --tau-final X --prototypes N
      --augment A         preset (simclr, simclr-cifar, mocov2, byol, swav, swav-cifar) or a description
      --threads N         library threads (default: all cores)
      --out DIR           output directory (default runs/<method>-<data>)
      --resume FILE       continue from a training checkpoint (same options)
      --knn-k N --knn-t X evaluation kNN (default 20, 0.07: solo-learn's protocol)
      --no-eval           skip the final evaluation and baselines
      --no-baselines      evaluate the trained encoder only (no raw-pixel / random-init rows)
      --quiet             no progress line
    writes DIR/checkpoint.safetensors (full state, every epoch), DIR/encoder.safetensors (backbone,
    torchvision names), DIR/metrics.csv, DIR/metrics.json, DIR/augment_preview.png, DIR/report.html
    """

    static let options = ["method", "data", "test-data", "limit", "arch", "stem", "width", "channels", "head-layers", "head-hidden",
                          "head-out", "epochs", "batch", "accumulation", "seed", "optimizer", "lr", "weight-decay", "momentum",
                          "warmup-epochs", "schedule", "temperature", "queue-size", "tau-base", "tau-final", "prototypes", "augment",
                          "threads", "out", "resume", "knn-k", "knn-t", "eval-limit"]

    /// The model architecture from --arch/--stem/--width/--channels and the data's channel count.
    static func architecture(_ a: Arguments, channels: Int) throws -> Model.Architecture {
        let arch = try a.choice("arch", ["convnet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152"], default: "convnet")
        if arch == "convnet" {
            let ch = try a.string("channels", default: "32,64,128,256").split(separator: ",").map { s -> Int in
                guard let v = Int(s), v >= 1 else { throw CLIError("--channels must be positive integers separated by commas") }
                return v
            }
            return .convnet(ConvNet.Config(channels: ch, inChannels: channels))
        }
        let stem = try a.choice("stem", ["cifar", "imagenet"], default: "cifar")
        return .resnet(ResNet.Config(depth: Int(arch.dropFirst(6))!, stem: stem == "cifar" ? .cifar : .imagenet, inChannels: channels,
                                     width: Float(try a.double("width") ?? 1)))
    }

    static func config(_ a: Arguments, channels: Int) throws -> TrainConfig {
        let mname = try a.choice("method", TrainConfig.Method.allCases.map(\.rawValue), default: "simclr")
        let method = TrainConfig.Method(rawValue: mname)!
        var c = TrainConfig.preset(method)
        var head = TrainConfig.defaultProjector(method)
        if let v = try a.int("head-layers") { head.layers = v }
        if let v = try a.int("head-hidden") { head.hidden = v }
        if let v = try a.int("head-out") { head.output = v }
        c.model = Model.Config(architecture: try architecture(a, channels: channels), projector: head, seed: try a.uint64("seed", default: 0))
        c.seed = try a.uint64("seed", default: 0)
        c.epochs = try a.int("epochs", default: 3)
        c.batchSize = try a.int("batch", default: 256)
        c.accumulation = try a.int("accumulation", default: 1)
        if let o = a.string("optimizer") {
            guard let k = TrainConfig.OptimizerKind(rawValue: o) else { throw CLIError("--optimizer must be sgd, lars or adamw") }
            c.optimizer = k
        }
        if let v = try a.double("lr") { c.learningRate = Float(v) }
        if let v = try a.double("weight-decay") { c.weightDecay = Float(v) }
        if let v = try a.double("momentum") { c.momentum = Float(v) }
        if let v = try a.double("warmup-epochs") { c.warmupEpochs = v }
        if let s = a.string("schedule") {
            guard let k = TrainConfig.ScheduleKind(rawValue: s) else { throw CLIError("--schedule must be cosine, constant or step") }
            c.schedule = k
        }
        if let v = try a.double("temperature") { c.temperature = Float(v) }
        if let v = try a.int("queue-size") { c.queueSize = v }
        if let v = try a.double("tau-base") { c.tauBase = Float(v) }
        if let v = try a.double("tau-final") { c.tauFinal = Float(v) }
        if let v = try a.int("prototypes") { c.prototypes = v }
        if let aug = a.string("augment") {
            if AugmentPipeline.presetNames.contains(aug) { c.augmentationPreset = aug } else { c.augmentation = try AugmentPipeline.parse(aug) }
        }
        c.knnK = 20
        c.knnTemperature = 0.07
        return c
    }

    static func run(_ args: [String]) throws {
        let a = try Arguments(args, options: options, flags: ["no-eval", "no-baselines", "quiet", "help"])
        if a.flag("help") { print(usage); return }
        guard a.positional.isEmpty else { throw CLIError("unexpected argument \(a.positional[0]) (see contrastive train --help)") }
        if let t = try a.int("threads") {
            guard t >= 1, t <= ThreadPool.maxThreads else { throw CLIError("--threads must be 1...\(ThreadPool.maxThreads)") }
            ThreadPool.shared.setThreads(t)
        }
        let spec = a.string("data", default: "fashion-mnist")
        let train = try DataSpec.limit(try DataSpec.load(spec), try a.int("limit", default: 0))
        let test = try DataSpec.testSplit(train: spec, explicit: a.string("test-data"))
        let cfg = try config(a, channels: train.channels)
        let out = a.string("out", default: "runs/\(cfg.method.rawValue)-\(spec.split(separator: ":").first.map(String.init) ?? "data")")
        try makeDirectories(out)

        // Online kNN each epoch on (at most) 2000 test images.
        let onlineVal = try test.flatMap { t in t.labels == nil || train.labels == nil ? nil : try DataSpec.limit(t, 2000) }
        let trainer = try Trainer(config: cfg, dataset: train, validation: onlineVal)
        trainer.progress = !a.flag("quiet")
        if let r = a.string("resume") {
            try trainer.load(from: r)
            print("resumed \(r) at epoch \(trainer.epoch), step \(trainer.globalStep)")
        }
        print("contrastive train: \(cfg.method.rawValue) on \(spec) (\(train.count) images \(train.height)×\(train.width)×\(train.channels)), "
              + "\(describe(cfg.model)), \(cfg.epochs) epochs × \(trainer.stepsPerEpoch) steps of \(cfg.batchSize), "
              + "\(cfg.optimizer.rawValue) lr \(formatFixed(Double(trainer.baseLearningRate), 4)), \(ThreadPool.shared.threads) threads → \(out)/")
        fflush(stdout)

        // The augmentation preview of the first images.
        let previewPath = "\(out)/augment_preview.png"
        try train.pixels.withUnsafeBufferPointer { p in
            let b = try ImageBatch(pixels: p.baseAddress!, n: min(train.count, 8), h: train.height, w: train.width, c: train.channels)
            try Preview.writePNG(trainer.augmenter, images: b, seed: cfg.seed, epoch: 0, path: previewPath, maxImages: 8)
        }

        var steps: [StepMetrics] = []
        let checkpoint = "\(out)/checkpoint.safetensors"
        let started = monotonic()
        var interrupted: ContrastiveError? = nil
        do {
            try trainer.fit { ev in
                switch ev {
                case .step(let m): steps.append(m)
                case .epoch:
                    do { try trainer.save(to: checkpoint) } catch { fputs("warning: checkpoint not written: \(error)\n", stderr) }
                }
                return true
            }
        } catch let e as ContrastiveError where e.status == .numeric {
            interrupted = e
            fputs("\ntraining stopped: \(e.message)\n", stderr)
        }
        let trainSeconds = monotonic() - started
        try trainer.save(to: checkpoint)
        try trainer.exportEncoder(to: "\(out)/encoder.safetensors")
        try writeCSV(steps, to: "\(out)/metrics.csv")

        var table: [EvalRow] = []
        var scatter: Scatter? = nil
        if !a.flag("no-eval"), let test, test.labels != nil, train.labels != nil {
            let eval = try Evaluation(train: train, test: test, limit: try a.int("eval-limit", default: 0),
                                      k: try a.int("knn-k", default: 20), t: Float(try a.double("knn-t") ?? 0.07))
            table = try eval.compare(trainer: trainer, baselines: !a.flag("no-baselines"))
            scatter = eval.scatter
            print("")
            print(Evaluation.format(table))
        }
        let json = metricsJSON(config: cfg, trainer: trainer, seconds: trainSeconds, table: table, stopped: interrupted)
        try writeText(json, to: "\(out)/metrics.json")
        let report = Report(title: "\(cfg.method.rawValue) on \(spec)", config: cfg, trainer: trainer, steps: steps,
                            table: table, scatter: scatter, previewPNG: try readBytes(previewPath), seconds: trainSeconds,
                            datasetLine: "\(train.count) training images \(train.height)×\(train.width)×\(train.channels)" +
                                (test.map { ", \($0.count) test images" } ?? ""),
                            classNames: DataSpec.classNames(spec))
        try writeText(report.html(), to: "\(out)/report.html")
        print("wrote \(out)/report.html, metrics.csv, metrics.json, checkpoint.safetensors, encoder.safetensors")
        if let interrupted { throw interrupted }
    }

    static func describe(_ m: Model.Config) -> String {
        var s: String
        switch m.architecture {
        case .convnet(let c): s = "ConvNet \(c.channels.map(String.init).joined(separator: "-"))"
        case .resnet(let r): s = "ResNet-\(r.depth) (\(r.stem.rawValue) stem)"
        }
        if let p = m.projector { s += " + projector \(p.layers)×\(p.hidden)→\(p.output)\(p.batchNorm ? " BN" : "")" }
        return s
    }

    static func writeCSV(_ steps: [StepMetrics], to path: String) throws {
        var s = "step,epoch,loss,learning_rate,tau,grad_norm,embedding_std,images_per_second,seconds,skipped\n"
        for m in steps {
            s += "\(m.step),\(m.epoch),\(m.loss),\(m.learningRate),\(m.tau.isNaN ? "" : "\(m.tau)"),\(m.gradNorm),\(m.embeddingStd),"
            s += "\(formatFixed(m.imagesPerSecond, 1)),\(formatFixed(m.seconds, 4)),\(m.skipped ? 1 : 0)\n"
        }
        try writeText(s, to: path)
    }

    static func metricsJSON(config c: TrainConfig, trainer t: Trainer, seconds: Double, table: [EvalRow], stopped: ContrastiveError?) -> String {
        func num(_ v: Double) -> String { v.isFinite ? "\(v)" : "null" }
        var s = "{\n  \"config\": {" + c.summary.map { "\"\($0.0)\": \"\(jsonEscape($0.1))\"" }.joined(separator: ", ") + "},\n"
        s += "  \"steps\": \(t.globalStep), \"skipped_steps\": \(t.skippedSteps), \"train_seconds\": \(num(seconds)),\n"
        if let stopped { s += "  \"stopped\": \"\(jsonEscape(stopped.message))\",\n" }
        s += "  \"epochs\": [\n" + t.history.map { e in
            "    {\"epoch\": \(e.epoch + 1), \"mean_loss\": \(num(e.meanLoss)), \"effective_rank\": \(num(e.effectiveRank)), " +
            "\"knn_top1\": \(num(e.knnTop1)), \"knn_top5\": \(num(e.knnTop5)), \"seconds\": \(num(e.seconds))}"
        }.joined(separator: ",\n") + "\n  ],\n"
        s += "  \"evaluation\": [\n" + table.map { r in
            "    {\"features\": \"\(jsonEscape(r.name))\", \"dim\": \(r.dim), \"linear_top1\": \(num(r.linearTop1)), \"linear_top5\": \(num(r.linearTop5)), " +
            "\"knn_top1\": \(num(r.knnTop1)), \"knn_top5\": \(num(r.knnTop5))}"
        }.joined(separator: ",\n") + "\n  ]\n}\n"
        return s
    }
}

func jsonEscape(_ s: String) -> String {
    var o = ""
    for ch in s.unicodeScalars {
        switch ch {
        case "\"": o += "\\\""
        case "\\": o += "\\\\"
        case "\n": o += "\\n"
        case "\t": o += "\\t"
        default: if ch.value < 0x20 { o += "\\u00" + String(ch.value, radix: 16).leftPad(2) } else { o.unicodeScalars.append(ch) }
        }
    }
    return o
}

extension String {
    func leftPad(_ n: Int, _ c: Character = "0") -> String { count >= n ? self : String(repeating: c, count: n - count) + self }
    func rightPad(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}

func monotonic() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func makeDirectories(_ path: String) throws {
    var cur = path.hasPrefix("/") ? "/" : ""
    for part in path.split(separator: "/") {
        cur += (cur.isEmpty || cur.hasSuffix("/") ? "" : "/") + part
        if mkdir(cur, 0o755) != 0 && errno != EEXIST { throw CLIError("cannot create directory \(cur): \(String(cString: strerror(errno)))") }
    }
}

func writeText(_ s: String, to path: String) throws {
    let bytes = Array(s.utf8)
    try bytes.withUnsafeBytes { try FileIO.writeAtomically(path, parts: [$0]) }
}

func readBytes(_ path: String) throws -> [UInt8] { try FileIO.read(path, maxBytes: 1 << 30) }
