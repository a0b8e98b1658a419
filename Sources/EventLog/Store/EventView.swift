// A zero-copy read path: the caller looks at each record where it lies in the
// read buffer and decodes only the fields it touches. For scans that aggregate
// or filter millions of events without keeping them.
import EventSourcing
import Foundation

/// One event as it lies in the read buffer; valid only during the closure it is
/// handed to (like the pointer of `withUnsafeBytes`). Its checksum is verified.
public struct EventView {
    let record: RecordView

    /// Place in the whole log.
    public var position: GlobalPosition { GlobalPosition(record.position) }
    /// Place in its stream.
    public var version: StreamVersion { StreamVersion(record.version) }
    /// When the store accepted the append, in microseconds since 1970.
    public var timestampMicroseconds: Int64 { record.timestampMicroseconds }
    /// The event id.
    public var id: UUID { record.id }
    /// Whether the data is JSON.
    public var isJSON: Bool { record.isJSON }
    /// The stream (decoded on each access).
    public var stream: StreamName { StreamName(unchecked: record.streamName) }
    /// The event type (decoded on each access).
    public var type: String { record.type }

    /// Whether the event belongs to `stream` (compares bytes; decodes nothing).
    public func isInStream(_ stream: StreamName) -> Bool { record.belongs(to: stream) }

    /// Whether the event has type `type` (compares bytes; decodes nothing).
    public func hasType(_ type: String) -> Bool {
        var type = type
        return type.withUTF8 { $0.elementsEqual(record.typeBytes) }
    }

    /// Calls `body` with the data bytes, in place (valid only during the call).
    /// - Throws: Only what `body` throws (the method rethrows).
    public func withData<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try body(record.dataBytes) }

    /// Calls `body` with the metadata bytes, in place (valid only during the call).
    /// - Throws: Only what `body` throws (the method rethrows).
    public func withMetadata<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try body(record.metadataBytes) }

    /// An owned copy of the event.
    public func event() -> RecordedEvent { record.event() }
}

extension FileEventStore {
    /// Calls `body` with a view of each event from `position` that passes `filter`,
    /// at most `maxCount`; `body` returns false to stop. Nothing is copied or decoded
    /// that `body` does not ask for; checksums are verified as for every read.
    ///
    /// - Throws: ``EventStoreError/invalidArgument(_:)`` for a negative `maxCount`, ``EventStoreError/corrupted(file:offset:reason:)``, ``EventStoreError/closed``,
    ///   ``EventStoreError/io(operation:path:errno:message:)``, or what `body` throws.
    /// - Complexity: As ``readAll(from:direction:maxCount:filter:)``, without the copies.
    public func forEachEventView(
        from position: GlobalPosition = .start, direction: ReadDirection = .forward, maxCount: Int = .max,
        filter: EventFilter = .all, _ body: (EventView) throws -> Bool
    ) throws {
        try forEachRecord(from: position, direction: direction, maxCount: maxCount, filter: filter) { try body(EventView(record: $0)) }
    }
}
