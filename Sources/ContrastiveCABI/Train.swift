// C ABI for training: options → TrainConfig, trainer handles, fit/step, metrics, checkpoints.
// Marshalling only.
#if canImport(Glibc)
import Glibc
#endif
import Contrastive
import CContrastiveHeader

func defaultTrainerOptions() -> ctr_trainer_options {
    var o = ctr_trainer_options()
    o.struct_size = UInt32(MemoryLayout<ctr_trainer_options>.size)
    o.method = 0
    o.model = defaultModelOptions()
    o.model.stem = 1
    o.augment_preset = nil
    o.augment_description = nil
    o.epochs = 10
    o.batch_size = 256
    o.accumulation = 1
    o.seed = 0
    o.optimizer = 0
    o.learning_rate = 0
    o.weight_decay = -1
    o.momentum = 0.9
    o.lars_eta = 0.02
    o.lars_clip = 1
    o.lr_scaling = 1
    o.schedule = 0
    o.warmup_epochs = -1
    o.num_milestones = 0
    o.step_gamma = 0.1
    o.temperature = 0
    o.queue_size = -1
    o.tau_base = -1
    o.tau_final = -1
    o.prototypes = 0
    o.freeze_prototypes_epochs = -1
    o.swav_queue_start_epoch = -1
    o.nonfinite = 0
    o.max_skipped_steps = 10
    o.knn_every = 1
    o.knn_k = 20
    o.knn_temperature = 0.07
    o.knn_max_train = 10000
    o.rank_samples = 2048
    o.progress = 0
    o.image_height = 32
    o.image_width = 32
    return o
}

private func flag(_ v: Int32, _ name: String) throws -> Bool {
    guard v == 0 || v == 1 else { throw ContrastiveError.invalid("\(name) must be 0 or 1, got \(v)") }
    return v == 1
}

