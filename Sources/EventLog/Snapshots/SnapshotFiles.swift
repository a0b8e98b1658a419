// Snapshots: one file per stream under `snapshots/`, checksummed and replaced
// atomically, so a load sees the old snapshot or the new one. A damaged file is
// reported as no snapshot (the caller replays events), never trusted.
import EventSourcing
import Foundation

/// The snapshot file format.
///
///     0  8B  magic "EVLOGSNP"
///     8  u32 format version (1)
///    12  u32 stream name length
///    16  u64 stream version the state reflects
///    24  i64 schema version
///    32  u32 state length
///    36  stream name (UTF-8), state
///   end  u32 CRC32C of everything before it
enum SnapshotFormat {
    static let magic: [UInt8] = Array("EVLOGSNP".utf8)
    static let folder = "snapshots"

    static func encode(_ snapshot: Snapshot) -> [UInt8] {
        var bytes = magic
        append(formatVersion, to: &bytes)
        append(UInt32(snapshot.stream.rawValue.utf8.count), to: &bytes)
        append(snapshot.version.rawValue, to: &bytes)
        append(Int64(snapshot.schemaVersion), to: &bytes)
        append(UInt32(snapshot.state.count), to: &bytes)
        bytes.append(contentsOf: snapshot.stream.rawValue.utf8)
        bytes.append(contentsOf: snapshot.state)
        append(CRC32C.checksum(bytes), to: &bytes)
        return bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> Snapshot {
        guard bytes.count >= 40 else { throw FormatError(reason: "snapshot file is cut short") }
        let stored = bytes.withUnsafeBytes { $0.loadLE(UInt32.self, at: bytes.count - 4) }
        guard stored == CRC32C.checksum(Array(bytes.dropLast(4))) else { throw FormatError(reason: "snapshot checksum mismatch") }
        guard bytes.prefix(8).elementsEqual(magic) else { throw FormatError(reason: "not a snapshot file (bad magic)") }
        return try bytes.withUnsafeBytes { raw in
            guard raw.loadLE(UInt32.self, at: 8) == formatVersion else { throw FormatError(reason: "snapshot format version") }
            let nameLength = Int(raw.loadLE(UInt32.self, at: 12))
            let stateLength = Int(raw.loadLE(UInt32.self, at: 32))
            guard 36 + nameLength + stateLength + 4 == bytes.count else { throw FormatError(reason: "snapshot lengths do not add up") }
            let nameBytes = UnsafeRawBufferPointer(rebasing: raw[36..<(36 + nameLength)])
            guard isValidUTF8(nameBytes), let stream = try? StreamName(String(decoding: nameBytes, as: UTF8.self)) else {
                throw FormatError(reason: "snapshot has an invalid stream name")
            }
            let schema = raw.loadLE(Int64.self, at: 24)
            guard let schemaVersion = Int(exactly: schema) else { throw FormatError(reason: "snapshot schema version out of range") }
            return Snapshot(
                stream: stream, version: StreamVersion(raw.loadLE(UInt64.self, at: 16)), schemaVersion: schemaVersion,
                state: Data(raw[(36 + nameLength)..<(36 + nameLength + stateLength)]))
        }
    }

    /// The file of a stream's snapshot: its name hash in hex (the name inside tells
    /// hash collisions apart).
    static func path(directory: String, stream: StreamName) -> String {
        let hex = String(StreamHash.of(stream.rawValue), radix: 16)
        return directory + "/" + folder + "/" + String(repeating: "0", count: 16 - hex.count) + hex + ".snap"
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
