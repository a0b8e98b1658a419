// The record: one event, framed and checksummed. The byte layout is specified in
// DESIGN.md ("Record"); the constants here are the single source for both the
// encoder and the decoder.
import EventSourcing
import Foundation

/// Layout constants of a record (format version 1). All integers little-endian.
///
///     0  u32 length          whole record in bytes, this field included
///     4  u32 crc             CRC32C of bytes [0, 4) followed by [8, length)
///     8  u64 position        global position (1-based)
///    16  u64 version         stream version (1-based)
///    24  i64 timestamp       microseconds since 1970-01-01 UTC
///    32  16B event id        UUID bytes
///    48  u8  kind            1 = event
///    49  u8  flags           bit 0: data is JSON; bit 1: last record of its append call;
///                            bit 2: a correlation id follows the header; bit 3: a causation id follows
///    50  u16 stream length   1...1,024
///    52  u16 type length     1...256
///    54  u16 reserved        0
///    56  u32 metadata length
///    60  u32 data length
///    64  [correlation id 16B] [causation id 16B] stream name, event type, metadata, data
enum RecordLayout {
    static let headerSize = 64
    static let lengthOffset = 0
    static let crcOffset = 4
    static let positionOffset = 8
    static let versionOffset = 16
    static let timestampOffset = 24
    static let idOffset = 32
    static let kindOffset = 48
    static let flagsOffset = 49
    static let streamLengthOffset = 50
    static let typeLengthOffset = 52
    static let reservedOffset = 54
    static let metadataLengthOffset = 56
    static let dataLengthOffset = 60

    static let kindEvent: UInt8 = 1
    static let flagJSON: UInt8 = 1 << 0
    /// Set on the last record of an append call: a call is durable only with it.
    static let flagCommit: UInt8 = 1 << 1
    static let flagCorrelation: UInt8 = 1 << 2
    static let flagCausation: UInt8 = 1 << 3
    static let knownFlags: UInt8 = flagJSON | flagCommit | flagCorrelation | flagCausation
    static let idBytes = 16

    /// Bytes of optional ids after the header, by flags.
    static func optionalBytes(flags: UInt8) -> Int {
        (flags & flagCorrelation != 0 ? idBytes : 0) + (flags & flagCausation != 0 ? idBytes : 0)
    }

    /// The largest record the limits allow; a larger length read from disk is
    /// corruption, and is never used to size a read.
    static let maxRecordBytes = headerSize + 2 * idBytes + Limits.streamNameMaxBytes + Limits.eventTypeMaxBytes + Limits.eventMaxBytes
    /// The smallest record: a header, a 1-byte stream name and a 1-byte type.
    static let minRecordBytes = headerSize + 2

    static func recordSize(streamBytes: Int, typeBytes: Int, metadataBytes: Int, dataBytes: Int, optionalBytes: Int = 0) -> Int {
        headerSize + optionalBytes + streamBytes + typeBytes + metadataBytes + dataBytes
    }

    /// The encoded size of `event` in `stream`.
    static func recordSize(of event: EventData, in stream: StreamName) -> Int {
        headerSize + (event.correlationID == nil ? 0 : idBytes) + (event.causationID == nil ? 0 : idBytes)
            + stream.rawValue.utf8.count + event.type.utf8.count + event.metadata.count + event.data.count
    }

    /// The encoded size of all of `part`'s events.
    static func recordsSize(of part: StreamAppend) -> Int {
        part.events.reduce(0) { $0 + recordSize(of: $1, in: part.stream) }
    }
}

