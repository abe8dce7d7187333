// `contrastive-bench train` (make bench-train): one SimCLR training step — two views through
// encoder + projector 512/256 → 2048 → 128, NT-Xent (T 0.2), backward, LARS — at batch 256
// pairs for ResNet-18 (CIFAR stem) and the ConvNet 32-64-128-256 on 32×32×3, with the views
// given (augmentation excluded) and through the Trainer (prefetched augmentation included),
// side by side with PyTorch on the same threads in the same run (Tests/Bench/train_torch.py).
#if canImport(Glibc)
import Glibc
#endif
import Contrastive

private func simclrConfig(_ arch: Model.Architecture, batch: Int, epochs: Int) -> TrainConfig {
    var c = TrainConfig.preset(.simclr)
    c.model = Model.Config(architecture: arch, projector: MLPHead.Config(layers: 2, hidden: 2048, output: 128, batchNorm: false), seed: 1)
    c.batchSize = batch
    c.epochs = epochs
    c.knnEveryEpochs = 0
    c.rankSamples = 0
    c.augmentationPreset = "simclr-cifar"
    return c
}

func benchTrain(reps: Int, python: String?) throws {
    let threads = ThreadPool.shared.threads
    let batch = 256
    print("bench-train: SimCLR step, batch \(batch) pairs of 32×32×3, \(threads) thread(s), median of \(reps) steps")
    let data = try ProceduralShapes.make(count: batch * (reps + 2), size: 32, seed: 5)
    var lines: [String] = []
    // The ConvNet first: peak RSS only grows, so the smaller model is measured before the larger.
    let baseline = peakRSSMiB()
    for (name, arch) in [("convnet", Model.Architecture.convnet(ConvNet.Config())),
                         ("resnet18", Model.Architecture.resnet(ResNet.Config(depth: 18, stem: .cifar)))] {
        // Views given: the method + optimizer alone on fixed augmented batches.
        let trainer = try Trainer(config: simclrConfig(arch, batch: batch, epochs: 1), dataset: data)
        let views = try (0..<2).map { v in try randomTensor([batch, 3, 32, 32], seed: 40 + UInt64(v)) }
        let g = try Graph()
        let opt = try LARS(store: trainer.model.network.params, momentum: 0.9, weightDecay: 1e-5, eta: 0.02, clip: true)
        let step = {
            _ = try trainer.method.lossAndGradients(views: views, graph: g)
            try opt.step(trainer.model.network.params, lr: 0.1)
            try trainer.method.afterStep()
        }
        let tStep = try median(reps: reps, step)
        let growth = peakRSSMiB() - baseline
        // Augmentation included: the Trainer's own loop (prefetching augmentation thread).
        let t2 = try Trainer(config: simclrConfig(arch, batch: batch, epochs: 1), dataset: data)
        _ = try t2.step()
        var ts: [Double] = []
        for _ in 0..<reps { ts.append(try t2.step().seconds) }
        ts.sort()
        let tFull = ts[ts.count / 2]

        let peer = python.map { runPeer("\($0) Tests/Bench/train_torch.py --model \(name) --threads \(threads) --reps \(reps) --augment") } ?? [:]
        func num(_ k: String) -> Double? { peer[k].flatMap(Double.init) }
        let tNCHW = num("torch_train_\(name)_nchw_s_per_step"), tCL = num("torch_train_\(name)_channels_last_s_per_step")
        let tBest = num("torch_train_\(name)_best_s_per_step"), tAug = num("torch_augment_s_per_batch")
        let ours = Double(batch) / tStep, oursFull = Double(batch) / tFull
        print("\(name): ours \(fmt(ours, 1)) pairs/s views given (\(fmt(tStep, 3)) s/step), \(fmt(oursFull, 1)) pairs/s with augmentation (\(fmt(tFull, 3)) s/step)")
        if let tBest, let tNCHW, let tCL {
            print("\(name): torch \(fmt(Double(batch) / tNCHW, 1)) pairs/s NCHW, \(fmt(Double(batch) / tCL, 1)) channels-last (views given)" +
                  (tAug.map { ", \(fmt(Double(batch) / (tBest + $0), 1)) pairs/s with in-process torchvision augmentation" } ?? ""))
            let ratio = tBest / tStep
            let ratioFull = tAug.map { (tBest + $0) / tFull }
            print("\(name): ratio views given \(fmt(ratio, 3))" + (ratioFull.map { ", with augmentation \(fmt($0, 3))" } ?? ""))
            lines.append("train_vs_torch_\(name)=\(fmt(ratio, 3))")
        } else {
            lines.append("train_vs_torch_\(name)=unavailable (no PyTorch peer)")
        }
        print("\(name): peak RSS growth over the process start (model, optimizer, \(reps + 1) steps): ours \(fmt(growth, 1)) MiB" +
              (num("torch_train_\(name)_peak_growth_mb").map { ", torch \(fmt($0, 1)) MiB (after import torch, NCHW run)" } ?? ""))
    }
    for l in lines { print(l) }
}