/// TrainConfig from the C options (sentinels → the method's recipe), every field validated.
func trainConfig(_ o: ctr_trainer_options) throws -> TrainConfig {
    let methods = TrainConfig.Method.allCases
    guard o.method >= 0, Int(o.method) < methods.count else {
        throw ContrastiveError.invalid("method \(o.method) is not a ctr_method value (0...\(methods.count - 1))")
    }
    var c = TrainConfig.preset(methods[Int(o.method)])
    c.model = try modelConfig(o.model)
    switch o.optimizer {
    case 0: break
    case 1: c.optimizer = .sgd
    case 2: c.optimizer = .lars
    case 3: c.optimizer = .adamw
    default: throw ContrastiveError.invalid("optimizer \(o.optimizer) is not a ctr_optimizer value")
    }
    if let p = o.augment_description {
        c.augmentation = try AugmentPipeline.parse(try boundedString(p, name: "augment_description", max: 1 << 16))
    } else if let p = o.augment_preset {
        let name = try boundedString(p, name: "augment_preset", max: 64)
        guard AugmentPipeline.presetNames.contains(name) else {
            throw ContrastiveError.invalid("augment_preset \"\(name)\" is not one of \(AugmentPipeline.presetNames.joined(separator: ", "))")
        }
        c.augmentationPreset = name
    }
    c.epochs = Int(o.epochs)
    c.batchSize = Int(o.batch_size)
    c.accumulation = Int(o.accumulation)
    c.seed = o.seed
    guard o.learning_rate.isFinite, o.learning_rate >= 0 else { throw ContrastiveError.invalid("learning_rate \(o.learning_rate) must be ≥ 0 (0 = the method's)") }
    if o.learning_rate > 0 { c.learningRate = o.learning_rate }
    guard !o.weight_decay.isNaN else { throw ContrastiveError.invalid("weight_decay is NaN") }
    if o.weight_decay >= 0 { c.weightDecay = o.weight_decay }
    c.momentum = o.momentum
    c.larsEta = o.lars_eta
    c.larsClip = try flag(o.lars_clip, "lars_clip")
    switch o.lr_scaling {
    case 0: c.lrScaling = .none
    case 1: c.lrScaling = .linear
    case 2: c.lrScaling = .squareRoot
    default: throw ContrastiveError.invalid("lr_scaling \(o.lr_scaling) is not a ctr_lr_scaling value")
    }
    switch o.schedule {
    case 0: c.schedule = .cosine
    case 1: c.schedule = .constant
    case 2: c.schedule = .step
    default: throw ContrastiveError.invalid("schedule \(o.schedule) is not a ctr_schedule value")
    }
    guard !o.warmup_epochs.isNaN else { throw ContrastiveError.invalid("warmup_epochs is NaN") }
    if o.warmup_epochs >= 0 { c.warmupEpochs = Double(o.warmup_epochs) }
    guard o.num_milestones >= 0, o.num_milestones <= 8 else { throw ContrastiveError.invalid("num_milestones \(o.num_milestones) outside 0...CTR_MAX_MILESTONES") }
    withUnsafeBytes(of: o.step_milestones) { raw in
        let p = raw.bindMemory(to: Int32.self)
        c.stepMilestones = (0..<Int(o.num_milestones)).map { Int(p[$0]) }
    }
    c.stepGamma = o.step_gamma
    guard o.temperature.isFinite, o.temperature >= 0 else { throw ContrastiveError.invalid("temperature \(o.temperature) must be ≥ 0 (0 = the method's)") }
    if o.temperature > 0 { c.temperature = o.temperature }
    guard o.queue_size >= -1 else { throw ContrastiveError.invalid("queue_size \(o.queue_size) must be ≥ -1") }
    if o.queue_size >= 0 { c.queueSize = Int(o.queue_size) }
    guard !o.tau_base.isNaN, !o.tau_final.isNaN else { throw ContrastiveError.invalid("tau_base / tau_final is NaN") }
    if o.tau_base >= 0 { c.tauBase = o.tau_base }
    if o.tau_final >= 0 { c.tauFinal = o.tau_final }
    guard o.prototypes >= 0 else { throw ContrastiveError.invalid("prototypes \(o.prototypes) must be ≥ 0") }
    if o.prototypes > 0 { c.prototypes = Int(o.prototypes) }
    guard o.freeze_prototypes_epochs >= -1 else { throw ContrastiveError.invalid("freeze_prototypes_epochs must be ≥ -1") }
    if o.freeze_prototypes_epochs >= 0 { c.freezePrototypesEpochs = Int(o.freeze_prototypes_epochs) }
    c.swavQueueStartEpoch = Int(o.swav_queue_start_epoch)
    switch o.nonfinite {
    case 0: c.nonFinite = .skip
    case 1: c.nonFinite = .stop
    default: throw ContrastiveError.invalid("nonfinite \(o.nonfinite) is not a ctr_nonfinite value")
    }
    c.maxSkippedSteps = Int(o.max_skipped_steps)
    c.knnEveryEpochs = Int(o.knn_every)
    c.knnK = Int(o.knn_k)
    c.knnTemperature = o.knn_temperature
    c.knnMaxTrain = Int(o.knn_max_train)
    c.rankSamples = Int(o.rank_samples)
    _ = try flag(o.progress, "progress")
    return c
}

func boundedString(_ p: UnsafePointer<CChar>, name: String, max: Int) throws -> String {
    let len = strnlen(p, max + 1)
    guard len <= max else { throw ContrastiveError.invalid("\(name) is longer than \(max) bytes") }
    return String(cString: p)
}

func writeStepMetrics(_ m: StepMetrics, _ out: UnsafeMutablePointer<ctr_step_metrics>?) throws {
    guard let out else { return }
    var v = ctr_step_metrics()
    v.struct_size = UInt32(MemoryLayout<ctr_step_metrics>.size)
    v.epoch = Int32(clamping: m.epoch); v.step = Int64(m.step)
    v.steps_per_epoch = Int64(m.stepsPerEpoch); v.total_steps = Int64(m.totalSteps)
    v.loss = m.loss; v.learning_rate = m.learningRate; v.tau = m.tau
    v.grad_norm = m.gradNorm; v.embedding_std = m.embeddingStd
    v.images_per_second = m.imagesPerSecond; v.seconds = m.seconds
    v.skipped = m.skipped ? 1 : 0; v.ended_epoch = m.endedEpoch ? 1 : 0
    try writeSized(&v, to: UnsafeMutableRawPointer(out), name: "metrics")
}

func epochMetricsC(_ e: EpochMetrics) -> ctr_epoch_metrics {
    var v = ctr_epoch_metrics()
    v.struct_size = UInt32(MemoryLayout<ctr_epoch_metrics>.size)
    v.epoch = Int32(clamping: e.epoch)
    v.mean_loss = e.meanLoss; v.effective_rank = e.effectiveRank
    v.knn_top1 = e.knnTop1; v.knn_top5 = e.knnTop5
    v.seconds = e.seconds; v.skipped_steps = Int64(e.skippedSteps)
    return v
}

