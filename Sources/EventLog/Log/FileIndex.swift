// A sealed segment's index, read from its index file on demand: nothing of it is
// read at open (which then does not grow with the segments); its header is
// checked against what the segment's footer says, and its directory (Bloom
// filter, block directories, names) loaded, on first use, and the directory may
// be evicted under the memory budget; entry blocks are read one at a time and
// checked against the directory's checksums.
import EventSourcing
import Foundation
import Synchronization

/// What a sealed segment's index answers; either the index file or, until it is
/// written, the segment's in-memory index. An index file found damaged while
/// reading is dropped for an index rebuilt from the segment: index files are
/// derived data, never trusted over the log.
final class SealedIndex: Sendable {
    private let source: Mutex<Source>
    private let rebuild: (@Sendable () throws -> MemoryIndex)?

    private enum Source: @unchecked Sendable {
        // @unchecked: MemoryIndex is a value; FileIndex guards its own state.
        case memory(MemoryIndex)
        case file(FileIndex)
    }

    init(memory: MemoryIndex) {
        source = Mutex(.memory(memory))
        rebuild = nil
    }

    /// An index file, with the way to rebuild it from its segment if it proves damaged.
    init(file: FileIndex, rebuild: @escaping @Sendable () throws -> MemoryIndex) {
        source = Mutex(.file(file))
        self.rebuild = rebuild
    }

    var memoryIndex: MemoryIndex? { source.withLock { if case .memory(let index) = $0 { index } else { nil } } }

    private func ask<R>(_ memory: (MemoryIndex) throws -> R, _ file: (FileIndex) throws -> R) throws -> R {
        switch source.withLock({ $0 }) {
        case .memory(let index): return try memory(index)
        case .file(let index):
            do {
                return try file(index)
            } catch let error as EventStoreError {
                guard case .corrupted(let path, _, _) = error, path == index.path, let rebuild else { throw error }
                let rebuilt = try rebuild()
                source.withLock { $0 = .memory(rebuilt) }
                return try memory(rebuilt)
            }
        }
    }

    func streamEntries(hash: UInt64) throws -> [IndexStreamEntry] {
        try ask({ $0.streamEntries(hash: hash) }, { try $0.streamEntries(hash: hash) })
    }

    /// Offsets of the records `range` (record indexes).
    func offsets(_ range: Range<Int>) throws -> [UInt32] {
        try ask({ $0.records[range].map(\.offset) }, { try $0.records(range).map(\.offset) })
    }

    func recordIndexes(matching filter: EventFilter, from start: Int) throws -> [Int]? {
        try ask({ $0.recordIndexes(matching: filter, from: start) }, { try $0.recordIndexes(matching: filter, from: start) })
    }

    func timeSearchStart(atOrAfter timestamp: Int64) throws -> Int {
        try ask({ $0.timeSearchStart(atOrAfter: timestamp) }, { try $0.timeSearchStart(atOrAfter: timestamp) })
    }

    /// Per stream hash, its events in this segment, and per category, its events:
    /// what `stats` adds up. Reads the whole index.
    func tally() throws -> (streams: [UInt64: (count: UInt64, last: IndexStreamEntry)], categories: [String: UInt64], indexBytes: UInt64) {
        try ask({ $0.tally() }, { try $0.tally() })
    }

    /// The last record's timestamp, from the index file's header (read if it was
    /// not yet) or the in-memory index (nil when it holds no records).
    func lastTimestamp() throws -> Int64? {
        try ask({ $0.records.last?.timestampMicroseconds }, { try $0.lastTimestamp() })
    }
}

/// What a sealed segment's footer says of its index file, checked against the
/// file's header when the index is first read (an open reads no index file). Both
/// come from the same seal, so any difference means the index file is damaged or
/// belongs to another segment: it is then rebuilt from the segment.
struct IndexExpectation: Equatable {
    let storeID: UUID
    let firstPosition: UInt64
    let isCompacted: Bool
    /// Positions covered, removed ones included: the record table's length.
    let recordCount: UInt64
    /// Records present: one stream entry each.
    let streamEntryCount: UInt64
    let recordsEnd: UInt64
    let recordsChecksum: UInt32

