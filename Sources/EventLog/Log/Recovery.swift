// Opening a log: trust sealed segments through their footers (their index files
// are checked against them on first use), load the active segment's index
// checkpoint, scan only the tail after it, and (for a writer) repair a torn tail
// so appends continue on a clean end. DESIGN.md, "Recovery", states the rules
// this implements.
import EventSourcing
import Foundation

/// A torn tail that recovery discarded (or, read-only, ignored).
public struct TornTail: Sendable, Hashable, CustomStringConvertible {
    /// The segment file.
    public var file: String
    /// Where the discarded bytes began (the end of the last complete append call).
    public var offset: UInt64
    /// Records of an incomplete append call that were discarded (never acknowledged).
    public var discardedRecords: Int
    /// Why the scan stopped.
    public var reason: String

    /// The tail, for a log line: file, offset, reason and records discarded.
    public var description: String {
        "torn tail in \(file) at offset \(offset) (\(reason)); \(discardedRecords) unacknowledged record(s) discarded"
    }
}

/// What opening a store found and did.
public struct OpenReport: Sendable, Hashable {
    /// A torn tail that was truncated (for a read-only open: that was skipped).
    public var tornTail: TornTail?
    /// Segment files removed because their creation never completed.
    public var removedIncompleteSegments: [String] = []
    /// Index files that were missing and were rebuilt from their segments. (An open
    /// does not read the others: one found damaged or stale by a read is rebuilt then,
    /// and written back by the writer at close.)
    public var rebuiltIndexes: [String] = []
    /// Segment files in the store.
    public var segmentCount = 0
    /// The last global position (0 for an empty store).
    public var lastPosition: UInt64 = 0
    /// Records of the active segment read at open (after its index checkpoint).
    public var scannedRecords: UInt64 = 0
    /// How long opening took, in milliseconds.
    public var openMilliseconds = 0.0
}

/// How far opening a store has got: reported after each segment, so that a long
/// open (index files rebuilt, a whole active segment read after a crash) can show
/// progress.
public struct OpenProgress: Sendable, Hashable {
    /// Segment files opened so far.
    public var segmentsOpened: Int
    /// Segment files in the store.
    public var segmentCount: Int
    /// Index files rebuilt from their segments so far (the slow part of an open).
    public var indexesRebuilt: Int
}

/// The recovered log, ready for a writer or for reads.
struct RecoveredLog {
    var state: LogState
    var active: ActiveSegment?
    var nextPosition: UInt64
    /// The last record's timestamp (0 for an empty log), where a writer's timestamps
    /// go on from; computed for a writer only.
    var lastTimestampMicroseconds: Int64 = 0
    var report: OpenReport
}

/// Index file names: the segment's name with `.idx`.
enum IndexFileName {
    static func name(firstPosition: UInt64) -> String { SegmentFileName.name(firstPosition: firstPosition, suffix: ".idx") }

    static func path(directory: String, firstPosition: UInt64) -> String {
        FilePaths.joined(directory, name(firstPosition: firstPosition))
    }
}

enum Recovery {
    /// Descriptors an open store needs beside its segment and index files: the
    /// lock, `POSITION`, `STREAMS`, a watch, the application's own.
    static let descriptorHeadroom = 64

