// Counter-based random numbers for augmentation: every draw is a pure function of
// (seed, epoch, sample index, view, draw number), so the views of a sample never depend on
// the batch size, the thread count or the order in which samples are processed.

/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11).
///
/// Keying used by the augmenter:
/// - key (2×32 bits) = SplitMix64(seed ⊕ SplitMix64(epoch ⊕ 0x5EED_0F_E90C)), split lo/hi;
/// - counter (4×32 bits) = (block, view, index lo 32 bits, index hi 32 bits), where `block`
///   counts the 4-word blocks drawn so far for this (sample, view).
/// Each block yields four 32-bit words; `uniform()` consumes two words (53-bit double).
public struct AugmentRNG {
    @usableFromInline var key0: UInt32
    @usableFromInline var key1: UInt32
    @usableFromInline var c1: UInt32
    @usableFromInline var c2: UInt32
    @usableFromInline var c3: UInt32
    @usableFromInline var block: UInt32 = 0
    @usableFromInline var words: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
    @usableFromInline var used = 4

    /// The stream of sample `index`, view `view` for (seed, epoch).
    public init(seed: UInt64, epoch: UInt64, index: Int64, view: Int) {
        let k = splitMix64(seed ^ splitMix64(epoch ^ 0x5EED_0FE9_0C))
        key0 = UInt32(truncatingIfNeeded: k)
        key1 = UInt32(truncatingIfNeeded: k >> 32)
        c1 = UInt32(truncatingIfNeeded: view)
        let u = UInt64(bitPattern: index)
        c2 = UInt32(truncatingIfNeeded: u)
        c3 = UInt32(truncatingIfNeeded: u >> 32)
    }

    /// One Philox4x32-10 block for counter (c0, c1, c2, c3) and key (k0, k1).
    @inlinable
    public static func philox(_ c: (UInt32, UInt32, UInt32, UInt32), _ k0: UInt32, _ k1: UInt32) -> (UInt32, UInt32, UInt32, UInt32) {
        var (x0, x1, x2, x3) = c
        var ka = k0, kb = k1
        for _ in 0..<10 {
            let p0 = UInt64(0xD251_1F53) &* UInt64(x0)
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(x2)
            let hi0 = UInt32(truncatingIfNeeded: p0 >> 32), lo0 = UInt32(truncatingIfNeeded: p0)
            let hi1 = UInt32(truncatingIfNeeded: p1 >> 32), lo1 = UInt32(truncatingIfNeeded: p1)
            x0 = hi1 ^ x1 ^ ka
            x1 = lo1
            x2 = hi0 ^ x3 ^ kb
            x3 = lo0
            ka = ka &+ 0x9E37_79B9
            kb = kb &+ 0xBB67_AE85
        }
        return (x0, x1, x2, x3)
    }

    /// The next 32 random bits.
    @inlinable
    public mutating func next32() -> UInt32 {
        if used == 4 {
            words = AugmentRNG.philox((block, c1, c2, c3), key0, key1)
            block &+= 1
            used = 0
        }
        defer { used += 1 }
        switch used {
        case 0: return words.0
        case 1: return words.1
        case 2: return words.2
        default: return words.3
        }
    }

    /// Uniform double in [0, 1) with 53 random bits.
    @inlinable
    public mutating func uniform() -> Double {
        let hi = UInt64(next32() >> 5), lo = UInt64(next32() >> 6)   // 27 + 26 bits
        return Double(hi << 26 | lo) * 0x1p-53
    }

    /// Uniform double in [a, b) (a when a == b).
    @inlinable
    public mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * uniform() }

    /// Uniform integer in 0..<n (n ≥ 1), by multiply-shift on 32 bits (bias < n/2³², negligible
    /// for the small ranges used here).
    @inlinable
    public mutating func below(_ n: Int) -> Int {
        Int((UInt64(next32()) &* UInt64(n)) >> 32)
    }

    /// True with probability p.
    @inlinable
    public mutating func bernoulli(_ p: Double) -> Bool {
        uniform() < p   // always two words, so later draws do not depend on p
    }
}
