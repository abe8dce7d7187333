#if canImport(Glibc)
import Glibc
#endif

/// Image folders: `root/<class>/**/*.png|jpg|jpeg` (labels by sorted class-folder name, as
/// torchvision's ImageFolder) or a flat `root/*.png|jpg|jpeg` (unlabelled). Every image is
/// decoded (PNG, JPEG — told by signature), converted to the requested channel count and
/// resized to the requested size with antialiased bilinear (the same resampling as the
/// augmentation's resize, torchvision's uint8 `resize(antialias=True)`), then stored in one
/// `ImageDataset`. A file that cannot be read or decoded fails the whole load with its path.
public enum ImageFolder {
    /// How the folder is organised.
    public enum Layout: Int32, Sendable {
        /// Class folders when `root` holds any (non-hidden) sub-folder, else flat.
        case auto = 0
        /// `root/<class>/...`: one label per sub-folder, in sorted name order; files directly
        /// in `root` are ignored. Each class folder is searched recursively.
        case classes = 1
        /// `root/*`: the images directly in `root`, unlabelled; sub-folders are ignored.
        case flat = 2
    }

    /// What to load.
    public struct Options: Sendable {
        /// Output height and width; 0 and 0 keep each image's size (all images must agree).
        public var height = 0, width = 0
        /// Output channels: 1 (grey) or 3 (RGB).
        public var channels = 3
        /// Folder layout.
        public var layout = Layout.auto
        /// The defaults: original size, RGB, automatic layout.
        public init() {}
    }

    /// Most images in one load.
    public static let maxImages = 1 << 24
    /// Deepest folder nesting searched below a class folder.
    public static let maxDepth = 16
    /// Largest output side.
    public static let maxOutputSide = 16384

    /// Whether a name ends in .png, .jpg or .jpeg (any case).
    static func isImageName(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.hasSuffix(".png") || lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg")
    }

    /// Byte-wise (code point) order, as Python's `sorted` on str.
    static func byteOrder(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    /// Entries of a folder (no "." / ".." / hidden names): (name, isDirectory), sorted.
    static func entries(_ dir: String) throws -> [(String, Bool)] {
        guard let d = opendir(dir) else { throw ContrastiveError(.io, "cannot open folder \(dir): \(FileIO.errnoText())") }
        defer { closedir(d) }
        var out: [(String, Bool)] = []
        while true {
            errno = 0
            guard let e = readdir(d) else {
                if errno != 0 { throw ContrastiveError(.io, "reading folder \(dir): \(FileIO.errnoText())") }
                break
            }
            let raw: [UInt8] = withUnsafeBytes(of: e.pointee.d_name) { b in Array(b.prefix(while: { $0 != 0 })) }
            guard let first = raw.first, first != UInt8(ascii: ".") else { continue }
            guard let name = String(validating: raw, as: UTF8.self) else {
                throw ContrastiveError(.format, "\(dir): a file name is not valid UTF-8")
            }
            let path = dir + "/" + name
            var st = stat()
            guard stat(path, &st) == 0 else { continue }   // a dangling link: not an image
            let isDir = (st.st_mode & S_IFMT) == S_IFDIR
            guard isDir || (st.st_mode & S_IFMT) == S_IFREG else { continue }
            out.append((name, isDir))
            guard out.count <= maxImages else { throw ContrastiveError(.format, "\(dir): more than \(maxImages) entries") }
        }
        return out.sorted { byteOrder($0.0, $1.0) }
    }

    /// Image files under `dir`, recursively, in sorted order (folders and files interleaved
    /// by name, like a sorted walk).
    static func collect(_ dir: String, depth: Int, into files: inout [String]) throws {
        guard depth <= maxDepth else { throw ContrastiveError(.format, "\(dir): folders nested more than \(maxDepth) deep") }
        for (name, isDir) in try entries(dir) {
            if isDir { try collect(dir + "/" + name, depth: depth + 1, into: &files) }
            else if isImageName(name) {
                files.append(dir + "/" + name)
                guard files.count <= maxImages else { throw ContrastiveError(.format, "more than \(maxImages) images") }
            }
        }
    }

    /// The files to load and their labels: (paths, labels or nil, class names).
    public static func list(root: String, layout: Layout) throws -> (files: [String], labels: [Int32]?, classes: [String]) {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        var st = stat()
        guard stat(r, &st) == 0 else { throw ContrastiveError(.io, "cannot open folder \(root): \(FileIO.errnoText())") }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw ContrastiveError(.io, "\(root) is not a folder") }
        let top = try entries(r)
        let dirs = top.filter { $0.1 }.map { $0.0 }
        let useClasses = layout == .classes || (layout == .auto && !dirs.isEmpty)
        if !useClasses {
            let files = top.filter { !$0.1 && isImageName($0.0) }.map { r + "/" + $0.0 }
            guard !files.isEmpty else { throw ContrastiveError(.format, "\(root): no .png/.jpg/.jpeg images found") }
            return (files, nil, [])
        }
        guard !dirs.isEmpty else { throw ContrastiveError(.format, "\(root): no class folders found") }
        var files: [String] = [], labels: [Int32] = []
        for (k, d) in dirs.enumerated() {
            let before = files.count
            try collect(r + "/" + d, depth: 1, into: &files)
            guard files.count > before else {
                throw ContrastiveError(.format, "\(root): class folder '\(d)' holds no .png/.jpg/.jpeg images")
            }
            labels += repeatElement(Int32(k), count: files.count - before)
        }
        return (files, labels, dirs)
    }

