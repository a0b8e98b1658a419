// The per-segment index file: where each stream's events are, what type and
// category each record has, and when each block of records was written. Derived
// data: a missing or damaged index is rebuilt from its segment, never trusted.
// Byte layout in DESIGN.md ("Index file").
import Foundation

/// One record as the index knows it.
struct IndexRecord: Equatable {
    /// Offset of the record in its segment file; 0 (inside the segment header, so
    /// never a record's) marks a position that compaction removed.
    var offset: UInt32
    /// Index into the file's type names.
    var typeID: UInt16
    /// Index into the file's category names.
    var categoryID: UInt16
    /// The record's timestamp (only block-first timestamps are stored on disk).
    var timestampMicroseconds: Int64

    /// Offset 0: a position compaction removed (only in a compacted segment's index).
    static let removedOffset: UInt32 = 0
    var isRemoved: Bool { offset == Self.removedOffset }
}

/// One stream event as the index knows it. Entries sort by hash, then version.
struct IndexStreamEntry: Comparable, Hashable {
    var hash: UInt64
    var version: UInt64
    /// `position - segment first position`.
    var recordIndex: UInt32
    /// Offset of the record in its segment file.
    var offset: UInt32

    static func < (a: Self, b: Self) -> Bool { (a.hash, a.version) < (b.hash, b.version) }
}

/// Layout constants and sizes of an index file.
enum IndexLayout {
    static let magic: [UInt8] = Array("EVLOGIDX".utf8)
    static let headerSize = 128
    static let streamEntrySize = 24
    static let recordEntrySize = 8
    /// Entries per checksummed block: a lookup reads one block of each kind.
    static let streamBlockEntries = 256
    static let recordBlockEntries = 512
    static let streamDirectoryEntrySize = 24
    static let recordDirectoryEntrySize = 16
    /// Type or category ids at this value mean "not in the table" (more than 65,535 names).
    static let overflowID: UInt16 = .max
    static let flagPartial: UInt32 = 1
    /// The index of a compacted segment: record entries may be removed positions.
    static let flagCompacted: UInt32 = 2

    static func blockCount(_ entries: Int, per block: Int) -> Int { (entries + block - 1) / block }
}

/// The 128-byte header of an index file.
///
///     0  8B  magic "EVLOGIDX"
///     8  u32 format version (2)
///    12  u32 flags (bit 0: partial, a checkpoint of the active segment;
///        bit 1: compacted, record entries may be removed positions)
///    16  16B store id
///    32  u64 segment first position
///    40  u64 record count: positions covered (last - first + 1), removed ones included
///    48  u64 records end offset in the segment
///    56  i64 first record's timestamp
///    64  i64 last record's timestamp
///    72  u32 records checksum (as in the segment footer)
///    76  u32 stream entry count (records present; = record count unless compacted)
///    80  u32 Bloom filter bytes
///    84  u32 names bytes
///    88  u32 CRC32C of the directory section
///    92  32B reserved (0)
///   124  u32 CRC32C of bytes [0, 124)
struct IndexHeader: Equatable {
    var storeID: UUID
    var isPartial: Bool
    var isCompacted = false
    var firstPosition: UInt64
    /// Positions covered, removed ones included: the record table's length.
    var recordCount: UInt64
    var recordsEnd: UInt64
    var firstTimestamp: Int64
    var lastTimestamp: Int64
    var recordsChecksum: UInt32
    var streamEntryCount: UInt32
    var bloomBytes: UInt32
    var namesBytes: UInt32
    var directoryChecksum: UInt32