/// Writes records into a ``ByteBuffer``.
enum RecordEncoder {
    /// Appends one encoded record to `buffer` and returns its size in bytes.
    /// The event must already be validated (limits, type); `stream` is validated by type.
    ///
    /// The record is written into one region of the buffer, reserved at its full
    /// size, field by field: zero-filling the header first, storing each field
    /// through a bounds-checked call and appending each name and payload on its own
    /// cost about 130 instructions more of a no-sync append's 10,600 (callgrind).
    static func append(
        _ event: EventData, stream: StreamName, position: UInt64, version: UInt64,
        timestampMicroseconds: Int64, isLastOfCall: Bool, to buffer: inout ByteBuffer
    ) -> Int {
        let length = RecordLayout.recordSize(of: event, in: stream)
        buffer.append(count: length) { record in
            var flags: UInt8 = 0
            if event.isJSON { flags |= RecordLayout.flagJSON }
            if isLastOfCall { flags |= RecordLayout.flagCommit }
            if event.correlationID != nil { flags |= RecordLayout.flagCorrelation }
            if event.causationID != nil { flags |= RecordLayout.flagCausation }
            record.storeLE(UInt32(length), at: RecordLayout.lengthOffset)
            record.storeLE(position, at: RecordLayout.positionOffset)
            record.storeLE(version, at: RecordLayout.versionOffset)
            record.storeLE(timestampMicroseconds, at: RecordLayout.timestampOffset)
            record.storeBytes(of: event.id.uuid, toByteOffset: RecordLayout.idOffset, as: uuid_t.self)
            record.storeLE(RecordLayout.kindEvent, at: RecordLayout.kindOffset)
            record.storeLE(flags, at: RecordLayout.flagsOffset)
            record.storeLE(UInt16(stream.rawValue.utf8.count), at: RecordLayout.streamLengthOffset)
            record.storeLE(UInt16(event.type.utf8.count), at: RecordLayout.typeLengthOffset)
            record.storeLE(UInt16(0), at: RecordLayout.reservedOffset)
            record.storeLE(UInt32(event.metadata.count), at: RecordLayout.metadataLengthOffset)
            record.storeLE(UInt32(event.data.count), at: RecordLayout.dataLengthOffset)

            var offset = RecordLayout.headerSize
            if let id = event.correlationID {
                record.storeBytes(of: id.uuid, toByteOffset: offset, as: uuid_t.self)
                offset += RecordLayout.idBytes
            }
            if let id = event.causationID {
                record.storeBytes(of: id.uuid, toByteOffset: offset, as: uuid_t.self)
                offset += RecordLayout.idBytes
            }
            offset += copyUTF8(of: stream.rawValue, to: record, at: offset)
            offset += copyUTF8(of: event.type, to: record, at: offset)
            offset += copy(event.metadata, to: record, at: offset)
            offset += copy(event.data, to: record, at: offset)
            precondition(offset == length, "a record fills the size worked out for it")
            record.storeLE(RecordDecoder.checksum(ofRecord: UnsafeRawBufferPointer(record)), at: RecordLayout.crcOffset)
        }
        return length
    }

    /// Copies `string`'s UTF-8 bytes into `record` at `offset`; returns how many.
    private static func copyUTF8(of string: String, to record: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        var string = string
        return string.withUTF8 { utf8 in
            UnsafeMutableRawBufferPointer(rebasing: record[offset..<(offset + utf8.count)]).copyMemory(from: UnsafeRawBufferPointer(utf8))
            return utf8.count
        }
    }

    /// Copies `bytes` into `record` at `offset`; returns how many.
    private static func copy(_ bytes: Data, to record: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        bytes.withUnsafeBytes { source in
            UnsafeMutableRawBufferPointer(rebasing: record[offset..<(offset + source.count)]).copyMemory(from: source)
            return source.count
        }
    }
}

/// A verified record, borrowed from the buffer it was decoded from: valid only
/// while that buffer is, so it is handed to closures and never stored.
struct RecordView {
    /// The record's bytes, header included.
    let bytes: UnsafeRawBufferPointer

    var length: Int { bytes.count }
    var checksum: UInt32 { bytes.loadLE(UInt32.self, at: RecordLayout.crcOffset) }
    var position: UInt64 { bytes.loadLE(UInt64.self, at: RecordLayout.positionOffset) }
    var version: UInt64 { bytes.loadLE(UInt64.self, at: RecordLayout.versionOffset) }
    var timestampMicroseconds: Int64 { bytes.loadLE(Int64.self, at: RecordLayout.timestampOffset) }
    var flags: UInt8 { bytes[RecordLayout.flagsOffset] }
    var isJSON: Bool { flags & RecordLayout.flagJSON != 0 }
    var isLastOfCall: Bool { flags & RecordLayout.flagCommit != 0 }
    var id: UUID { UUID(uuid: bytes.loadUnaligned(fromByteOffset: RecordLayout.idOffset, as: uuid_t.self)) }

    private var streamLength: Int { Int(bytes.loadLE(UInt16.self, at: RecordLayout.streamLengthOffset)) }
    private var typeLength: Int { Int(bytes.loadLE(UInt16.self, at: RecordLayout.typeLengthOffset)) }
    private var metadataLength: Int { Int(bytes.loadLE(UInt32.self, at: RecordLayout.metadataLengthOffset)) }
    private var dataLength: Int { Int(bytes.loadLE(UInt32.self, at: RecordLayout.dataLengthOffset)) }

    /// Where the stream name starts: after the header and the optional ids.
    private var namesStart: Int { RecordLayout.headerSize + RecordLayout.optionalBytes(flags: flags) }

    var correlationID: UUID? {
        guard flags & RecordLayout.flagCorrelation != 0 else { return nil }
        return UUID(uuid: bytes.loadUnaligned(fromByteOffset: RecordLayout.headerSize, as: uuid_t.self))
    }
    var causationID: UUID? {
        guard flags & RecordLayout.flagCausation != 0 else { return nil }
        let offset = RecordLayout.headerSize + (flags & RecordLayout.flagCorrelation != 0 ? RecordLayout.idBytes : 0)
        return UUID(uuid: bytes.loadUnaligned(fromByteOffset: offset, as: uuid_t.self))
    }

