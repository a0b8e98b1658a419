// `inspect`: one record as it lies on disk, for people debugging a store.
import EventSourcing
import Foundation

/// A record with its place on disk, from ``FileEventStore/inspect(position:)``.
public struct RecordInspection: Sendable, Hashable {
    /// The decoded event.
    public var event: RecordedEvent
    /// The segment file holding it.
    public var file: String
    /// Byte offset of the record in the file.
    public var offset: UInt64
    /// Size of the whole record in bytes (header, names, metadata, data).
    public var lengthBytes: Int
    /// Size of the fixed header plus optional ids, in bytes.
    public var headerBytes: Int
    /// The stored CRC32C (verified: it matches the record).
    public var checksum: UInt32
    /// Whether the record is the last of its append call (the commit flag).
    public var isLastOfAppendCall: Bool
    /// Whether its segment is sealed.
    public var isSealedSegment: Bool
}

extension FileEventStore {
    /// The record at `position` with its location, sizes and checksum; nil if the
    /// position is not in the store (past its end, or removed by compaction).
    /// - Throws: ``EventStoreError/corrupted(file:offset:reason:)`` if the record fails its checks.
    public func inspect(position: GlobalPosition) throws -> RecordInspection? {
        try checkOpen()
        return try translatingSystemErrors {
            let plan = shared.state.withLock { ReadAllPlan(state: $0, shared: shared, from: position.rawValue, direction: .forward) }
            guard let part = plan.parts.first, part.startPosition == position.rawValue else { return nil }
            let offset = try part.offsets(for: [part.startRecord])[0]
            if part.segment.isCompacted && offset == IndexRecord.removedOffset { return nil }
            let location = RecordLocation(
                segment: part.segment, offset: UInt64(offset), recordsEnd: part.recordsEnd, position: position.rawValue, version: 0)
            var scanner = RecordScanner(fileSystem: configuration.fileSystem, capacity: 64 * 1024)
            let isSealed: Bool = if case .sealed = part.source { true } else { false }
            return try reader.read(location, scanner: &scanner) { view in
                RecordInspection(
                    event: view.event(), file: part.segment.file.path, offset: UInt64(offset), lengthBytes: view.length,
                    headerBytes: RecordLayout.headerSize + RecordLayout.optionalBytes(flags: view.flags),
                    checksum: view.checksum, isLastOfAppendCall: view.isLastOfCall, isSealedSegment: isSealed)
            }
        }
    }
}
