// A read-only store following a writer in another process: it reads the
// writer's POSITION file and extends its view of the log up to that position,
// never past it (records beyond it may still be in flight).
import EventSourcing
import Foundation
import Synchronization

/// Extends a read-only store's visible log up to the writer's published position.
final class LogFollower: Sendable {
    private let configuration: LogConfiguration
    private let shared: SharedLog
    private let cache: IndexCache
    /// Serialises refreshes (the state mutex is never held across their I/O), and
    /// remembers the STREAMS file's bytes last read, to reload the rules when they change.
    private let refreshing = Mutex<[UInt8]?>(nil)

    init(configuration: LogConfiguration, shared: SharedLog, cache: IndexCache) {
        self.configuration = configuration
        self.shared = shared
        self.cache = cache
    }

    /// The writer's published position, or nil if there is none (yet) or it is mid-rewrite.
    func publishedPosition() -> UInt64? {
        let path = configuration.directory + "/" + PositionFileFormat.fileName
        guard let bytes = try? configuration.fileSystem.readWholeFile(path) else { return nil }
        return bytes.withUnsafeBytes { PositionFileFormat.decode($0) }
    }

    /// Reads what the writer acknowledged since the last refresh.
    /// - Returns: the new visible end.
    @discardableResult
    func refresh() throws -> UInt64 {
        try refreshing.withLock { lastRules in
            try reloadRulesIfChanged(&lastRules)
            var visibleEnd = shared.state.withLock { $0.visibleEnd }
            guard let target = publishedPosition(), target > visibleEnd else { return visibleEnd }
            while visibleEnd < target, try advance(toward: target) {
                visibleEnd = shared.state.withLock { $0.visibleEnd }
            }
            shared.waiters.advance(to: visibleEnd)
            return visibleEnd
        }
    }

    /// Rereads STREAMS, and replaces the rules if the writer changed them (deletion,
    /// truncation and limits hide events from this process's reads too). The writer
    /// replaces the file atomically, so it reads whole, old or new.
    private func reloadRulesIfChanged(_ lastBytes: inout [UInt8]?) throws {
        let path = configuration.directory + "/" + StreamRulesFormat.fileName
        let bytes = configuration.fileSystem.exists(path) ? try configuration.fileSystem.readWholeFile(path) : []
        if let lastBytes, lastBytes == bytes { return }
        if lastBytes == nil, bytes.isEmpty, shared.rules.isEmpty {
            lastBytes = bytes
            return
        }
        do {
            shared.rules.replaceAll(with: bytes.isEmpty ? [:] : try StreamRulesFormat.decode(bytes))
        } catch let error as FormatError {
            throw EventStoreError.corrupted(file: path, offset: 0, reason: error.reason)
        }
        lastBytes = bytes
    }

    /// One step: read the active segment up to `target`, or move past a segment the
    /// writer sealed, or pick up the segment the writer started.
    /// - Returns: whether anything changed (false: wait for the writer).
    private func advance(toward target: UInt64) throws -> Bool {
        let fileSystem = configuration.fileSystem
        let (active, visibleEnd) = shared.state.withLock { ($0.active, $0.visibleEnd) }
        guard let active else {
            // The last known segment is sealed: the next one starts at visibleEnd + 1.
            let path = configuration.directory + "/" + SegmentFileName.name(firstPosition: visibleEnd + 1)
            guard fileSystem.exists(path) else { return false }
            let file = try fileSystem.open(path, mode: .readOnly)
            var headerBytes = [UInt8](repeating: 0, count: SegmentHeader.size)
            let count = try headerBytes.withUnsafeMutableBytes { try fileSystem.read(file, into: $0, at: 0) }
            guard let header = try? headerBytes.withUnsafeBytes({ try SegmentHeader.decode(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }),
                header.storeID == configuration.storeID, header.firstPosition == visibleEnd + 1
            else {
                try? fileSystem.close(file)
                return false  // still being created
            }
            let segment = Segment(file: file, number: header.segmentNumber, firstPosition: header.firstPosition, fileSystem: fileSystem)
            shared.state.withLock { $0.active = ActiveEntry(segment: segment, index: MemoryIndex(firstPosition: header.firstPosition)) }
            return true
        }
        // Read complete calls after what is indexed, never past `target`.
        var pending: [PendingRecord] = []
        var committed: [PendingRecord] = []
        var scanner = RecordScanner(fileSystem: fileSystem)
        let size = try fileSystem.size(active.segment.file)
        let stop = try scanner.scan(
            active.segment.file, from: active.index.recordsEnd, to: size, firstPosition: visibleEnd + 1
        ) { view, offset in
            guard view.position <= target else { return false }
            pending.append(PendingRecord(view, at: offset))
            if view.isLastOfCall {
                committed += pending
                pending.removeAll()
            }
            return true
        }
        _ = stop
        if !committed.isEmpty {
            let last = committed[committed.count - 1].position
            shared.state.withLock { state in
                guard state.active?.segment === active.segment else { return }
                for record in committed { state.active!.index.append(record) }
                state.visibleEnd = last
            }
            return true
        }
        // Nothing more here: has the writer sealed this segment?
        if let footer = try SegmentReader.readFooter(active.segment.file, size: size, fileSystem: fileSystem),
            footer.lastPosition == visibleEnd, footer.recordsEndOffset == active.index.recordsEnd
        {
            let indexPath = IndexFileName.path(directory: configuration.directory, firstPosition: active.segment.firstPosition)
            var sealedIndex = SealedIndex(memory: active.index)
            if let header = try? FileIndex.readHeader(path: indexPath, fileSystem: fileSystem), !header.isPartial,
                header.recordCount == footer.recordCount, header.recordsChecksum == footer.recordsChecksum
            {
                let index = active.index
                sealedIndex = SealedIndex(
                    file: FileIndex(path: indexPath, header: header, fileSystem: fileSystem, cache: cache), rebuild: { index })
            }
            shared.state.withLock { state in
                guard state.active?.segment === active.segment else { return }
                state.sealed.append(SealedEntry(
                    segment: active.segment, lastPosition: footer.lastPosition, recordsEnd: footer.recordsEndOffset, index: sealedIndex))
                state.active = nil
            }
            return true
        }
        return false
    }
}
