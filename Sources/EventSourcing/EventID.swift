// Event ids: time-ordered UUIDs (version 7, RFC 9562) made without a system call
// per id. Foundation's `UUID()` asks the kernel for randomness each time, which
// costs more than the store spends on an append.
import Foundation
import Glibc
import Synchronization

/// Makes event ids.
public enum EventID {
    /// A new UUID version 7: 48 bits of Unix milliseconds, then 74 random bits.
    /// Ids made later sort after ids made earlier (to the millisecond).
    public static func make() -> UUID {
        let milliseconds = UInt64(Date().timeIntervalSince1970 * 1_000)
        let (random1, random2) = generator.withLock { $0.next128() }
        // Bytes 0-5: milliseconds; 6: version 7 and 4 random bits; 7: random;
        // 8: variant 10 and 6 random bits; 9-15: random. Big-endian, as RFC 9562 lays out.
        let high = (milliseconds << 16) | 0x7000 | (random1 & 0x0FFF)
        let low = 0x8000_0000_0000_0000 | (random2 >> 2)
        return withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { UUID(uuid: $0.load(as: uuid_t.self)) }
    }

    private static let generator: Mutex<RandomBits> = {
        // A forked child must not continue the parent's sequence.
        pthread_atfork(nil, nil) { forkedChildNeedsReseed.store(true, ordering: .relaxed) }
        return Mutex(RandomBits())
    }()
}

private let forkedChildNeedsReseed = Atomic<Bool>(false)

/// xoshiro256** seeded from the system's random source, reseeded in a forked
/// child (same state in two processes would give both the same ids).
private struct RandomBits {
    private var state: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var seeded = false

    mutating func next128() -> (UInt64, UInt64) {
        if !seeded || forkedChildNeedsReseed.exchange(false, ordering: .relaxed) {
            var system = SystemRandomNumberGenerator()
            state = (system.next(), system.next(), system.next(), system.next())
            seeded = true
        }
        return (next(), next())
    }

    private mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotate(state.3, 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