    var streamBlockCount: Int { IndexLayout.blockCount(Int(streamEntryCount), per: IndexLayout.streamBlockEntries) }
    var recordBlockCount: Int { IndexLayout.blockCount(Int(recordCount), per: IndexLayout.recordBlockEntries) }
    var directoryBytes: Int {
        Int(bloomBytes) + streamBlockCount * IndexLayout.streamDirectoryEntrySize
            + recordBlockCount * IndexLayout.recordDirectoryEntrySize + Int(namesBytes)
    }
    var streamsStart: Int { IndexLayout.headerSize + directoryBytes }
    var recordsStart: Int { streamsStart + Int(streamEntryCount) * IndexLayout.streamEntrySize }
    var fileSize: Int { recordsStart + Int(recordCount) * IndexLayout.recordEntrySize }

    func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: IndexLayout.headerSize)
        bytes.withUnsafeMutableBytes { raw in
            raw.copyBytes(from: IndexLayout.magic)
            raw.storeLE(formatVersion, at: 8)
            raw.storeLE((isPartial ? IndexLayout.flagPartial : 0) | (isCompacted ? IndexLayout.flagCompacted : 0), at: 12)
            withUnsafeBytes(of: storeID.uuid) { UnsafeMutableRawBufferPointer(rebasing: raw[16..<32]).copyMemory(from: $0) }
            raw.storeLE(firstPosition, at: 32)
            raw.storeLE(recordCount, at: 40)
            raw.storeLE(recordsEnd, at: 48)
            raw.storeLE(firstTimestamp, at: 56)
            raw.storeLE(lastTimestamp, at: 64)
            raw.storeLE(recordsChecksum, at: 72)
            raw.storeLE(streamEntryCount, at: 76)
            raw.storeLE(bloomBytes, at: 80)
            raw.storeLE(namesBytes, at: 84)
            raw.storeLE(directoryChecksum, at: 88)
            raw.storeLE(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<124])), at: 124)
        }
        return bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) throws(FormatError) -> IndexHeader {
        guard bytes.count >= IndexLayout.headerSize else { throw FormatError(reason: "index header is \(bytes.count) bytes, expected 128") }
        guard bytes.loadLE(UInt32.self, at: 124) == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<124])) else {
            throw FormatError(reason: "index header checksum mismatch")
        }
        guard bytes[0..<8].elementsEqual(IndexLayout.magic) else { throw FormatError(reason: "not an index file (bad magic)") }
        let version = bytes.loadLE(UInt32.self, at: 8)
        guard version == formatVersion else {
            throw FormatError(reason: "index format version \(version), this build reads version \(formatVersion)")
        }
        let flags = bytes.loadLE(UInt32.self, at: 12)
        guard flags & ~(IndexLayout.flagPartial | IndexLayout.flagCompacted) == 0,
            flags != IndexLayout.flagPartial | IndexLayout.flagCompacted, bytes[92..<124].allSatisfy({ $0 == 0 })
        else {
            throw FormatError(reason: "index header has unknown flags or non-zero reserved bytes")
        }
        let header = IndexHeader(
            storeID: UUID(uuid: bytes.loadUnaligned(fromByteOffset: 16, as: uuid_t.self)),
            isPartial: flags & IndexLayout.flagPartial != 0,
            isCompacted: flags & IndexLayout.flagCompacted != 0,
            firstPosition: bytes.loadLE(UInt64.self, at: 32),
            recordCount: bytes.loadLE(UInt64.self, at: 40),
            recordsEnd: bytes.loadLE(UInt64.self, at: 48),
            firstTimestamp: bytes.loadLE(Int64.self, at: 56),
            lastTimestamp: bytes.loadLE(Int64.self, at: 64),
            recordsChecksum: bytes.loadLE(UInt32.self, at: 72),
            streamEntryCount: bytes.loadLE(UInt32.self, at: 76),
            bloomBytes: bytes.loadLE(UInt32.self, at: 80),
            namesBytes: bytes.loadLE(UInt32.self, at: 84),
            directoryChecksum: bytes.loadLE(UInt32.self, at: 88))
        // Bound every count before any size derived from it is used.
        guard header.firstPosition >= 1, header.recordCount <= UInt64(UInt32.max),
            header.isCompacted ? UInt64(header.streamEntryCount) <= header.recordCount : UInt64(header.streamEntryCount) == header.recordCount,
            header.bloomBytes >= 8, header.bloomBytes % 8 == 0, header.bloomBytes <= 1 << 30,
            header.namesBytes >= 8, header.namesBytes <= 1 << 30,
            header.recordsEnd >= UInt64(SegmentHeader.size), header.recordsEnd <= UInt64(UInt32.max)
        else { throw FormatError(reason: "index header counts are out of range") }
        return header
    }
}

