/// The CIFAR-10 / CIFAR-100 binary batches (cifar-10-batches-bin/data_batch_1.bin …,
/// cifar-100-binary/train.bin): fixed-size records, no header. A CIFAR-10 record is one label
/// byte (0…9) then 3072 pixel bytes; a CIFAR-100 record is a coarse label (0…19), a fine label
/// (0…99), then 3072 pixel bytes. Pixels are planar — 1024 red, 1024 green, 1024 blue values of
/// a 32×32 image, rows top to bottom — and are converted to the dataset's interleaved H×W×C.
public enum CIFAR {
    /// Which file layout, and which label to keep.
    public enum Format: Sendable {
        /// CIFAR-10: 3073-byte records, labels 0…9.
        case cifar10
        /// CIFAR-100 with the fine labels (0…99): 3074-byte records.
        case cifar100Fine
        /// CIFAR-100 with the coarse superclass labels (0…19): 3074-byte records.
        case cifar100Coarse

        /// Bytes per record.
        public var recordBytes: Int { self == .cifar10 ? 3073 : 3074 }
        /// Number of label values.
        public var classes: Int {
            switch self { case .cifar10: return 10; case .cifar100Fine: return 100; case .cifar100Coarse: return 20 }
        }
        /// The published class names in label order.
        public var classNames: [String] {
            switch self { case .cifar10: return CIFAR.cifar10Names; case .cifar100Fine: return CIFAR.cifar100FineNames
                          case .cifar100Coarse: return CIFAR.cifar100CoarseNames }
        }
    }

    /// Pixel bytes per image (3 × 32 × 32).
    public static let imageBytes = 3072
    /// Largest single file read (the real batches are 30 MB, CIFAR-100 train 150 MB).
    public static let maxFileBytes = 1 << 32

    /// Convert the records of one file (already read) and append them to `pixels` and
    /// `labels`. Throws FORMAT naming `name` and the record for a size that is not a whole
    /// number of records, or an out-of-range label.
    public static func append(_ bytes: [UInt8], name: String, format: Format,
                              pixels: inout [UInt8], labels: inout [Int32]) throws {
        let rec = format.recordBytes
        guard !bytes.isEmpty, bytes.count % rec == 0 else {
            throw ContrastiveError(.format, "\(name): \(bytes.count) bytes is not a whole number of \(rec)-byte \(format == .cifar10 ? "CIFAR-10" : "CIFAR-100") records\(bytes.count > rec ? " (record \(bytes.count / rec) is cut after \(bytes.count % rec) bytes)" : "")")
        }
        let n = bytes.count / rec
        let lead = rec - imageBytes
        let labelOffset = format == .cifar100Fine ? 1 : 0
        // Validate every label before converting anything.
        for r in 0..<n {
            let l = Int(bytes[r * rec + labelOffset])
            guard l < format.classes else {
                throw ContrastiveError(.format, "\(name): record \(r) has label \(l), outside 0…\(format.classes - 1)\(format == .cifar10 ? " (is this a CIFAR-100 file?)" : "")")
            }
            if format != .cifar10 {   // the other CIFAR-100 label must be in range too
                let other = Int(bytes[r * rec + 1 - labelOffset])
                let limit = format == .cifar100Fine ? 20 : 100
                guard other < limit else {
                    throw ContrastiveError(.format, "\(name): record \(r) has \(format == .cifar100Fine ? "coarse" : "fine") label \(other), outside 0…\(limit - 1)")
                }
            }
        }
        let base = pixels.count
        let (total, o) = base.addingReportingOverflow(n * imageBytes)
        guard !o, total <= 1 << 40 else { throw ContrastiveError(.outOfMemory, "CIFAR: too many images") }
        pixels.append(contentsOf: repeatElement(0, count: n * imageBytes))
        labels.reserveCapacity(labels.count + n)
        pixels.withUnsafeMutableBufferPointer { dst in
            bytes.withUnsafeBufferPointer { src in
                for r in 0..<n {
                    let s = src.baseAddress! + r * rec + lead
                    let d = dst.baseAddress! + base + r * imageBytes
                    for p in 0..<1024 {   // planar CHW → interleaved HWC
                        d[3 * p] = s[p]; d[3 * p + 1] = s[1024 + p]; d[3 * p + 2] = s[2048 + p]
                    }
                }
            }
        }
        for r in 0..<n { labels.append(Int32(bytes[r * rec + labelOffset])) }
    }

    /// Load one or several batch files, in the order given, into one labelled 32×32×3 dataset
    /// (with the published class names).
    public static func load(paths: [String], format: Format) throws -> ImageDataset {
        guard !paths.isEmpty else { throw ContrastiveError.invalid("CIFAR: no files given") }
        var pixels: [UInt8] = [], labels: [Int32] = []
        for path in paths {
            let bytes = try FileIO.read(path, maxBytes: maxFileBytes)
            try append(bytes, name: path, format: format, pixels: &pixels, labels: &labels)
        }
        return try ImageDataset(pixels: pixels, count: labels.count, height: 32, width: 32, channels: 3,
                                labels: labels, classNames: format.classNames)
    }

    /// CIFAR-10's classes (batches.meta.txt).
    public static let cifar10Names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    /// CIFAR-100's fine classes (fine_label_names.txt; alphabetical).
    public static let cifar100FineNames = [
        "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
        "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
        "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
        "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
        "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
        "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
        "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
        "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
        "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
        "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
    ]

    /// CIFAR-100's coarse superclasses (coarse_label_names.txt; alphabetical).
    public static let cifar100CoarseNames = [
        "aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
        "household_electrical_devices", "household_furniture", "insects", "large_carnivores",
        "large_man-made_outdoor_things", "large_natural_outdoor_scenes", "large_omnivores_and_herbivores",
        "medium_mammals", "non-insect_invertebrates", "people", "reptiles", "small_mammals", "trees",
        "vehicles_1", "vehicles_2",
    ]
}
