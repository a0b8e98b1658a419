// An EventStore that keeps everything in memory: the oracle for property and
// differential tests of the file engine, and a store for tests and prototypes
// of applications. It keeps every rule of the protocol, so code that works on
// it works on the file store.
import Foundation
import Synchronization

/// A complete, thread-safe ``EventStore`` held in memory.
///
/// All state sits in one `Mutex` that is held only for synchronous work, never
/// across a suspension. Subscribers that have caught up suspend on
/// continuations that `append` resumes: no polling.
///
/// Choices where the protocol leaves room (the file store should make the same):
/// - Deleting a stream drops its snapshot (it describes events that are gone);
///   truncating keeps it (truncation usually follows a snapshot).
/// - `truncateStream(_:before:)` with a version past the stream's end also hides
///   the events later appended below that version.
/// - Writing to a hard-deleted stream in any way (append, delete, truncate,
///   limits, snapshot) throws ``EventStoreError/streamDeleted(stream:)``; hard-deleting a
///   stream that never had events reserves its name.
/// - A snapshot must name a version the stream has (1...current), else
///   ``EventStoreError/invalidArgument(_:)``.
/// - A negative `maxCount` is ``EventStoreError/invalidArgument(_:)``.
/// - Timestamps are whole microseconds; a `Date` is rounded to the nearest one.
///
/// ```swift
/// let store = InMemoryEventStore()
/// try await store.append([EventData(type: "OrderCreated", data: json)], to: "order-1", expectedVersion: .noStream)
/// for try await event in store.subscribeToAll(from: .start, filter: .all) { print(event.type) }
/// ```
public final class InMemoryEventStore: EventStore {
    let log = Mutex(MemoryLog())
    /// Most events a subscriber takes from the store per lock hold.
    let subscriptionBatchSize: Int
    private let clock: @Sendable () -> Date

    /// Creates an empty store.
    /// - Parameters:
    ///   - subscriptionBatchSize: Most events a subscription fetches at a time
    ///     (bounds both its buffer and its time under the lock).
    ///   - clock: The time of each append; tests pass a fake clock to get
    ///     timestamps they control. Timestamps never decrease even if it does.
    public init(subscriptionBatchSize: Int = 256, clock: @escaping @Sendable () -> Date = { Date() }) {
        precondition(subscriptionBatchSize > 0, "a subscription batch holds at least one event")
        self.subscriptionBatchSize = subscriptionBatchSize
        self.clock = clock
    }

    /// Closes the store: every later call throws ``EventStoreError/closed``, and
    /// every subscription throws it on its next pull (waiting ones at once).
    /// Closing twice is harmless.
    public func close() {
        let woken = log.withLock { log in
            log.isClosed = true
            return log.takeAllWaiters()
        }
        for continuation in woken { continuation.resume() }
    }

    // MARK: Appending

    /// Appends `events` to `stream` as one atomic unit.
    /// - Throws: First the input errors of ``AppendValidation/validate(_:)``, then
    ///   ``EventStoreError/closed``, ``EventStoreError/streamDeleted(stream:)``,
    ///   ``EventStoreError/wrongExpectedVersion(stream:expected:actual:)`` or
    ///   ``EventStoreError/idempotencyConflict(stream:reason:)``; none writes anything.
    /// - Complexity: O(events + waiting subscribers), plus O(events) id comparisons for a retry.
    nonisolated(nonsending) public func append(
        _ events: [EventData], to stream: StreamName, expectedVersion: ExpectedVersion
    ) async throws -> AppendResult {
        try appendNow([StreamAppend(stream: stream, expectedVersion: expectedVersion, events: events)])[0]
    }

    /// Appends to several streams as one atomic unit.
    /// - Throws: As ``append(_:to:expectedVersion:)``, for the first part that fails;
    ///   ``EventStoreError/invalidArgument(_:)`` for a stream named in two parts;
    ///   ``EventStoreError/idempotencyConflict(stream:reason:)`` when only some parts
    ///   are a retry. Nothing is written in any part.
    /// - Complexity: O(events + waiting subscribers), plus O(events) id comparisons for a retry.
    nonisolated(nonsending) public func append(_ parts: [StreamAppend]) async throws -> [AppendResult] {
        try appendNow(parts)
    }

    private func appendNow(_ parts: [StreamAppend]) throws(EventStoreError) -> [AppendResult] {
        _ = try AppendValidation.validate(parts)
        let now = Timestamps.microseconds(of: clock())  // Outside the lock: the clock is the caller's code.
        let (results, woken) = try log.withLock { log throws(EventStoreError) in
            let results = try log.append(parts, timestampMicroseconds: log.nextTimestamp(now: now))
            return (results, log.takeWaiters(for: Set(parts.map(\.stream))))
        }
        for continuation in woken { continuation.resume() }
        return results
    }