/// The directory section: Bloom filter, block directories and name tables. Held in
/// memory while the index is in use; each block it lists is read and checked on demand.
struct IndexDirectory: Equatable {
    struct StreamBlock: Equatable {
        var firstHash: UInt64
        var firstVersion: UInt64
        var checksum: UInt32
    }
    struct RecordBlock: Equatable {
        var firstTimestamp: Int64
        var checksum: UInt32
    }

    var bloom: BloomFilter
    var streamBlocks: [StreamBlock]
    var recordBlocks: [RecordBlock]
    var typeNames: [String]
    var categoryNames: [String]

    /// Approximate memory held, for the cache's budget.
    var memoryBytes: Int {
        bloom.byteCount + streamBlocks.count * 24 + recordBlocks.count * 16
            + typeNames.reduce(0) { $0 + $1.utf8.count + 16 } + categoryNames.reduce(0) { $0 + $1.utf8.count + 16 }
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, header: IndexHeader) throws(FormatError) -> IndexDirectory {
        guard bytes.count == header.directoryBytes else { throw FormatError(reason: "index directory is cut short") }
        guard CRC32C.checksum(bytes) == header.directoryChecksum else { throw FormatError(reason: "index directory checksum mismatch") }
        let words = IndexEntries.words(UnsafeRawBufferPointer(rebasing: bytes[0..<Int(header.bloomBytes)]))
        var offset = Int(header.bloomBytes)
        var streamBlocks: [StreamBlock] = []
        streamBlocks.reserveCapacity(header.streamBlockCount)
        for _ in 0..<header.streamBlockCount {
            streamBlocks.append(StreamBlock(
                firstHash: bytes.loadLE(UInt64.self, at: offset), firstVersion: bytes.loadLE(UInt64.self, at: offset + 8),
                checksum: bytes.loadLE(UInt32.self, at: offset + 16)))
            offset += IndexLayout.streamDirectoryEntrySize
        }
        var recordBlocks: [RecordBlock] = []
        recordBlocks.reserveCapacity(header.recordBlockCount)
        for _ in 0..<header.recordBlockCount {
            recordBlocks.append(RecordBlock(
                firstTimestamp: bytes.loadLE(Int64.self, at: offset), checksum: bytes.loadLE(UInt32.self, at: offset + 8)))
            offset += IndexLayout.recordDirectoryEntrySize
        }
        let names = UnsafeRawBufferPointer(rebasing: bytes[offset...])
        var cursor = 0
        let typeNames = try decodeNames(names, cursor: &cursor)
        let categoryNames = try decodeNames(names, cursor: &cursor)
        guard cursor == names.count else { throw FormatError(reason: "index name tables do not fill their section") }
        return IndexDirectory(
            bloom: BloomFilter(words: words), streamBlocks: streamBlocks, recordBlocks: recordBlocks,
            typeNames: typeNames, categoryNames: categoryNames)
    }

    private static func decodeNames(_ bytes: UnsafeRawBufferPointer, cursor: inout Int) throws(FormatError) -> [String] {
        guard cursor + 4 <= bytes.count else { throw FormatError(reason: "index name table is cut short") }
        let count = Int(bytes.loadLE(UInt32.self, at: cursor))
        cursor += 4
        guard count <= Int(IndexLayout.overflowID) else { throw FormatError(reason: "index name table is too long") }
        var names: [String] = []
        for _ in 0..<count {
            guard cursor + 2 <= bytes.count else { throw FormatError(reason: "index name table is cut short") }
            let length = Int(bytes.loadLE(UInt16.self, at: cursor))
            cursor += 2
            guard cursor + length <= bytes.count else { throw FormatError(reason: "index name table is cut short") }
            let name = UnsafeRawBufferPointer(rebasing: bytes[cursor..<(cursor + length)])
            guard isValidUTF8(name) else { throw FormatError(reason: "index name is not valid UTF-8") }
            names.append(String(decoding: name, as: UTF8.self))
            cursor += length
        }
        return names
    }
}

