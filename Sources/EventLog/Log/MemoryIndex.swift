// The index of one segment held in memory: always for the active segment (the
// writer adds each batch when it publishes it), and for a sealed segment until
// its index file is written. Bounded by the segment's size, not by the log's.
import EventSourcing
import Foundation

/// Where each record of a segment is, and each stream's events in it.
struct MemoryIndex {
    let firstPosition: UInt64
    /// The index of a compacted segment: positions may have been removed.
    let isCompacted: Bool
    /// Per position, in order; in a compacted segment, removed positions are entries
    /// with ``IndexRecord/isRemoved``.
    private(set) var records: [IndexRecord] = []
    /// Records present (not removed).
    private(set) var presentCount = 0
    /// Per stream hash: the stream's entries in this segment, ascending by version,
    /// for every stream appended to since the index was made or loaded.
    private var appendedStreams: [UInt64: [IndexStreamEntry]] = [:]
    /// The entries loaded from a checkpoint, read in place from its bytes: sorted by
    /// (hash, version), searched by hash. A checkpoint can hold hundreds of thousands
    /// of streams, and building an array (or a table entry) for each was most of an
    /// open's time, then copying them all into one. A stream's run is copied to
    /// `appendedStreams` when it is first appended to, and lookups find it there first.
    private var loadedEntries = LoadedStreamEntries()
    private(set) var typeNames: [String] = []
    private(set) var categoryNames: [String] = []
    private var typeIDs: [String: UInt16] = [:]
    private var categoryIDs: [String: UInt16] = [:]
    /// The last type and category id given out: runs of one type or category (the
    /// usual case) skip the hash lookup.
    private var recentTypeID = -1
    private var recentCategoryID = -1
    /// CRC32C over the records' CRC fields, as the segment footer carries it.
    private(set) var recordsChecksum: UInt32 = 0
    /// Where the indexed records end in the segment file.
    private(set) var recordsEnd: UInt64

    init(firstPosition: UInt64, recordsEnd: UInt64 = UInt64(SegmentHeader.size), isCompacted: Bool = false) {
        self.firstPosition = firstPosition
        self.recordsEnd = recordsEnd
        self.isCompacted = isCompacted
    }

    /// Positions covered, removed ones included.
    var recordCount: Int { records.count }
    var lastPosition: UInt64 { firstPosition + UInt64(records.count) - 1 }

    /// Adds the next record.
    mutating func append(
        offset: UInt64, length: Int, checksum: UInt32, streamHash: UInt64, version: UInt64, type: String,
        category: String, timestampMicroseconds: Int64
    ) {
        let recordIndex = UInt32(records.count)
        presentCount += 1
        records.append(IndexRecord(
            offset: UInt32(offset), typeID: Self.id(of: type, in: &typeNames, ids: &typeIDs, recent: &recentTypeID),
            categoryID: Self.id(of: category, in: &categoryNames, ids: &categoryIDs, recent: &recentCategoryID),
            timestampMicroseconds: timestampMicroseconds))
        // One lookup: the stream's loaded run is searched for only when the stream
        // has no array of its own yet (a local copy: the default may not read `self`
        // while the table is being modified).
        let loaded = loadedEntries
        appendedStreams[streamHash, default: Array(loaded[Self.run(of: streamHash, in: loaded)])].append(
            IndexStreamEntry(hash: streamHash, version: version, recordIndex: recordIndex, offset: UInt32(offset)))
        withUnsafeBytes(of: checksum.littleEndian) { recordsChecksum = CRC32C.checksum($0, seed: recordsChecksum) }
        recordsEnd = offset + UInt64(length)
    }

    /// Adds a record written or read back; in a compacted segment, the positions
    /// skipped before it are marked removed.
    mutating func append(_ record: PendingRecord) {
        if isCompacted { markRemoved(before: record.position, timestampMicroseconds: record.timestampMicroseconds) }
        assert(record.position == firstPosition + UInt64(records.count), "positions are consecutive in an uncompacted segment")
        append(
            offset: record.offset, length: record.length, checksum: record.checksum, streamHash: record.streamHash,
            version: record.version, type: record.type, category: record.category,
            timestampMicroseconds: record.timestampMicroseconds)
    }

