/// Status codes shared with the C ABI (`ctr_status` in include/contrastive.h).
/// Append-only: never renumber, never reuse a value.
public enum Status: Int32, Sendable, CaseIterable {
    case ok = 0
    case invalidArgument = 1
    case shapeMismatch = 2
    case io = 3
    case format = 4
    case outOfMemory = 5
    case numeric = 6
    case cancelled = 7
    case bufferTooSmall = 8
    case unsupported = 9
    case `internal` = 10

    /// Static description, identical to `ctr_status_string`.
    public var text: String {
        switch self {
        case .ok: return "ok"
        case .invalidArgument: return "invalid argument"
        case .shapeMismatch: return "shape mismatch"
        case .io: return "input/output error"
        case .format: return "malformed or unsupported file format"
        case .outOfMemory: return "out of memory"
        case .numeric: return "non-finite value (NaN or Inf)"
        case .cancelled: return "cancelled"
        case .bufferTooSmall: return "buffer too small"
        case .unsupported: return "unsupported"
        case .internal: return "internal error"
        }
    }
}

/// The single error type of the engine: a status plus a human-readable message.
/// Every failure reachable from the C ABI is one of these; the ABI layer turns it into
/// a `ctr_status` and the per-thread `ctr_last_error()` text.
public struct ContrastiveError: Error, CustomStringConvertible, Sendable {
    public let status: Status
    public let message: String

    public init(_ status: Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.text): \(message)" }

    public static func invalid(_ m: String) -> ContrastiveError { .init(.invalidArgument, m) }
    public static func shape(_ m: String) -> ContrastiveError { .init(.shapeMismatch, m) }
}

/// Overflow-checked product of non-negative sizes; throws instead of trapping. A tensor holds
/// at most 2³¹−1 elements, so every size handed to BLAS fits its 32-bit integers.
@inlinable
public func checkedCount(_ dims: [Int], what: String = "tensor") throws -> Int {
    var n = 1
    for d in dims {
        guard d >= 0 else { throw ContrastiveError.invalid("\(what): negative dimension in \(dims)") }
        let (p, o) = n.multipliedReportingOverflow(by: d)
        guard !o, p <= Int(Int32.max) else { throw ContrastiveError(.outOfMemory, "\(what): size \(dims) is too large") }
        n = p
    }
    return n
}
