// The run report: one self-contained HTML file (inline SVG charts, the augmentation preview as
#if canImport(Glibc)
import Glibc
#endif
// a data: URI, no scripts or network), viewable offline.
import Contrastive

struct Report {
    let title: String
    let config: TrainConfig
    let trainer: Trainer
    let steps: [StepMetrics]
    let table: [EvalRow]
    let scatter: Scatter?
    let previewPNG: [UInt8]
    let seconds: Double
    let datasetLine: String
    /// Names of the classes for the scatter legend (else "class i").
    var classNames: [String] = []

    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    func html() -> String {
        var h = """
        <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>libcontrastive — \(esc(title))</title>
        <style>
        body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
        h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
        .sub{color:#666;margin-top:0} table{border-collapse:collapse;margin:.5em 0} td,th{padding:.3em .8em;border-bottom:1px solid #eee;text-align:right}
        th:first-child,td:first-child{text-align:left} tr.best td{font-weight:600;background:#f3f8ff}
        .grid{display:flex;flex-wrap:wrap;gap:1.2em} .card{border:1px solid #e4e4e4;border-radius:6px;padding:.6em .8em}
        .card h3{font-size:.95em;margin:.1em 0 .4em} svg text{font-size:11px;fill:#555} code{background:#f5f5f5;padding:0 .3em}
        img.preview{image-rendering:pixelated;width:\(previewWidth)px;border:1px solid #ddd}
        </style></head><body>
        <h1>libcontrastive run report — \(esc(title))</h1>
        <p class="sub">\(esc(datasetLine)); \(esc(TrainCommand.describe(config.model))); \(trainer.globalStep) steps of \(config.batchSize) in \(formatDuration(seconds)); \(Version.string)</p>
        """
        if !table.isEmpty {
            h += "<h2>Evaluation (frozen features, test split)</h2><table><tr><th>features</th><th>dim</th><th>linear top-1</th><th>linear top-5</th><th>kNN top-1</th><th>kNN top-5</th></tr>"
            let best = table.map(\.linearTop1).max() ?? 0
            for r in table {
                h += "<tr\(r.linearTop1 == best ? " class=\"best\"" : "")><td>\(esc(r.name))</td><td>\(r.dim)</td><td>\(pct(r.linearTop1))</td><td>\(pct(r.linearTop5))</td><td>\(pct(r.knnTop1))</td><td>\(pct(r.knnTop5))</td></tr>"
            }
            h += "</table><p class=\"sub\">Linear: multinomial logistic regression (L-BFGS, L2 10⁻⁴, standardised features). kNN: weighted by exp(cos/T) over the k nearest training images.</p>"
        }
        h += "<h2>Training curves</h2><div class=\"grid\">"
        let s = steps.filter { !$0.skipped }
        h += card("Loss per step", line(s.map { Double($0.loss) }, color: "#1f77b4", smooth: true))
        h += card("Learning rate", line(s.map { Double($0.learningRate) }, color: "#ff7f0e"))
        h += card("Collapse: std of normalised projections × √d (1 = spread, 0 = collapsed)", line(s.map { $0.embeddingStd }, color: "#2ca02c", smooth: true, yMin: 0))
        let hist = trainer.history
        if hist.contains(where: { $0.knnTop1.isFinite }) {
            h += card("Online kNN top-1 per epoch (validation)", line(hist.map { $0.knnTop1 * 100 }, color: "#d62728", dots: true))
        }
        if hist.contains(where: { $0.effectiveRank.isFinite }) {
            h += card("Effective rank of backbone features per epoch", line(hist.map(\.effectiveRank), color: "#9467bd", dots: true, yMin: 0))
        }
        h += card("Throughput (images/s) per step", line(s.map(\.imagesPerSecond), color: "#8c564b", smooth: true, yMin: 0))
        h += "</div>"
        if let scatter {
            h += "<h2>Test embeddings, first two principal components</h2><div class=\"card\">\(scatterSVG(scatter))</div>"
        }
        if !previewPNG.isEmpty {
            h += "<h2>Augmentation preview</h2><p class=\"sub\">Each row: an input image, then its augmented views.</p>"
            h += "<img class=\"preview\" alt=\"augmentation preview\" src=\"data:image/png;base64,\(base64(previewPNG))\">"
        }
        h += "<h2>Configuration</h2><table>"
        for (k, v) in config.summary { h += "<tr><td>\(esc(k))</td><td><code>\(esc(v))</code></td></tr>" }
        h += "<tr><td>epochs (per-epoch loss)</td><td><code>\(hist.map { formatFixed($0.meanLoss, 4) }.joined(separator: " "))</code></td></tr>"
        h += "</table></body></html>\n"
        return h
    }

    var previewWidth: Int { 300 }

    func pct(_ v: Double) -> String { v.isFinite ? formatFixed(v * 100, 2) + "%" : "–" }

    func card(_ title: String, _ svg: String) -> String { "<div class=\"card\"><h3>\(esc(title))</h3>\(svg)</div>" }

    func line(_ ys0: [Double], color: String, smooth: Bool = false, dots: Bool = false, yMin: Double? = nil) -> String {
        let W = 330.0, H = 170.0, L = 46.0, B = 22.0, T = 8.0, R = 8.0
        var ys = ys0.filter(\.isFinite)
        guard ys.count >= 1 else { return "<svg width=\"\(Int(W))\" height=\"\(Int(H))\"><text x=\"60\" y=\"80\">no data</text></svg>" }
        if smooth && ys.count > 20 {   // running mean over ~2% of the points
            let w = max(2, ys.count / 50)
            var acc = 0.0, out: [Double] = []
            for (i, y) in ys.enumerated() { acc += y; if i >= w { acc -= ys[i - w] }; out.append(acc / Double(min(i + 1, w))) }
            ys = out
        }
        var lo = min(yMin ?? ys.min()!, ys.min()!), hi = ys.max()!
        if hi - lo < 1e-12 { hi += 1; lo -= yMin == nil ? 1 : 0 }
        let n = ys.count
        func px(_ i: Int) -> Double { L + (W - L - R) * (n == 1 ? 0.5 : Double(i) / Double(n - 1)) }
        func py(_ y: Double) -> Double { T + (H - T - B) * (1 - (y - lo) / (hi - lo)) }
        var svg = "<svg width=\"\(Int(W))\" height=\"\(Int(H))\" viewBox=\"0 0 \(Int(W)) \(Int(H))\">"
        svg += "<rect x=\"\(L)\" y=\"\(T)\" width=\"\(W - L - R)\" height=\"\(H - T - B)\" fill=\"#fafafa\" stroke=\"#ddd\"/>"
        for f in [0.0, 0.5, 1.0] {
            let y = lo + (hi - lo) * f
            svg += "<text x=\"\(L - 4)\" y=\"\(py(y) + 4)\" text-anchor=\"end\">\(tick(y))</text>"
        }
        svg += "<text x=\"\(L)\" y=\"\(H - 6)\">0</text><text x=\"\(W - R)\" y=\"\(H - 6)\" text-anchor=\"end\">\(n)</text>"
        let pts = ys.enumerated().map { "\(formatFixed(px($0.offset), 1)),\(formatFixed(py($0.element), 1))" }.joined(separator: " ")
        svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.6\" points=\"\(pts)\"/>"
        if dots { for (i, y) in ys.enumerated() { svg += "<circle cx=\"\(px(i))\" cy=\"\(py(y))\" r=\"3\" fill=\"\(color)\"/>" } }
        return svg + "</svg>"
    }

    func tick(_ v: Double) -> String {
        let a = abs(v)
        if a >= 1000 { return formatFixed(v, 0) }
        if a >= 10 { return formatFixed(v, 1) }
        if a >= 0.1 || a == 0 { return formatFixed(v, 2) }
        return formatFixed(v, 4)
    }

    func scatterSVG(_ s: Scatter) -> String {
        let W = 560.0, H = 420.0, P = 14.0
        let xs = s.points.map { Double($0.0) }, ys = s.points.map { Double($0.1) }
        guard let x0 = xs.min(), let x1 = xs.max(), let y0 = ys.min(), let y1 = ys.max() else { return "" }
        let dx = max(x1 - x0, 1e-9), dy = max(y1 - y0, 1e-9)
        var svg = "<svg width=\"\(Int(W) + 120)\" height=\"\(Int(H))\"><rect x=\"0\" y=\"0\" width=\"\(W)\" height=\"\(H)\" fill=\"#fcfcfc\" stroke=\"#ddd\"/>"
        for (i, p) in s.points.enumerated() {
            let cx = P + (W - 2 * P) * (Double(p.0) - x0) / dx, cy = P + (H - 2 * P) * (1 - (Double(p.1) - y0) / dy)
            let c = Self.palette[Int(s.labels[i]) % Self.palette.count]
            svg += "<circle cx=\"\(formatFixed(cx, 1))\" cy=\"\(formatFixed(cy, 1))\" r=\"2.2\" fill=\"\(c)\" fill-opacity=\"0.7\"/>"
        }
        let classes = Set(s.labels).sorted()
        for (j, l) in classes.prefix(20).enumerated() {
            svg += "<circle cx=\"\(W + 16)\" cy=\"\(20 + 18 * j)\" r=\"5\" fill=\"\(Self.palette[Int(l) % Self.palette.count])\"/>"
            let name = Int(l) < classNames.count ? classNames[Int(l)] : "class \(l)"
            svg += "<text x=\"\(W + 26)\" y=\"\(24 + 18 * j)\">\(esc(name))</text>"
        }
        return svg + "</svg>"
    }

    func esc(_ s: String) -> String {
        var o = ""
        for c in s {
            switch c {
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "&": o += "&amp;"
            case "\"": o += "&quot;"
            default: o.append(c)
            }
        }
        return o
    }
}

func base64(_ bytes: [UInt8]) -> String {
    let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out = [UInt8]()
    out.reserveCapacity((bytes.count + 2) / 3 * 4)
    var i = 0
    while i + 2 < bytes.count {
        let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
        out += [table[Int(v >> 18 & 63)], table[Int(v >> 12 & 63)], table[Int(v >> 6 & 63)], table[Int(v & 63)]]
        i += 3
    }
    let rest = bytes.count - i
    if rest == 1 {
        let v = UInt32(bytes[i]) << 16
        out += [table[Int(v >> 18 & 63)], table[Int(v >> 12 & 63)], 61, 61]
    } else if rest == 2 {
        let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
        out += [table[Int(v >> 18 & 63)], table[Int(v >> 12 & 63)], table[Int(v >> 6 & 63)], 61]
    }
    return String(decoding: out, as: UTF8.self)
}
