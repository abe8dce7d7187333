// Augmentation pipelines: per-view lists of (op, probability, parameters), multi-crop, the
// text description (parser + printer) and the method presets (DESIGN.md §7).
//
// Description syntax — statements separated by newlines or ';', '#' starts a comment:
//
//   precision uint8|float                  uint8: round/truncate after each op like torchvision
//                                          on uint8 tensors (default); float: no rounding
//   normalize mean=a,b,c std=a,b,c         per-channel (1 value = all channels); or `normalize none`
//   view [xN]: OP [k=v ...] | OP ... | ...  one view pipeline, repeated N times (default 1)
//
// Ops (`p=` probability, default 1; ranges are `lo,hi`; sizes `S` or `HxW`):
//   rrc size= scale=0.08,1 ratio=0.75,1.333333   RandomResizedCrop (bilinear, antialiased)
//   resize size=                                  resize the whole image (bilinear, antialiased)
//   crop size=                                    RandomCrop without padding
//   hflip p=0.5 | vflip p=0.5                     flips
//   rot90 p=                                      rotation by a uniform k·90°, k ∈ {0,1,2,3}
//   rotate p= degrees=-30,30 interp=nearest|bilinear fill=0   arbitrary angle, fill ∈ [0,1]
//   jitter p= brightness= contrast= saturation= hue=           ColorJitter, random order
//   grayscale p=                                  RandomGrayscale (keeps the channel count)
//   blur p= sigma=0.1,2 kernel=auto|K             GaussianBlur; auto = ⌊0.1·side⌋ made odd
//   solarize p= threshold=0.5                     threshold as a fraction of 255
//   equalize p=                                   per-channel histogram equalisation
// rrc, resize and crop change the size and must have p=1.
#if canImport(Glibc)
import Glibc
#endif

public enum AugOpKind: String, CaseIterable, Sendable {
    case rrc, resize, crop, hflip, vflip, rot90, rotate, jitter, grayscale, blur, solarize, equalize
}

/// One op with its probability and parameters (unused parameters keep their defaults).
public struct AugOp: Equatable, Sendable {
    public var kind: AugOpKind
    public var p: Double = 1
    public var size: (Int, Int) = (0, 0)               // (h, w) for rrc/resize/crop
    public var scale: (Double, Double) = (0.08, 1)
    public var ratio: (Double, Double) = (3.0 / 4.0, 4.0 / 3.0)
    public var degrees: (Double, Double) = (0, 0)
    public var bilinear = false
    public var fill: Double = 0
    public var brightness = 0.0, contrast = 0.0, saturation = 0.0, hue = 0.0
    public var sigma: (Double, Double) = (0.1, 2)
    public var kernel = 0                               // 0 = auto (SimCLR's 10 % of the side)
    public var threshold = 0.5

    public init(_ kind: AugOpKind, p: Double = 1) { self.kind = kind; self.p = p }

    public static func == (a: AugOp, b: AugOp) -> Bool {
        a.kind == b.kind && a.p == b.p && a.size == b.size && a.scale == b.scale && a.ratio == b.ratio
            && a.degrees == b.degrees && a.bilinear == b.bilinear && a.fill == b.fill && a.brightness == b.brightness
            && a.contrast == b.contrast && a.saturation == b.saturation && a.hue == b.hue && a.sigma == b.sigma
            && a.kernel == b.kernel && a.threshold == b.threshold
    }

    var changesSize: Bool { kind == .rrc || kind == .resize || kind == .crop }
}

/// The ops of one view, repeated `copies` times (multi-crop: e.g. 2 global + 6 local).
public struct ViewSpec: Equatable, Sendable {
    public var copies: Int
    public var ops: [AugOp]
    public init(copies: Int = 1, ops: [AugOp]) { self.copies = copies; self.ops = ops }
}

/// A whole augmentation: views, normalisation and the rounding mode.
public struct AugmentPipeline: Equatable, Sendable {
    public var views: [ViewSpec]
    public var mean: [Double]          // empty = no normalisation (output x/255)
    public var std: [Double]
    public var quantize: Bool          // true = torchvision's uint8 semantics

    public init(views: [ViewSpec], mean: [Double] = [], std: [Double] = [], quantize: Bool = true) {
        self.views = views; self.mean = mean; self.std = std; self.quantize = quantize
    }

    /// The views in output order (copies expanded).
    public var expandedViews: [[AugOp]] { views.flatMap { v in Array(repeating: v.ops, count: v.copies) } }

