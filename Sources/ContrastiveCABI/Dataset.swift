// C ABI for datasets: load, create from memory, sizes, copies, splits. Marshalling only.
import Contrastive
import CContrastiveHeader

@_cdecl("ctr_dataset_load_idx")
public func ctr_dataset_load_idx(_ images: UnsafePointer<CChar>?, _ labels: UnsafePointer<CChar>?,
                                 _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(.invalidArgument, "ctr_dataset_load_idx", "out is NULL") }
    out.pointee = nil
    return guarded("ctr_dataset_load_idx") {
        let ip = try pathArgument(images, name: "images_path")
        let lp = try labels.map { _ in try pathArgument(labels, name: "labels_path") }
        out.pointee = makeHandle(try IDX.load(images: ip, labels: lp), tag: HandleTag.dataset)
    }
}

@_cdecl("ctr_dataset_from_memory")
public func ctr_dataset_from_memory(_ images: UnsafePointer<UInt8>?, _ n: Int64, _ h: Int32, _ w: Int32, _ c: Int32,
                                    _ labels: UnsafePointer<Int32>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(.invalidArgument, "ctr_dataset_from_memory", "out is NULL") }
    out.pointee = nil
    return guarded("ctr_dataset_from_memory") {
        guard let images else { throw ContrastiveError.invalid("images is NULL") }
        guard let count = Int(exactly: n), count >= 1, h >= 1, w >= 1, c >= 1 else {
            throw ContrastiveError.invalid("n = \(n), size \(h)×\(w)×\(c): all must be ≥ 1")
        }
        let (a, o1) = count.multipliedReportingOverflow(by: Int(h) * Int(w))
        let (bytes, o2) = a.multipliedReportingOverflow(by: Int(c))
        guard !o1, !o2, bytes <= 1 << 40 else { throw ContrastiveError(.outOfMemory, "dataset of \(count) × \(h)×\(w)×\(c) is too large") }
        let px = Array(UnsafeBufferPointer(start: images, count: bytes))
        let lab = labels.map { Array(UnsafeBufferPointer(start: $0, count: count)) }
        out.pointee = makeHandle(try ImageDataset(pixels: px, count: count, height: Int(h), width: Int(w), channels: Int(c), labels: lab),
                                 tag: HandleTag.dataset)
    }
}

@_cdecl("ctr_dataset_procedural")
public func ctr_dataset_procedural(_ n: Int64, _ size: Int32, _ seed: UInt64, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(.invalidArgument, "ctr_dataset_procedural", "out is NULL") }
    out.pointee = nil
    return guarded("ctr_dataset_procedural") {
        guard let count = Int(exactly: n) else { throw ContrastiveError.invalid("n = \(n)") }
        out.pointee = makeHandle(try ProceduralShapes.make(count: count, size: Int(size), seed: seed), tag: HandleTag.dataset)
    }
}

@_cdecl("ctr_dataset_load_cifar")
public func ctr_dataset_load_cifar(_ paths: UnsafePointer<UnsafePointer<CChar>?>?, _ nPaths: Int32, _ format: Int32,
                                   _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(.invalidArgument, "ctr_dataset_load_cifar", "out is NULL") }
    out.pointee = nil
    return guarded("ctr_dataset_load_cifar") {
        guard let paths else { throw ContrastiveError.invalid("paths is NULL") }
        guard nPaths >= 1, nPaths <= 4096 else { throw ContrastiveError.invalid("n_paths is \(nPaths); 1...4096 files accepted") }
        let f: CIFAR.Format
        switch format {
        case 0: f = .cifar10
        case 1: f = .cifar100Fine
        case 2: f = .cifar100Coarse
        default: throw ContrastiveError.invalid("format \(format) is not a ctr_cifar_format")
        }
        var list: [String] = []
        for i in 0..<Int(nPaths) { list.append(try pathArgument(paths[i], name: "paths[\(i)]")) }
        out.pointee = makeHandle(try CIFAR.load(paths: list, format: f), tag: HandleTag.dataset)
    }
}