    /// Marks every position from the next one up to (not including) `position` as
    /// removed by compaction. Their timestamp is the next record's (a bound that
    /// keeps the time index ordered).
    mutating func markRemoved(before position: UInt64, timestampMicroseconds: Int64) {
        precondition(isCompacted, "only a compacted segment has removed positions")
        while firstPosition + UInt64(records.count) < position {
            records.append(IndexRecord(offset: IndexRecord.removedOffset, typeID: 0, categoryID: 0, timestampMicroseconds: timestampMicroseconds))
        }
    }

    private static func id(of name: String, in names: inout [String], ids: inout [String: UInt16], recent: inout Int) -> UInt16 {
        if recent >= 0, names[recent] == name { return UInt16(recent) }
        if let id = ids[name] {
            recent = Int(id)
            return id
        }
        guard names.count < Int(IndexLayout.overflowID) else { return IndexLayout.overflowID }
        let id = UInt16(names.count)
        names.append(name)
        ids[name] = id
        recent = Int(id)
        return id
    }

    // MARK: Queries

    /// Entries of every stream with this hash, ascending by version per stream.
    func streamEntries(hash: UInt64) -> [IndexStreamEntry] {
        if let entries = appendedStreams[hash] { return entries }
        return Array(loadedEntries[Self.run(of: hash, in: loadedEntries)])
    }

    /// Distinct stream hashes with entries in this segment. O(entries): for checks.
    var streamHashCount: Int {
        var count = appendedStreams.count
        forEachLoadedRun { _, _ in count += 1 }
        return count
    }

    /// Stream entries of every stream (one per record present). O(entries): for checks.
    var streamEntryCount: Int {
        var count = appendedStreams.values.reduce(0) { $0 + $1.count }
        forEachLoadedRun { _, run in count += run.count }
        return count
    }

    /// Where `hash`'s entries are in `entries`, sorted by hash (empty if none): two
    /// binary searches.
    private static func run(of hash: UInt64, in entries: LoadedStreamEntries) -> Range<Int> {
        func firstIndex(where isPast: (UInt64) -> Bool) -> Int {
            var low = 0
            var high = entries.count
            while low < high {
                let middle = (low + high) / 2
                if isPast(entries.hash(at: middle)) { high = middle } else { low = middle + 1 }
            }
            return low
        }
        return firstIndex(where: { $0 >= hash })..<firstIndex(where: { $0 > hash })
    }

    /// Calls `body` with each hash's run of `loadedEntries`, in hash order, but for
    /// the streams copied to `appendedStreams`.
    private func forEachLoadedRun(_ body: (UInt64, Range<Int>) -> Void) {
        var start = 0
        while start < loadedEntries.count {
            let hash = loadedEntries.hash(at: start)
            var end = start + 1
            while end < loadedEntries.count && loadedEntries.hash(at: end) == hash { end += 1 }
            if appendedStreams[hash] == nil { body(hash, start..<end) }
            start = end
        }
    }

    /// Indexes of the records that may match `filter` (by type and category; the
    /// stream filter is applied by the reader). Nil when the filter names nothing
    /// the index can narrow by.
    func recordIndexes(matching filter: EventFilter, from start: Int) -> [Int]? {
        RecordFilterMatcher(filter: filter, typeNames: typeNames, categoryNames: categoryNames)?
            .indexes(records, from: start)
    }

    /// Where to start looking for the first record written at or after `timestamp`:
    /// the first record of the last block of records that begins before it. The
    /// reader checks the records' own timestamps from there (on disk only each
    /// block's first timestamp is kept: a sparse time index).
    func timeSearchStart(atOrAfter timestamp: Int64) -> Int {
        var low = 0
        var high = records.count
        while low < high {
            let middle = (low + high) / 2
            if records[middle].timestampMicroseconds < timestamp { low = middle + 1 } else { high = middle }
        }
        return max(0, low - 1) / IndexLayout.recordBlockEntries * IndexLayout.recordBlockEntries
    }