    // MARK: Reading

    /// Reads up to `maxCount` visible events of `stream`.
    /// - Throws: ``EventStoreError/invalidArgument(_:)`` for a negative `maxCount`,
    ///   ``EventStoreError/closed``.
    /// - Complexity: O(versions scanned): the events returned, plus those among them
    ///   that the age limit hides or ``compact()`` removed.
    public func readStream(
        _ stream: StreamName, from version: StreamVersion, direction: ReadDirection, maxCount: Int
    ) async throws -> [RecordedEvent] {
        try AppendValidation.checkMaxCount(maxCount)
        let now = currentMicroseconds()
        return try log.withLock { log throws(EventStoreError) in
            try log.checkOpen()
            return log.readStream(stream, from: version.rawValue, direction: direction, maxCount: maxCount, now: now)
        }
    }

    /// Reads up to `maxCount` visible events of the whole log.
    /// - Throws: ``EventStoreError/invalidArgument(_:)`` for a negative `maxCount`,
    ///   ``EventStoreError/closed``.
    /// - Complexity: O(positions scanned), hidden events included.
    public func readAll(from position: GlobalPosition, direction: ReadDirection, maxCount: Int) async throws -> [RecordedEvent] {
        try AppendValidation.checkMaxCount(maxCount)
        let now = currentMicroseconds()
        return try log.withLock { log throws(EventStoreError) in
            try log.checkOpen()
            return log.readAll(from: position.rawValue, direction: direction, maxCount: maxCount, now: now)
        }
    }

    /// The stream's current version (not lowered by truncation or deletion).
    /// - Throws: ``EventStoreError/closed``.
    public func streamVersion(_ stream: StreamName) async throws -> StreamVersion {
        try log.withLock { log throws(EventStoreError) in
            try log.checkOpen()
            return StreamVersion(log.streams[stream]?.version ?? 0)
        }
    }

    /// The last position written (0 for an empty store).
    /// - Throws: ``EventStoreError/closed``.
    public func lastPosition() async throws -> GlobalPosition {
        try log.withLock { log throws(EventStoreError) in
            try log.checkOpen()
            return GlobalPosition(log.lastPosition)
        }
    }

    /// The first position appended at or after `timestamp` (to the microsecond);
    /// hidden events count, events ``compact()`` removed do not.
    /// - Throws: ``EventStoreError/closed``.
    /// - Complexity: O(log events), plus the removed positions skipped after the match.
    public func firstPosition(atOrAfter timestamp: Date) async throws -> GlobalPosition? {
        let microseconds = Timestamps.microseconds(of: timestamp)
        return try log.withLock { log throws(EventStoreError) in
            try log.checkOpen()
            return log.firstPosition(atOrAfterMicroseconds: microseconds).map { GlobalPosition($0) }
        }
    }

    // MARK: Subscribing

    /// Every visible event matching `filter` from `position` on.
    public func subscribeToAll(from position: GlobalPosition, filter: EventFilter) -> EventSubscription {
        EventSubscription { MemoryPuller(store: self, source: .all(filter), from: max(position.rawValue, 1)) }
    }

    /// Every visible event of `stream` from `version` on.
    public func subscribe(to stream: StreamName, from version: StreamVersion) -> EventSubscription {
        EventSubscription { MemoryPuller(store: self, source: .stream(stream), from: max(version.rawValue, 1)) }
    }

    // MARK: Snapshots

    /// Stores `snapshot` as its stream's latest.
    /// - Throws: ``EventStoreError/invalidArgument(_:)`` if the stream has no such
    ///   version; ``EventStoreError/streamDeleted(stream:)`` after a hard delete;
    ///   ``EventStoreError/closed``.
    public func saveSnapshot(_ snapshot: Snapshot) async throws {
        try log.withLock { log throws(EventStoreError) in
            try log.checkOpen()
            let stream = log.streams[snapshot.stream] ?? MemoryStream()
            if stream.isTombstoned { throw .streamDeleted(stream: snapshot.stream) }
            guard snapshot.version.rawValue >= 1, snapshot.version.rawValue <= stream.version else {
                throw .invalidArgument(
                    "snapshot of '\(snapshot.stream)' at version \(snapshot.version), but the stream is at version \(stream.version)")
            }
            log.snapshots[snapshot.stream] = snapshot
        }
    }