    init(storeID: UUID, firstPosition: UInt64, isCompacted: Bool, footer: SegmentFooter) {
        self.storeID = storeID
        self.firstPosition = firstPosition
        self.isCompacted = isCompacted
        recordCount = footer.lastPosition + 1 - firstPosition
        streamEntryCount = footer.recordCount
        recordsEnd = footer.recordsEndOffset
        recordsChecksum = footer.recordsChecksum
    }

    /// What an index file just written (or otherwise already checked) says of itself.
    init(header: IndexHeader) {
        storeID = header.storeID
        firstPosition = header.firstPosition
        isCompacted = header.isCompacted
        recordCount = header.recordCount
        streamEntryCount = UInt64(header.streamEntryCount)
        recordsEnd = header.recordsEnd
        recordsChecksum = header.recordsChecksum
    }

    func check(_ header: IndexHeader) throws(FormatError) {
        guard !header.isPartial else { throw FormatError(reason: "a sealed segment's index file is a partial checkpoint") }
        guard header.storeID == storeID, header.firstPosition == firstPosition, header.isCompacted == isCompacted else {
            throw FormatError(reason: "index file belongs to another segment")
        }
        guard header.recordCount == recordCount, UInt64(header.streamEntryCount) == streamEntryCount,
            header.recordsEnd == recordsEnd, header.recordsChecksum == recordsChecksum
        else {
            throw FormatError(reason: "index file does not match its segment's footer")
        }
    }
}

/// An index file, opened lazily.
final class FileIndex: @unchecked Sendable {
    // @unchecked: mutable state (`loaded`, `checkedHeader`) lives in Mutexes; the rest is immutable.
    let path: String
    /// What the header must say; its counts bound every entry read.
    let expected: IndexExpectation
    private let fileSystem: any FileSystem
    private let cache: IndexCache
    private let loaded = Mutex<LoadedIndexFile?>(nil)
    /// The header, once read and checked (kept when the directory is evicted).
    private let checkedHeader: Mutex<IndexHeader?>
    /// When a read last used the loaded directory, on ``IndexCache``'s clock: an
    /// atomic of the index's own, so that a lookup stamps it without taking the
    /// cache's lock (a dictionary update under it cost about 1,000 instructions per
    /// sealed read, and every reader thread contended for it).
    let lastUse = Atomic<UInt64>(0)

    /// An index file not read yet: its header is checked against `expected` on first use.
    init(path: String, expected: IndexExpectation, fileSystem: any FileSystem, cache: IndexCache) {
        self.path = path
        self.expected = expected
        self.fileSystem = fileSystem
        self.cache = cache
        checkedHeader = Mutex(nil)
    }

    /// An index file whose header has been read and checked already (one just written).
    init(path: String, header: IndexHeader, fileSystem: any FileSystem, cache: IndexCache) {
        self.path = path
        expected = IndexExpectation(header: header)
        self.fileSystem = fileSystem
        self.cache = cache
        checkedHeader = Mutex(header)
    }

    deinit { cache.forget(self) }

    var loadedBytes: Int { loaded.withLock { $0?.directory.memoryBytes ?? 0 } }

    /// Reads and checks an index file's header.
    static func readHeader(path: String, fileSystem: any FileSystem) throws -> IndexHeader {
        let file = try fileSystem.open(path, mode: .readOnly)
        defer { try? fileSystem.close(file) }
        return try readHeader(of: file, fileSystem: fileSystem)
    }

    private static func readHeader(of file: OpenFile, fileSystem: any FileSystem) throws -> IndexHeader {
        var bytes = [UInt8](repeating: 0, count: IndexLayout.headerSize)
        let count = try bytes.withUnsafeMutableBytes { try fileSystem.read(file, into: $0, at: 0) }
        let header = try bytes.withUnsafeBytes { raw throws(FormatError) in
            try IndexHeader.decode(UnsafeRawBufferPointer(rebasing: raw[0..<count]))
        }
        guard try fileSystem.size(file) == UInt64(header.fileSize) else {
            throw FormatError(reason: "index file size does not match its header")
        }
        return header
    }

    /// The header of the open index `file`, read and checked against ``expected``
    /// (the first time only).
    /// - Throws: ``EventStoreError/corrupted(file:offset:reason:)`` for a damaged
    ///   header or one that does not match, which has the index rebuilt.
    private func header(of file: OpenFile) throws -> IndexHeader {
        if let known = checkedHeader.withLock({ $0 }) { return known }
        let header: IndexHeader
        do {
            header = try Self.readHeader(of: file, fileSystem: fileSystem)
            try expected.check(header)
        } catch let error as FormatError {
            throw EventStoreError.corrupted(file: path, offset: 0, reason: error.reason)
        }
        checkedHeader.withLock { $0 = header }
        return header
    }

