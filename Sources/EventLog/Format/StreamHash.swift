// A stable 64-bit hash of stream names for the on-disk indexes (Swift's Hasher is
// seeded per process, so it cannot be written to disk), and the Bloom filter
// that lets a lookup skip index files that cannot hold a stream.

/// FNV-1a over the name's UTF-8 bytes, finished with the MurmurHash3 64-bit mix so
/// that every bit depends on every input byte (the Bloom filter probes use all 64).
/// Part of the format: changing it needs a new format version.
enum StreamHash {
    static func of(_ name: String) -> UInt64 {
        var name = name
        return name.withUTF8 { of(UnsafeRawBufferPointer($0)) }
    }

    static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        hash ^= hash >> 33
        hash = hash &* 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 33
        hash = hash &* 0xC4CE_B9FE_1A85_EC53
        hash ^= hash >> 33
        return hash
    }
}

/// A Bloom filter over stream hashes: 10 bits per stream and 7 probes give about
/// 1% false positives. Stored in index files as raw little-endian 64-bit words.
struct BloomFilter: Equatable {
    static let probes = 7
    static let bitsPerKey = 10

    private(set) var words: [UInt64]

    init(keyCount: Int) {
        let bits = max(64, keyCount * Self.bitsPerKey)
        words = [UInt64](repeating: 0, count: (bits + 63) / 64)
    }

    init(words: [UInt64]) {
        precondition(!words.isEmpty)
        self.words = words
    }

    var byteCount: Int { words.count * 8 }

    mutating func insert(_ hash: UInt64) {
        let bitCount = UInt64(words.count * 64)
        var probe = hash
        let step = (hash >> 32 | hash << 32) | 1
        for _ in 0..<Self.probes {
            let bit = probe % bitCount
            words[Int(bit / 64)] |= 1 << (bit % 64)
            probe = probe &+ step
        }
    }

    func mayContain(_ hash: UInt64) -> Bool {
        let bitCount = UInt64(words.count * 64)
        var probe = hash
        let step = (hash >> 32 | hash << 32) | 1
        for _ in 0..<Self.probes {
            let bit = probe % bitCount
            if words[Int(bit / 64)] & (1 << (bit % 64)) == 0 { return false }
            probe = probe &+ step
        }
        return true
    }
}
