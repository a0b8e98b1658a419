// Compaction: rewrites sealed segments without the events that stream rules hide
// (hard deletion, truncation, count and age limits), keeping every surviving
// event's bytes and global position. Each segment is replaced atomically on its
// own (new file, fsync, rename over the old one, fsync of the folder), so a crash
// leaves every segment either old or new. DESIGN.md, "Compaction".
import EventSourcing
import Foundation

/// What a compaction did.
public struct CompactionReport: Sendable, Hashable {
    /// Sealed segments looked at.
    public var segmentsConsidered = 0
    /// Segments read record by record (those that may hold removable events).
    public var segmentsScanned = 0
    /// Segments replaced by a compacted copy.
    public var segmentsRewritten = 0
    /// Events removed from the log.
    public var eventsRemoved: UInt64 = 0
    /// Events kept in the rewritten segments.
    public var eventsKept: UInt64 = 0
    /// Bytes of segment files read.
    public var bytesRead: UInt64 = 0
    /// Size of the rewritten segments and their index files before compaction.
    public var bytesBefore: UInt64 = 0
    /// Size of their replacements.
    public var bytesAfter: UInt64 = 0
    /// Snapshot files of hard-deleted streams removed.
    public var snapshotsRemoved = 0
    /// How long the compaction took, in milliseconds (the seal of the active segment included).
    public var milliseconds = 0.0

    /// Bytes of disk space given back: ``bytesBefore`` − ``bytesAfter``.
    public var bytesReclaimed: UInt64 { bytesBefore - min(bytesBefore, bytesAfter) }

    /// Creates an empty report.
    public init() {}
}

/// How far a running compaction has got.
public struct CompactionProgress: Sendable, Hashable {
    /// Bytes of the segments to scan read so far.
    public var bytesRead: UInt64
    /// Bytes of all the segments to scan.
    public var bytesTotal: UInt64
}

/// For each stream with a rule, which of its events compaction may remove.
struct RemovalRules {
    /// What may go of one stream.
    struct Cut {
        let isHardDeleted: Bool
        /// Events below this version may go (except `keptVersion`).
        let lowestVisible: UInt64
        /// The stream's last event: kept unless the stream is hard-deleted, so that
        /// the stream's version survives compaction (appends continue after it).
        let keptVersion: UInt64
        /// Set when events may go by age.
        let ageRule: StreamRule?

        func removes(version: UInt64, timestampMicroseconds: Int64, nowMicroseconds: Int64) -> Bool {
            if isHardDeleted { return true }
            if version == keptVersion { return false }
            if version < lowestVisible { return true }
            return ageRule?.isTooOld(timestampMicroseconds: timestampMicroseconds, nowMicroseconds: nowMicroseconds) ?? false
        }

        /// Whether the index entry at `version` may go, as far as the index can tell
        /// (the age limit needs the record's timestamp: a maybe).
        func mayRemove(version: UInt64) -> Bool {
            isHardDeleted || (version != keptVersion && (version < lowestVisible || ageRule != nil))
        }
    }

    let nowMicroseconds: Int64
    /// By stream hash, then name (hashes may collide).
    let cuts: [UInt64: [StreamName: Cut]]

    /// The cuts of every stream whose rule hides anything, decided now. Reads hide at
    /// least as much later (versions and time only grow), so nothing removed is
    /// ever visible again, unless a limit is relaxed after compaction.
    init(rules: [StreamName: StreamRule], reader: LogReader, nowMicroseconds: Int64) throws {
        self.nowMicroseconds = nowMicroseconds
        var cuts: [UInt64: [StreamName: Cut]] = [:]
        for (stream, rule) in rules where !rule.isEmpty {
            let head = rule.isHardDeleted ? 0 : try reader.streamHead(stream)?.version ?? 0
            let cut = Cut(
                isHardDeleted: rule.isHardDeleted, lowestVisible: rule.lowestVisibleVersion(streamVersion: head),
                keptVersion: head, ageRule: rule.maxAgeMicroseconds > 0 ? rule : nil)
            guard cut.isHardDeleted || cut.lowestVisible > 1 || cut.ageRule != nil else { continue }
            cuts[StreamHash.of(stream.rawValue), default: [:]][stream] = cut
        }
        self.cuts = cuts
    }

