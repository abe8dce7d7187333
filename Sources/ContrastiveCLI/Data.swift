// Dataset specifications on the command line:
#if canImport(Glibc)
import Glibc
#endif
//   fashion-mnist                  Debian's dataset-fashion-mnist (train split; test split for eval)
//   procedural[:N[:SIZE]]          the built-in coloured-shapes set (N images of SIZE², default 10000 of 32²)
//   idx:IMAGES[,LABELS]            IDX files (gzip detected)
//   cifar:FILE[,FILE...]           CIFAR-10 binary batches (cifar100:… for CIFAR-100 fine labels)
//   npy:IMAGES[,LABELS]            uint8 NPY images (N,H,W[,C]) and int labels
//   folder:DIR[:SIZE[:CHANNELS]]   class sub-folders of PNG/JPEG images (or a flat folder)
import Contrastive

enum DataSpec {
    static let fashionDir = "/usr/share/datasets/fashion-mnist"

    static let help = """
      fashion-mnist | procedural[:N[:SIZE]] | idx:IMAGES[,LABELS] | cifar:FILE[,FILE...] |
      cifar100:FILE[,...] | npy:IMAGES[,LABELS] | folder:DIR[:SIZE[:CHANNELS]]
    """

    /// Load a dataset; `test` picks the test split where the spec has one (fashion-mnist,
    /// procedural with another seed).
    static func load(_ spec: String, test: Bool = false) throws -> ImageDataset {
        let (kind, rest) = split(spec)
        switch kind {
        case "fashion-mnist", "fmnist":
            let p = test ? "t10k" : "train"
            do {
                return try IDX.load(images: "\(fashionDir)/\(p)-images-idx3-ubyte.gz", labels: "\(fashionDir)/\(p)-labels-idx1-ubyte.gz")
            } catch let e as ContrastiveError where e.status == .io {
                throw CLIError("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): \(e.message)")
            }
        case "procedural":
            let parts = rest.split(separator: ":").map(String.init)
            guard parts.count <= 2, let n = parts.first.map({ Int($0) }) ?? 10000, let s = parts.count > 1 ? Int(parts[1]) : 32 else {
                throw CLIError("procedural[:N[:SIZE]] expects integers, got \"\(spec)\"")
            }
            return try ProceduralShapes.make(count: test ? max(n / 5, 1) : n, size: s, seed: test ? 1001 : 1)
        case "idx":
            let f = rest.split(separator: ",").map(String.init)
            guard f.count == 1 || f.count == 2 else { throw CLIError("idx:IMAGES[,LABELS], got \"\(spec)\"") }
            return try IDX.load(images: f[0], labels: f.count > 1 ? f[1] : nil)
        case "cifar", "cifar10", "cifar100":
            let files = rest.split(separator: ",").map(String.init)
            guard !files.isEmpty else { throw CLIError("\(kind):FILE[,FILE...] needs at least one file") }
            return try CIFAR.load(paths: files, format: kind == "cifar100" ? .cifar100Fine : .cifar10)
        case "npy":
            let f = rest.split(separator: ",").map(String.init)
            guard f.count == 1 || f.count == 2 else { throw CLIError("npy:IMAGES[,LABELS], got \"\(spec)\"") }
            return try NPY.load(images: f[0], labels: f.count > 1 ? f[1] : nil)
        case "folder":
            let parts = rest.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard !parts.isEmpty, !parts[0].isEmpty else { throw CLIError("folder:DIR[:SIZE[:CHANNELS]] needs a directory") }
            var o = ImageFolder.Options()
            if parts.count > 1 { guard let s = Int(parts[1]), s >= 1 else { throw CLIError("folder size must be an integer ≥ 1") }; o.height = s; o.width = s }
            if parts.count > 2 { guard let c = Int(parts[2]), c == 1 || c == 3 else { throw CLIError("folder channels must be 1 or 3") }; o.channels = c }
            return try ImageFolder.load(root: parts[0], options: o)
        default:
            throw CLIError("unknown dataset \"\(spec)\" (use fashion-mnist, procedural[:N[:SIZE]], idx:, cifar:, cifar100:, npy: or folder:)")
        }
    }

    /// The test split for a training spec: given explicitly, or the spec's own test split, or nil.
    static func testSplit(train spec: String, explicit: String?) throws -> ImageDataset? {
        if let explicit { return try load(explicit) }
        let (kind, _) = split(spec)
        if kind == "fashion-mnist" || kind == "fmnist" || kind == "procedural" { return try load(spec, test: true) }
        return nil
    }

    private static func split(_ spec: String) -> (String, String) {
        guard let c = spec.firstIndex(of: ":") else { return (spec, "") }
        return (String(spec[..<c]), String(spec[spec.index(after: c)...]))
    }

    /// Class names of the built-in datasets (empty otherwise).
    static func classNames(_ spec: String) -> [String] {
        switch split(spec).0 {
        case "fashion-mnist", "fmnist": return ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
        case "procedural": return ProceduralShapes.classNames
        default: return []
        }
    }

    /// The first `n` images (all when n ≤ 0 or n ≥ count).
    static func limit(_ d: ImageDataset, _ n: Int) throws -> ImageDataset {
        guard n > 0, n < d.count else { return d }
        return try d.subset(Array(0..<n))
    }
}
