// Swift face of the C CRC32C: one function for raw bytes, used by every codec.
import CCRC32C

/// CRC32C (Castagnoli), hardware-accelerated where the CPU allows.
enum CRC32C {
    /// The checksum of `bytes`, continuing from `seed` (0 starts a fresh checksum).
    @inline(__always)
    static func checksum(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return seed }
        return crc32c_extend(seed, base, bytes.count)
    }

    /// The checksum of a byte array.
    static func checksum(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, seed: seed) }
    }

    /// Whether the hardware instruction is in use.
    static var isHardwareAccelerated: Bool { crc32c_hardware_available() != 0 }
}