    /// The last record's timestamp, from the header (read, without the directory, if not yet).
    func lastTimestamp() throws -> Int64 {
        let header: IndexHeader
        if let known = checkedHeader.withLock({ $0 }) {
            header = known
        } else {
            let file = try fileSystem.open(path, mode: .readOnly)
            defer { try? fileSystem.close(file) }
            header = try self.header(of: file)
        }
        return header.lastTimestamp
    }

    /// Drops the loaded directory; the file closes once no reader still uses it.
    func evict() {
        loaded.withLock { $0 = nil }
    }

    /// Runs `body` with the open index file, its checked header and its directory,
    /// loading them first if needed. The loaded file is held while `body` runs, so an eviction meanwhile
    /// cannot close it. It is made, and its fields read, inside the lock: with
    /// directories loaded on first use, several readers may load one at once, and
    /// ThreadSanitizer cannot see `Mutex`'s hand-off between threads (.ci/run).
    private func withDirectory<R>(_ body: (OpenFile, IndexDirectory, IndexHeader) throws -> R) throws -> R {
        let loadedBefore = loaded.withLock { state -> Borrowed? in
            guard let state else { return nil }
            return Borrowed(state, isNew: false)
        }
        if let current = loadedBefore {
            cache.touch(self)
            defer { withExtendedLifetime(current.holder) {} }
            return try body(current.file, current.directory, current.header)
        }
        let file = try fileSystem.open(path, mode: .readOnly)
        let header: IndexHeader
        let directory: IndexDirectory
        do {
            header = try self.header(of: file)
            var bytes = [UInt8](repeating: 0, count: header.directoryBytes)
            let count = try bytes.withUnsafeMutableBytes {
                try fileSystem.read(file, into: $0, at: UInt64(IndexLayout.headerSize))
            }
            directory = try bytes.withUnsafeBytes { raw throws(FormatError) in
                try IndexDirectory.decode(UnsafeRawBufferPointer(rebasing: raw[0..<count]), header: header)
            }
        } catch let error as FormatError {
            try? fileSystem.close(file)
            throw EventStoreError.corrupted(file: path, offset: UInt64(IndexLayout.headerSize), reason: error.reason)
        } catch {
            try? fileSystem.close(file)
            throw error
        }
        let current = loaded.withLock { state -> Borrowed in
            if let state { return Borrowed(state, isNew: false) }
            let created = LoadedIndexFile(file: file, header: header, directory: directory, fileSystem: fileSystem)
            state = created
            return Borrowed(created, isNew: true)
        }
        // Another reader loaded it first: this copy's file is not needed.
        if current.isNew { cache.loaded(self, bytes: directory.memoryBytes) } else { try? fileSystem.close(file) }
        defer { withExtendedLifetime(current.holder) {} }
        return try body(current.file, current.directory, current.header)
    }

    /// A loaded index file's fields, read under the lock, and the file itself, held.
    private struct Borrowed {
        let holder: LoadedIndexFile
        let file: OpenFile
        let header: IndexHeader
        let directory: IndexDirectory
        let isNew: Bool

        init(_ holder: LoadedIndexFile, isNew: Bool) {
            self.holder = holder
            file = holder.file
            header = holder.header
            directory = holder.directory
            self.isNew = isNew
        }
    }