    public static let maxSide = 16384
    public static let maxViews = 64

    /// Check every parameter; INVALID_ARGUMENT with the op and value otherwise.
    public func validate() throws {
        func bad(_ m: String) -> ContrastiveError { .invalid(m) }
        guard !views.isEmpty else { throw bad("the pipeline has no view") }
        var total = 0
        for (vi, v) in views.enumerated() {
            guard v.copies >= 1, v.copies <= AugmentPipeline.maxViews else { throw bad("view \(vi): x\(v.copies) must be in 1…\(AugmentPipeline.maxViews)") }
            total += v.copies
            for op in v.ops {
                let name = "view \(vi) \(op.kind.rawValue)"
                func range(_ r: (Double, Double), _ what: String, lo: Double, hi: Double, open: Bool = false) throws {
                    guard r.0.isFinite, r.1.isFinite else { throw bad("\(name): \(what) \(r.0),\(r.1) is not finite") }
                    guard r.0 <= r.1 else { throw bad("\(name): \(what) min \(r.0) > max \(r.1)") }
                    guard (open ? r.0 > lo : r.0 >= lo), r.1 <= hi else {
                        throw bad("\(name): \(what) \(r.0),\(r.1) outside \(open ? "(" : "[")\(lo), \(hi)]")
                    }
                }
                guard op.p.isFinite, op.p >= 0, op.p <= 1 else { throw bad("\(name): probability \(op.p) outside [0, 1]") }
                if op.changesSize {
                    guard op.p == 1 else { throw bad("\(name): changes the image size, so its probability must be 1 (is \(op.p))") }
                    guard op.size.0 >= 1, op.size.1 >= 1, op.size.0 <= AugmentPipeline.maxSide, op.size.1 <= AugmentPipeline.maxSide else {
                        throw bad("\(name): size \(op.size.0)x\(op.size.1) outside 1…\(AugmentPipeline.maxSide)")
                    }
                }
                switch op.kind {
                case .rrc:
                    try range(op.scale, "scale", lo: 0, hi: 1, open: true)
                    try range(op.ratio, "ratio", lo: 0, hi: 1e6, open: true)
                case .rotate:
                    try range(op.degrees, "degrees", lo: -1e6, hi: 1e6)
                    guard op.fill.isFinite, op.fill >= 0, op.fill <= 1 else { throw bad("\(name): fill \(op.fill) outside [0, 1]") }
                case .jitter:
                    for (v, n) in [(op.brightness, "brightness"), (op.contrast, "contrast"), (op.saturation, "saturation")] {
                        guard v.isFinite, v >= 0, v <= 1e6 else { throw bad("\(name): \(n) \(v) must be a finite value ≥ 0") }
                    }
                    guard op.hue.isFinite, op.hue >= 0, op.hue <= 0.5 else { throw bad("\(name): hue \(op.hue) outside [0, 0.5]") }
                case .blur:
                    try range(op.sigma, "sigma", lo: 0, hi: 1e4, open: true)
                    guard op.kernel == 0 || (op.kernel >= 1 && op.kernel % 2 == 1 && op.kernel <= 1001) else {
                        throw bad("\(name): kernel \(op.kernel) must be odd in 1…1001, or auto")
                    }
                case .solarize:
                    guard op.threshold.isFinite, op.threshold >= 0, op.threshold <= 1 else { throw bad("\(name): threshold \(op.threshold) outside [0, 1]") }
                default: break
                }
            }
        }
        guard total <= AugmentPipeline.maxViews else { throw bad("\(total) views; at most \(AugmentPipeline.maxViews)") }
        guard mean.count == std.count else { throw bad("normalize: \(mean.count) mean values but \(std.count) std values") }
        guard mean.count <= ImageBatch.maxChannels else { throw bad("normalize: too many values") }
        for m in mean where !m.isFinite { throw bad("normalize: mean \(m) is not finite") }
        for s in std where !(s.isFinite && s > 0) { throw bad("normalize: std \(s) must be finite and > 0") }
    }
}

// MARK: - Text description

extension AugmentPipeline {
    /// Parse the text description (syntax at the top of this file). Malformed text gives
    /// FORMAT; well-formed text with invalid values gives INVALID_ARGUMENT.
    public static func parse(_ text: String) throws -> AugmentPipeline {
        guard text.utf8.count <= 1 << 20 else { throw ContrastiveError(.format, "description longer than 1 MiB") }
        var p = AugmentPipeline(views: [], mean: [], std: [], quantize: true)
        var statements: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            statements += code.split(separator: ";")
        }
        for raw in statements {
            let st = raw.trimmingSpaces
            if st.isEmpty { continue }
            let words = st.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            func fmt(_ m: String) -> ContrastiveError { ContrastiveError(.format, "description: \(m) in \"\(st)\"") }
            switch words[0] {
            case "precision":
                guard words.count == 2, words[1] == "uint8" || words[1] == "float" else { throw fmt("expected `precision uint8` or `precision float`") }
                p.quantize = words[1] == "uint8"
            case "normalize":
                if words.count == 2 && words[1] == "none" { p.mean = []; p.std = []; continue }
                var mean: [Double]? = nil, std: [Double]? = nil
                for w in words.dropFirst() {
                    let (k, v) = try keyValue(w, fmt)
                    let list = try numbers(v, fmt, key: k)
                    switch k {
                    case "mean": mean = list
                    case "std": std = list
                    default: throw fmt("unknown key `\(k)` (normalize takes mean= and std=, or none)")
                    }
                }
                guard let mean, let std else { throw fmt("normalize needs both mean= and std=") }
                p.mean = mean; p.std = std
            default:
                guard st.hasPrefix("view") else { throw fmt("unknown statement `\(words[0])` (expected view, normalize or precision)") }
                guard let colon = st.firstIndex(of: ":") else { throw fmt("expected `view [xN]: op | op ...`") }
                let head = st[st.index(st.startIndex, offsetBy: 4)..<colon].trimmingSpaces
                var copies = 1
                if !head.isEmpty {
                    guard head.hasPrefix("x"), let n = Int(head.dropFirst()) else { throw fmt("expected `view xN:` with an integer N, got `view \(head)`") }
                    copies = n
                }
                var ops: [AugOp] = []
                for part in st[st.index(after: colon)...].split(separator: "|", omittingEmptySubsequences: false) {
                    let toks = part.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
                    guard let first = toks.first else { throw fmt("empty op between '|'") }
                    guard let kind = AugOpKind(rawValue: String(first)) else {
                        throw fmt("unknown op `\(first)` (known: \(AugOpKind.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    ops.append(try parseOp(kind, toks.dropFirst(), fmt))
                }
                p.views.append(ViewSpec(copies: copies, ops: ops))
            }
        }
        try p.validate()
        return p
    }

    static func keyValue(_ w: Substring, _ fmt: (String) -> ContrastiveError) throws -> (String, Substring) {
        guard let eq = w.firstIndex(of: "="), eq != w.startIndex, w.index(after: eq) != w.endIndex else {
            throw fmt("expected key=value, got `\(w)`")
        }
        return (String(w[..<eq]), w[w.index(after: eq)...])
    }

    static func number(_ s: Substring, _ fmt: (String) -> ContrastiveError, key: String) throws -> Double {
        guard let v = Double(s) else { throw fmt("\(key)=\(s) is not a number") }
        return v
    }

    static func numbers(_ s: Substring, _ fmt: (String) -> ContrastiveError, key: String) throws -> [Double] {
        let parts = s.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count <= ImageBatch.maxChannels else { throw fmt("\(key): too many values") }
        return try parts.map { try number($0, fmt, key: key) }
    }

    static func pair(_ s: Substring, _ fmt: (String) -> ContrastiveError, key: String) throws -> (Double, Double) {
        let v = try numbers(s, fmt, key: key)
        guard v.count == 2 else { throw fmt("\(key)=\(s) must be two numbers lo,hi") }
        return (v[0], v[1])
    }

    static func integer(_ s: Substring, _ fmt: (String) -> ContrastiveError, key: String) throws -> Int {
        guard let v = Int(s) else { throw fmt("\(key)=\(s) is not an integer") }
        return v
    }

    static func parseOp(_ kind: AugOpKind, _ args: ArraySlice<Substring>, _ fmt: (String) -> ContrastiveError) throws -> AugOp {
        var op = AugOp(kind)
        if kind == .hflip || kind == .vflip { op.p = 0.5 }
        var allowed: Set<String> = ["p"]
        switch kind {
        case .rrc: allowed.formUnion(["size", "scale", "ratio"])
        case .resize, .crop: allowed.insert("size")
        case .rotate: allowed.formUnion(["degrees", "interp", "fill"])
        case .jitter: allowed.formUnion(["brightness", "contrast", "saturation", "hue"])
        case .blur: allowed.formUnion(["sigma", "kernel"])
        case .solarize: allowed.insert("threshold")
        default: break
        }
        var sawSize = false
        for a in args {
            let (k, v) = try keyValue(a, fmt)
            guard allowed.contains(k) else { throw fmt("\(kind.rawValue) has no parameter `\(k)` (it takes \(allowed.sorted().joined(separator: ", ")))") }
            switch k {
            case "p": op.p = try number(v, fmt, key: k)
            case "size":
                sawSize = true
                let hw = v.split(separator: "x", omittingEmptySubsequences: false)
                guard hw.count == 1 || hw.count == 2 else { throw fmt("size=\(v) must be S or HxW") }
                let h = try integer(hw[0], fmt, key: k), w = hw.count == 2 ? try integer(hw[1], fmt, key: k) : h
                op.size = (h, w)
            case "scale": op.scale = try pair(v, fmt, key: k)
            case "ratio": op.ratio = try pair(v, fmt, key: k)
            case "degrees":
                let d = try numbers(v, fmt, key: k)
                guard d.count == 1 || d.count == 2 else { throw fmt("degrees=\(v) must be D (meaning -D,D) or lo,hi") }
                op.degrees = d.count == 1 ? (-d[0], d[0]) : (d[0], d[1])
                if d.count == 1 && d[0] < 0 { throw ContrastiveError.invalid("rotate: degrees \(d[0]) must be ≥ 0 (or give lo,hi)") }
            case "interp":
                guard v == "nearest" || v == "bilinear" else { throw fmt("interp=\(v) must be nearest or bilinear") }
                op.bilinear = v == "bilinear"
            case "fill": op.fill = try number(v, fmt, key: k)
            case "brightness": op.brightness = try number(v, fmt, key: k)
            case "contrast": op.contrast = try number(v, fmt, key: k)
            case "saturation": op.saturation = try number(v, fmt, key: k)
            case "hue": op.hue = try number(v, fmt, key: k)
            case "sigma":
                let s = try numbers(v, fmt, key: k)
                guard s.count == 1 || s.count == 2 else { throw fmt("sigma=\(v) must be S or lo,hi") }
                op.sigma = s.count == 1 ? (s[0], s[0]) : (s[0], s[1])
            case "kernel": op.kernel = v == "auto" ? 0 : try integer(v, fmt, key: k)
            case "threshold": op.threshold = try number(v, fmt, key: k)
            default: break
            }
        }
        if op.changesSize && !sawSize { throw fmt("\(kind.rawValue) needs size=") }
        return op
    }

    /// The canonical text of this pipeline; `parse(description)` gives the pipeline back.
    public var description: String {
        var lines: [String] = []
        lines.append("precision \(quantize ? "uint8" : "float")")
        if mean.isEmpty { lines.append("normalize none") }
        else { lines.append("normalize mean=\(mean.map(num).joined(separator: ",")) std=\(std.map(num).joined(separator: ","))") }
        for v in views {
            let ops = v.ops.map { op -> String in
                var s = op.kind.rawValue
                if !op.changesSize { s += " p=\(num(op.p))" }
                func size() -> String { op.size.0 == op.size.1 ? "\(op.size.0)" : "\(op.size.0)x\(op.size.1)" }
                switch op.kind {
                case .rrc: s += " size=\(size()) scale=\(num(op.scale.0)),\(num(op.scale.1)) ratio=\(num(op.ratio.0)),\(num(op.ratio.1))"
                case .resize, .crop: s += " size=\(size())"
                case .rotate: s += " degrees=\(num(op.degrees.0)),\(num(op.degrees.1)) interp=\(op.bilinear ? "bilinear" : "nearest") fill=\(num(op.fill))"
                case .jitter: s += " brightness=\(num(op.brightness)) contrast=\(num(op.contrast)) saturation=\(num(op.saturation)) hue=\(num(op.hue))"
                case .blur: s += " sigma=\(num(op.sigma.0)),\(num(op.sigma.1)) kernel=\(op.kernel == 0 ? "auto" : "\(op.kernel)")"
                case .solarize: s += " threshold=\(num(op.threshold))"
                default: break
                }
                return s
            }
            lines.append("view\(v.copies == 1 ? "" : " x\(v.copies)"): " + ops.joined(separator: " | "))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Shortest text that parses back to the same Double ("0.08", "1", "-30").
func num(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
    return "\(v)"
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return s
    }
}

// MARK: - Presets

extension AugmentPipeline {
    public static let presetNames = ["simclr", "simclr-cifar", "mocov2", "byol", "swav", "swav-cifar"]
    static let imagenetMean = [0.485, 0.456, 0.406], imagenetStd = [0.229, 0.224, 0.225]
    static let cifarMean = [0.4914, 0.4822, 0.4465], cifarStd = [0.247, 0.243, 0.261]

    /// A method preset with the anchors' parameters (DESIGN.md §7). `size` overrides the
    /// global crop side (0 = preset default: 224, or 32 for *-cifar), `localSize` the local
    /// crop side of swav (0 = 96, or 18 for swav-cifar), `locals` the number of local crops
    /// (-1 = 6).
    public static func preset(_ name: String, size: Int = 0, localSize: Int = 0, locals: Int = -1) throws -> AugmentPipeline {
        guard presetNames.contains(name) else {
            throw ContrastiveError.invalid("unknown preset \"\(name)\" (known: \(presetNames.joined(separator: ", ")))")
        }
        let cifar = name.hasSuffix("-cifar")
        let side = size != 0 ? size : (cifar ? 32 : 224)
        let local = localSize != 0 ? localSize : (cifar ? 18 : 96)
        guard side >= 1, side <= maxSide, local >= 1, local <= maxSide else { throw ContrastiveError.invalid("crop size \(side) / \(local) outside 1…\(maxSide)") }
        guard locals >= -1, locals < maxViews - 2 else { throw ContrastiveError.invalid("local crop count \(locals) outside 0…\(maxViews - 3) (-1 = default)") }
        func rrc(_ s: Int, _ scale: (Double, Double)) -> AugOp { var o = AugOp(.rrc); o.size = (s, s); o.scale = scale; return o }
        func jitter(_ b: Double, _ c: Double, _ s: Double, _ h: Double) -> AugOp {
            var o = AugOp(.jitter, p: 0.8); o.brightness = b; o.contrast = c; o.saturation = s; o.hue = h; return o
        }
        func blur(_ p: Double) -> AugOp { var o = AugOp(.blur, p: p); o.sigma = (0.1, 2); return o }
        func solarize(_ p: Double) -> AugOp { var o = AugOp(.solarize, p: p); o.threshold = 0.5; return o }
        let flip = AugOp(.hflip, p: 0.5), gray = AugOp(.grayscale, p: 0.2)
        var views: [ViewSpec]
        switch name {
        case "simclr":
            views = [ViewSpec(copies: 2, ops: [rrc(side, (0.08, 1)), flip, jitter(0.8, 0.8, 0.8, 0.2), gray, blur(0.5)])]
        case "simclr-cifar":
            views = [ViewSpec(copies: 2, ops: [rrc(side, (0.08, 1)), flip, jitter(0.4, 0.4, 0.4, 0.1), gray])]
        case "mocov2":
            views = [ViewSpec(copies: 2, ops: [rrc(side, (0.2, 1)), jitter(0.4, 0.4, 0.4, 0.1), gray, blur(0.5), flip])]
        case "byol":
            views = [ViewSpec(ops: [rrc(side, (0.08, 1)), flip, jitter(0.4, 0.4, 0.2, 0.1), gray, blur(1.0)]),
                     ViewSpec(ops: [rrc(side, (0.08, 1)), flip, jitter(0.4, 0.4, 0.2, 0.1), gray, blur(0.1), solarize(0.2)])]
        default: // swav, swav-cifar
            let n = locals < 0 ? 6 : locals
            var g: [AugOp] = [rrc(side, (0.14, 1)), flip, jitter(0.8, 0.8, 0.8, 0.2), gray]
            var l: [AugOp] = [rrc(local, (0.05, 0.14)), flip, jitter(0.8, 0.8, 0.8, 0.2), gray]
            if !cifar { g.append(blur(0.5)); l.append(blur(0.5)) }
            views = [ViewSpec(copies: 2, ops: g)]
            if n > 0 { views.append(ViewSpec(copies: n, ops: l)) }
        }
        let p = AugmentPipeline(views: views, mean: cifar ? cifarMean : imagenetMean, std: cifar ? cifarStd : imagenetStd, quantize: true)
        try p.validate()
        return p
    }
}