    /// Per stream hash, its events in this segment (and the last entry), and per
    /// category, its events.
    func tally() -> (streams: [UInt64: (count: UInt64, last: IndexStreamEntry)], categories: [String: UInt64], indexBytes: UInt64) {
        var streamCounts: [UInt64: (count: UInt64, last: IndexStreamEntry)] = [:]
        for (hash, entries) in appendedStreams { streamCounts[hash] = (UInt64(entries.count), entries[entries.count - 1]) }
        forEachLoadedRun { hash, run in streamCounts[hash] = (UInt64(run.count), loadedEntries[run.upperBound - 1]) }
        var categories: [String: UInt64] = [:]
        for record in records where !record.isRemoved {
            let name = Int(record.categoryID) < categoryNames.count ? categoryNames[Int(record.categoryID)] : "(other)"
            categories[name, default: 0] += 1
        }
        return (streamCounts, categories, 0)
    }

    // MARK: Files

    /// The index file's bytes.
    func encoded(storeID: UUID, isPartial: Bool) -> [UInt8] {
        var entries: [IndexStreamEntry] = []
        entries.reserveCapacity(records.count)
        var runs: [(hash: UInt64, loaded: Range<Int>?)] = appendedStreams.keys.map { ($0, nil) }
        forEachLoadedRun { hash, run in runs.append((hash, run)) }
        runs.sort { $0.hash < $1.hash }
        for (hash, loaded) in runs {
            if let loaded {
                entries.append(contentsOf: loadedEntries[loaded])  // sorted when loaded
            } else {
                entries.append(contentsOf: appendedStreams[hash]!.sorted())
            }
        }
        return IndexEncoder.encode(
            storeID: storeID, firstPosition: firstPosition, isPartial: isPartial, isCompacted: isCompacted, recordsEnd: recordsEnd,
            recordsChecksum: recordsChecksum, records: records, streamEntries: entries, distinctStreams: runs.count,
            typeNames: typeNames, categoryNames: categoryNames)
    }

