// Command-line parsing: `--key value`, `--key=value` and `--flag`, every option declared up
#if canImport(Glibc)
import Glibc
#endif
// front so an unknown or malformed one is a one-line error.
import Contrastive

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ m: String) { description = m }
}

/// The options of one command, read and checked by name.
struct Arguments {
    private var values: [String: String] = [:]
    private(set) var positional: [String] = []
    private var used = Set<String>()
    let known: Set<String>
    let flags: Set<String>

    init(_ args: [String], options: [String], flags: [String] = []) throws {
        known = Set(options)
        self.flags = Set(flags)
        var i = 0
        while i < args.count {
            let a = args[i]
            if a.hasPrefix("--") {
                var key = String(a.dropFirst(2)), value: String? = nil
                if let eq = key.firstIndex(of: "=") { value = String(key[key.index(after: eq)...]); key = String(key[..<eq]) }
                if self.flags.contains(key) {
                    guard value == nil || value == "1" || value == "true" || value == "0" || value == "false" else {
                        throw CLIError("--\(key) is a flag and takes no value")
                    }
                    values[key] = (value == "0" || value == "false") ? "0" : "1"
                } else if known.contains(key) {
                    if value == nil {
                        guard i + 1 < args.count else { throw CLIError("--\(key) needs a value") }
                        i += 1
                        value = args[i]
                    }
                    values[key] = value
                } else {
                    let all = (known.union(self.flags)).sorted().map { "--\($0)" }.joined(separator: " ")
                    throw CLIError("unknown option --\(key) (options: \(all))")
                }
            } else {
                positional.append(a)
            }
            i += 1
        }
    }

    func has(_ k: String) -> Bool { values[k] != nil }
    func flag(_ k: String) -> Bool { values[k] == "1" }
    func string(_ k: String) -> String? { values[k] }
    func string(_ k: String, default d: String) -> String { values[k] ?? d }

    func int(_ k: String) throws -> Int? {
        guard let s = values[k] else { return nil }
        guard let v = Int(s) else { throw CLIError("--\(k) must be an integer, got \"\(s)\"") }
        return v
    }
    func int(_ k: String, default d: Int) throws -> Int { try int(k) ?? d }

    func double(_ k: String) throws -> Double? {
        guard let s = values[k] else { return nil }
        guard let v = Double(s), v.isFinite else { throw CLIError("--\(k) must be a finite number, got \"\(s)\"") }
        return v
    }

    func uint64(_ k: String, default d: UInt64) throws -> UInt64 {
        guard let s = values[k] else { return d }
        guard let v = UInt64(s) else { throw CLIError("--\(k) must be a non-negative integer, got \"\(s)\"") }
        return v
    }

    func choice(_ k: String, _ options: [String], default d: String) throws -> String {
        let v = values[k] ?? d
        guard options.contains(v) else { throw CLIError("--\(k) must be one of \(options.joined(separator: ", ")), got \"\(v)\"") }
        return v
    }
}