    var isEmpty: Bool { cuts.isEmpty }

    /// Whether the record in `view` is to be removed. Names are compared only for
    /// the few records whose stream hash has a rule.
    func removes(_ view: RecordView) -> Bool {
        guard let candidates = cuts[StreamHash.of(view.streamBytes)] else { return false }
        for (stream, cut) in candidates where view.belongs(to: stream) {
            return cut.removes(version: view.version, timestampMicroseconds: view.timestampMicroseconds, nowMicroseconds: nowMicroseconds)
        }
        return false
    }

    /// Whether the segment with `index` may hold a removable event (through its
    /// Bloom filter and stream entries, without reading records).
    func mayRemoveAny(from index: SealedIndex) throws -> Bool {
        for (hash, streams) in cuts {
            let entries = try index.streamEntries(hash: hash)
            if entries.isEmpty { continue }
            for cut in streams.values where entries.contains(where: { cut.mayRemove(version: $0.version) }) { return true }
        }
        return false
    }
}

/// Rewrites the sealed segments of an open store. One compaction at a time per store.
struct Compactor {
    let configuration: LogConfiguration
    let shared: SharedLog
    let cache: IndexCache
    let reader: LogReader
    /// Asked between segments: true once the store is closing.
    let isCancelled: @Sendable () -> Bool

    /// Compacts every segment sealed when it starts (the caller seals the active
    /// one first).
    func run(progress: ((CompactionProgress) -> Void)?) throws -> CompactionReport {
        var report = CompactionReport()
        let rules = try RemovalRules(rules: shared.rules.all, reader: reader, nowMicroseconds: shared.wallClock())
        let sealed = shared.state.withLock { $0.sealed }
        report.segmentsConsidered = sealed.count
        var candidates: [SealedEntry] = []
        if !rules.isEmpty {
            for entry in sealed where try rules.mayRemoveAny(from: entry.index) { candidates.append(entry) }
        }
        let bytesTotal = candidates.reduce(0) { $0 + $1.recordsEnd }
        var bytesDone: UInt64 = 0
        progress?(CompactionProgress(bytesRead: 0, bytesTotal: bytesTotal))
        for entry in candidates {
            if isCancelled() { throw EventStoreError.closed }
            try rewrite(entry, rules: rules, report: &report)
            bytesDone += entry.recordsEnd
            progress?(CompactionProgress(bytesRead: bytesDone, bytesTotal: bytesTotal))
        }
        report.snapshotsRemoved = try removeSnapshotsOfHardDeletedStreams()
        return report
    }