    /// Rebuilds an index from a whole index file's bytes.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(FormatError) -> (MemoryIndex, IndexHeader) {
        try decode(Array(bytes))
    }

    /// Rebuilds an index from a whole index file (the active segment's checkpoint),
    /// keeping `file` for its stream entries (``LoadedStreamEntries``).
    /// Timestamps of records other than the first of each block are unknown on disk
    /// and are filled with their block's first timestamp (a lower bound).
    static func decode(_ file: [UInt8]) throws(FormatError) -> (MemoryIndex, IndexHeader) {
        try file.withUnsafeBytes { bytes in
            Result { () throws(FormatError) in try decode(bytes, keeping: file) }
        }.get()
    }

    private static func decode(
        _ bytes: UnsafeRawBufferPointer, keeping file: [UInt8]
    ) throws(FormatError) -> (MemoryIndex, IndexHeader) {
        let header = try IndexHeader.decode(bytes)
        guard bytes.count == header.fileSize else { throw FormatError(reason: "index file size does not match its header") }
        let directoryBytes = UnsafeRawBufferPointer(rebasing: bytes[IndexLayout.headerSize..<header.streamsStart])
        let directory = try IndexDirectory.decode(directoryBytes, header: header)
        var index = MemoryIndex(firstPosition: header.firstPosition, recordsEnd: header.recordsEnd, isCompacted: header.isCompacted)
        index.typeNames = directory.typeNames
        index.categoryNames = directory.categoryNames
        for (id, name) in directory.typeNames.enumerated() { index.typeIDs[name] = UInt16(id) }
        for (id, name) in directory.categoryNames.enumerated() { index.categoryIDs[name] = UInt16(id) }
        // Decoded straight into the index's own storage, reserved up front: this is
        // most of an open's time (DESIGN.md, "Performance notes").
        index.records.reserveCapacity(Int(header.recordCount))
        // The stream entries must name exactly the records present: checked by
        // comparing an order-independent fingerprint of both (`RecordNaming`), each
        // built in one sequential pass. Looking each entry's record up in the table
        // instead reads it at random, and those cache misses were a quarter of an open.
        var presentRecords = RecordNaming()
        for (block, entry) in directory.recordBlocks.enumerated() {
            let start = header.recordsStart + block * IndexLayout.recordBlockEntries * IndexLayout.recordEntrySize
            let end = min(start + IndexLayout.recordBlockEntries * IndexLayout.recordEntrySize, bytes.count)
            let blockBytes = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            guard CRC32C.checksum(blockBytes) == entry.checksum else { throw FormatError(reason: "index record block \(block) checksum mismatch") }
            for base in stride(from: 0, to: blockBytes.count - IndexLayout.recordEntrySize + 1, by: IndexLayout.recordEntrySize) {
                let record = IndexEntries.record(blockBytes, at: base, timestampMicroseconds: entry.firstTimestamp)
                if record.isRemoved {
                    guard header.isCompacted else { throw FormatError(reason: "index record has offset 0 outside a compacted segment") }
                } else {
                    index.presentCount += 1
                    presentRecords.add(recordIndex: index.records.count, offset: record.offset)
                }
                index.records.append(record)
            }
        }
        // Entries are sorted by hash, then version: each stream's entries are one run,
        // read in place (see `loadedEntries`); here they are only checked.
        var namedRecords = RecordNaming()
        var previous: IndexStreamEntry?
        for (block, entry) in directory.streamBlocks.enumerated() {
            let start = header.streamsStart + block * IndexLayout.streamBlockEntries * IndexLayout.streamEntrySize
            let end = min(start + IndexLayout.streamBlockEntries * IndexLayout.streamEntrySize, header.recordsStart)
            let blockBytes = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            guard CRC32C.checksum(blockBytes) == entry.checksum else { throw FormatError(reason: "index stream block \(block) checksum mismatch") }
            for base in stride(from: 0, to: blockBytes.count - IndexLayout.streamEntrySize + 1, by: IndexLayout.streamEntrySize) {
                let stream = IndexEntries.streamEntry(blockBytes, at: base)
                guard Int(stream.recordIndex) < index.records.count else {
                    throw FormatError(reason: "index entry names a record past the record table")
                }
                namedRecords.add(recordIndex: Int(stream.recordIndex), offset: stream.offset)
                if let previous, !(previous < stream) {
                    throw FormatError(reason: "index stream entries are not sorted by stream hash and version")
                }
                previous = stream
            }
        }
        index.loadedEntries = LoadedStreamEntries(
            file: file, start: header.streamsStart, count: (header.recordsStart - header.streamsStart) / IndexLayout.streamEntrySize)
        guard index.records.count == Int(header.recordCount), index.presentCount == Int(header.streamEntryCount) else {
            throw FormatError(reason: "index record count mismatch")
        }
        guard namedRecords == presentRecords else {
            throw FormatError(reason: "index entries disagree with the record table")
        }
        // The header keeps the last timestamp exactly (the writer continues from it).
        if !index.records.isEmpty { index.records[index.records.count - 1].timestampMicroseconds = header.lastTimestamp }
        index.recordsChecksum = header.recordsChecksum
        return (index, header)
    }
}

/// A loaded checkpoint's stream entries, decoded on access from the file's bytes
/// (24 bytes each, from `start`), which the decoder checked. It keeps the whole
/// file alive (its header, directory and record entries too, about a quarter of
/// it) for as long as the index holds it: until the segment's index file replaces
/// it, one checkpoint at a time.
struct LoadedStreamEntries: RandomAccessCollection {
    private let file: [UInt8]
    private let start: Int
    let count: Int

    init() { self.init(file: [], start: 0, count: 0) }

    init(file: [UInt8], start: Int, count: Int) {
        precondition(start + count * IndexLayout.streamEntrySize <= file.count, "the entries lie inside the file")
        self.file = file
        self.start = start
        self.count = count
    }

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(position: Int) -> IndexStreamEntry {
        precondition(position >= 0 && position < count, "index in range")
        return file.withUnsafeBytes { IndexEntries.streamEntry($0, at: start + position * IndexLayout.streamEntrySize) }
    }