    private func readBlock(_ file: OpenFile, at start: Int, bytes count: Int, checksum: UInt32, name: String) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let read = try bytes.withUnsafeMutableBytes { try fileSystem.read(file, into: $0, at: UInt64(start)) }
        guard read == count, CRC32C.checksum(bytes) == checksum else {
            throw EventStoreError.corrupted(file: path, offset: UInt64(start), reason: "index \(name) block checksum mismatch")
        }
        return bytes
    }

    func streamEntries(hash: UInt64) throws -> [IndexStreamEntry] {
        try withDirectory { file, directory, header in
            guard directory.bloom.mayContain(hash) else { return [] }
            let blocks = directory.streamBlocks
            // The first block that can hold `hash`: the last one starting before it.
            var low = 0
            var high = blocks.count
            while low < high {
                let middle = (low + high) / 2
                if blocks[middle].firstHash < hash { low = middle + 1 } else { high = middle }
            }
            var block = max(0, low - 1)
            var entries: [IndexStreamEntry] = []
            while block < blocks.count, blocks[block].firstHash <= hash {
                let first = block * IndexLayout.streamBlockEntries
                let count = min(IndexLayout.streamBlockEntries, Int(header.streamEntryCount) - first)
                let bytes = try readBlock(
                    file, at: header.streamsStart + first * IndexLayout.streamEntrySize,
                    bytes: count * IndexLayout.streamEntrySize, checksum: blocks[block].checksum, name: "stream")
                try bytes.withUnsafeBytes { raw in
                    // Only the entries of `hash` are decoded: the block's other 255 are
                    // passed over by their hash field (decoding all 256 into an array
                    // was most of a lookup's 28,700 instructions).
                    for base in stride(from: 0, through: raw.count - IndexLayout.streamEntrySize, by: IndexLayout.streamEntrySize)
                    where raw.loadLE(UInt64.self, at: base) == hash {
                        let entry = IndexEntries.streamEntry(raw, at: base)
                        guard entry.recordIndex < header.recordCount, UInt64(entry.offset) >= UInt64(SegmentHeader.size),
                            UInt64(entry.offset) < header.recordsEnd
                        else {
                            throw EventStoreError.corrupted(file: path, offset: UInt64(header.streamsStart), reason: "index entry points past the records")
                        }
                        entries.append(entry)
                    }
                }
                block += 1
            }
            return entries
        }
    }

    func records(_ range: Range<Int>) throws -> [IndexRecord] {
        guard !range.isEmpty else { return [] }
        precondition(range.lowerBound >= 0 && range.upperBound <= Int(expected.recordCount))
        return try withDirectory { file, directory, header in
            var result: [IndexRecord] = []
            result.reserveCapacity(range.count)
            var block = range.lowerBound / IndexLayout.recordBlockEntries
            while block * IndexLayout.recordBlockEntries < range.upperBound {
                let first = block * IndexLayout.recordBlockEntries
                let count = min(IndexLayout.recordBlockEntries, Int(header.recordCount) - first)
                let bytes = try readBlock(
                    file, at: header.recordsStart + first * IndexLayout.recordEntrySize,
                    bytes: count * IndexLayout.recordEntrySize, checksum: directory.recordBlocks[block].checksum, name: "record")
                let records = bytes.withUnsafeBytes { IndexEntries.records($0) }
                for index in max(first, range.lowerBound)..<min(first + count, range.upperBound) {
                    var record = records[index - first]
                    let isValidOffset = UInt64(record.offset) >= UInt64(SegmentHeader.size) && UInt64(record.offset) < header.recordsEnd
                    guard isValidOffset || (record.isRemoved && header.isCompacted) else {
                        throw EventStoreError.corrupted(file: path, offset: UInt64(header.recordsStart), reason: "index record offset out of range")
                    }
                    record.timestampMicroseconds = directory.recordBlocks[block].firstTimestamp
                    result.append(record)
                }
                block += 1
            }
            return result
        }
    }

    func recordIndexes(matching filter: EventFilter, from start: Int) throws -> [Int]? {
        let matcher = try withDirectory { _, directory, _ in
            RecordFilterMatcher(filter: filter, typeNames: directory.typeNames, categoryNames: directory.categoryNames)
        }
        guard let matcher else { return nil }
        if matcher.matchesNothing || start >= Int(expected.recordCount) { return [] }
        let records = try records(start..<Int(expected.recordCount))
        var result: [Int] = []
        for (offset, record) in records.enumerated() where !record.isRemoved && matcher.matches(record) { result.append(start + offset) }
        return result
    }

    func tally() throws -> (streams: [UInt64: (count: UInt64, last: IndexStreamEntry)], categories: [String: UInt64], indexBytes: UInt64) {
        let (names, blocks, fileSize) = try withDirectory { _, directory, header in
            (directory.categoryNames, directory.streamBlocks.count, header.fileSize)
        }
        var streams: [UInt64: (count: UInt64, last: IndexStreamEntry)] = [:]
        var categories: [String: UInt64] = [:]
        for record in try records(0..<Int(expected.recordCount)) where !record.isRemoved {
            let name = Int(record.categoryID) < names.count ? names[Int(record.categoryID)] : "(other)"
            categories[name, default: 0] += 1
        }
        try withDirectory { file, directory, header in
            for block in 0..<blocks {
                let first = block * IndexLayout.streamBlockEntries
                let count = min(IndexLayout.streamBlockEntries, Int(header.streamEntryCount) - first)
                let bytes = try readBlock(
                    file, at: header.streamsStart + first * IndexLayout.streamEntrySize,
                    bytes: count * IndexLayout.streamEntrySize, checksum: directory.streamBlocks[block].checksum, name: "stream")
                for entry in bytes.withUnsafeBytes({ IndexEntries.streamEntries($0) }) {
                    let previous = streams[entry.hash]
                    streams[entry.hash] = ((previous?.count ?? 0) + 1, entry)
                }
            }
        }
        return (streams, categories, UInt64(fileSize))
    }

    func timeSearchStart(atOrAfter timestamp: Int64) throws -> Int {
        try withDirectory { _, directory, _ in
            let blocks = directory.recordBlocks
            var low = 0
            var high = blocks.count
            while low < high {
                let middle = (low + high) / 2
                if blocks[middle].firstTimestamp < timestamp { low = middle + 1 } else { high = middle }
            }
            return max(0, low - 1) * IndexLayout.recordBlockEntries
        }
    }
}