/// Check a caller struct's leading struct_size before any work (NULL passes).
func checkSized<T>(_ p: UnsafeMutablePointer<T>?, name: String) throws {
    guard let p else { return }
    let declared = Int(UnsafeRawPointer(p).load(as: UInt32.self))
    guard declared >= 4, declared % 4 == 0 else { throw ContrastiveError.invalid("\(name)->struct_size is \(declared); set it to sizeof the struct") }
}

/// Copy a library-filled struct into a caller's struct whose leading uint32_t struct_size says
/// how many bytes it has (older callers get a prefix; struct_size is set to the bytes written).
func writeSized<T>(_ value: inout T, to dst: UnsafeMutableRawPointer, name: String) throws {
    let declared = Int(dst.load(as: UInt32.self))
    guard declared >= 4, declared % 4 == 0 else { throw ContrastiveError.invalid("\(name)->struct_size is \(declared); set it to sizeof the struct") }
    let n = min(declared, MemoryLayout<T>.size)
    withUnsafeMutableBytes(of: &value) { src in
        src.storeBytes(of: UInt32(n), as: UInt32.self)
        dst.copyMemory(from: src.baseAddress!, byteCount: n)
    }
}

private func trainer(_ h: OpaquePointer?) throws -> Trainer { try object(h, tag: HandleTag.trainer, as: Trainer.self, name: "trainer") }

@_cdecl("ctr_trainer_options_default")
public func ctr_trainer_options_default(_ opts: UnsafeMutablePointer<ctr_trainer_options>?) {
    opts?.pointee = defaultTrainerOptions()
}

@_cdecl("ctr_trainer_create")
public func ctr_trainer_create(_ opts: UnsafePointer<ctr_trainer_options>?, _ train: OpaquePointer?, _ validation: OpaquePointer?,
                               _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(.invalidArgument, "ctr_trainer_create", "out is NULL") }
    out.pointee = nil
    return guarded("ctr_trainer_create") {
        let o = try readOptions(UnsafeRawPointer(opts), defaults: defaultTrainerOptions(), name: "opts")
        let cfg = try trainConfig(o)
        let tr = try train.map { _ in try object(train, tag: HandleTag.dataset, as: ImageDataset.self, name: "train") }
        let va = try validation.map { _ in try object(validation, tag: HandleTag.dataset, as: ImageDataset.self, name: "validation") }
        guard o.image_height >= 1, o.image_width >= 1, o.image_height <= 8192, o.image_width <= 8192 else {
            throw ContrastiveError.invalid("image size \(o.image_height)×\(o.image_width) outside 1...8192")
        }
        let t = try Trainer(config: cfg, dataset: tr, validation: va, imageSize: (Int(o.image_height), Int(o.image_width)))
        t.progress = o.progress == 1
        out.pointee = makeHandle(t, tag: HandleTag.trainer)
    }
}

@_cdecl("ctr_trainer_free")
public func ctr_trainer_free(_ t: OpaquePointer?) {
    releaseHandle(t, tag: HandleTag.trainer, function: "ctr_trainer_free")
}

@_cdecl("ctr_trainer_fit")
public func ctr_trainer_fit(_ t: OpaquePointer?, _ callback: ctr_train_callback?, _ user: UnsafeMutableRawPointer?) -> Int32 {
    guarded("ctr_trainer_fit") {
        let tr = try trainer(t)
        try tr.fit { ev in
            guard let callback else { return true }
            switch ev {
            case .step(let m):
                var s = ctr_step_metrics()
                s.struct_size = UInt32(MemoryLayout<ctr_step_metrics>.size)
                _ = try? writeStepMetrics(m, &s)
                if m.endedEpoch { return true }   // reported together with the epoch below
                return callback(&s, nil, user) == 0
            case .epoch(let e):
                var s = ctr_step_metrics()
                s.struct_size = UInt32(MemoryLayout<ctr_step_metrics>.size)
                if let last = tr.lastStep { _ = try? writeStepMetrics(last, &s) }
                var em = epochMetricsC(e)
                return callback(&s, &em, user) == 0
            }
        }
    }
}