    /// Only the entry's stream hash, for the searches.
    func hash(at position: Int) -> UInt64 {
        precondition(position >= 0 && position < count, "index in range")
        return file.withUnsafeBytes { $0.loadLE(UInt64.self, at: start + position * IndexLayout.streamEntrySize) }
    }
}

/// An order-independent fingerprint of a set of (record index, offset) pairs: the
/// wrapping sum of each pair's 64-bit mix (MurmurHash3's `fmix64`). Two sets of the
/// same size that differ in any pair (a pair changed, missing, or named twice)
/// fingerprint alike only by a 2⁻⁶⁴ chance. It checks a decoded index's stream
/// entries against its record table, whose checksums have already passed: what
/// it guards against is a wrong file written with valid checksums (and a reader
/// checks every record's position and version against the index's entry anyway).
struct RecordNaming: Equatable {
    private(set) var fingerprint: UInt64 = 0

    mutating func add(recordIndex: Int, offset: UInt32) {
        var mixed = UInt64(truncatingIfNeeded: recordIndex) << 32 | UInt64(offset)
        mixed ^= mixed >> 33
        mixed = mixed &* 0xFF51_AFD7_ED55_8CCD
        mixed ^= mixed >> 33
        mixed = mixed &* 0xC4CE_B9FE_1A85_EC53
        mixed ^= mixed >> 33
        fingerprint &+= mixed
    }
}

/// What the index needs of a record, kept until the record's append call is
/// known to be complete (the writer publishes it, recovery finds its commit flag).
struct PendingRecord {
    let offset: UInt64
    let length: Int
    let checksum: UInt32
    let position: UInt64
    let streamHash: UInt64
    let version: UInt64
    let type: String
    let category: String
    let timestampMicroseconds: Int64

    init(_ view: RecordView, at offset: UInt64) {
        self.offset = offset
        length = view.length
        checksum = view.checksum
        position = view.position
        streamHash = StreamHash.of(view.streamBytes)
        version = view.version
        type = view.type
        category = StreamName(unchecked: view.streamName).category
        timestampMicroseconds = view.timestampMicroseconds
    }

    init(
        offset: UInt64, length: Int, checksum: UInt32, position: UInt64, streamHash: UInt64, version: UInt64,
        type: String, category: String, timestampMicroseconds: Int64
    ) {
        self.offset = offset
        self.length = length
        self.checksum = checksum
        self.position = position
        self.streamHash = streamHash
        self.version = version
        self.type = type
        self.category = category
        self.timestampMicroseconds = timestampMicroseconds
    }
}

/// Narrows records by event type and category through the ids an index stores.
struct RecordFilterMatcher {
    private let typeIDs: Set<UInt16>?
    private let categoryIDs: Set<UInt16>?

    /// Nil when the filter has neither types nor categories.
    init?(filter: EventFilter, typeNames: [String], categoryNames: [String]) {
        guard !filter.eventTypes.isEmpty || !filter.categories.isEmpty else { return nil }
        func ids(_ wanted: Set<String>, _ names: [String]) -> Set<UInt16>? {
            guard !wanted.isEmpty else { return nil }
            var ids = Set<UInt16>()
            for (id, name) in names.enumerated() where wanted.contains(name) { ids.insert(UInt16(id)) }
            // Names past the table's capacity share the overflow id: keep those
            // records as candidates, the reader checks them.
            if names.count >= Int(IndexLayout.overflowID) { ids.insert(IndexLayout.overflowID) }
            return ids
        }
        typeIDs = ids(filter.eventTypes, typeNames)
        categoryIDs = ids(filter.categories, categoryNames)
    }

    /// Whether no record of this index can match.
    var matchesNothing: Bool { typeIDs?.isEmpty == true || categoryIDs?.isEmpty == true }

    func matches(_ record: IndexRecord) -> Bool {
        (typeIDs?.contains(record.typeID) ?? true) && (categoryIDs?.contains(record.categoryID) ?? true)
    }

    func indexes(_ records: [IndexRecord], from start: Int) -> [Int] {
        if matchesNothing { return [] }
        var result: [Int] = []
        for index in start..<records.count where !records[index].isRemoved && matches(records[index]) { result.append(index) }
        return result
    }
}