    var streamBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[namesStart..<(namesStart + streamLength)])
    }
    var typeBytes: UnsafeRawBufferPointer {
        let start = namesStart + streamLength
        return UnsafeRawBufferPointer(rebasing: bytes[start..<(start + typeLength)])
    }
    var metadataBytes: UnsafeRawBufferPointer {
        let start = namesStart + streamLength + typeLength
        return UnsafeRawBufferPointer(rebasing: bytes[start..<(start + metadataLength)])
    }
    var dataBytes: UnsafeRawBufferPointer {
        let start = namesStart + streamLength + typeLength + metadataLength
        return UnsafeRawBufferPointer(rebasing: bytes[start..<(start + dataLength)])
    }

    var streamName: String { String(decoding: streamBytes, as: UTF8.self) }
    var type: String { String(decoding: typeBytes, as: UTF8.self) }

    /// Whether the record belongs to `stream` (compares bytes, no allocation).
    func belongs(to stream: StreamName) -> Bool {
        var name = stream.rawValue
        return name.withUTF8 { utf8 in
            utf8.count == streamLength && memcmp(utf8.baseAddress!, streamBytes.baseAddress!, utf8.count) == 0
        }
    }

    /// An owned copy of the event.
    func event() -> RecordedEvent {
        var names = RecordNames()
        return event(names: &names)
    }

    /// An owned copy of the event, its stream name and type taken from `names` when
    /// they are the ones it made last (a read of many events).
    func event(names: inout RecordNames) -> RecordedEvent {
        RecordedEvent(
            position: GlobalPosition(position), stream: StreamName(unchecked: names.string(for: streamBytes, of: .stream)),
            version: StreamVersion(version), id: id, type: names.string(for: typeBytes, of: .type),
            data: Data(dataBytes), metadata: metadataLength == 0 ? Data() : Data(metadataBytes),
            isJSON: isJSON, timestampMicroseconds: timestampMicroseconds,
            correlationID: correlationID, causationID: causationID)
    }
}

/// The stream names and event types a read has made into strings, to hand out again:
/// a read meets the same few names over and over (a stream's run of events, a
/// handful of types). A hit compares the record's bytes with the string's instead of
/// validating them into a new string (and allocating one, for a name of more than 15
/// bytes): about 100 instructions per name against 175 (callgrind, a whole-log read of
/// short names; more saved for long ones). A hit needs
/// the bytes to equal the string's own UTF-8, so it is the string `String(decoding:as:)`
/// would make of them.
struct RecordNames {
    enum Kind { case stream, type }

    /// A string and its UTF-8 bytes, kept beside it so that a comparison is one
    /// `memcmp` of two buffers.
    private struct Entry {
        let bytes: [UInt8]
        let string: String

        init(_ string: String) {
            self.string = string
            bytes = Array(string.utf8)
        }

        func has(_ other: UnsafeRawBufferPointer) -> Bool {
            bytes.count == other.count
                && bytes.withUnsafeBytes { own in other.isEmpty || memcmp(own.baseAddress!, other.baseAddress!, other.count) == 0 }
        }
    }

    /// The last few of each kind, the oldest replaced first.
    private var streams: [Entry] = []
    private var types: [Entry] = []
    private var nextStreamReplaced = 0
    private var nextTypeReplaced = 0
    private static let streamsKept = 2
    private static let typesKept = 4

    /// `stream`: a name every event read will have (a stream read's), kept first.
    init(stream: String? = nil) {
        if let stream { streams.append(Entry(stream)) }
    }

    mutating func string(for bytes: UnsafeRawBufferPointer, of kind: Kind) -> String {
        switch kind {
        case .stream: Self.string(for: bytes, in: &streams, replacing: &nextStreamReplaced, kept: Self.streamsKept)
        case .type: Self.string(for: bytes, in: &types, replacing: &nextTypeReplaced, kept: Self.typesKept)
        }
    }

    private static func string(
        for bytes: UnsafeRawBufferPointer, in entries: inout [Entry], replacing next: inout Int, kept: Int
    ) -> String {
        for index in entries.indices where entries[index].has(bytes) { return entries[index].string }
        let made = String(decoding: bytes, as: UTF8.self)
        if entries.count < kept {
            entries.append(Entry(made))
        } else {
            entries[next] = Entry(made)
            next = (next + 1) % kept
        }
        return made
    }
}