/// A loaded directory and the open index file; closes the file when released.
final class LoadedIndexFile: @unchecked Sendable {
    // @unchecked: immutable after init.
    let file: OpenFile
    let header: IndexHeader
    let directory: IndexDirectory
    private let fileSystem: any FileSystem

    init(file: OpenFile, header: IndexHeader, directory: IndexDirectory, fileSystem: any FileSystem) {
        self.file = file
        self.header = header
        self.directory = directory
        self.fileSystem = fileSystem
    }

    deinit { try? fileSystem.close(file) }
}

/// Keeps the loaded index directories within a memory budget, evicting the least
/// recently used. Entry blocks are not cached (the page cache holds them).
final class IndexCache: Sendable {
    private struct State {
        var entries: [ObjectIdentifier: (index: Weak, bytes: Int)] = [:]
        var totalBytes = 0
    }
    private struct Weak: @unchecked Sendable {
        weak var index: FileIndex?
    }

    let budgetBytes: Int
    private let state = Mutex(State())
    /// Orders uses: each use takes the next tick (``FileIndex/lastUse``).
    private let clock = Atomic<UInt64>(0)

    init(budgetBytes: Int) { self.budgetBytes = budgetBytes }

    var totalBytes: Int { state.withLock { $0.totalBytes } }

    /// Marks `index`'s directory as just used. Lock-free: two readers touching at
    /// once may store their ticks in either order, which only blurs which of two
    /// equally recent directories is evicted first.
    func touch(_ index: FileIndex) {
        index.lastUse.store(clock.wrappingAdd(1, ordering: .relaxed).newValue, ordering: .relaxed)
    }

    func loaded(_ index: FileIndex, bytes: Int) {
        touch(index)
        let victims = state.withLock { state -> [FileIndex] in
            if let previous = state.entries[ObjectIdentifier(index)] { state.totalBytes -= previous.bytes }
            state.entries[ObjectIdentifier(index)] = (Weak(index: index), bytes)
            state.totalBytes += bytes
            var victims: [FileIndex] = []
            if state.totalBytes > budgetBytes {
                // An index already released (its weak reference gone) sorts first.
                let byLastUse = state.entries.map { key, entry in
                    (key: key, entry: entry, lastUse: entry.index.index?.lastUse.load(ordering: .relaxed) ?? 0)
                }.sorted { $0.lastUse < $1.lastUse }
                for (key, entry, _) in byLastUse {
                    guard state.totalBytes > budgetBytes else { break }
                    if key == ObjectIdentifier(index) { continue }
                    state.entries[key] = nil
                    state.totalBytes -= entry.bytes
                    if let victim = entry.index.index { victims.append(victim) }
                }
            }
            return victims
        }
        for victim in victims { victim.evict() }
    }

    func forget(_ index: FileIndex) {
        state.withLock { state in
            if let entry = state.entries.removeValue(forKey: ObjectIdentifier(index)) { state.totalBytes -= entry.bytes }
        }
    }
}