    /// Opens every segment in `configuration.directory` in order. A writer
    /// (`readOnly == false`) also truncates a torn tail, removes a segment whose
    /// creation did not finish, rewrites missing index files and makes sure an
    /// unsealed active segment exists.
    static func recover(
        configuration: LogConfiguration, cache: IndexCache, readOnly: Bool, progress: ((OpenProgress) -> Void)? = nil
    ) throws -> RecoveredLog {
        let fileSystem = configuration.fileSystem
        let directory = configuration.directory
        let listing = try fileSystem.listDirectory(directory)
        if !readOnly {
            // Leftovers of an atomic write that did not finish.
            for name in listing where name.hasSuffix(".tmp") { try fileSystem.remove(directory + "/" + name) }
        }
        // In log order: by the position each name encodes (names of 20 digits sort
        // the same as strings, but a string comparison is Unicode-aware and slower).
        let segmentFiles = listing.compactMap { name in SegmentFileName.firstPosition(of: name).map { (name: name, firstPosition: $0) } }
            .sorted { $0.firstPosition < $1.firstPosition }
        let names = segmentFiles.map(\.name)
        // A sealed segment's index file is not opened here: whether it exists is
        // all an open needs to know of it.
        let indexNames = Set(listing.filter { $0.hasSuffix(".idx") })
        // Every segment file stays open, and the index file of each segment a read
        // has used (until the index cache evicts it).
        let descriptorsNeeded = 2 * names.count + descriptorHeadroom
        let openFileLimit = fileSystem.ensureOpenFileLimit(atLeast: descriptorsNeeded)
        var state = LogState()
        var report = OpenReport()
        var nextPosition: UInt64 = 1
        var previousNumber: UInt64?
        var active: ActiveSegment?

        for (index, name) in names.enumerated() {
            let path = FilePaths.joined(directory, name)
            let isLast = index == names.count - 1
            let file: OpenFile
            do {
                file = try fileSystem.open(path, mode: isLast && !readOnly ? .readWrite : .readOnly)
            } catch let error as SystemError where error.errno == EMFILE {
                throw SystemError(
                    operation: error.operation, path: error.path, errno: error.errno,
                    message: "\(error.message): the store keeps its \(names.count) segment files open, and the index "
                        + "files in use; raise the limit on open files (ulimit -n, now \(openFileLimit.map(String.init) ?? "unknown")) "
                        + "to at least \(descriptorsNeeded), or use a larger segment size")
            }
            let header: SegmentHeader
            do {
                header = try readHeader(
                    file, configuration: configuration, expectedFirstPosition: nextPosition,
                    namedFirstPosition: segmentFiles[index].firstPosition)
            } catch let error as EventStoreError {
                // A last segment whose header never became durable was being created
                // when the process stopped: it holds no acknowledged event.
                if isLast, !readOnly, case .corrupted(_, 0, _) = error, try isBlank(file, fileSystem: fileSystem) {
                    try? fileSystem.close(file)
                    try fileSystem.remove(path)
                    try fileSystem.syncDirectory(directory)
                    report.removedIncompleteSegments.append(name)
                    continue
                }
                try? fileSystem.close(file)
                throw error
            }
            // From here the segment owns the descriptor (it closes it when released).
            let opened = try openSegment(
                Segment(
                    file: file, number: header.segmentNumber, firstPosition: header.firstPosition,
                    isCompacted: header.isCompacted, fileSystem: fileSystem),
                isLast: isLast, hasIndexFile: indexNames.contains(IndexFileName.name(firstPosition: header.firstPosition)),
                configuration: configuration, cache: cache, readOnly: readOnly, report: &report)
            if isLast && !readOnly {
                // What a killed writer left in the page cache looks like data on disk
                // but may not be: make it durable before appending on top of it. Only
                // the last segment can hold such bytes: a writer creates the next
                // segment only after the `fsync` that seals this one has returned, and
                // compaction and repair sync a rewritten segment before renaming it
                // into place, so every segment before the last is durable as it is
                // (`RecoveryTests.anOpenSyncsOnlyTheLastSegment`; syncing all of them
                // made an open grow with the sealed segments).
                try fileSystem.sync(file)
            }
            let segment = opened.segment
            if let previousNumber, segment.number != previousNumber + 1 {
                throw EventStoreError.corrupted(
                    file: path, offset: 32, reason: "segment number \(segment.number) does not follow \(previousNumber)")
            }
            previousNumber = segment.number
            switch opened.kind {
            case .sealed(let entry):
                state.sealed.append(entry)
                nextPosition = entry.lastPosition + 1
            case .active(let memoryIndex, let writeEnd, let checkpointedRecordCount, let fileSizeBytes):
                state.active = ActiveEntry(segment: segment, index: memoryIndex)
                nextPosition = segment.firstPosition + UInt64(memoryIndex.recordCount)
                if !readOnly {
                    active = ActiveSegment(
                        segment: segment, writeEnd: writeEnd, recordCount: UInt64(memoryIndex.recordCount),
                        recordsChecksum: memoryIndex.recordsChecksum, checkpointedRecordCount: checkpointedRecordCount,
                        isTrimmed: configuration.preallocate && fileSizeBytes < configuration.segmentSizeBytes)
                }
            }
            progress?(OpenProgress(segmentsOpened: index + 1, segmentCount: names.count, indexesRebuilt: report.rebuiltIndexes.count))
        }

        if !readOnly {
            // The folder's entries (segments, STORE, index files) as a killed writer
            // may have left them: durable before anything is acknowledged on top.
            try fileSystem.syncDirectory(directory)
        }
        if !readOnly && active == nil {
            let segment = try SegmentCreator.create(
                configuration: configuration, number: (previousNumber ?? 0) + 1, firstPosition: nextPosition)
            state.active = ActiveEntry(segment: segment, index: MemoryIndex(firstPosition: nextPosition))
            active = ActiveSegment(segment: segment, writeEnd: UInt64(SegmentHeader.size), recordCount: 0, recordsChecksum: 0)
        }
        state.visibleEnd = nextPosition - 1
        report.segmentCount = state.segmentCount
        report.lastPosition = state.visibleEnd
        var lastTimestamp: Int64 = 0
        if !readOnly {
            // Read now for a writer (the last sealed segment's index header, when the
            // active segment is empty), so that a failure to read it fails the open.
            lastTimestamp = try state.active?.index.records.last?.timestampMicroseconds ?? state.sealed.last?.index.lastTimestamp() ?? 0
        }
        return RecoveredLog(
            state: state, active: active, nextPosition: nextPosition, lastTimestampMicroseconds: lastTimestamp, report: report)
    }

