// A small seeded random number generator, so that a simulated crash and the
// workload around it can be replayed exactly from one number.

/// SplitMix64: a fast, well-mixed generator whose whole state is one `UInt64`.
/// Deterministic across platforms and runs (the standard library's generator is not seedable).
@_spi(Testing) public struct SimulationRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator that produces the same sequence for the same `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A seed derived from `seed` and `index` (one per iteration, per task, ...), so
    /// that neighbouring indexes give unrelated sequences.
    public static func derive(_ seed: UInt64, _ index: UInt64) -> UInt64 {
        var generator = SimulationRandom(seed: seed ^ (index &* 0xD1B5_4A32_D192_ED03))
        return generator.next()
    }

    /// True with probability `numerator / denominator`.
    public mutating func chance(_ numerator: Int, in denominator: Int) -> Bool {
        Int.random(in: 0..<denominator, using: &self) < numerator
    }

    /// `count` random bytes.
    public mutating func bytes(_ count: Int) -> [UInt8] {
        var result = [UInt8]()
        result.reserveCapacity(count)
        while result.count < count {
            var word = next()
            for _ in 0..<min(8, count - result.count) {
                result.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
        }
        return result
    }
}
