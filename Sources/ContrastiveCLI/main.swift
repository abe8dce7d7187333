// contrastive — the command-line tool: train, eval, embed, augment-preview, info.
// Errors are one line on stderr and a non-zero exit.
#if canImport(Glibc)
import Glibc
#endif
import Contrastive

let mainUsage = """
usage: contrastive <command> [options]      (contrastive <command> --help for its options)
  train            self-supervised pre-training (default: SimCLR, ConvNet, Fashion-MNIST), then
                   linear probe + kNN vs raw pixels and a random encoder; checkpoints, metrics, report
  eval MODE        evaluate an encoder: knn | linear | map | cluster | finetune
  embed            images → features (.npy)
  augment-preview  a PNG of augmented views
  info FILE        what a checkpoint holds
  version
"""

func channelStats(_ d: ImageDataset) -> ([Double], [Double]) { Trainer.channelStats(d) }

/// Features of every image of `data` through `transform` and `model` (eval mode).
func features(_ model: Model, _ transform: Augmenter, _ data: ImageDataset, output: Model.Output, normalize: Bool) throws -> (values: [Float], dim: Int) {
    guard let dim = model.outputDim(output) else { throw CLIError("the encoder has no projection head; use --output backbone") }
    guard data.channels == model.inChannels else { throw CLIError("images have \(data.channels) channels, the encoder expects \(model.inChannels)") }
    return (try model.features(of: data, transform: transform, output: output, normalize: normalize), dim)
}

enum EvalCommand {
    static let usage = """
    usage: contrastive eval knn|linear|map|cluster|finetune --encoder FILE [options]
      --encoder FILE      a model checkpoint (e.g. runs/…/encoder.safetensors)
      --data SPEC         labelled training split (default fashion-mnist)
      --test-data SPEC    labelled test split (default: the dataset's own)
      --limit N           first N training images
      --output O          backbone (default) or projector features
      knn:      --k N (200) --t X (0.1)
      linear:   --solver lbfgs|sgd (lbfgs) --l2 X (1e-4) --iterations N (300)
      map:      --k N (10; mAP@k, precision@k, recall@k)
      cluster:  --clusters K (number of classes) --seed N
      finetune: --epochs N (5) --lr X (0.05) --batch N (256) --freeze-backbone
    """