    private struct OpenedSegment {
        enum Kind {
            case sealed(SealedEntry)
            /// The active segment's index and where its next record goes.
            /// `checkpointedRecordCount`: the records its index checkpoint covers, if one was used;
            /// `fileSizeBytes`: the file's size once any torn tail is repaired.
            case active(MemoryIndex, writeEnd: UInt64, checkpointedRecordCount: Int?, fileSizeBytes: UInt64)
        }
        let segment: Segment
        let kind: Kind
    }

    private static func openSegment(
        _ segment: Segment, isLast: Bool, hasIndexFile: Bool, configuration: LogConfiguration, cache: IndexCache,
        readOnly: Bool, report: inout OpenReport
    ) throws -> OpenedSegment {
        let fileSystem = configuration.fileSystem
        let file = segment.file
        let header = (firstPosition: segment.firstPosition, segmentNumber: segment.number)
        let size = try fileSystem.size(file)
        let indexPath = IndexFileName.path(directory: configuration.directory, firstPosition: header.firstPosition)

        if let footer = try SegmentReader.readFooter(file, size: size, fileSystem: fileSystem) {
            // Sealed: trusted through the footer (verify reads every record). Its
            // index file is not read here: its header is checked against the footer,
            // and its directory (Bloom filter, block checksums, names: a hundred
            // kilobytes or more) loaded, on first use, so that an open does not grow
            // with the sealed segments (four system calls per segment fewer); found
            // damaged or stale then, the index is rebuilt from the segment (and
            // written back by the writer at close). A missing one is rebuilt now.
            guard footer.lastPosition + 1 >= header.firstPosition else {
                throw EventStoreError.corrupted(file: file.path, offset: size - 64, reason: "footer's last position precedes the segment's first")
            }
            let rebuild = IndexWriter.rebuilder(segment: segment, configuration: configuration)
            let positionsCovered = footer.lastPosition + 1 - header.firstPosition
            if hasIndexFile, segment.isCompacted ? footer.recordCount <= positionsCovered : footer.recordCount == positionsCovered {
                let expected = IndexExpectation(
                    storeID: configuration.storeID, firstPosition: header.firstPosition, isCompacted: segment.isCompacted, footer: footer)
                let index = FileIndex(path: indexPath, expected: expected, fileSystem: fileSystem, cache: cache)
                let entry = SealedEntry(
                    segment: segment, lastPosition: footer.lastPosition, recordsEnd: footer.recordsEndOffset,
                    index: SealedIndex(file: index, rebuild: rebuild))
                return OpenedSegment(segment: segment, kind: .sealed(entry))
            }
            let memoryIndex = try rebuild()
            report.rebuiltIndexes.append(indexPath)
            var sealedIndex = SealedIndex(memory: memoryIndex)
            if !readOnly,
                let written = try? IndexWriter.write(memoryIndex, of: segment, isPartial: false, configuration: configuration, cache: cache)
            {
                sealedIndex = written
            }
            let entry = SealedEntry(
                segment: segment, lastPosition: memoryIndex.lastPosition, recordsEnd: memoryIndex.recordsEnd, index: sealedIndex)
            return OpenedSegment(segment: segment, kind: .sealed(entry))
        }

        guard isLast else {
            throw EventStoreError.corrupted(file: file.path, offset: size, reason: "segment is not sealed, yet later segments exist")
        }
        // The active segment: start from its index checkpoint when it has a usable one.
        var memoryIndex = MemoryIndex(firstPosition: header.firstPosition)
        var resume: SegmentReader.Resume?
        var checkpointedRecordCount: Int?
        if let checkpoint = try? loadCheckpoint(indexPath, segment: segment, size: size, configuration: configuration) {
            memoryIndex = checkpoint
            checkpointedRecordCount = checkpoint.recordCount
            resume = SegmentReader.Resume(
                offset: checkpoint.recordsEnd, recordCount: UInt64(checkpoint.recordCount), recordsChecksum: checkpoint.recordsChecksum)
        }
        var scanned: UInt64 = 0
        let reading = try SegmentReader.read(
            file, fileSystem: fileSystem, storeID: configuration.storeID, expectedFirstPosition: header.firstPosition,
            resume: resume
        ) { record in
            memoryIndex.append(record)
            scanned += 1
        }
        report.scannedRecords = scanned
        var fileSizeBytes = reading.fileSizeBytes
        if case .torn(_, let reason, let discarded) = reading.tail {
            report.tornTail = TornTail(file: file.path, offset: reading.committedEnd, discardedRecords: discarded, reason: reason)
            if !readOnly {
                // Discard the torn bytes and restore the zeros the scan relies on.
                try fileSystem.truncate(file, toSizeBytes: reading.committedEnd)
                fileSizeBytes = reading.committedEnd
                if configuration.preallocate {
                    fileSizeBytes = max(configuration.segmentSizeBytes, reading.committedEnd)
                    try fileSystem.allocate(file, sizeBytes: fileSizeBytes)
                }
                try fileSystem.sync(file)
            }
        }
        return OpenedSegment(
            segment: segment,
            kind: .active(
                memoryIndex, writeEnd: reading.committedEnd, checkpointedRecordCount: checkpointedRecordCount,
                fileSizeBytes: fileSizeBytes))
    }

