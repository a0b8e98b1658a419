// The contract between a domain layer and the store under it. The file store
// (EventLog.FileEventStore) and InMemoryEventStore both implement it, and the
// EventStoreConformance suite checks every rule stated here against both.
import Foundation

/// An append-only store of events in streams, with a global order.
///
/// Rules every implementation keeps (the conformance suite checks each):
/// - Stream versions are 1-based and dense; global positions are 1-based, dense at
///   append time, never reused and never changed.
/// - An append call is atomic (all its events, in all its streams, or none) and is
///   checked against each part's ``ExpectedVersion`` first; a mismatch throws
///   ``EventStoreError/wrongExpectedVersion(stream:expected:actual:)`` carrying the
///   stream's current version, and writes nothing.
/// - Appending the same event ids again at the expected version they were first
///   written with returns the original result and writes nothing; ids that partly
///   match throw ``EventStoreError/idempotencyConflict(stream:reason:)``.
/// - An event is visible to reads and subscriptions once its append returned, and
///   only then.
/// - Subscriptions deliver every matching event from their start, in position
///   order, with no gap and no duplicate, then follow new events live.
/// - Truncated and deleted events disappear from every read and subscription at
///   once; positions of the remaining events do not change.
///
/// Errors are ``EventStoreError`` values. Each requirement lists the cases its
/// rules call for; besides those, every throwing call throws
/// ``EventStoreError/closed`` once the store is closed, and a store on disk also
/// throws what its medium reports: ``EventStoreError/readOnly(path:)`` for a write
/// to a store opened read-only, ``EventStoreError/corrupted(file:offset:reason:)``,
/// ``EventStoreError/io(operation:path:errno:message:)`` and, from appends,
/// ``EventStoreError/writerFailed(reason:)``.
public protocol EventStore: Sendable {
    /// Appends `events` to `stream` as one atomic unit.
    ///
    /// Both appends are `nonisolated(nonsending)`: they run on the caller's actor,
    /// so an appender on an actor (the main actor, an application service's) does
    /// not hop to the cooperative pool and back for each call. An implementation
    /// keeps waiting for the disk off the caller's actor (the file store hands a
    /// call that needs a sync to its writer thread).
    /// - Parameters:
    ///   - events: The events in order; at least one.
    ///   - stream: The stream to append to.
    ///   - expectedVersion: What the stream's version must be for the call to write.
    /// - Returns: The stream's next expected version and the positions written (for
    ///   a retry, those of the original call).
    /// - Throws: Bad input, checked before the stream is looked at:
    ///   ``EventStoreError/emptyAppend``, ``EventStoreError/invalidEventType(_:reason:)``,
    ///   ``EventStoreError/limitExceeded(_:)``, ``EventStoreError/duplicateEventID(_:)``.
    ///   Then ``EventStoreError/streamDeleted(stream:)`` after a hard delete,
    ///   ``EventStoreError/wrongExpectedVersion(stream:expected:actual:)``,
    ///   ``EventStoreError/idempotencyConflict(stream:reason:)``. None of these
    ///   writes anything. Plus the errors every call may throw (see ``EventStore``).
    nonisolated(nonsending) func append(_ events: [EventData], to stream: StreamName, expectedVersion: ExpectedVersion) async throws -> AppendResult

    /// Appends to several streams as one atomic unit; each part has its own expected version.
    /// - Parameter parts: At least one part, each with at least one event, no stream twice.
    /// - Returns: One result per part, in order.
    /// - Throws: As ``append(_:to:expectedVersion:)``, for the first part that
    ///   fails (and then no part is written); ``EventStoreError/emptyAppend`` for no
    ///   parts, ``EventStoreError/invalidArgument(_:)`` for a stream named in two parts,
    ///   ``EventStoreError/idempotencyConflict(stream:reason:)`` when some parts are a
    ///   retry of an earlier call and others are not.
    nonisolated(nonsending) func append(_ parts: [StreamAppend]) async throws -> [AppendResult]

    /// Reads up to `maxCount` events of `stream`, starting at version `from` and going
    /// `direction`. Use ``StreamVersion/end`` with `.backward` to start at the last
    /// event. A stream with no (visible) events reads as empty.
    /// - Throws: The errors every call may throw (see ``EventStore``); both stores
    ///   of this package also throw ``EventStoreError/invalidArgument(_:)`` for a
    ///   negative `maxCount`.
    func readStream(
        _ stream: StreamName, from version: StreamVersion, direction: ReadDirection, maxCount: Int
    ) async throws -> [RecordedEvent]