/// Decoding of the fixed-size entries in a block (after its checksum is verified).
enum IndexEntries {
    /// Little-endian 64-bit words (a Bloom filter), copied in one go where the
    /// machine is little-endian too (a filter can be a hundred kilobytes, read for
    /// every sealed segment at open).
    static func words(_ bytes: UnsafeRawBufferPointer) -> [UInt64] {
        let count = bytes.count / 8
        return [UInt64](unsafeUninitializedCapacity: count) { words, initializedCount in
            #if _endian(little)
            UnsafeMutableRawBufferPointer(words).copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<(count * 8)]))
            #else
            for index in 0..<count { words[index] = bytes.loadLE(UInt64.self, at: index * 8) }
            #endif
            initializedCount = count
        }
    }

    static func streamEntries(_ bytes: UnsafeRawBufferPointer) -> [IndexStreamEntry] {
        let count = bytes.count / IndexLayout.streamEntrySize
        var entries: [IndexStreamEntry] = []
        entries.reserveCapacity(count)
        for index in 0..<count { entries.append(streamEntry(bytes, at: index * IndexLayout.streamEntrySize)) }
        return entries
    }

    static func records(_ bytes: UnsafeRawBufferPointer) -> [IndexRecord] {
        let count = bytes.count / IndexLayout.recordEntrySize
        var records: [IndexRecord] = []
        records.reserveCapacity(count)
        for index in 0..<count { records.append(record(bytes, at: index * IndexLayout.recordEntrySize, timestampMicroseconds: 0)) }
        return records
    }

    /// The stream entry at byte `base` of `bytes` (the caller has checked the bounds).
    @inline(__always)
    static func streamEntry(_ bytes: UnsafeRawBufferPointer, at base: Int) -> IndexStreamEntry {
        IndexStreamEntry(
            hash: bytes.loadLE(UInt64.self, at: base), version: bytes.loadLE(UInt64.self, at: base + 8),
            recordIndex: bytes.loadLE(UInt32.self, at: base + 16), offset: bytes.loadLE(UInt32.self, at: base + 20))
    }

    /// The record entry at byte `base` of `bytes` (the caller has checked the bounds).
    @inline(__always)
    static func record(_ bytes: UnsafeRawBufferPointer, at base: Int, timestampMicroseconds: Int64) -> IndexRecord {
        IndexRecord(
            offset: bytes.loadLE(UInt32.self, at: base), typeID: bytes.loadLE(UInt16.self, at: base + 4),
            categoryID: bytes.loadLE(UInt16.self, at: base + 6), timestampMicroseconds: timestampMicroseconds)
    }
}