    /// The segment's header, checked: this store's, starting where the log has got
    /// to (`expectedFirstPosition`) and where its file name says (`namedFirstPosition`).
    private static func readHeader(
        _ file: OpenFile, configuration: LogConfiguration, expectedFirstPosition: UInt64, namedFirstPosition: UInt64
    ) throws -> SegmentHeader {
        var bytes = [UInt8](repeating: 0, count: SegmentHeader.size)
        let count = try bytes.withUnsafeMutableBytes { try configuration.fileSystem.read(file, into: $0, at: 0) }
        let header: SegmentHeader
        do {
            header = try bytes.withUnsafeBytes { try SegmentHeader.decode(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        } catch {
            throw EventStoreError.corrupted(file: file.path, offset: 0, reason: String(describing: error))
        }
        guard header.storeID == configuration.storeID else {
            throw EventStoreError.corrupted(file: file.path, offset: 16, reason: "segment belongs to store \(header.storeID), not \(configuration.storeID)")
        }
        guard header.firstPosition == expectedFirstPosition, header.firstPosition == namedFirstPosition else {
            throw EventStoreError.corrupted(
                file: file.path, offset: 40,
                reason: "segment starts at position \(header.firstPosition), but position \(expectedFirstPosition) comes next")
        }
        return header
    }

    /// The active segment's index checkpoint, if it exists, checks out, and the
    /// segment still holds the record it ends with.
    private static func loadCheckpoint(
        _ path: String, segment: Segment, size: UInt64, configuration: LogConfiguration
    ) throws -> MemoryIndex? {
        let fileSystem = configuration.fileSystem
        guard fileSystem.exists(path) else { return nil }
        let bytes = try fileSystem.readWholeFile(path)
        let (index, header) = try MemoryIndex.decode(bytes)
        guard header.isPartial, header.storeID == configuration.storeID, header.firstPosition == segment.firstPosition,
            header.recordsEnd <= size
        else { return nil }
        if let last = index.records.last {
            var scanner = RecordScanner(fileSystem: fileSystem, capacity: 64 * 1024)
            let check = try scanner.readRecord(
                segment.file, at: UInt64(last.offset), end: header.recordsEnd, position: index.lastPosition
            ) { $0.isLastOfCall && UInt64(last.offset) + UInt64($0.length) == header.recordsEnd }
            guard case .success(true) = check else { return nil }
        }
        return index
    }

    /// Whether a file holds nothing but zeros after a possibly partial header.
    private static func isBlank(_ file: OpenFile, fileSystem: any FileSystem) throws -> Bool {
        let size = try fileSystem.size(file)
        var scanner = RecordScanner(fileSystem: fileSystem)
        let search = try scanner.findValidRecord(file, from: 0, to: size, afterPosition: 0)
        return search.validRecordOffset == nil
    }
}

/// Writes index files atomically, and rebuilds them from their segments.
enum IndexWriter {
    /// Writes `index` as its segment's index file (temporary file, fsync, rename,
    /// fsync of the folder) and returns it opened from disk, rebuilt from `segment`
    /// should the file prove damaged. (Not from `index` itself: keeping every sealed
    /// segment's in-memory index for that would grow memory with the log.)
    @discardableResult
    static func write(
        _ index: MemoryIndex, of segment: Segment, isPartial: Bool, configuration: LogConfiguration, cache: IndexCache
    ) throws -> SealedIndex {
        let path = IndexFileName.path(directory: configuration.directory, firstPosition: index.firstPosition)
        let bytes = index.encoded(storeID: configuration.storeID, isPartial: isPartial)
        try configuration.fileSystem.writeAtomically(bytes, to: path, directory: configuration.directory)
        let header = try bytes.withUnsafeBytes { try IndexHeader.decode($0) }
        let file = FileIndex(path: path, header: header, fileSystem: configuration.fileSystem, cache: cache)
        return SealedIndex(file: file, rebuild: rebuilder(segment: segment, configuration: configuration))
    }

    /// Reads a sealed segment back (checking every record against its footer) into
    /// a fresh in-memory index. Holds the segment weakly: a segment keeps the index
    /// it was sealed with (``Segment/indexWhenSealed``), and a strong reference back
    /// would keep both, and the file descriptor, alive forever.
    static func rebuilder(segment: Segment, configuration: LogConfiguration) -> @Sendable () throws -> MemoryIndex {
        { [weak segment] in
            guard let segment else { throw EventStoreError.closed }
            var index = MemoryIndex(firstPosition: segment.firstPosition, isCompacted: segment.isCompacted)
            let reading = try SegmentReader.read(
                segment.file, fileSystem: configuration.fileSystem, storeID: configuration.storeID,
                expectedFirstPosition: segment.firstPosition
            ) { index.append($0) }
            if segment.isCompacted {
                // Positions removed after the last record present.
                let timestamp = index.records.last?.timestampMicroseconds ?? 0
                index.markRemoved(before: reading.lastPosition + 1, timestampMicroseconds: timestamp)
            }
            return index
        }
    }
}