    /// Reads up to `maxCount` events of the whole log, starting at `position` and going
    /// `direction`. Use ``GlobalPosition/end`` with `.backward` to start at the last event.
    /// - Throws: The errors every call may throw (see ``EventStore``); both stores
    ///   of this package also throw ``EventStoreError/invalidArgument(_:)`` for a
    ///   negative `maxCount`.
    func readAll(from position: GlobalPosition, direction: ReadDirection, maxCount: Int) async throws -> [RecordedEvent]

    /// The stream's current version: its last event's version, 0 if it never had one.
    /// Truncation and soft deletion do not lower it.
    /// - Throws: Only the errors every call may throw (see ``EventStore``).
    func streamVersion(_ stream: StreamName) async throws -> StreamVersion

    /// The last position written (0 for an empty store).
    /// - Throws: Only the errors every call may throw (see ``EventStore``).
    func lastPosition() async throws -> GlobalPosition

    /// The first position whose event was appended at or after `timestamp`, or nil if none was.
    /// - Throws: Only the errors every call may throw (see ``EventStore``).
    func firstPosition(atOrAfter timestamp: Date) async throws -> GlobalPosition?

    /// Every event matching `filter` from `position` on (history, then live).
    /// Errors surface while iterating (see ``EventSubscription/Iterator/next()``).
    func subscribeToAll(from position: GlobalPosition, filter: EventFilter) -> EventSubscription

    /// Every event of `stream` from `version` on (history, then live).
    /// Errors surface while iterating (see ``EventSubscription/Iterator/next()``).
    func subscribe(to stream: StreamName, from version: StreamVersion) -> EventSubscription

    /// Stores `snapshot` as the latest for its stream, replacing any earlier one.
    /// - Throws: The errors every call may throw (see ``EventStore``). Both stores
    ///   of this package also throw ``EventStoreError/streamDeleted(stream:)`` after
    ///   a hard delete, and ``EventStoreError/invalidArgument(_:)`` when the stream
    ///   has no version `snapshot.version` (below 1 or past its current version).
    func saveSnapshot(_ snapshot: Snapshot) async throws

    /// The latest snapshot of `stream`, or nil. A damaged snapshot is reported as nil
    /// (callers fall back to replaying events), never returned.
    /// - Throws: Only the errors every call may throw (see ``EventStore``), never
    ///   for a damaged snapshot.
    func loadSnapshot(of stream: StreamName) async throws -> Snapshot?

    /// Deletes `stream`. Soft (`hard == false`): its events disappear from reads, and
    /// appending again continues at the next version. Hard: a tombstone; the stream
    /// name can never be appended to again (``EventStoreError/streamDeleted(stream:)``).
    /// - Throws: ``EventStoreError/wrongExpectedVersion(stream:expected:actual:)``
    ///   (nothing deleted), plus the errors every call may throw (see ``EventStore``).
    ///   Both stores of this package also throw ``EventStoreError/streamDeleted(stream:)``
    ///   if the stream was already hard-deleted.
    func deleteStream(_ stream: StreamName, expectedVersion: ExpectedVersion, hard: Bool) async throws

    /// Makes the events of `stream` before `version` disappear from reads.
    /// Truncation never goes back: a lower `version` than the stream's current
    /// truncation changes nothing.
    /// - Throws: The errors every call may throw (see ``EventStore``). Both stores
    ///   of this package also throw ``EventStoreError/streamDeleted(stream:)`` after
    ///   a hard delete.
    func truncateStream(_ stream: StreamName, before version: StreamVersion) async throws

    /// Sets the limits on what stays visible of `stream`: `maxCount` and `maxAge`
    /// replace the stream's (nil removes a limit); `truncateBefore`, if given, raises
    /// the truncation as ``truncateStream(_:before:)`` does. Takes effect on every
    /// read and subscription at once.
    /// - Throws: ``EventStoreError/invalidArgument(_:)`` for out-of-range limits,
    ///   ``EventStoreError/streamDeleted(stream:)`` after a hard delete, plus the
    ///   errors every call may throw (see ``EventStore``).
    func setStreamMetadata(_ metadata: StreamMetadata, for stream: StreamName) async throws

    /// The limits on `stream` (every field nil if none was ever set; `truncateBefore`
    /// set by truncation or soft deletion too).
    /// - Throws: Only the errors every call may throw (see ``EventStore``).
    func streamMetadata(of stream: StreamName) async throws -> StreamMetadata
}

