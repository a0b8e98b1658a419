// The stream rules file (`STREAMS`): which streams are truncated or deleted. Small
// (one entry per stream that has a rule), rewritten atomically on each change.
import EventSourcing
import Foundation

/// What hides a stream's events from reads.
struct StreamRule: Equatable, Sendable {
    /// Events with a lower version are hidden (1: none).
    var truncateBefore: UInt64 = 1
    /// A tombstone: every event is hidden and the stream cannot be appended to.
    var isHardDeleted = false
    /// Only the latest `maxCount` events are visible (0: no limit).
    var maxCount: UInt64 = 0
    /// Events older than this many microseconds are hidden (0: no limit).
    var maxAgeMicroseconds: UInt64 = 0
    /// The stream's version is at least this, even with no event stored: a
    /// hard-deleted stream's version when it was deleted (once compaction has removed
    /// every event), or where an imported truncated stream starts, less one.
    var versionFloor: UInt64 = 0

    /// Whether the rule hides nothing (an entry that need not be kept).
    var isEmpty: Bool { self == StreamRule() }

    /// The lowest version visible while the stream's last version is `streamVersion`
    /// (truncation and the count limit; the age limit is per event).
    func lowestVisibleVersion(streamVersion: UInt64) -> UInt64 {
        var lowest = truncateBefore
        if maxCount > 0, streamVersion > maxCount { lowest = max(lowest, streamVersion - maxCount + 1) }
        return lowest
    }

    /// Whether an event of age limit's concern is too old at `nowMicroseconds`.
    func isTooOld(timestampMicroseconds: Int64, nowMicroseconds: Int64) -> Bool {
        guard maxAgeMicroseconds > 0 else { return false }
        return Int128(timestampMicroseconds) < Int128(nowMicroseconds) - Int128(maxAgeMicroseconds)
    }

    /// Whether the event at `version`, written at `timestampMicroseconds`, is hidden.
    func hides(version: UInt64, timestampMicroseconds: Int64, streamVersion: UInt64, nowMicroseconds: Int64) -> Bool {
        isHardDeleted || version < lowestVisibleVersion(streamVersion: streamVersion)
            || isTooOld(timestampMicroseconds: timestampMicroseconds, nowMicroseconds: nowMicroseconds)
    }
}

/// The `STREAMS` file.
///
///     0  8B  magic "EVLOGRUL"
///     8  u32 format version (2)
///    12  u32 entry count
///    16  entries: u16 name length, name (UTF-8), u64 truncate-before, u8 flags (bit 0: hard-deleted),
///        u64 max count (0: none), u64 max age in microseconds (0: none), u64 version floor
///   end  u32 CRC32C of everything before it
enum StreamRulesFormat {
    static let magic: [UInt8] = Array("EVLOGRUL".utf8)
    static let fileName = "STREAMS"
    /// An entry's bytes after its name: truncate-before, flags, max count, max age, version floor.
    static let fixedEntryBytes = 8 + 1 + 8 + 8 + 8

    static func encode(_ rules: [StreamName: StreamRule]) -> [UInt8] {
        var bytes = magic
        append(formatVersion, to: &bytes)
        append(UInt32(rules.count), to: &bytes)
        for (stream, rule) in rules.sorted(by: { $0.key < $1.key }) {
            append(UInt16(stream.rawValue.utf8.count), to: &bytes)
            bytes.append(contentsOf: stream.rawValue.utf8)
            append(rule.truncateBefore, to: &bytes)
            bytes.append(rule.isHardDeleted ? 1 : 0)
            append(rule.maxCount, to: &bytes)
            append(rule.maxAgeMicroseconds, to: &bytes)
            append(rule.versionFloor, to: &bytes)
        }
        append(CRC32C.checksum(bytes), to: &bytes)
        return bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> [StreamName: StreamRule] {
        guard bytes.count >= 20 else { throw FormatError(reason: "stream rules file is cut short") }
        let stored = bytes.withUnsafeBytes { $0.loadLE(UInt32.self, at: bytes.count - 4) }
        guard stored == CRC32C.checksum(Array(bytes.dropLast(4))) else { throw FormatError(reason: "stream rules checksum mismatch") }
        guard bytes.prefix(8).elementsEqual(magic) else { throw FormatError(reason: "not a stream rules file (bad magic)") }
        return try bytes.withUnsafeBytes { raw in
            let version = raw.loadLE(UInt32.self, at: 8)
            guard version == formatVersion else { throw FormatError(reason: "stream rules format version \(version)") }
            let count = Int(raw.loadLE(UInt32.self, at: 12))
            var offset = 16
            let end = bytes.count - 4
            var rules: [StreamName: StreamRule] = [:]
            var previous: StreamName?
            for _ in 0..<count {
                guard offset + 2 <= end else { throw FormatError(reason: "stream rules entry is cut short") }
                let length = Int(raw.loadLE(UInt16.self, at: offset))
                offset += 2
                guard offset + length + StreamRulesFormat.fixedEntryBytes <= end else { throw FormatError(reason: "stream rules entry is cut short") }
                let nameBytes = UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + length)])
                guard isValidUTF8(nameBytes), let name = try? StreamName(String(decoding: nameBytes, as: UTF8.self)) else {
                    throw FormatError(reason: "stream rules entry has an invalid stream name")
                }
                offset += length
                // Entries are written in name order: any other order is not a file we wrote.
                if let previous, !(previous < name) { throw FormatError(reason: "stream rules entries are out of order") }
                previous = name
                let truncateBefore = raw.loadLE(UInt64.self, at: offset)
                let flags = raw[offset + 8]
                let maxCount = raw.loadLE(UInt64.self, at: offset + 9)
                let maxAge = raw.loadLE(UInt64.self, at: offset + 17)
                let versionFloor = raw.loadLE(UInt64.self, at: offset + 25)
                offset += StreamRulesFormat.fixedEntryBytes
                guard flags & ~1 == 0, truncateBefore >= 1 else { throw FormatError(reason: "stream rules entry has bad fields") }
                rules[name] = StreamRule(
                    truncateBefore: truncateBefore, isHardDeleted: flags & 1 != 0, maxCount: maxCount, maxAgeMicroseconds: maxAge,
                    versionFloor: versionFloor)
            }
            guard offset == end else { throw FormatError(reason: "stream rules file has trailing bytes") }
            return rules
        }
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
