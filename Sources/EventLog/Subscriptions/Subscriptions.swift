// Catch-up subscriptions: each subscriber pulls the log at its own pace through
// the ordinary read path (history), and parks on the position waiters once it has
// caught up (live). A slow subscriber costs the writer nothing: nothing is queued
// for it, it simply reads further behind.
import EventSourcing

extension FileEventStore {
    /// Every event passing `filter` from `position` on: the history, then live
    /// events as they are acknowledged, in position order with no gap and no duplicate.
    ///
    /// Iteration ends when the task is cancelled. It throws ``EventStoreError/closed``
    /// when the store closes, and the error of a failed read
    /// (``EventStoreError/corrupted(file:offset:reason:)``,
    /// ``EventStoreError/io(operation:path:errno:message:)``).
    /// - Parameter position: Where delivery starts (0 counts as 1).
    /// - Complexity: O(1) to create; nothing is read before the first pull.
    ///   Iteration reads through ``readAll(from:direction:maxCount:filter:)`` in
    ///   batches of 2,048 events, so a subscriber holds at most one batch.
    public func subscribeToAll(from position: GlobalPosition = .start, filter: EventFilter = .all) -> EventSubscription {
        EventSubscription { [self] in AllEventsPuller(store: self, from: max(position.rawValue, 1), filter: filter) }
    }

    /// Every event of `stream` from `version` on: the history, then live events.
    ///
    /// Iteration ends and throws as for ``subscribeToAll(from:filter:)``.
    /// - Parameter version: Where delivery starts (0 counts as 1).
    /// - Complexity: O(1) to create. Iteration reads through
    ///   ``readStream(_:from:direction:maxCount:)``, the stream's indexes and
    ///   never a log scan, in batches of 2,048 events.
    public func subscribe(to stream: StreamName, from version: StreamVersion = 1) -> EventSubscription {
        EventSubscription { [self] in StreamEventsPuller(store: self, stream: stream, from: max(version.rawValue, 1)) }
    }
}

/// How many events a subscriber reads per trip to the log: bounds its memory.
private let subscriptionBatchSize = 2_048

/// A puller that reads the log a batch at a time. The subscription's iterator takes
/// whole batches (``nextBatch(into:)``); ``next()`` hands one out event by event.
class BatchPuller: EventPuller {
    private var buffer: [RecordedEvent] = []
    private var index = 0

    /// Events read from the log and not yet handed out: at most one batch.
    var bufferedCount: Int { buffer.count - index }

    func next() async throws -> RecordedEvent? {
        if index == buffer.count {
            index = 0
            buffer.removeAll(keepingCapacity: true)
            guard try await nextBatch(into: &buffer) else { return nil }
        }
        index += 1
        return buffer[index - 1]
    }

    /// Appends the next batch; each subclass reads its own source.
    func nextBatch(into events: inout [RecordedEvent]) async throws -> Bool {
        preconditionFailure("\(type(of: self)) must read its batches")
    }
}

/// Pulls `$all` for one subscriber.
final class AllEventsPuller: BatchPuller {
    private let store: FileEventStore
    private let filter: EventFilter
    private var nextPosition: UInt64

    init(store: FileEventStore, from position: UInt64, filter: EventFilter) {
        self.store = store
        self.filter = filter
        nextPosition = position
    }

    override func nextBatch(into events: inout [RecordedEvent]) async throws -> Bool {
        while true {
            if Task.isCancelled { return false }
            store.followWriter()
            // Everything up to `end` is visible now; the read may see further.
            let end = store.lastPosition.rawValue
            let countBefore = events.count
            // Each event is built straight into the batch (no copy of a borrowed one).
            var names = RecordNames()
            try store.forEachRecord(
                from: GlobalPosition(nextPosition), direction: .forward, maxCount: subscriptionBatchSize, filter: filter
            ) { record in
                events.append(record.event(names: &names))
                return true
            }
            let read = events.count - countBefore
            if let last = events.last, read > 0 { nextPosition = last.position.rawValue + 1 }
            // A short batch means every matching event up to `end` was read: skip
            // the non-matching ones so the next read does not scan them again.
            if read < subscriptionBatchSize { nextPosition = max(nextPosition, end + 1) }
            if read > 0 { return true }
            if try await !store.shared.waiters.wait(untilVisible: nextPosition) { return false }
        }
    }
}

/// Pulls one stream for one subscriber, through the stream's index entries.
final class StreamEventsPuller: BatchPuller {
    private let store: FileEventStore
    private let stream: StreamName
    private var nextVersion: UInt64

    init(store: FileEventStore, stream: StreamName, from version: UInt64) {
        self.store = store
        self.stream = stream
        nextVersion = version
    }

    override func nextBatch(into events: inout [RecordedEvent]) async throws -> Bool {
        while true {
            if Task.isCancelled { return false }
            store.followWriter()
            let end = store.lastPosition.rawValue
            let batch = try store.readStream(stream, from: StreamVersion(nextVersion), direction: .forward, maxCount: subscriptionBatchSize)
            if let last = batch.last {
                nextVersion = last.version.rawValue + 1
                events.append(contentsOf: batch)
                return true
            }
            // Nothing new in the stream up to `end`: wait for the log to move past it.
            if try await !store.shared.waiters.wait(untilVisible: end + 1) { return false }
        }
    }
}

extension FileEventStore {
    /// A read-only store catches up with the writer of another process before a
    /// subscriber reads, and watches the folder for the next change.
    fileprivate func followWriter() {
        guard follower != nil else { return }
        // Watch first, then catch up: a position published in between still wakes us.
        startFollowing()
        _ = try? refresh()
    }
}