@_cdecl("ctr_dataset_load_npy")
public func ctr_dataset_load_npy(_ images: UnsafePointer<CChar>?, _ labels: UnsafePointer<CChar>?,
                                 _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(.invalidArgument, "ctr_dataset_load_npy", "out is NULL") }
    out.pointee = nil
    return guarded("ctr_dataset_load_npy") {
        let ip = try pathArgument(images, name: "images_path")
        let lp = try labels.map { _ in try pathArgument(labels, name: "labels_path") }
        out.pointee = makeHandle(try NPY.load(images: ip, labels: lp), tag: HandleTag.dataset)
    }
}

/// The defaults of ctr_folder_options (see contrastive.h).
private func folderDefaults() -> ctr_folder_options {
    ctr_folder_options(struct_size: UInt32(MemoryLayout<ctr_folder_options>.size), height: 0, width: 0, channels: 3,
                       layout: ImageFolder.Layout.auto.rawValue)
}

@_cdecl("ctr_folder_options_default")
public func ctr_folder_options_default(_ opts: UnsafeMutablePointer<ctr_folder_options>?) {
    opts?.pointee = folderDefaults()
}

@_cdecl("ctr_dataset_load_folder")
public func ctr_dataset_load_folder(_ root: UnsafePointer<CChar>?, _ opts: UnsafeRawPointer?,
                                    _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(.invalidArgument, "ctr_dataset_load_folder", "out is NULL") }
    out.pointee = nil
    return guarded("ctr_dataset_load_folder") {
        let r = try pathArgument(root, name: "root")
        let o = try readOptions(opts, defaults: folderDefaults(), name: "opts")
        guard let layout = ImageFolder.Layout(rawValue: o.layout) else {
            throw ContrastiveError.invalid("opts.layout \(o.layout) is not a ctr_folder_layout")
        }
        var options = ImageFolder.Options()
        options.height = Int(o.height); options.width = Int(o.width); options.channels = Int(o.channels)
        options.layout = layout
        out.pointee = makeHandle(try ImageFolder.load(root: r, options: options), tag: HandleTag.dataset)
    }
}

@_cdecl("ctr_dataset_class_name")
public func ctr_dataset_class_name(_ dataset: OpaquePointer?, _ label: Int32, _ buf: UnsafeMutablePointer<CChar>?,
                                   _ capacity: UInt, _ needed: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("ctr_dataset_class_name") {
        let d = try object(dataset, tag: HandleTag.dataset, as: ImageDataset.self, name: "dataset")
        guard buf != nil || capacity == 0 else { throw ContrastiveError.invalid("buf is NULL but capacity is \(capacity)") }
        guard let names = d.classNames else { throw ContrastiveError.invalid("the dataset has no class names") }
        guard label >= 0, Int(label) < names.count else {
            throw ContrastiveError.invalid("label \(label) outside 0...\(names.count - 1)")
        }
        let bytes = Array(names[Int(label)].utf8) + [0]
        needed?.pointee = UInt(bytes.count)
        guard let buf, capacity >= UInt(bytes.count) else {
            throw ContrastiveError(.bufferTooSmall, "needs \(bytes.count) bytes, capacity is \(capacity)")
        }
        bytes.withUnsafeBufferPointer { src in
            UnsafeMutableRawPointer(buf).copyMemory(from: src.baseAddress!, byteCount: bytes.count)
        }
    }
}

@_cdecl("ctr_dataset_free")
public func ctr_dataset_free(_ dataset: OpaquePointer?) {
    releaseHandle(dataset, tag: HandleTag.dataset, function: "ctr_dataset_free")
}

@_cdecl("ctr_dataset_get_info")
public func ctr_dataset_get_info(_ dataset: OpaquePointer?, _ info: UnsafeMutablePointer<ctr_dataset_info>?) -> Int32 {
    guarded("ctr_dataset_get_info") {
        let d = try object(dataset, tag: HandleTag.dataset, as: ImageDataset.self, name: "dataset")
        guard let info else { throw ContrastiveError.invalid("info is NULL") }
        let declared = Int(UnsafeRawPointer(info).load(as: UInt32.self))
        guard declared >= 4, declared % 4 == 0 else { throw ContrastiveError.invalid("info->struct_size is \(declared); set it to sizeof(ctr_dataset_info)") }
        var v = ctr_dataset_info()
        v.struct_size = UInt32(min(declared, MemoryLayout<ctr_dataset_info>.size))
        v.height = Int32(d.height); v.width = Int32(d.width); v.channels = Int32(d.channels)
        v.count = Int64(d.count)
        v.has_labels = d.labels == nil ? 0 : 1
        v.num_classes = Int32(clamping: d.numClasses)
        withUnsafeBytes(of: &v) { src in
            UnsafeMutableRawPointer(info).copyMemory(from: src.baseAddress!, byteCount: min(declared, MemoryLayout<ctr_dataset_info>.size))
        }
    }
}