extension EventStore {
    /// Truncates `stream` up to its latest snapshot: the events the snapshot
    /// summarises (versions 1 through the snapshot's) disappear from reads, and
    /// compaction can then reclaim them. The snapshot becomes the only record of
    /// what they did: if it is later lost, damaged or of an old schema, the
    /// aggregate can only be rebuilt from the events after it.
    /// - Returns: The snapshot's version, or nil (and nothing truncated) when the stream has no snapshot.
    /// - Throws: What ``loadSnapshot(of:)`` and ``truncateStream(_:before:)`` throw,
    ///   such as ``EventStoreError/closed``, or ``EventStoreError/readOnly(path:)``
    ///   from a read-only file store when there is a snapshot. (Deleting a stream
    ///   drops its snapshot, so a hard-deleted stream normally returns nil rather
    ///   than throwing ``EventStoreError/streamDeleted(stream:)``.)
    @discardableResult
    public func truncateToLatestSnapshot(of stream: StreamName) async throws -> StreamVersion? {
        guard let snapshot = try await loadSnapshot(of: stream) else { return nil }
        try await truncateStream(stream, before: StreamVersion(snapshot.version.rawValue + 1))
        return snapshot.version
    }

    /// Appends with `.any` expected version.
    /// - Returns: As ``append(_:to:expectedVersion:)``.
    /// - Throws: As ``append(_:to:expectedVersion:)``, except that `.any` never
    ///   throws ``EventStoreError/wrongExpectedVersion(stream:expected:actual:)``.
    @discardableResult
    nonisolated(nonsending) public func append(_ events: [EventData], to stream: StreamName) async throws -> AppendResult {
        try await append(events, to: stream, expectedVersion: .any)
    }

    /// Reads a whole stream forward.
    ///
    /// (Named apart from `readStream(_:from:direction:maxCount:)` on purpose: a
    /// store's own synchronous reads with default arguments stay callable without
    /// `await`, which an async overload of the same name would prevent.)
    /// - Throws: What ``readStream(_:from:direction:maxCount:)`` throws.
    /// - Complexity: That of reading every visible event of the stream; all of
    ///   them are held in memory at once.
    public func readWholeStream(_ stream: StreamName) async throws -> [RecordedEvent] {
        try await readStream(stream, from: 1, direction: .forward, maxCount: .max)
    }

    /// Reads the whole log forward.
    /// - Throws: What ``readAll(from:direction:maxCount:)`` throws.
    /// - Complexity: That of reading every visible event of the log; all of them
    ///   are held in memory at once (page with ``readAll(from:direction:maxCount:)``
    ///   for a large log).
    public func readWholeLog() async throws -> [RecordedEvent] {
        try await readAll(from: .start, direction: .forward, maxCount: .max)
    }
}

extension StreamVersion {
    /// "The last version", for backward reads.
    public static let end = StreamVersion(UInt64.max)
}

extension GlobalPosition {
    /// "The last position", for backward reads.
    public static let end = GlobalPosition(UInt64.max)
}

/// Which events a subscription or filtered read delivers. Empty sets mean "any".
public struct EventFilter: Sendable, Hashable {
    /// Only these streams (empty: any stream).
    public var streams: Set<StreamName>
    /// Only streams of these categories (the part of the name before the first `-`).
    public var categories: Set<String>
    /// Only these event types.
    public var eventTypes: Set<String>

    /// A filter; every argument empty means every event.
    public init(streams: Set<StreamName> = [], categories: Set<String> = [], eventTypes: Set<String> = []) {
        self.streams = streams
        self.categories = categories
        self.eventTypes = eventTypes
    }

    /// Every event.
    public static let all = EventFilter()

    /// Whether `event` passes the filter.
    public func matches(_ event: RecordedEvent) -> Bool {
        (streams.isEmpty || streams.contains(event.stream))
            && (categories.isEmpty || categories.contains(event.stream.category))
            && (eventTypes.isEmpty || eventTypes.contains(event.type))
    }
}

/// A stream's saved state at a version, so an aggregate loads without replaying
/// every event.
public struct Snapshot: Sendable, Hashable {
    /// The stream it summarises.
    public var stream: StreamName
    /// The stream version the state reflects (events after it are replayed on top).
    public var version: StreamVersion
    /// The version of the state's own encoding, for migrating old snapshots.
    public var schemaVersion: Int
    /// The encoded state.
    public var state: Data