@_cdecl("ctr_trainer_step")
public func ctr_trainer_step(_ t: OpaquePointer?, _ metrics: UnsafeMutablePointer<ctr_step_metrics>?) -> Int32 {
    guarded("ctr_trainer_step") {
        let tr = try trainer(t)
        try checkSized(metrics, name: "metrics")
        try writeStepMetrics(try tr.step(), metrics)
    }
}

@_cdecl("ctr_trainer_step_batch")
public func ctr_trainer_step_batch(_ t: OpaquePointer?, _ images: UnsafePointer<UInt8>?, _ n: Int64, _ h: Int32, _ w: Int32, _ c: Int32,
                                   _ labels: UnsafePointer<Int32>?, _ metrics: UnsafeMutablePointer<ctr_step_metrics>?) -> Int32 {
    guarded("ctr_trainer_step_batch") {
        let tr = try trainer(t)
        guard let images else { throw ContrastiveError.invalid("images is NULL") }
        guard let count = Int(exactly: n), count >= 2, count <= 1 << 20 else { throw ContrastiveError.invalid("n = \(n) outside 2...1048576") }
        guard h >= 1, w >= 1, h <= 8192, w <= 8192 else { throw ContrastiveError.invalid("image size \(h)×\(w) outside 1...8192") }
        try checkSized(metrics, name: "metrics")
        let batch = try ImageBatch(pixels: images, n: count, h: Int(h), w: Int(w), c: Int(c))
        let lab = labels.map { Array(UnsafeBufferPointer(start: $0, count: count)) }
        if let lab, lab.contains(where: { $0 < 0 }) { throw ContrastiveError.invalid("labels must be ≥ 0") }
        try writeStepMetrics(try tr.step(images: batch, labels: lab), metrics)
    }
}

@_cdecl("ctr_trainer_get_state")
public func ctr_trainer_get_state(_ t: OpaquePointer?, _ state: UnsafeMutablePointer<ctr_train_state>?) -> Int32 {
    guarded("ctr_trainer_get_state") {
        let tr = try trainer(t)
        guard let state else { throw ContrastiveError.invalid("state is NULL") }
        var v = ctr_train_state()
        v.epoch = Int32(clamping: tr.epoch); v.epochs = Int32(clamping: tr.config.epochs)
        v.step_in_epoch = Int64(tr.stepInEpoch); v.steps_per_epoch = Int64(tr.stepsPerEpoch)
        v.global_step = Int64(tr.globalStep); v.total_steps = Int64(tr.totalSteps)
        v.skipped_steps = Int64(tr.skippedSteps); v.finished = tr.isFinished ? 1 : 0
        v.crop_height = Int32(tr.cropHeight); v.crop_width = Int32(tr.cropWidth); v.channels = Int32(tr.channels)
        try writeSized(&v, to: UnsafeMutableRawPointer(state), name: "state")
    }
}

@_cdecl("ctr_trainer_history")
public func ctr_trainer_history(_ t: OpaquePointer?, _ out: UnsafeMutablePointer<ctr_epoch_metrics>?, _ capacity: UInt,
                                _ count: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("ctr_trainer_history") {
        let tr = try trainer(t)
        guard capacity == 0 || out != nil else { throw ContrastiveError.invalid("out is NULL with capacity \(capacity)") }
        let h = tr.history
        count?.pointee = UInt(h.count)
        guard capacity >= UInt(h.count) else { throw ContrastiveError(.bufferTooSmall, "\(h.count) epochs recorded, capacity \(capacity)") }
        guard h.isEmpty || out != nil else { throw ContrastiveError.invalid("out is NULL") }
        for (i, e) in h.enumerated() { out![i] = epochMetricsC(e) }
    }
}

@_cdecl("ctr_trainer_save")
public func ctr_trainer_save(_ t: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    guarded("ctr_trainer_save") { try trainer(t).save(to: try pathArgument(path)) }
}

@_cdecl("ctr_trainer_load")
public func ctr_trainer_load(_ t: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    guarded("ctr_trainer_load") { try trainer(t).load(from: try pathArgument(path)) }
}

@_cdecl("ctr_trainer_export_encoder")
public func ctr_trainer_export_encoder(_ t: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ head: Int32) -> Int32 {
    guarded("ctr_trainer_export_encoder") {
        let tr = try trainer(t)
        let withHead = try flag(head, "include_head")
        try tr.exportEncoder(to: try pathArgument(path), includeHead: withHead)
    }
}

