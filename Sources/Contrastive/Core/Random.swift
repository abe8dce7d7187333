#if canImport(Glibc)
import Glibc
#endif

/// SplitMix64 finaliser: a bijective 64-bit mix, the basis of every seeded draw in the engine.
@inlinable
public func splitMix64(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// A seeded, counter-based generator: draw i of stream `key` is splitMix64(key-mixed + i), so a
/// stream can be positioned anywhere and its values never depend on what other streams did.
/// Used for parameter initialisation (one stream per parameter tensor).
public struct CounterRNG {
    public let key: UInt64
    public var counter: UInt64 = 0

    public init(seed: UInt64, stream: UInt64) {
        key = splitMix64(seed ^ splitMix64(stream &+ 0x5DEE_CE66_D1CE_4E5B))
    }

    public mutating func next() -> UInt64 {
        defer { counter &+= 1 }
        return splitMix64(key ^ splitMix64(counter))
    }

    /// Uniform in [0, 1) with 24 random bits (exact in Float).
    public mutating func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [lo, hi).
    public mutating func uniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * uniform() }

    /// Standard normal (Box–Muller on two uniforms).
    public mutating func normal() -> Float {
        let u1 = max(Double(next() >> 11) * 0x1p-53, 0x1p-60), u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
}

/// A stable 64-bit hash of a string (FNV-1a), to key streams by parameter name.
public func stableHash(_ s: String) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    return h
}
