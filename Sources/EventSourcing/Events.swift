// The two shapes of an event: one proposed for appending, and one read back with
// the place the store gave it.
import Foundation

/// An event to append: its id, type and payload. The store assigns its version,
/// global position and timestamp.
public struct EventData: Sendable, Hashable {
    /// Unique id. Appending the same ids again at the same expected version is a
    /// no-op that returns the original result (idempotent retries).
    public var id: UUID
    /// The event type, e.g. `OrderCreated`: 1...``Limits/eventTypeMaxBytes`` UTF-8 bytes.
    public var type: String
    /// The payload bytes.
    public var data: Data
    /// Free-form metadata bytes (JSON by convention).
    public var metadata: Data
    /// Whether `data` is JSON (readers and the CLI render it as JSON rather than bytes).
    public var isJSON: Bool
    /// The id shared by every event of one business transaction or request.
    public var correlationID: UUID?
    /// The id of the event (or command) that caused this one.
    public var causationID: UUID?

    /// Creates an event to append. The default id is a time-ordered UUID (version 7).
    public init(
        id: UUID = EventID.make(), type: String, data: Data, metadata: Data = Data(), isJSON: Bool = true,
        correlationID: UUID? = nil, causationID: UUID? = nil
    ) {
        self.id = id
        self.type = type
        self.data = data
        self.metadata = metadata
        self.isJSON = isJSON
        self.correlationID = correlationID
        self.causationID = causationID
    }

    /// Payload plus metadata bytes: what ``Limits/eventMaxBytes`` bounds.
    public var payloadBytes: Int { data.count + metadata.count }

    /// Checks the type and size limits.
    /// - Throws: ``EventStoreError/invalidEventType(_:reason:)`` for a type that is
    ///   empty, longer than ``Limits/eventTypeMaxBytes`` or holds a control
    ///   character; ``EventStoreError/limitExceeded(_:)`` with
    ///   ``LimitViolation/eventTooLarge(eventID:sizeBytes:limitBytes:)`` when
    ///   ``payloadBytes`` is over ``Limits/eventMaxBytes``.
    /// - Complexity: O(*n*) in the length of `type`; the payload is not read.
    public func validate() throws(EventStoreError) {
        let typeBytes = type.utf8.count
        if typeBytes == 0 { throw .invalidEventType(type, reason: "it is empty") }
        // Plain ASCII types (nearly all) skip the Unicode property lookups. The bytes
        // are read in place: iterating `type.utf8` cost about 300 instructions of a
        // no-sync append's 10,600 for a 10-byte type (callgrind).
        let isPrintableASCII =
            type.utf8.withContiguousStorageIfAvailable { $0.allSatisfy { (0x20..<0x7F).contains($0) } }
            ?? type.utf8.allSatisfy { (0x20..<0x7F).contains($0) }
        if typeBytes > Limits.eventTypeMaxBytes {
            throw .invalidEventType(
                String(type.prefix(40)) + "…",
                reason: "it is \(typeBytes) UTF-8 bytes, more than the limit of \(Limits.eventTypeMaxBytes)")
        }
        if !isPrintableASCII {
            for scalar in type.unicodeScalars where scalar.properties.generalCategory == .control {
                throw .invalidEventType(type.debugDescription, reason: "it contains a control character")
            }
        }
        if payloadBytes > Limits.eventMaxBytes {
            throw .limitExceeded(
                .eventTooLarge(eventID: id, sizeBytes: payloadBytes, limitBytes: Limits.eventMaxBytes))
        }
    }
}

/// An event as stored: the appended event plus its stream, version, global
/// position and the time the store accepted it.
public struct RecordedEvent: Sendable, Hashable {
    /// Place in the whole log.
    public var position: GlobalPosition
    /// The stream it belongs to.
    public var stream: StreamName
    /// Place in its stream.
    public var version: StreamVersion
    /// The id given at append time.
    public var id: UUID
    /// The event type.
    public var type: String
    /// The payload bytes.
    public var data: Data
    /// The metadata bytes.
    public var metadata: Data
    /// Whether `data` is JSON.
    public var isJSON: Bool
    /// When the store accepted the append, in microseconds since 1970-01-01 UTC.
    public var timestampMicroseconds: Int64
    /// The id shared by every event of one business transaction or request.
    public var correlationID: UUID?
    /// The id of the event (or command) that caused this one.
    public var causationID: UUID?

    /// Creates a recorded event (stores and tests build these; applications read them).
    public init(
        position: GlobalPosition, stream: StreamName, version: StreamVersion, id: UUID, type: String,
        data: Data, metadata: Data, isJSON: Bool, timestampMicroseconds: Int64,
        correlationID: UUID? = nil, causationID: UUID? = nil
    ) {
        self.correlationID = correlationID
        self.causationID = causationID
        self.position = position
        self.stream = stream
        self.version = version
        self.id = id
        self.type = type
        self.data = data
        self.metadata = metadata
        self.isJSON = isJSON
        self.timestampMicroseconds = timestampMicroseconds
    }

    /// When the store accepted the append.
    public var timestamp: Date { Date(timeIntervalSince1970: Double(timestampMicroseconds) / 1_000_000) }
}

/// What a successful append tells the caller.
public struct AppendResult: Sendable, Hashable {
    /// The stream's version after the append (pass it as the next expected version).
    public var nextExpectedVersion: StreamVersion
    /// Global position of the first event written (of the original write, for an idempotent retry).
    public var firstPosition: GlobalPosition
    /// Global position of the last event written.
    public var lastPosition: GlobalPosition

    /// Creates a result.
    public init(nextExpectedVersion: StreamVersion, firstPosition: GlobalPosition, lastPosition: GlobalPosition) {
        self.nextExpectedVersion = nextExpectedVersion
        self.firstPosition = firstPosition
        self.lastPosition = lastPosition
    }

    /// The version of the first event written.
    /// - Parameter eventCount: How many events the append call wrote to this stream.
    public func firstVersion(eventCount: Int) -> StreamVersion {
        StreamVersion(nextExpectedVersion.rawValue - UInt64(eventCount) + 1)
    }
}

/// One stream's part of an append call.
public struct StreamAppend: Sendable, Hashable {
    /// The stream to append to.
    public var stream: StreamName
    /// What the caller believes the stream's version is.
    public var expectedVersion: ExpectedVersion
    /// The events, in order.
    public var events: [EventData]

    /// Creates one stream's part of an append call.
    public init(stream: StreamName, expectedVersion: ExpectedVersion = .any, events: [EventData]) {
        self.stream = stream
        self.expectedVersion = expectedVersion
        self.events = events
    }
}

/// Which way a read goes.
public enum ReadDirection: Sendable, Hashable {
    /// Ascending versions or positions.
    case forward
    /// Descending versions or positions.
    case backward
}
