/// A small, bounded JSON reader and writer for safetensors headers and configuration text.
///
/// The reader never trusts its input: it limits nesting depth, string length and the number of
/// values, rejects anything that is not strict JSON, and reports the byte offset of a problem.
public indirect enum JSON: Equatable {
    case null
    case bool(Bool)
    case number(Double, integer: Int64?)   // integer set when the text was an exact integer
    case string(String)
    case array([JSON])
    case object([(String, JSON)])          // order preserved; duplicate keys are rejected

    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x, _), .number(y, _)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> JSON? {
        if case .object(let kv) = self { return kv.first { $0.0 == key }?.1 }
        return nil
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var intValue: Int64? { if case .number(_, let i) = self { return i }; return nil }
    public var arrayValue: [JSON]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: [(String, JSON)]? { if case .object(let o) = self { return o }; return nil }

    // MARK: parsing

    public struct Limits {
        public var maxDepth = 16
        public var maxValues = 1_000_000
        public var maxStringBytes = 1 << 20
        public init() {}
    }

    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, limits: Limits = Limits()) throws -> JSON {
        var p = Parser(bytes: bytes, limits: limits)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.pos == bytes.count else { throw p.error("trailing characters after the JSON value") }
        return v
    }

    public static func parse(_ text: String, limits: Limits = Limits()) throws -> JSON {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { try parse($0, limits: limits) }
    }

    struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        let limits: Limits
        var pos = 0
        var values = 0

        init(bytes: UnsafeBufferPointer<UInt8>, limits: Limits) { self.bytes = bytes; self.limits = limits }

        func error(_ m: String) -> ContrastiveError { ContrastiveError(.format, "JSON at byte \(pos): \(m)") }

        mutating func skipSpace() {
            while pos < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[pos]) { pos += 1 }
        }

        mutating func expect(_ literal: String) throws {
            for b in literal.utf8 {
                guard pos < bytes.count, bytes[pos] == b else { throw error("expected '\(literal)'") }
                pos += 1
            }
        }

        mutating func value(depth: Int) throws -> JSON {
            guard depth <= limits.maxDepth else { throw error("nesting deeper than \(limits.maxDepth)") }
            values += 1
            guard values <= limits.maxValues else { throw error("more than \(limits.maxValues) values") }
            guard pos < bytes.count else { throw error("unexpected end of input") }
            switch bytes[pos] {
            case UInt8(ascii: "{"):
                pos += 1
                var items: [(String, JSON)] = []
                var seen = Set<String>()
                skipSpace()
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(items) }
                while true {
                    skipSpace()
                    guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                    let k = try string()
                    guard seen.insert(k).inserted else { throw error("duplicate key \"\(k)\"") }
                    skipSpace()
                    try expect(":")
                    skipSpace()
                    items.append((k, try value(depth: depth + 1)))
                    skipSpace()
                    guard pos < bytes.count else { throw error("unterminated object") }
                    if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                    if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(items) }
                    throw error("expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                pos += 1
                var items: [JSON] = []
                skipSpace()
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard pos < bytes.count else { throw error("unterminated array") }
                    if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                    if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
                    throw error("expected ',' or ']'")
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            default:
                return try number()
            }
        }

        mutating func hex4() throws -> UInt32 {
            var v: UInt32 = 0
            for _ in 0..<4 {
                guard pos < bytes.count else { throw error("truncated \\u escape") }
                let c = bytes[pos]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw error("bad hex digit in \\u escape")
                }
                v = v * 16 + d
                pos += 1
            }
            return v
        }

        mutating func string() throws -> String {
            pos += 1 // opening quote
            var out: [UInt8] = []
            while true {
                guard pos < bytes.count else { throw error("unterminated string") }
                let c = bytes[pos]
                pos += 1
                if c == UInt8(ascii: "\"") { break }
                if c < 0x20 { throw error("control character in string") }
                if c == UInt8(ascii: "\\") {
                    guard pos < bytes.count else { throw error("unterminated escape") }
                    let e = bytes[pos]
                    pos += 1
                    switch e {
                    case UInt8(ascii: "\""): out.append(0x22)
                    case UInt8(ascii: "\\"): out.append(0x5C)
                    case UInt8(ascii: "/"): out.append(0x2F)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800..<0xDC00).contains(scalar) {
                            try expect("\\u")
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00..<0xE000).contains(scalar) {
                            throw error("unpaired surrogate")
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw error("invalid code point") }
                        out.append(contentsOf: Array(String(Character(u)).utf8))
                    default: throw error("unknown escape \\\(Character(Unicode.Scalar(e)))")
                    }
                } else {
                    out.append(c)
                }
                guard out.count <= limits.maxStringBytes else { throw error("string longer than \(limits.maxStringBytes) bytes") }
            }
            guard let s = String(validating: out, as: UTF8.self) else { throw error("string is not valid UTF-8") }
            return s
        }

        mutating func number() throws -> JSON {
            let start = pos
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            var digits = 0
            while pos < bytes.count, (0x30...0x39).contains(bytes[pos]) { pos += 1; digits += 1 }
            guard digits > 0 else { throw error("invalid value") }
            var isInt = true
            if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
                isInt = false; pos += 1
                var frac = 0
                while pos < bytes.count, (0x30...0x39).contains(bytes[pos]) { pos += 1; frac += 1 }
                guard frac > 0 else { throw error("digits expected after '.'") }
            }
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
                isInt = false; pos += 1
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
                var exp = 0
                while pos < bytes.count, (0x30...0x39).contains(bytes[pos]) { pos += 1; exp += 1 }
                guard exp > 0 else { throw error("digits expected in exponent") }
            }
            guard pos - start <= 64 else { throw error("number too long") }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
            guard let d = Double(text) else { throw error("invalid number") }
            return .number(d, integer: isInt ? Int64(text) : nil)
        }
    }

    // MARK: writing

    /// Compact JSON text.
    public var text: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case let .number(d, i): if let i { return String(i) }; return d.isFinite ? "\(d)" : "null"
        case .string(let s): return JSON.quote(s)
        case .array(let a): return "[" + a.map(\.text).joined(separator: ",") + "]"
        case .object(let o): return "{" + o.map { JSON.quote($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    public static func int(_ v: Int) -> JSON { .number(Double(v), integer: Int64(v)) }
}