    /// Creates a snapshot.
    public init(stream: StreamName, version: StreamVersion, schemaVersion: Int = 1, state: Data) {
        self.stream = stream
        self.version = version
        self.schemaVersion = schemaVersion
        self.state = state
    }
}

/// A catch-up subscription: the matching history first, then live events, pulled
/// one at a time at the subscriber's own pace (nothing is buffered without bound).
///
/// Iteration ends (returns nil) when the subscribing task is cancelled; it throws
/// ``EventStoreError/closed`` when the store closes.
public struct EventSubscription: AsyncSequence, Sendable {
    /// Each element is one stored event, in position order.
    public typealias Element = RecordedEvent

    private let makePuller: @Sendable () -> any EventPuller

    /// Creates a subscription from a factory of pullers (one per iteration).
    public init(_ makePuller: @escaping @Sendable () -> any EventPuller) {
        self.makePuller = makePuller
    }

    /// Starts an iteration with a puller of its own, so two loops over one
    /// subscription each receive every event.
    public func makeAsyncIterator() -> Iterator { Iterator(puller: makePuller()) }

    /// Pulls the next event from the store.
    public struct Iterator: AsyncIteratorProtocol {
        let puller: any EventPuller
        /// Events pulled and not yet delivered: at most one batch of the puller's.
        private var buffer: [RecordedEvent] = []
        private var index = 0

        init(puller: any EventPuller) { self.puller = puller }

        /// The next event the subscription delivers, suspending until one is
        /// appended if the subscriber has caught up.
        /// - Returns: The event, or nil once the iterating task is cancelled.
        /// - Throws: ``EventStoreError/closed`` when the store closes, or the
        ///   ``EventStoreError`` a failed read of the store reports (such as
        ///   `corrupted` or `io` from a file store).
        public mutating func next() async throws -> RecordedEvent? {
            try await next(isolation: nil)
        }

        /// The next event, as ``next()``, running on the caller's actor (what
        /// `for try await` calls): a subscriber iterating on an actor (the main
        /// actor, a projection's) takes buffered events without leaving it, and
        /// only a batch read goes off the actor, to the puller. Through `next()`
        /// alone, every event cost a hop off the actor and back (a subscription
        /// iterated on the main actor delivered about 40,000 events/s against
        /// 4 million off it: `EventSubscriptionIsolationTests`).
        public mutating func next(isolation actor: isolated (any Actor)?) async throws -> RecordedEvent? {
            // Most calls are served from the buffer, without a call into the puller.
            if index == buffer.count {
                index = 0
                var batch: [RecordedEvent] = []
                swap(&batch, &buffer)
                batch.removeAll(keepingCapacity: true)
                guard let filled = try await Self.pull(Pulling(puller: puller), into: consume batch) else { return nil }
                buffer = filled
            }
            index += 1
            return buffer[index - 1]
        }

        /// The iterator's puller on its way to a batch read off the caller's actor.
        /// An iterator is used by one task at a time, and so is its puller: only
        /// the compiler cannot see it, since a puller need not be `Sendable`.
        private struct Pulling: @unchecked Sendable {
            let puller: any EventPuller
        }

        /// The next batch appended to `batch` (its storage reused), or nil once
        /// the puller says the iteration is over.
        private static func pull(_ pulling: Pulling, into batch: consuming [RecordedEvent]) async throws -> [RecordedEvent]? {
            guard try await pulling.puller.nextBatch(into: &batch), !batch.isEmpty else { return nil }
            return batch
        }
    }
}

/// What a store implements to feed a subscription.
public protocol EventPuller: AnyObject {
    /// The next event, waiting for one if the subscriber has caught up; nil once
    /// cancelled.
    func next() async throws -> RecordedEvent?

    /// Appends the next events to `events` (at least one), waiting for one if the
    /// subscriber has caught up. A puller that reads in batches hands over a whole
    /// batch, so the iterator calls it once per batch rather than once per event.
    /// - Returns: False once cancelled (nothing appended).
    /// - Throws: What ``next()`` throws.
    func nextBatch(into events: inout [RecordedEvent]) async throws -> Bool
}

extension EventPuller {
    /// One event at a time, through ``next()``.
    public func nextBatch(into events: inout [RecordedEvent]) async throws -> Bool {
        guard let event = try await next() else { return false }
        events.append(event)
        return true
    }
}
