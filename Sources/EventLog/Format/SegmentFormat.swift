// Segment file header and footer, and the store manifest: the fixed-size,
// checksummed structures around the records. Byte layouts in DESIGN.md.
import Foundation

/// The on-disk format version written in every file header. Readers refuse any other.
/// (Version 2 added compacted segments: position gaps, their index holes, and the
/// stream rules' count and age limits.)
let formatVersion: UInt32 = 2

/// Why a fixed-size structure failed to decode.
struct FormatError: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

/// The 64-byte header at the start of every segment file.
///
///     0  8B  magic "EVLOGSEG"
///     8  u32 format version (2)
///    12  u32 header size (64)
///    16  16B store id
///    32  u64 segment number (1, 2, 3, ...)
///    40  u64 first position
///    48  u32 flags (bit 0: compacted, positions may skip)
///    52  8B  reserved (0)
///    60  u32 CRC32C of bytes [0, 60)
struct SegmentHeader: Equatable {
    static let size = 64
    static let magic: [UInt8] = Array("EVLOGSEG".utf8)
    static let flagCompacted: UInt32 = 1

    var storeID: UUID
    var segmentNumber: UInt64
    var firstPosition: UInt64
    /// Rewritten by compaction: records keep their positions, so positions may skip
    /// (the removed events'), and every record is a whole append call's survivor.
    var isCompacted = false

    func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.size)
        bytes.withUnsafeMutableBytes { raw in
            raw.copyBytes(from: Self.magic)
            raw.storeLE(formatVersion, at: 8)
            raw.storeLE(UInt32(Self.size), at: 12)
            withUnsafeBytes(of: storeID.uuid) { UnsafeMutableRawBufferPointer(rebasing: raw[16..<32]).copyMemory(from: $0) }
            raw.storeLE(segmentNumber, at: 32)
            raw.storeLE(firstPosition, at: 40)
            raw.storeLE(isCompacted ? Self.flagCompacted : 0, at: 48)
            raw.storeLE(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<60])), at: 60)
        }
        return bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) throws(FormatError) -> SegmentHeader {
        guard bytes.count >= size else { throw FormatError(reason: "segment header is \(bytes.count) bytes, expected \(size)") }
        guard bytes.loadLE(UInt32.self, at: 60) == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<60])) else {
            throw FormatError(reason: "segment header checksum mismatch")
        }
        guard bytes[0..<8].elementsEqual(magic) else { throw FormatError(reason: "not a segment file (bad magic)") }
        let version = bytes.loadLE(UInt32.self, at: 8)
        guard version == formatVersion else {
            throw FormatError(reason: "segment format version \(version), this build reads version \(formatVersion)")
        }
        let flags = bytes.loadLE(UInt32.self, at: 48)
        guard bytes.loadLE(UInt32.self, at: 12) == UInt32(size), flags & ~flagCompacted == 0,
            bytes[52..<60].allSatisfy({ $0 == 0 })
        else {
            throw FormatError(reason: "segment header size, flags or reserved bytes are wrong")
        }
        let header = SegmentHeader(
            storeID: UUID(uuid: bytes.loadUnaligned(fromByteOffset: 16, as: uuid_t.self)),
            segmentNumber: bytes.loadLE(UInt64.self, at: 32),
            firstPosition: bytes.loadLE(UInt64.self, at: 40),
            isCompacted: flags & flagCompacted != 0)
        guard header.segmentNumber >= 1, header.firstPosition >= 1 else {
            throw FormatError(reason: "segment number or first position is 0")
        }
        return header
    }
}

/// The 64-byte footer that seals a segment, written right after its last record;
/// the file ends with it.
///
///     0  8B  magic "EVLOGEND"
///     8  u64 last position (first position - 1 when the segment is empty; in a
///        compacted segment, the last position it covers, which may have been removed)
///    16  u64 record count (records present)
///    24  u64 records end offset (where this footer starts)
///    32  u32 records checksum: CRC32C over the CRC fields of all records, in order
///    36  24B reserved (0)
///    60  u32 CRC32C of bytes [0, 60)
struct SegmentFooter: Equatable {
    static let size = 64
    static let magic: [UInt8] = Array("EVLOGEND".utf8)

    var lastPosition: UInt64
    var recordCount: UInt64
    var recordsEndOffset: UInt64
    var recordsChecksum: UInt32

    func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.size)
        bytes.withUnsafeMutableBytes { raw in
            raw.copyBytes(from: Self.magic)
            raw.storeLE(lastPosition, at: 8)
            raw.storeLE(recordCount, at: 16)
            raw.storeLE(recordsEndOffset, at: 24)
            raw.storeLE(recordsChecksum, at: 32)
            raw.storeLE(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<60])), at: 60)
        }
        return bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) throws(FormatError) -> SegmentFooter {
        guard bytes.count >= size else { throw FormatError(reason: "segment footer is \(bytes.count) bytes, expected \(size)") }
        guard bytes.loadLE(UInt32.self, at: 60) == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<60])) else {
            throw FormatError(reason: "segment footer checksum mismatch")
        }
        guard bytes[0..<8].elementsEqual(magic) else { throw FormatError(reason: "segment footer has a bad magic") }
        guard bytes[36..<60].allSatisfy({ $0 == 0 }) else { throw FormatError(reason: "segment footer reserved bytes are not zero") }
        return SegmentFooter(
            lastPosition: bytes.loadLE(UInt64.self, at: 8),
            recordCount: bytes.loadLE(UInt64.self, at: 16),
            recordsEndOffset: bytes.loadLE(UInt64.self, at: 24),
            recordsChecksum: bytes.loadLE(UInt32.self, at: 32))
    }
}