    /// The latest snapshot of `stream`, or nil.
    /// - Throws: ``EventStoreError/closed``.
    public func loadSnapshot(of stream: StreamName) async throws -> Snapshot? {
        try log.withLock { log throws(EventStoreError) in
            try log.checkOpen()
            return log.snapshots[stream]
        }
    }

    // MARK: Deleting

    /// Deletes `stream`, soft or hard, once its version satisfies `expectedVersion`,
    /// and drops its snapshot.
    /// - Throws: ``EventStoreError/closed``, ``EventStoreError/streamDeleted(stream:)``
    ///   if it was already hard-deleted, or
    ///   ``EventStoreError/wrongExpectedVersion(stream:expected:actual:)`` (nothing deleted).
    public func deleteStream(_ stream: StreamName, expectedVersion: ExpectedVersion, hard: Bool) async throws {
        try log.withLock { log throws(EventStoreError) in
            try log.checkOpen()
            var entry = log.streams[stream] ?? MemoryStream()
            if entry.isTombstoned { throw .streamDeleted(stream: stream) }
            guard expectedVersion.isSatisfied(by: StreamVersion(entry.version)) else {
                throw .wrongExpectedVersion(stream: stream, expected: expectedVersion, actual: StreamVersion(entry.version))
            }
            if hard {
                entry.isTombstoned = true
            } else {
                entry.visibleFromVersion = entry.version + 1
            }
            log.streams[stream] = entry
            log.snapshots[stream] = nil
        }
    }

    /// Forgets the events that stream rules hide, as the file store's compaction
    /// does (each stream's last event is kept unless the stream is hard-deleted):
    /// reads do not change, and a retry of a call whose events are gone is no
    /// longer recognised. The model that differential tests compare compaction with.
    /// - Complexity: O(events): every stream's every event is looked at.
    public func compact() {
        let now = currentMicroseconds()
        log.withLock { $0.compact(now: now) }
    }

    /// The store's clock now, in its unit. Read outside the lock: the clock is the caller's code.
    func currentMicroseconds() -> Int64 { Timestamps.microseconds(of: clock()) }

    // MARK: Stream limits

    /// Sets `stream`'s count and age limits (nil removes one) and raises its
    /// truncation if `truncateBefore` is given.
    /// - Throws: ``EventStoreError/invalidArgument(_:)`` for out-of-range limits,
    ///   ``EventStoreError/streamDeleted(stream:)`` after a hard delete,
    ///   ``EventStoreError/closed``.
    public func setStreamMetadata(_ metadata: StreamMetadata, for stream: StreamName) async throws {
        try metadata.validate()
        try log.withLock { log throws(EventStoreError) in
            try log.checkOpen()
            var entry = log.streams[stream] ?? MemoryStream()
            if entry.isTombstoned { throw .streamDeleted(stream: stream) }
            entry.maxCount = UInt64(metadata.maxCount ?? 0)
            entry.maxAgeMicroseconds = metadata.maxAgeMicroseconds
            if let truncateBefore = metadata.truncateBefore {
                entry.visibleFromVersion = max(entry.visibleFromVersion, truncateBefore.rawValue)
            }
            log.streams[stream] = entry
        }
    }

    /// The limits on `stream` (`truncateBefore` set by truncation and soft deletion too).
    /// - Throws: ``EventStoreError/closed``.
    public func streamMetadata(of stream: StreamName) async throws -> StreamMetadata {
        try log.withLock { log throws(EventStoreError) in
            try log.checkOpen()
            guard let entry = log.streams[stream] else { return StreamMetadata() }
            return StreamMetadata(
                maxCount: entry.maxCount > 0 ? Int(entry.maxCount) : nil,
                maxAge: entry.maxAgeMicroseconds > 0 ? .microseconds(entry.maxAgeMicroseconds) : nil,
                truncateBefore: entry.visibleFromVersion > 1 ? StreamVersion(entry.visibleFromVersion) : nil)
        }
    }

    /// Hides the events of `stream` below `version` (a lower version than the
    /// current truncation changes nothing).
    /// - Throws: ``EventStoreError/closed``, ``EventStoreError/streamDeleted(stream:)``
    ///   after a hard delete.
    public func truncateStream(_ stream: StreamName, before version: StreamVersion) async throws {
        try log.withLock { log throws(EventStoreError) in
            try log.checkOpen()
            var entry = log.streams[stream] ?? MemoryStream()
            if entry.isTombstoned { throw .streamDeleted(stream: stream) }
            entry.visibleFromVersion = max(entry.visibleFromVersion, version.rawValue)
            log.streams[stream] = entry
        }
    }
}