@_cdecl("ctr_trainer_get_model")
public func ctr_trainer_get_model(_ t: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(.invalidArgument, "ctr_trainer_get_model", "out is NULL") }
    out.pointee = nil
    return guarded("ctr_trainer_get_model") {
        out.pointee = makeHandle(try trainer(t).model, tag: HandleTag.model)
    }
}

@_cdecl("ctr_trainer_embed_dataset")
public func ctr_trainer_embed_dataset(_ t: OpaquePointer?, _ dataset: OpaquePointer?, _ output: Int32, _ normalize: Int32,
                                      _ out: UnsafeMutablePointer<Float>?, _ capacity: UInt) -> Int32 {
    guarded("ctr_trainer_embed_dataset") {
        let tr = try trainer(t)
        let d = try object(dataset, tag: HandleTag.dataset, as: ImageDataset.self, name: "dataset")
        guard let o = Model.Output(rawValue: output) else { throw ContrastiveError.invalid("output \(output) is not a ctr_embed_output value") }
        let norm = try flag(normalize, "normalize")
        guard let dim = tr.model.outputDim(o) else { throw ContrastiveError.invalid("the encoder has no projector") }
        let (need, ov) = d.count.multipliedReportingOverflow(by: dim)
        guard !ov else { throw ContrastiveError(.outOfMemory, "output too large") }
        guard capacity >= UInt(need) else { throw ContrastiveError(.bufferTooSmall, "out holds \(capacity) floats, \(need) needed") }
        guard let out else { throw ContrastiveError.invalid("out is NULL") }
        let f = try tr.embed(d, rows: Array(0..<d.count), output: o, normalize: norm)
        f.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: need) }
    }
}

// MARK: fine-tuning

func defaultFinetuneOptions() -> ctr_finetune_options {
    var o = ctr_finetune_options()
    o.struct_size = UInt32(MemoryLayout<ctr_finetune_options>.size)
    o.epochs = 5; o.batch_size = 256; o.learning_rate = 0.05; o.momentum = 0.9; o.weight_decay = 5e-4
    o.freeze_backbone = 0; o.seed = 0
    return o
}

@_cdecl("ctr_finetune_options_default")
public func ctr_finetune_options_default(_ opts: UnsafeMutablePointer<ctr_finetune_options>?) {
    opts?.pointee = defaultFinetuneOptions()
}

@_cdecl("ctr_model_finetune")
public func ctr_model_finetune(_ model: OpaquePointer?, _ train: OpaquePointer?, _ test: OpaquePointer?,
                               _ opts: UnsafePointer<ctr_finetune_options>?, _ result: UnsafeMutablePointer<ctr_finetune_result>?) -> Int32 {
    guarded("ctr_model_finetune") {
        let m = try object(model, tag: HandleTag.model, as: Model.self, name: "model")
        let tr = try object(train, tag: HandleTag.dataset, as: ImageDataset.self, name: "train")
        let te = try object(test, tag: HandleTag.dataset, as: ImageDataset.self, name: "test")
        guard let result else { throw ContrastiveError.invalid("result is NULL") }
        try checkSized(result, name: "result")
        let o = try readOptions(UnsafeRawPointer(opts), defaults: defaultFinetuneOptions(), name: "opts")
        guard o.momentum.isFinite, o.momentum >= 0, o.momentum < 1, o.weight_decay.isFinite, o.weight_decay >= 0 else {
            throw ContrastiveError.invalid("momentum must be in [0, 1) and weight_decay ≥ 0")
        }
        var fo = FineTune.Options()
        fo.epochs = Int(o.epochs); fo.batchSize = Int(o.batch_size); fo.learningRate = o.learning_rate
        fo.momentum = o.momentum; fo.weightDecay = o.weight_decay
        fo.freezeBackbone = try flag(o.freeze_backbone, "freeze_backbone"); fo.seed = o.seed
        let r = try FineTune.run(model: m, train: tr, test: te, transform: try m.evalTransform(for: tr), options: fo)
        var v = ctr_finetune_result()
        v.top1 = r.top1; v.top5 = r.top5; v.train_loss = r.trainLoss; v.steps = Int64(r.steps)
        try writeSized(&v, to: UnsafeMutableRawPointer(result), name: "result")
    }
}
