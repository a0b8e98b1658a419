// A correct store that keeps snapshots across deletes (the protocol allows it,
// and the file store does): the repository must not build on a snapshot whose
// events are gone.
import EventSourcing
import Foundation
import Synchronization

struct SnapshotKeepingStore: EventStore {
    let inner = InMemoryEventStore()
    private let snapshots = SnapshotShelf()

    func saveSnapshot(_ snapshot: Snapshot) async throws {
        try await inner.saveSnapshot(snapshot)
        snapshots.put(snapshot)
    }

    func loadSnapshot(of stream: StreamName) async throws -> Snapshot? { snapshots.get(stream) }

    func append(_ events: [EventData], to stream: StreamName, expectedVersion: ExpectedVersion) async throws -> AppendResult {
        try await inner.append(events, to: stream, expectedVersion: expectedVersion)
    }
    func append(_ parts: [StreamAppend]) async throws -> [AppendResult] { try await inner.append(parts) }
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

private final class SnapshotShelf: Sendable {
    private let snapshots = Mutex<[StreamName: Snapshot]>([:])
    func put(_ snapshot: Snapshot) { snapshots.withLock { $0[snapshot.stream] = snapshot } }
    func get(_ stream: StreamName) -> Snapshot? { snapshots.withLock { $0[stream] } }
}