    static func run(_ args: [String]) throws {
        let a = try Arguments(args, options: ["encoder", "data", "test-data", "limit", "output", "k", "t", "solver", "l2", "iterations",
                                              "clusters", "seed", "epochs", "lr", "batch", "threads"], flags: ["freeze-backbone", "help"])
        if a.flag("help") { print(usage); return }
        guard a.positional.count == 1 else { throw CLIError("eval needs one mode: knn, linear, map, cluster or finetune") }
        let mode = a.positional[0]
        guard ["knn", "linear", "map", "cluster", "finetune"].contains(mode) else { throw CLIError("unknown eval mode \(mode); use knn, linear, map, cluster or finetune") }
        if let t = try a.int("threads") { guard t >= 1, t <= 256 else { throw CLIError("--threads must be 1...256") }; ThreadPool.shared.setThreads(t) }
        guard let enc = a.string("encoder") else { throw CLIError("--encoder FILE is required") }
        let file = try Safetensors.File(path: enc)
        let model = try Model(try Model.Config(metadata: file.metadata))
        try model.load(file, strict: false)
        let spec = a.string("data", default: "fashion-mnist")
        let train = try DataSpec.limit(try DataSpec.load(spec), try a.int("limit", default: 0))
        guard let test = try DataSpec.testSplit(train: spec, explicit: a.string("test-data")) else { throw CLIError("--test-data SPEC is required for \(spec)") }
        guard let trainLabels = train.labels, let testLabels = test.labels else { throw CLIError("evaluation needs labelled train and test splits") }
        let transform = try model.evalTransform(for: train)
        let output: Model.Output = try a.choice("output", ["backbone", "projector"], default: "backbone") == "backbone" ? .backbone : .projector
        let classes = max(train.numClasses, test.numClasses)
        if mode == "finetune" {
            var o = FineTune.Options()
            o.epochs = try a.int("epochs", default: 5)
            o.learningRate = Float(try a.double("lr") ?? 0.05)
            o.batchSize = try a.int("batch", default: 256)
            o.freezeBackbone = a.flag("freeze-backbone")
            let r = try FineTune.run(model: model, train: train, test: test, transform: transform, options: o) { s, total, loss in
                if s % 20 == 0 || s == total { fputs("\rfine-tuning step \(s)/\(total) loss \(formatFixed(Double(loss), 4))\u{1B}[K", stderr) }
            }
            fputs("\n", stderr)
            print("finetune top1=\(formatFixed(r.top1, 4)) top5=\(formatFixed(r.top5, 4)) train_loss=\(formatFixed(r.trainLoss, 4)) steps=\(r.steps)")
            return
        }
        let (ft, d) = try features(model, transform, train, output: output, normalize: false)
        let (fs, _) = try features(model, transform, test, output: output, normalize: false)
        try ft.withUnsafeBufferPointer { tp in try fs.withUnsafeBufferPointer { sp in
            try trainLabels.withUnsafeBufferPointer { tl in try testLabels.withUnsafeBufferPointer { sl in
                let T = tp.baseAddress!, S = sp.baseAddress!, TL = tl.baseAddress!, SL = sl.baseAddress!
                switch mode {
                case "knn":
                    let k = try a.int("k", default: 200)
                    let r = try KNN.classify(train: T, trainLabels: TL, trainCount: train.count, test: S, testLabels: SL, testCount: test.count,
                                             dim: d, numClasses: classes, k: k, temperature: Float(try a.double("t") ?? 0.1))
                    print("knn k=\(k) top1=\(formatFixed(r.top1, 4)) top5=\(formatFixed(r.top5, 4))")
                case "linear":
                    var o = LinearProbe.Options()
                    o.solver = try a.choice("solver", ["lbfgs", "sgd"], default: "lbfgs") == "lbfgs" ? .lbfgs : .sgd
                    o.l2 = try a.double("l2") ?? 1e-4
                    o.maxIterations = try a.int("iterations", default: 300)
                    let r = try LinearProbe.run(train: T, trainLabels: TL, trainCount: train.count, test: S, testLabels: SL, testCount: test.count,
                                                dim: d, numClasses: classes, options: o)
                    print("linear top1=\(formatFixed(r.top1, 4)) top5=\(formatFixed(r.top5, 4)) train_top1=\(formatFixed(r.trainTop1, 4))")
                case "map":
                    let k = try a.int("k", default: 10)
                    let r = try Retrieval.evaluate(train: T, trainLabels: TL, trainCount: train.count, test: S, testLabels: SL, testCount: test.count, dim: d, k: k)
                    print("map=\(formatFixed(r.meanAveragePrecision, 4)) map@\(k)=\(formatFixed(r.meanAveragePrecisionAtK, 4)) precision@\(k)=\(formatFixed(r.precisionAtK, 4)) recall@1=\(formatFixed(r.recallAt1, 4))")
                default:   // cluster
                    let k = try a.int("clusters", default: classes)
                    var assign = [Int32](repeating: 0, count: test.count)
                    let km = try assign.withUnsafeMutableBufferPointer { ap in
                        try KMeans.fit(S, n: test.count, d: d, k: k, seed: try a.uint64("seed", default: 0), assignments: ap.baseAddress!)
                    }
                    let s = try assign.withUnsafeBufferPointer { ap in try ClusteringScores.evaluate(labels: SL, assignments: ap.baseAddress!, n: test.count) }
                    print("cluster k=\(k) nmi=\(formatFixed(s.nmi, 4)) ari=\(formatFixed(s.ari, 4)) purity=\(formatFixed(s.purity, 4)) inertia=\(formatFixed(km.inertia, 2))")
                }
            } }
        } }
    }
}

enum EmbedCommand {
    static let usage = "usage: contrastive embed --encoder FILE --data SPEC --out FILE.npy [--output backbone|projector] [--normalize] [--limit N]"
    static func run(_ args: [String]) throws {
        let a = try Arguments(args, options: ["encoder", "data", "out", "output", "limit", "threads"], flags: ["normalize", "help"])
        if a.flag("help") { print(usage); return }
        guard let enc = a.string("encoder"), let out = a.string("out") else { throw CLIError("--encoder FILE and --out FILE.npy are required") }
        if let t = try a.int("threads") { guard t >= 1, t <= 256 else { throw CLIError("--threads must be 1...256") }; ThreadPool.shared.setThreads(t) }
        let file = try Safetensors.File(path: enc)
        let model = try Model(try Model.Config(metadata: file.metadata))
        try model.load(file, strict: false)
        let data = try DataSpec.limit(try DataSpec.load(a.string("data", default: "fashion-mnist")), try a.int("limit", default: 0))
        let output: Model.Output = try a.choice("output", ["backbone", "projector"], default: "backbone") == "backbone" ? .backbone : .projector
        let (f, d) = try features(model, try model.evalTransform(for: data), data, output: output, normalize: a.flag("normalize"))
        try NPY.write(path: out, shape: [data.count, d], floats: f)
        print("wrote \(out): \(data.count) × \(d) float32")
    }
}

