// Opening a log: read the segments back, rebuild the in-memory index, and (for a
// writer) repair a torn tail so appends continue on a clean end. DESIGN.md,
// "Recovery", states the rules this implements.
import EventSourcing
import Foundation
import Synchronization

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
    /// Segment files in the store.
    public var segmentCount = 0
    /// The last global position (0 for an empty store).
    public var lastPosition: UInt64 = 0
    /// Streams in the store.
    public var streamCount = 0
    /// How long opening took, in milliseconds.
    public var openMilliseconds = 0.0
}

/// The recovered log, ready for a writer or for reads.
struct RecoveredLog {
    var state: LogState
    var active: ActiveSegment?
    var nextPosition: UInt64
    var report: OpenReport
}

enum Recovery {
    /// Reads every segment in `configuration.directory` in order. A writer
    /// (`readOnly == false`) also truncates a torn tail, removes a segment whose
    /// creation did not finish, and makes sure an unsealed active segment exists.
    static func recover(configuration: LogConfiguration, readOnly: Bool) throws -> RecoveredLog {
        let fileSystem = configuration.fileSystem
        let directory = configuration.directory
        var names = try fileSystem.listDirectory(directory).filter { SegmentFileName.firstPosition(of: $0) != nil }
        names.sort()
        var state = LogState()
        var report = OpenReport()
        var nextPosition: UInt64 = 1
        var active: ActiveSegment?

        for (index, name) in names.enumerated() {
            let path = directory + "/" + name
            let isLast = index == names.count - 1
            let file = try fileSystem.open(path, mode: isLast && !readOnly ? .readWrite : .readOnly)
            var segmentNumber: UInt64 = 0
            let segment: Segment
            var offsets: [UInt32] = []
            let reading: SegmentReading
            do {
                reading = try SegmentReader.read(
                    file, fileSystem: fileSystem, storeID: configuration.storeID, expectedFirstPosition: nextPosition
                ) { record in
                    let version = state.streams[record.stream]?.version ?? 0
                    guard record.version == version + 1 else {
                        throw EventStoreError.corrupted(
                            file: path, offset: record.offset,
                            reason: "stream '\(record.stream)' jumps from version \(version) to \(record.version)")
                    }
                    state.streams[record.stream, default: StreamEntry(lastEventID: record.id)].positions.append(record.position)
                    state.streams[record.stream]!.lastEventID = record.id
                    offsets.append(UInt32(record.offset))
                }
                segmentNumber = reading.header.segmentNumber
                segment = Segment(file: file, number: segmentNumber, firstPosition: reading.header.firstPosition, fileSystem: fileSystem)
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
            if let previous = state.segments.last, segmentNumber != previous.segment.number + 1 {
                throw EventStoreError.corrupted(
                    file: path, offset: 32, reason: "segment number \(segmentNumber) does not follow \(previous.segment.number)")
            }
            if reading.footer == nil && !isLast {
                throw EventStoreError.corrupted(
                    file: path, offset: reading.committedEnd, reason: "segment is not sealed, yet later segments exist")
            }
            if case .torn(let stopOffset, let reason, let discarded) = reading.tail {
                report.tornTail = TornTail(file: path, offset: reading.committedEnd, discardedRecords: discarded, reason: reason)
                _ = stopOffset
                if !readOnly {
                    // Discard the torn bytes and restore the zeros the scan relies on.
                    try fileSystem.truncate(file, toSizeBytes: reading.committedEnd)
                    if configuration.preallocate {
                        try fileSystem.allocate(file, sizeBytes: max(configuration.segmentSizeBytes, reading.committedEnd))
                    }
                    try fileSystem.sync(file)
                }
            }
            state.segments.append(SegmentEntry(
                segment: segment, offsets: offsets, recordsEnd: reading.committedEnd, isSealed: reading.footer != nil))
            nextPosition = reading.lastPosition + 1
            if isLast && reading.footer == nil && !readOnly {
                active = ActiveSegment(
                    segment: segment, writeEnd: reading.committedEnd, recordCount: reading.recordCount,
                    recordsChecksum: reading.recordsChecksum)
            }
        }

        if !readOnly && active == nil {
            let number = (state.segments.last?.segment.number ?? 0) + 1
            let segment = try SegmentCreator.create(configuration: configuration, number: number, firstPosition: nextPosition)
            state.segments.append(SegmentEntry(segment: segment, offsets: [], recordsEnd: UInt64(SegmentHeader.size), isSealed: false))
            active = ActiveSegment(segment: segment, writeEnd: UInt64(SegmentHeader.size), recordCount: 0, recordsChecksum: 0)
        }
        state.visibleEnd = nextPosition - 1
        report.segmentCount = state.segments.count
        report.lastPosition = state.visibleEnd
        report.streamCount = state.streams.count
        return RecoveredLog(state: state, active: active, nextPosition: nextPosition, report: report)
    }

    /// Whether a file holds nothing but zeros after a possibly partial header.
    private static func isBlank(_ file: OpenFile, fileSystem: any FileSystem) throws -> Bool {
        let size = try fileSystem.size(file)
        var scanner = RecordScanner(fileSystem: fileSystem)
        let search = try scanner.findValidRecord(file, from: 0, to: size, afterPosition: 0)
        return search.validRecordOffset == nil
    }
}