/// Validate [start, start+count) against the dataset.
private func rangeArgument(_ d: ImageDataset, _ start: Int64, _ count: Int64) throws -> Range<Int> {
    guard let s = Int(exactly: start), let c = Int(exactly: count), s >= 0, c >= 0, c <= d.count, s <= d.count - c else {
        throw ContrastiveError.invalid("range start \(start), count \(count) outside the \(d.count) images")
    }
    return s..<(s + c)
}

@_cdecl("ctr_dataset_copy_images")
public func ctr_dataset_copy_images(_ dataset: OpaquePointer?, _ start: Int64, _ count: Int64,
                                    _ out: UnsafeMutablePointer<UInt8>?, _ capacity: UInt) -> Int32 {
    guarded("ctr_dataset_copy_images") {
        let d = try object(dataset, tag: HandleTag.dataset, as: ImageDataset.self, name: "dataset")
        let r = try rangeArgument(d, start, count)
        let need = r.count * d.imageBytes
        guard capacity >= UInt(need) else { throw ContrastiveError(.bufferTooSmall, "out holds \(capacity) bytes, \(need) needed") }
        guard need == 0 || out != nil else { throw ContrastiveError.invalid("out is NULL") }
        if need > 0 {
            d.pixels.withUnsafeBufferPointer { src in out!.update(from: src.baseAddress! + r.lowerBound * d.imageBytes, count: need) }
        }
    }
}

@_cdecl("ctr_dataset_copy_labels")
public func ctr_dataset_copy_labels(_ dataset: OpaquePointer?, _ start: Int64, _ count: Int64,
                                    _ out: UnsafeMutablePointer<Int32>?, _ capacity: UInt) -> Int32 {
    guarded("ctr_dataset_copy_labels") {
        let d = try object(dataset, tag: HandleTag.dataset, as: ImageDataset.self, name: "dataset")
        guard let labels = d.labels else { throw ContrastiveError.invalid("the dataset has no labels") }
        let r = try rangeArgument(d, start, count)
        guard capacity >= UInt(r.count) else { throw ContrastiveError(.bufferTooSmall, "out holds \(capacity) labels, \(r.count) needed") }
        guard r.isEmpty || out != nil else { throw ContrastiveError.invalid("out is NULL") }
        for (j, i) in r.enumerated() { out![j] = labels[i] }
    }
}

@_cdecl("ctr_dataset_split")
public func ctr_dataset_split(_ dataset: OpaquePointer?, _ fraction: Double, _ seed: UInt64,
                              _ train: UnsafeMutablePointer<OpaquePointer?>?, _ validation: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    train?.pointee = nil
    validation?.pointee = nil
    return guarded("ctr_dataset_split") {
        let d = try object(dataset, tag: HandleTag.dataset, as: ImageDataset.self, name: "dataset")
        guard let train, let validation else { throw ContrastiveError.invalid("train or validation is NULL") }
        let (a, b) = try d.split(validationFraction: fraction, seed: seed)
        train.pointee = makeHandle(a, tag: HandleTag.dataset)
        validation.pointee = makeHandle(b, tag: HandleTag.dataset)
    }
}

@_cdecl("ctr_dataset_slice")
public func ctr_dataset_slice(_ dataset: OpaquePointer?, _ start: Int64, _ count: Int64, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(.invalidArgument, "ctr_dataset_slice", "out is NULL") }
    out.pointee = nil
    return guarded("ctr_dataset_slice") {
        let d = try object(dataset, tag: HandleTag.dataset, as: ImageDataset.self, name: "dataset")
        let r = try rangeArgument(d, start, count)
        guard r.count >= 1 else { throw ContrastiveError.invalid("count must be ≥ 1") }
        out.pointee = makeHandle(try d.subset(Array(r)), tag: HandleTag.dataset)
    }
}