enum PreviewCommand {
    static let usage = "usage: contrastive augment-preview [--preset P | --augment DESCRIPTION] [--data SPEC] [--n N] [--seed N] [--out FILE.png]"
    static func run(_ args: [String]) throws {
        let a = try Arguments(args, options: ["preset", "augment", "data", "n", "seed", "out", "size"], flags: ["help"])
        if a.flag("help") { print(usage); return }
        let data = try DataSpec.load(a.string("data", default: "procedural:64:64"))
        var pipe: AugmentPipeline
        if let d = a.string("augment") { pipe = try AugmentPipeline.parse(d) } else {
            pipe = try AugmentPipeline.preset(a.string("preset", default: "simclr-cifar"), size: try a.int("size", default: min(data.height, data.width)))
        }
        if !pipe.mean.isEmpty, pipe.mean.count != 1, pipe.mean.count != data.channels { let (m, s) = channelStats(data); pipe.mean = m; pipe.std = s }
        let aug = try Augmenter(pipeline: pipe)
        let out = a.string("out", default: "augment_preview.png"), n = try a.int("n", default: 8)
        guard n >= 1 else { throw CLIError("--n must be ≥ 1") }
        try data.pixels.withUnsafeBufferPointer { p in
            let b = try ImageBatch(pixels: p.baseAddress!, n: min(n, data.count), h: data.height, w: data.width, c: data.channels)
            try Preview.writePNG(aug, images: b, seed: try a.uint64("seed", default: 0), epoch: 0, path: out, maxImages: 16)
        }
        print("wrote \(out): \(min(n, data.count, 16)) images × (input + \(aug.viewCount) views)")
    }
}

enum InfoCommand {
    static func run(_ args: [String]) throws {
        guard args.count == 1 else { throw CLIError("usage: contrastive info FILE") }
        let f = try Safetensors.File(path: args[0])
        func m(_ k: String) -> String? { f.meta(k) }
        let kind = m("format") == "libcontrastive-train" ? "training checkpoint" : (m("format") == "libcontrastive" ? "model checkpoint" : "safetensors file")
        print("\(args[0]): \(kind), \(f.entries.count) tensors, \(f.entries.reduce(0) { $0 + $1.count }) values")
        if kind == "training checkpoint" {
            print("  method \(m("config.method") ?? "?"), epoch \(m("epoch") ?? "?")/\(m("config.epochs") ?? "?"), step \(m("global_step") ?? "?"), skipped \(m("skipped_steps") ?? "0")")
        }
        for (k, v) in f.metadata where k != "history" { print("  \(k) = \(v)") }
        var groups: [(String, Int, Int)] = []
        for e in f.entries {
            let g = String(e.name.split(separator: ".").first ?? "")
            if let i = groups.firstIndex(where: { $0.0 == g }) { groups[i].1 += 1; groups[i].2 += e.count } else { groups.append((g, 1, e.count)) }
        }
        for (g, n, c) in groups { print("  \(g).*: \(n) tensors, \(c) values") }
    }
}

func runMain() -> Int32 {
    var args = Array(CommandLine.arguments.dropFirst())
    guard let cmd = args.first else { print(mainUsage); return 2 }
    args.removeFirst()
    do {
        switch cmd {
        case "train": try TrainCommand.run(args)
        case "eval": try EvalCommand.run(args)
        case "embed": try EmbedCommand.run(args)
        case "augment-preview": try PreviewCommand.run(args)
        case "info": try InfoCommand.run(args)
        case "version", "--version": print("contrastive \(Version.string)")
        case "help", "--help", "-h": print(mainUsage)
        default: throw CLIError("unknown command \(cmd) (commands: train, eval, embed, augment-preview, info, version; see contrastive help)")
        }
        return 0
    } catch let e as CLIError {
        fputs("contrastive: \(e.description)\n", stderr)
        return 2
    } catch let e as ContrastiveError {
        fputs("contrastive: \(e.status.text): \(e.message)\n", stderr)
        return 1
    } catch {
        fputs("contrastive: \(error)\n", stderr)
        return 1
    }
}

exit(runMain())
