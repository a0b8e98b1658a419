// The POSITION file: the writer's published durable position, for readers in
// other processes. Advisory (recovery never reads it) and never fsynced: it only
// tells a follower how far it may read.
import Foundation

/// `POSITION`: 20 bytes, rewritten in place after each acknowledged batch.
///
///     0  8B  magic "EVLOGPOS"
///     8  u64 last acknowledged global position
///    16  u32 CRC32C of bytes [0, 16)
enum PositionFileFormat {
    static let fileName = "POSITION"
    static let size = 20
    static let magic: [UInt8] = Array("EVLOGPOS".utf8)

    static func encode(_ position: UInt64) -> [UInt8] {
        withEncoded(position) { Array($0) }
    }

    /// Calls `body` with the file's bytes for `position`, built on the stack (the
    /// writer publishes after every batch: no allocation).
    static func withEncoded<R>(_ position: UInt64, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeTemporaryAllocation(byteCount: size, alignment: 8) { buffer in
            for (index, byte) in magic.enumerated() { buffer[index] = byte }
            buffer.storeLE(position, at: 8)
            buffer.storeLE(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[0..<16])), at: 16)
            return try body(UnsafeRawBufferPointer(buffer))
        }
    }

    /// The position, or nil for bytes that are not a whole, valid POSITION file
    /// (a reader can race the writer's rewrite: it simply reads again later).
    static func decode(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard bytes.count >= size, bytes.prefix(8).elementsEqual(magic),
            bytes.loadLE(UInt32.self, at: 16) == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<16]))
        else { return nil }
        return bytes.loadLE(UInt64.self, at: 8)
    }
}
