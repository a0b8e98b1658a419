// A store that runs a hook before each append, so a test can place another
// writer's whole command exactly between a load and its save: a version
// conflict on demand, without timing tricks.
import EventSourcing
import Foundation
import Synchronization

struct HookedEventStore: EventStore {
    let inner: any EventStore
    /// Called with the 0-based number of the append call, before it reaches `inner`.
    let beforeAppend: @Sendable (Int) async throws -> Void
    private let appendCount = Counter()

    init(inner: any EventStore, beforeAppend: @escaping @Sendable (Int) async throws -> Void) {
        self.inner = inner
        self.beforeAppend = beforeAppend
    }

    func append(_ events: [EventData], to stream: StreamName, expectedVersion: ExpectedVersion) async throws -> AppendResult {
        try await beforeAppend(appendCount.next())
        return try await inner.append(events, to: stream, expectedVersion: expectedVersion)
    }

    func append(_ parts: [StreamAppend]) async throws -> [AppendResult] {
        try await beforeAppend(appendCount.next())
        return try await inner.append(parts)
    }

    func readStream(_ stream: StreamName, from version: StreamVersion, direction: ReadDirection, maxCount: Int) async throws -> [RecordedEvent] {
        try await inner.readStream(stream, from: version, direction: direction, maxCount: maxCount)
    }

    func readAll(from position: GlobalPosition, direction: ReadDirection, maxCount: Int) async throws -> [RecordedEvent] {
        try await inner.readAll(from: position, direction: direction, maxCount: maxCount)
    }

    func streamVersion(_ stream: StreamName) async throws -> StreamVersion { try await inner.streamVersion(stream) }
    func lastPosition() async throws -> GlobalPosition { try await inner.lastPosition() }
    func firstPosition(atOrAfter timestamp: Date) async throws -> GlobalPosition? { try await inner.firstPosition(atOrAfter: timestamp) }
    func subscribeToAll(from position: GlobalPosition, filter: EventFilter) -> EventSubscription { inner.subscribeToAll(from: position, filter: filter) }
    func subscribe(to stream: StreamName, from version: StreamVersion) -> EventSubscription { inner.subscribe(to: stream, from: version) }
    func saveSnapshot(_ snapshot: Snapshot) async throws { try await inner.saveSnapshot(snapshot) }
    func loadSnapshot(of stream: StreamName) async throws -> Snapshot? { try await inner.loadSnapshot(of: stream) }
    func deleteStream(_ stream: StreamName, expectedVersion: ExpectedVersion, hard: Bool) async throws {
        try await inner.deleteStream(stream, expectedVersion: expectedVersion, hard: hard)
    }
    func truncateStream(_ stream: StreamName, before version: StreamVersion) async throws {
        try await inner.truncateStream(stream, before: version)
    }

    func setStreamMetadata(_ metadata: StreamMetadata, for stream: StreamName) async throws {
        try await inner.setStreamMetadata(metadata, for: stream)
    }

    func streamMetadata(of stream: StreamName) async throws -> StreamMetadata {
        try await inner.streamMetadata(of: stream)
    }
}

/// A thread-safe counter.
final class Counter: Sendable {
    private let value = Mutex(0)

    /// The current value, then increments it.
    func next() -> Int {
        value.withLock { value in
            defer { value += 1 }
            return value
        }
    }

    var current: Int { value.withLock { $0 } }
}