    /// Rewrites one segment without its removable events, if it has any.
    private func rewrite(_ entry: SealedEntry, rules: RemovalRules, report: inout CompactionReport) throws {
        let fileSystem = configuration.fileSystem
        let old = entry.segment
        let path = configuration.directory + "/" + old.fileName
        let temporaryPath = path + ".tmp"
        if fileSystem.exists(temporaryPath) { try fileSystem.remove(temporaryPath) }
        let output = try fileSystem.open(temporaryPath, mode: .createExclusive)
        // Until the rename, a failure leaves the old segment in place and the copy
        // goes (the next writer open would remove it too).
        var renamed = false
        defer { if !renamed { try? fileSystem.remove(temporaryPath) } }
        var outputOpen = true
        defer { if outputOpen { try? fileSystem.close(output) } }

        var index = MemoryIndex(firstPosition: old.firstPosition, isCompacted: true)
        var buffer = ByteBuffer(capacity: RecordScanner.chunkBytes)
        let header = SegmentHeader(
            storeID: configuration.storeID, segmentNumber: old.number, firstPosition: old.firstPosition, isCompacted: true)
        header.encoded().withUnsafeBytes { buffer.append($0) }
        var written: UInt64 = 0
        var removed: UInt64 = 0
        var lastTimestamp: Int64 = 0
        var failure: (any Error)?
        var scanner = RecordScanner(fileSystem: fileSystem)
        let stop = try scanner.scan(
            old.file, from: UInt64(SegmentHeader.size), to: entry.recordsEnd, firstPosition: old.firstPosition,
            allowingGaps: old.isCompacted
        ) { view, _ in
            lastTimestamp = view.timestampMicroseconds
            if rules.removes(view) {
                removed += 1
                return true
            }
            index.append(PendingRecord(view, at: written + UInt64(buffer.count)))
            buffer.append(view.bytes)
            if buffer.count >= RecordScanner.chunkBytes {
                do {
                    try buffer.withBytes { try fileSystem.write(output, $0, at: written) }
                } catch {
                    failure = error
                    return false
                }
                // Flushed as it goes, so that the final fsync does not flush megabytes
                // at once and stall the writer's fdatasync behind it.
                fileSystem.startWriteback(output, offset: written, lengthBytes: UInt64(buffer.count))
                written += UInt64(buffer.count)
                buffer.removeAll()
            }
            return true
        }
        if let failure { throw failure }
        guard case .reachedEnd = stop else {
            throw EventStoreError.corrupted(file: old.file.path, offset: stop.offset, reason: SegmentReader.reason(of: stop))
        }
        report.segmentsScanned += 1
        report.bytesRead += entry.recordsEnd
        guard removed > 0 else { return }  // Nothing to remove after all (an age limit not yet reached).
        index.markRemoved(before: entry.lastPosition + 1, timestampMicroseconds: lastTimestamp)
        let recordsEnd = written + UInt64(buffer.count)
        let footer = SegmentFooter(
            lastPosition: entry.lastPosition, recordCount: UInt64(index.presentCount), recordsEndOffset: recordsEnd,
            recordsChecksum: index.recordsChecksum)
        footer.encoded().withUnsafeBytes { buffer.append($0) }
        try buffer.withBytes { try fileSystem.write(output, $0, at: written) }
        try fileSystem.sync(output)
        try fileSystem.close(output)
        outputOpen = false

        let oldIndexPath = IndexFileName.path(directory: configuration.directory, firstPosition: old.firstPosition)
        let bytesBefore = try fileSize(path) + (fileSystem.exists(oldIndexPath) ? try fileSize(oldIndexPath) : 0)
        // The switch: after this rename (and the folder sync) the segment is the new one.
        try fileSystem.rename(temporaryPath, to: path)
        renamed = true
        try fileSystem.syncDirectory(configuration.directory)
        let segment = Segment(
            file: try fileSystem.open(path, mode: .readOnly), number: old.number, firstPosition: old.firstPosition,
            isCompacted: true, fileSystem: fileSystem)
        // Until this index file is written, the old one disagrees with the new
        // footer; after a crash in between, the first read of the segment rebuilds
        // its index from it, and that session's writer writes it at close.
        let sealedIndex = try IndexWriter.write(index, of: segment, isPartial: false, configuration: configuration, cache: cache)
        shared.state.withLock { state in
            guard let position = state.sealed.firstIndex(where: { $0.segment === old }) else { return }
            state.sealed[position] = SealedEntry(
                segment: segment, lastPosition: entry.lastPosition, recordsEnd: recordsEnd, index: sealedIndex)
        }
        report.segmentsRewritten += 1
        report.eventsRemoved += removed
        report.eventsKept += UInt64(index.presentCount)
        report.bytesBefore += bytesBefore
        report.bytesAfter += try fileSize(path) + fileSize(oldIndexPath)
    }

    private func fileSize(_ path: String) throws -> UInt64 {
        let file = try configuration.fileSystem.open(path, mode: .readOnly)
        defer { try? configuration.fileSystem.close(file) }
        return try configuration.fileSystem.size(file)
    }

    /// Removes the snapshot files of hard-deleted streams (deleting a stream removes
    /// its snapshot; this catches one a crash left behind).
    private func removeSnapshotsOfHardDeletedStreams() throws -> Int {
        let fileSystem = configuration.fileSystem
        let folder = configuration.directory + "/" + SnapshotFormat.folder
        guard fileSystem.exists(folder) else { return 0 }
        let rules = shared.rules.all
        var removed = 0
        for name in try fileSystem.listDirectory(folder) {
            let path = folder + "/" + name
            guard let snapshot = try? SnapshotFormat.decode(try fileSystem.readWholeFile(path)),
                rules[snapshot.stream]?.isHardDeleted == true
            else { continue }
            try fileSystem.remove(path)
            removed += 1
        }
        if removed > 0 { try fileSystem.syncDirectory(folder) }
        return removed
    }
}
