// A store with one deliberate bug, wrapped around a correct InMemoryEventStore:
// proof that the conformance suite and the differential runner catch real
// mistakes (a checker that passes every store checks nothing).
import EventSourcing
import Foundation

struct FaultyEventStore: EventStore {
    enum Fault: Sendable {
        /// Appends and deletes as if every expected version were `.any`.
        case ignoresExpectedVersions
        /// Subscriptions silently drop events whose position is a multiple of this.
        case subscriptionsSkipEvery(UInt64)
        /// Subscriptions deliver every event twice in a row (an at-least-once transport).
        case subscriptionsRepeatEachEvent
    }

    let inner = InMemoryEventStore()
    let fault: Fault

    func append(_ events: [EventData], to stream: StreamName, expectedVersion: ExpectedVersion) async throws -> AppendResult {
        try await append([StreamAppend(stream: stream, expectedVersion: expectedVersion, events: events)])[0]
    }

    func append(_ parts: [StreamAppend]) async throws -> [AppendResult] {
        guard case .ignoresExpectedVersions = fault else { return try await inner.append(parts) }
        return try await inner.append(parts.map { StreamAppend(stream: $0.stream, expectedVersion: .any, events: $0.events) })
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

    func subscribeToAll(from position: GlobalPosition, filter: EventFilter) -> EventSubscription {
        skipping(inner.subscribeToAll(from: position, filter: filter))
    }

    func subscribe(to stream: StreamName, from version: StreamVersion) -> EventSubscription {
        skipping(inner.subscribe(to: stream, from: version))
    }

    func saveSnapshot(_ snapshot: Snapshot) async throws { try await inner.saveSnapshot(snapshot) }
    func loadSnapshot(of stream: StreamName) async throws -> Snapshot? { try await inner.loadSnapshot(of: stream) }

    func deleteStream(_ stream: StreamName, expectedVersion: ExpectedVersion, hard: Bool) async throws {
        guard case .ignoresExpectedVersions = fault else {
            return try await inner.deleteStream(stream, expectedVersion: expectedVersion, hard: hard)
        }
        try await inner.deleteStream(stream, expectedVersion: .any, hard: hard)
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

    private func skipping(_ subscription: EventSubscription) -> EventSubscription {
        switch fault {
        case .ignoresExpectedVersions: subscription
        case .subscriptionsSkipEvery(let period):
            EventSubscription { SkippingPuller(iterator: subscription.makeAsyncIterator(), period: period) }
        case .subscriptionsRepeatEachEvent:
            EventSubscription { RepeatingPuller(iterator: subscription.makeAsyncIterator()) }
        }
    }
}

/// Passes events through, except those at a multiple of `period`.
private final class SkippingPuller: EventPuller {
    var iterator: EventSubscription.Iterator
    let period: UInt64

    init(iterator: EventSubscription.Iterator, period: UInt64) {
        self.iterator = iterator
        self.period = period
    }

    func next() async throws -> RecordedEvent? {
        while let event = try await iterator.next() {
            if event.position.rawValue % period != 0 { return event }
        }
        return nil
    }
}

/// Delivers each event twice.
private final class RepeatingPuller: EventPuller {
    var iterator: EventSubscription.Iterator
    var pending: RecordedEvent?

    init(iterator: EventSubscription.Iterator) { self.iterator = iterator }

    func next() async throws -> RecordedEvent? {
        if let repeated = pending {
            pending = nil
            return repeated
        }
        pending = try await iterator.next()
        return pending
    }
}