/// The store manifest, file `STORE`: identifies the folder as a store and keeps
/// the settings fixed at creation.
///
///     0  8B  magic "EVLOGSTR"
///     8  u32 format version (2)
///    12  u32 reserved (0)
///    16  16B store id
///    32  u64 segment size in bytes
///    40  i64 creation time, microseconds since 1970
///    48  12B reserved (0)
///    60  u32 CRC32C of bytes [0, 60)
struct StoreManifest: Equatable {
    static let size = 64
    static let magic: [UInt8] = Array("EVLOGSTR".utf8)
    static let fileName = "STORE"

    var storeID: UUID
    var segmentSizeBytes: UInt64
    var createdMicroseconds: Int64

    func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.size)
        bytes.withUnsafeMutableBytes { raw in
            raw.copyBytes(from: Self.magic)
            raw.storeLE(formatVersion, at: 8)
            withUnsafeBytes(of: storeID.uuid) { UnsafeMutableRawBufferPointer(rebasing: raw[16..<32]).copyMemory(from: $0) }
            raw.storeLE(segmentSizeBytes, at: 32)
            raw.storeLE(createdMicroseconds, at: 40)
            raw.storeLE(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<60])), at: 60)
        }
        return bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) throws(FormatError) -> StoreManifest {
        guard bytes.count == size else { throw FormatError(reason: "manifest is \(bytes.count) bytes, expected \(size)") }
        guard bytes.loadLE(UInt32.self, at: 60) == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<60])) else {
            throw FormatError(reason: "manifest checksum mismatch")
        }
        guard bytes[0..<8].elementsEqual(magic) else { throw FormatError(reason: "not an EventLog manifest (bad magic)") }
        let version = bytes.loadLE(UInt32.self, at: 8)
        guard version == formatVersion else {
            throw FormatError(reason: "store format version \(version), this build reads version \(formatVersion)")
        }
        guard bytes[12..<16].allSatisfy({ $0 == 0 }), bytes[48..<60].allSatisfy({ $0 == 0 }) else {
            throw FormatError(reason: "manifest reserved bytes are not zero")
        }
        let manifest = StoreManifest(
            storeID: UUID(uuid: bytes.loadUnaligned(fromByteOffset: 16, as: uuid_t.self)),
            segmentSizeBytes: bytes.loadLE(UInt64.self, at: 32),
            createdMicroseconds: bytes.loadLE(Int64.self, at: 40))
        guard manifest.segmentSizeBytes >= UInt64(StoreManifest.minimumSegmentSizeBytes) else {
            throw FormatError(reason: "segment size \(manifest.segmentSizeBytes) is below the minimum")
        }
        return manifest
    }

    /// The smallest segment size a store accepts (64 KiB).
    static let minimumSegmentSizeBytes = 64 * 1024
}

/// Segment file names: the first global position, zero-padded to 20 digits, so
/// that name order is log order: `00000000000000000001.seg`.
enum SegmentFileName {
    static let suffix = ".seg"

    static func name(firstPosition: UInt64) -> String { name(firstPosition: firstPosition, suffix: suffix) }

    /// The 20 zero-padded digits of `firstPosition` and `suffix` (four bytes: `.seg`,
    /// `.idx`), written as bytes: building them from `String(repeating:)` and
    /// concatenations was a sixth of an open's own work (`perf`).
    static func name(firstPosition: UInt64, suffix: String) -> String {
        var suffix = suffix
        return suffix.withUTF8 { suffixBytes in
            precondition(suffixBytes.count == 4, "file name suffixes are four bytes")
            return String(unsafeUninitializedCapacity: 24) { bytes in
                var rest = firstPosition
                for index in (0..<20).reversed() {
                    bytes[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
                for index in 0..<4 { bytes[20 + index] = suffixBytes[index] }
                return 24
            }
        }
    }

    /// The first position a segment file name encodes, or nil for other files.
    /// Parsed from the name's bytes in place: an open parses every name in the
    /// folder, and walking them through `String.UTF8View`'s iterators (the suffix,
    /// then the digits) cost about 2,000 instructions per segment (callgrind).
    static func firstPosition(of name: String) -> UInt64? {
        var name = name
        return name.withUTF8 { firstPosition(ofName: UnsafeRawBufferPointer($0)) }
    }

    private static let suffixBytes = Array(suffix.utf8)

    private static func firstPosition(ofName bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard bytes.count == 20 + suffixBytes.count, bytes[20...].elementsEqual(suffixBytes) else { return nil }
        var position: UInt64 = 0
        for index in 0..<20 {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (tens, overflowed) = position.multipliedReportingOverflow(by: 10)
            let (sum, carried) = tens.addingReportingOverflow(UInt64(digit))
            guard !overflowed, !carried else { return nil }
            position = sum
        }
        return position
    }
}
