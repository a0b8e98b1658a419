import Dispatch
import EventSourcing
import Foundation
import Synchronization
import Testing

@testable import EventLog

/// A projection-like consumer that iterates a subscription on its own actor.
private actor Consumer {
    let executor = CountingExecutor()
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    func consume(_ subscription: EventSubscription, count: Int) async throws -> [GlobalPosition] {
        var positions: [GlobalPosition] = []
        for try await event in subscription {
            positions.append(event.position)
            if positions.count == count { break }
        }
        return positions
    }
}

@Suite struct EventSubscriptionIsolationTests {
    /// `for try await` on an actor calls the iterator's `next(isolation:)`: buffered
    /// events are handed out on the actor, and only a batch read leaves it. Through
    /// `next()` every event was a hop off the actor and back, one job on its
    /// executor per event (a main-actor subscriber got ~40,000 events/s).
    @Test func anActorIteratingASubscriptionLeavesItOncePerBatchNotPerEvent() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let store = try FileEventStore.open(directory: folder.path, options: StoreOptions(durability: .none))
        let eventCount = 5_000
        for start in stride(from: 0, to: eventCount, by: 500) {
            try await store.append((start..<start + 500).map { EventData(type: "E", data: Data([UInt8(truncatingIfNeeded: $0)])) }, to: "s-1")
        }
        let consumer = Consumer()
        let positions = try await consumer.consume(store.subscribeToAll(from: .start), count: eventCount)
        #expect(positions == (1...UInt64(eventCount)).map { GlobalPosition($0) }, "every event once, in order")
        let jobs = consumer.executor.jobs.load(ordering: .relaxed)
        // 5,000 events are 3 batches of up to 2,048: a few jobs per batch, not one per event.
        #expect(jobs < 50, "\(jobs) jobs on the consumer's executor for \(eventCount) events")
        try await store.close()
    }
}