/// Builds the bytes of an index file.
enum IndexEncoder {
    /// Encodes an index of `records` (in position order) and `streamEntries`
    /// (sorted by hash, then version).
    static func encode(
        storeID: UUID, firstPosition: UInt64, isPartial: Bool, isCompacted: Bool, recordsEnd: UInt64, recordsChecksum: UInt32,
        records: [IndexRecord], streamEntries: [IndexStreamEntry], distinctStreams: Int,
        typeNames: [String], categoryNames: [String]
    ) -> [UInt8] {
        precondition(
            isCompacted ? streamEntries.count <= records.count : records.count == streamEntries.count,
            "one stream entry per record present")
        assert(zip(streamEntries, streamEntries.dropFirst()).allSatisfy { $0 < $1 }, "stream entries are sorted and unique")
        var bloom = BloomFilter(keyCount: distinctStreams)
        var previousHash: UInt64?
        for entry in streamEntries where entry.hash != previousHash {
            bloom.insert(entry.hash)
            previousHash = entry.hash
        }
        // The two tables are written into buffers of their exact size: appending each
        // field to an array cost about 80 instructions a field, 790 a record
        // (callgrind, an index of 300,000 records), a pause of the writer thread at
        // every seal.
        let streams = table(of: streamEntries, entrySize: IndexLayout.streamEntrySize) { entry, bytes in
            bytes.storeLE(entry.hash, at: 0)
            bytes.storeLE(entry.version, at: 8)
            bytes.storeLE(entry.recordIndex, at: 16)
            bytes.storeLE(entry.offset, at: 20)
        }
        let recordBytes = table(of: records, entrySize: IndexLayout.recordEntrySize) { record, bytes in
            bytes.storeLE(record.offset, at: 0)
            bytes.storeLE(record.typeID, at: 4)
            bytes.storeLE(record.categoryID, at: 6)
        }

        var directory = [UInt8]()
        for word in bloom.words { appendLE(word, to: &directory) }
        for block in stride(from: 0, to: streamEntries.count, by: IndexLayout.streamBlockEntries) {
            let end = min(block + IndexLayout.streamBlockEntries, streamEntries.count)
            appendLE(streamEntries[block].hash, to: &directory)
            appendLE(streamEntries[block].version, to: &directory)
            appendLE(checksum(of: streams, block * IndexLayout.streamEntrySize..<end * IndexLayout.streamEntrySize), to: &directory)
            appendLE(UInt32(0), to: &directory)
        }
        for block in stride(from: 0, to: records.count, by: IndexLayout.recordBlockEntries) {
            let end = min(block + IndexLayout.recordBlockEntries, records.count)
            appendLE(records[block].timestampMicroseconds, to: &directory)
            appendLE(checksum(of: recordBytes, block * IndexLayout.recordEntrySize..<end * IndexLayout.recordEntrySize), to: &directory)
            appendLE(UInt32(0), to: &directory)
        }
        let namesStart = directory.count
        for table in [typeNames, categoryNames] {
            appendLE(UInt32(table.count), to: &directory)
            for name in table {
                appendLE(UInt16(name.utf8.count), to: &directory)
                directory.append(contentsOf: name.utf8)
            }
        }
        let header = IndexHeader(
            storeID: storeID, isPartial: isPartial, isCompacted: isCompacted, firstPosition: firstPosition,
            recordCount: UInt64(records.count),
            recordsEnd: recordsEnd, firstTimestamp: records.first?.timestampMicroseconds ?? 0,
            lastTimestamp: records.last?.timestampMicroseconds ?? 0, recordsChecksum: recordsChecksum,
            streamEntryCount: UInt32(streamEntries.count), bloomBytes: UInt32(bloom.byteCount),
            namesBytes: UInt32(directory.count - namesStart), directoryChecksum: CRC32C.checksum(directory))
        let bytes = header.encoded() + directory + streams + recordBytes
        assert(bytes.count == header.fileSize)
        return bytes
    }

    /// `items` encoded one after another, `entrySize` bytes each, by `encode`.
    private static func table<Items: Collection>(
        of items: Items, entrySize: Int, _ encode: (Items.Element, UnsafeMutableRawBufferPointer) -> Void
    ) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: items.count * entrySize) { buffer, initializedCount in
            let bytes = UnsafeMutableRawBufferPointer(buffer)
            var offset = 0
            for item in items {
                encode(item, UnsafeMutableRawBufferPointer(rebasing: bytes[offset..<(offset + entrySize)]))
                offset += entrySize
            }
            initializedCount = offset
        }
    }

    private static func checksum(of bytes: [UInt8], _ range: Range<Int>) -> UInt32 {
        bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    private static func appendLE<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