    /// Convert to 1 or 3 channels: grey → RGB by copying, RGB → grey with ITU-R 601-2 luma
    /// in PIL's fixed point ((19595 R + 38470 G + 7471 B + 2¹⁵) >> 16), alpha dropped (not
    /// composited).
    public static func convert(_ img: DecodedImage, channels: Int) -> [UInt8] {
        let n = img.height * img.width, c = img.channels
        if c == channels { return img.pixels }
        var out = [UInt8](repeating: 0, count: n * channels)
        img.pixels.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { d in
                for p in 0..<n {
                    let sp = s.baseAddress! + p * c
                    if channels == 1 {
                        if c >= 3 {
                            let r: UInt32 = 19595 * UInt32(sp[0]), g: UInt32 = 38470 * UInt32(sp[1]), b: UInt32 = 7471 * UInt32(sp[2])
                            d[p] = UInt8(truncatingIfNeeded: (r + g + b + 0x8000) >> 16)
                        } else {
                            d[p] = sp[0]
                        }
                    } else {
                        if c >= 3 { d[3 * p] = sp[0]; d[3 * p + 1] = sp[1]; d[3 * p + 2] = sp[2] }
                        else { d[3 * p] = sp[0]; d[3 * p + 1] = sp[0]; d[3 * p + 2] = sp[0] }
                    }
                }
            }
        }
        return out
    }

    /// Resize an interleaved uint8 image (h × w × c) to oh × ow with antialiased bilinear
    /// (`Geometry.resizedCrop` on uint8 semantics), one channel at a time, into `dst`.
    /// The caller copies same-size images itself: Swift 6.3 (release) miscompiles an early
    /// `dst.update(from:count:)` return here — the tail call to memmove leaves a dimension in
    /// the error register (r12), so the caller sees a bogus thrown error and crashes.
    static func resize(_ src: UnsafePointer<UInt8>, h: Int, w: Int, c: Int, oh: Int, ow: Int,
                       into dst: UnsafeMutablePointer<UInt8>, buffers: ResizeBuffers) throws {
        let plane = try buffers.src.reserve(h * w)
        let tmp = try buffers.tmp.reserve(h * ow)
        let out = try buffers.dst.reserve(oh * ow)
        for k in 0..<c {
            for p in 0..<(h * w) { plane[p] = Float(src[p * c + k]) }
            let r = try Geometry.resizedCrop(Plane(data: plane, c: 1, h: h, w: w), top: 0, left: 0, ch: h, cw: w,
                                             oh: oh, ow: ow, dst: out, tmp: tmp, scratch: buffers.scratch, quantize: true)
            for p in 0..<(oh * ow) { dst[p * c + k] = UInt8(min(max(r.data[p], 0), 255)) }
        }
    }

    /// One error slot per part, each written by its own part only.
    final class Failures: @unchecked Sendable {
        private var slots: [ContrastiveError?]
        init(_ n: Int) { slots = [ContrastiveError?](repeating: nil, count: n) }
        func set(_ part: Int, _ e: ContrastiveError?) { if let e { slots.withUnsafeMutableBufferPointer { $0[part] = e } } }
        var first: ContrastiveError? { slots.lazy.compactMap { $0 }.first }
    }

    /// What every part of a folder load needs.
    struct Job {
        let files: [String]
        let channels: Int, oh: Int, ow: Int
        let keep: Bool
        let first: [UInt8]?

        /// Load files `range` into their slots of `base`; the first error ends the part.
        func run(_ range: Range<Int>, into base: UnsafeMutablePointer<UInt8>, imageBytes: Int) -> ContrastiveError? {
            do {
                let buffers = try ResizeBuffers()
                for i in range {
                    let dst = base + i * imageBytes
                    if i == 0, let first {
                        copyBytes(first, into: dst)
                    } else if keep {
                        let img = try ImageCodec.decode(try FileIO.read(files[i], maxBytes: 1 << 30), name: files[i])
                        guard img.height == oh, img.width == ow else {
                            throw ContrastiveError.shape("\(files[i]) is \(img.height)×\(img.width), but \(files[0]) is \(oh)×\(ow); give a size to resize all images to")
                        }
                        copyBytes(convert(img, channels: channels), into: dst)
                    } else {
                        try loadOne(files[i], channels: channels, oh: oh, ow: ow, into: dst, buffers: buffers)
                    }
                }
                return nil
            } catch let e as ContrastiveError {
                return e
            } catch {
                return ContrastiveError(.internal, "\(error)")
            }
        }
    }

    /// Copy `bytes` to `dst` (a non-throwing function on purpose, see `resize`).
    @inline(never)
    static func copyBytes(_ bytes: [UInt8], into dst: UnsafeMutablePointer<UInt8>) {
        bytes.withUnsafeBufferPointer { dst.update(from: $0.baseAddress!, count: $0.count) }
    }

    /// Per-thread scratch for `resize`.
    final class ResizeBuffers {
        let src: FloatBuffer, tmp: FloatBuffer, dst: FloatBuffer, scratch: AugmentScratch
        init() throws { src = try FloatBuffer(); tmp = try FloatBuffer(); dst = try FloatBuffer(); scratch = try AugmentScratch() }
    }

    /// Read, decode, convert and resize one file into `dst` (oh × ow × channels bytes).
    static func loadOne(_ path: String, channels: Int, oh: Int, ow: Int, into dst: UnsafeMutablePointer<UInt8>,
                        buffers: ResizeBuffers) throws {
        let bytes = try FileIO.read(path, maxBytes: 1 << 30)
        let img = try ImageCodec.decode(bytes, name: path)
        let px = convert(img, channels: channels)
        if img.height == oh && img.width == ow {
            copyBytes(px, into: dst)
        } else {
            try px.withUnsafeBufferPointer { p in
                try resize(p.baseAddress!, h: img.height, w: img.width, c: channels, oh: oh, ow: ow, into: dst, buffers: buffers)
            }
        }
    }

    /// Load a folder into a dataset (class names in `classNames` for the class layout).
    public static func load(root: String, options: Options) throws -> ImageDataset {
        guard options.channels == 1 || options.channels == 3 else {
            throw ContrastiveError.invalid("image folder: channels must be 1 or 3, not \(options.channels)")
        }
        guard options.height >= 0, options.width >= 0, options.height <= maxOutputSide, options.width <= maxOutputSide,
              (options.height == 0) == (options.width == 0) else {
            throw ContrastiveError.invalid("image folder: size \(options.height)×\(options.width) (both 0 to keep the images' size, else 1…\(maxOutputSide))")
        }
        let (files, labels, classes) = try list(root: root, layout: options.layout)
        let c = options.channels
        var oh = options.height, ow = options.width
        var firstImage: [UInt8]? = nil
        if oh == 0 {   // keep the size: the first image sets it, every other must match
            let img = try ImageCodec.decode(try FileIO.read(files[0], maxBytes: 1 << 30), name: files[0])
            oh = img.height; ow = img.width
            firstImage = convert(img, channels: c)
        }
        let imageBytes = try checkedByteCount([oh, ow, c])
        let total = try checkedByteCount([files.count, oh, ow, c])
        try probeAllocation(total, what: "image folder of \(files.count) images of \(oh)×\(ow)×\(c)")
        var pixels = [UInt8](repeating: 0, count: total)
        let job = Job(files: files, channels: c, oh: oh, ow: ow, keep: options.height == 0, first: firstImage)
        let parts = parallelParts(files.count, grain: 8)
        let failures = Failures(parts)
        pixels.withUnsafeMutableBufferPointer { pb in
            let base = pb.baseAddress!
            ThreadPool.shared.run(parts: parts) { part in
                failures.set(part, job.run(partRange(part, of: parts, files.count), into: base, imageBytes: imageBytes))
            }
        }
        // The first failing part in file order reports (deterministic whatever the threads).
        if let e = failures.first { throw e }
        return try ImageDataset(pixels: pixels, count: files.count, height: oh, width: ow, channels: c,
                                labels: labels, classNames: labels == nil ? nil : classes)
    }
}