/// What the decoder found at an offset.
enum RecordFrame {
    /// A record whose checksum and structure are valid.
    case record(RecordView)
    /// A zero length: the never-written (pre-allocated, zero-filled) area after the last record.
    case endOfData
    /// The bytes end before the record does; `needed` is how many bytes it takes
    /// (already bounded by ``RecordLayout/maxRecordBytes``).
    case incomplete(needed: Int)
    /// Not a valid record: a bad length, checksum, structure or position.
    case invalid(reason: String)
}

/// Reads records, trusting nothing from disk until its checksum is verified.
enum RecordDecoder {
    /// The CRC32C a record should carry: its bytes with the CRC field left out.
    static func checksum(ofRecord record: UnsafeRawBufferPointer) -> UInt32 {
        let lengthField = UnsafeRawBufferPointer(rebasing: record[0..<RecordLayout.crcOffset])
        let rest = UnsafeRawBufferPointer(rebasing: record[(RecordLayout.crcOffset + 4)...])
        return CRC32C.checksum(rest, seed: CRC32C.checksum(lengthField))
    }

    /// Decodes the record at the start of `bytes`.
    ///
    /// The length field is only bounds-checked before the checksum is verified;
    /// every other field is read after it. `expectedPosition`, when given, must
    /// match the record's own position, which is how a record written to the
    /// wrong place (a misdirected or stale write) is caught.
    static func decode(_ bytes: UnsafeRawBufferPointer, expectedPosition: UInt64? = nil) -> RecordFrame {
        guard bytes.count >= 4 else { return .incomplete(needed: RecordLayout.headerSize) }
        let length = Int(bytes.loadLE(UInt32.self, at: RecordLayout.lengthOffset))
        if length == 0 { return .endOfData }
        guard length >= RecordLayout.minRecordBytes, length <= RecordLayout.maxRecordBytes else {
            return .invalid(reason: "record length \(length) is outside \(RecordLayout.minRecordBytes)...\(RecordLayout.maxRecordBytes)")
        }
        guard bytes.count >= length else { return .incomplete(needed: length) }
        let record = UnsafeRawBufferPointer(rebasing: bytes[0..<length])
        let stored = record.loadLE(UInt32.self, at: RecordLayout.crcOffset)
        let computed = checksum(ofRecord: record)
        guard stored == computed else {
            return .invalid(reason: "checksum mismatch (stored \(hex(stored)), computed \(hex(computed)))")
        }
        // The checksum holds: the fields are what the writer wrote. Check that the
        // writer's structure holds too, so a bug can never surface as a wrong event.
        let streamLength = Int(record.loadLE(UInt16.self, at: RecordLayout.streamLengthOffset))
        let typeLength = Int(record.loadLE(UInt16.self, at: RecordLayout.typeLengthOffset))
        let metadataLength = Int(record.loadLE(UInt32.self, at: RecordLayout.metadataLengthOffset))
        let dataLength = Int(record.loadLE(UInt32.self, at: RecordLayout.dataLengthOffset))
        guard record[RecordLayout.kindOffset] == RecordLayout.kindEvent else {
            return .invalid(reason: "unknown record kind \(record[RecordLayout.kindOffset])")
        }
        guard record[RecordLayout.flagsOffset] & ~RecordLayout.knownFlags == 0,
            record.loadLE(UInt16.self, at: RecordLayout.reservedOffset) == 0
        else { return .invalid(reason: "unknown flags or non-zero reserved bytes") }
        guard (1...Limits.streamNameMaxBytes).contains(streamLength),
            (1...Limits.eventTypeMaxBytes).contains(typeLength),
            metadataLength + dataLength <= Limits.eventMaxBytes,
            length == RecordLayout.recordSize(
                streamBytes: streamLength, typeBytes: typeLength, metadataBytes: metadataLength, dataBytes: dataLength,
                optionalBytes: RecordLayout.optionalBytes(flags: record[RecordLayout.flagsOffset]))
        else { return .invalid(reason: "field lengths do not add up to the record length \(length)") }
        let view = RecordView(bytes: record)
        // The writer only writes valid UTF-8; anything else would decode to a
        // different (repaired) string, so it is rejected rather than returned.
        guard isValidUTF8(view.streamBytes), isValidUTF8(view.typeBytes) else {
            return .invalid(reason: "stream name or event type is not valid UTF-8")
        }
        guard view.position >= 1, view.version >= 1 else {
            return .invalid(reason: "position or version is 0")
        }
        if let expectedPosition, view.position != expectedPosition {
            return .invalid(reason: "record carries position \(view.position) where \(expectedPosition) belongs (misdirected or stale write)")
        }
        return .record(view)
    }
}

/// Whether `bytes` are valid UTF-8 (ASCII checked first: the common case).
func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
    if bytes.allSatisfy({ $0 < 0x80 }) { return true }
    return String(validating: bytes, as: UTF8.self) != nil
}

/// `0x`-prefixed, 8-digit hex of a checksum, for messages.
func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
