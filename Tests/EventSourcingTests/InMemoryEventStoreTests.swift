// What the in-memory store adds to the protocol (close, an injectable clock,
// batched subscriptions) and the choices it makes where the protocol leaves
// room; the protocol's own rules are covered by the conformance suite.
import EventSourcing
import Foundation
import Synchronization
import Testing

@Suite struct InMemoryEventStoreTests {
    func events(_ count: Int, type: String = "E") -> [EventData] {
        (0..<count).map { EventData(type: type, data: Data("{\"n\":\($0)}".utf8)) }
    }

    @Test(.timeLimit(.minutes(3)))
    func closingFailsLaterCallsAndEndsSubscriptionsWithClosed() async throws {
        let store = InMemoryEventStore()
        _ = try await store.append(events(2), to: "a-1")
        let (caughtUp, signal) = AsyncStream<Void>.makeStream()
        let waiting = Task {
            var count = 0
            for try await _ in store.subscribeToAll(from: .start, filter: .all) {
                count += 1
                if count == 2 { signal.yield() }
            }
            return count
        }
        for await _ in caughtUp { break }
        store.close()
        await #expect(throws: EventStoreError.closed) { try await waiting.value }
        await #expect(throws: EventStoreError.closed) { try await store.append(self.events(1), to: "a-1") }
        await #expect(throws: EventStoreError.closed) { try await store.readWholeLog() }
        await #expect(throws: EventStoreError.closed) { try await store.lastPosition() }
        var late = store.subscribe(to: "a-1", from: 1).makeAsyncIterator()
        await #expect(throws: EventStoreError.closed) { try await late.next() }
        store.close()  // Harmless.
    }

    @Test func subscriptionsDeliverEverythingAcrossBatchBoundaries() async throws {
        let store = InMemoryEventStore(subscriptionBatchSize: 3)
        for number in 0..<20 { _ = try await store.append(events(1, type: number % 2 == 0 ? "Even" : "Odd"), to: "b-1") }
        var all = store.subscribeToAll(from: .start, filter: .all).makeAsyncIterator()
        var even = store.subscribeToAll(from: 2, filter: EventFilter(eventTypes: ["Even"])).makeAsyncIterator()
        var stream = store.subscribe(to: "b-1", from: 18).makeAsyncIterator()
        var positions: [UInt64] = []
        for _ in 0..<20 { positions.append(try #require(try await all.next()).position.rawValue) }
        #expect(positions == Array(1...20))
        var evens: [UInt64] = []
        for _ in 0..<9 { evens.append(try #require(try await even.next()).position.rawValue) }
        #expect(evens == Array(stride(from: 3, through: 19, by: 2)))
        #expect(try await stream.next()?.version == 18)
        #expect(try await stream.next()?.version == 19)
        #expect(try await stream.next()?.version == 20)
    }

    @Test func eventsDeletedAfterASubscriptionFetchedThemAreNotDelivered() async throws {
        let store = InMemoryEventStore(subscriptionBatchSize: 10)
        for _ in 0..<3 {
            _ = try await store.append(events(1), to: "keep-1")
            _ = try await store.append(events(1), to: "drop-1")
        }
        var subscription = store.subscribeToAll(from: .start, filter: .all).makeAsyncIterator()
        #expect(try await subscription.next()?.position == 1)  // Fetched positions 1...6 into its buffer.
        try await store.deleteStream("drop-1", expectedVersion: .any, hard: true)
        #expect(try await subscription.next()?.position == 3)
        #expect(try await subscription.next()?.position == 5)
    }

    @Test func timestampsComeFromTheClockAndNeverGoBackwards() async throws {
        // A clock that runs backwards after the first append.
        let clock = FakeClock(startMicroseconds: 2_000_000, stepMicroseconds: -500)
        let store = InMemoryEventStore(clock: { clock.now() })
        for _ in 0..<3 { _ = try await store.append(events(1), to: "t-1") }
        #expect(try await store.readWholeLog().map(\.timestampMicroseconds) == [2_000_000, 2_000_000, 2_000_000])
    }

    @Test func timesAreComparedToTheNearestMicrosecond() async throws {
        let clock = FakeClock(startMicroseconds: 1_700_000_000_000_000, stepMicroseconds: 1)
        let store = InMemoryEventStore(clock: { clock.now() })
        for _ in 0..<3 { _ = try await store.append(events(1), to: "t-1") }
        let second = try await store.readWholeLog()[1]
        #expect(try await store.firstPosition(atOrAfter: second.timestamp) == 2)
        // A Date this far from 2001 resolves about 0.12 µs, so stay well clear of the half.
        #expect(try await store.firstPosition(atOrAfter: second.timestamp.addingTimeInterval(0.000_000_2)) == 2)
        #expect(try await store.firstPosition(atOrAfter: second.timestamp.addingTimeInterval(0.000_000_8)) == 3)
    }

    @Test func truncatingPastTheEndAlsoHidesEventsAppendedBelowThatVersionLater() async throws {
        let store = InMemoryEventStore()
        _ = try await store.append(events(2), to: "t-1")
        try await store.truncateStream("t-1", before: 4)
        _ = try await store.append(events(3), to: "t-1")
        #expect(try await store.readWholeStream("t-1").map(\.version) == [4, 5])
    }

    @Test func deletingDropsTheSnapshotAndTruncatingKeepsIt() async throws {
        let store = InMemoryEventStore()
        _ = try await store.append(events(3), to: "s-1")
        _ = try await store.append(events(3), to: "s-2")
        for name: StreamName in ["s-1", "s-2"] { try await store.saveSnapshot(Snapshot(stream: name, version: 2, state: Data([1]))) }
        try await store.truncateStream("s-1", before: 2)
        try await store.deleteStream("s-2", expectedVersion: .any, hard: false)
        #expect(try await store.loadSnapshot(of: "s-1") != nil)
        #expect(try await store.loadSnapshot(of: "s-2") == nil)
    }

    @Test func writesToAHardDeletedStreamAreRefusedAndItsNameIsReservedEvenIfNeverWritten() async throws {
        let store = InMemoryEventStore()
        try await store.deleteStream("ghost-1", expectedVersion: .noStream, hard: true)
        let deleted = EventStoreError.streamDeleted(stream: "ghost-1")
        await #expect(throws: deleted) { try await store.append(self.events(1), to: "ghost-1") }
        await #expect(throws: deleted) { try await store.truncateStream("ghost-1", before: 1) }
        await #expect(throws: deleted) { try await store.deleteStream("ghost-1", expectedVersion: .any, hard: false) }
        await #expect(throws: deleted) { try await store.saveSnapshot(Snapshot(stream: "ghost-1", version: 1, state: Data())) }
    }

    @Test func argumentsOutOfRangeAreInvalid() async throws {
        let store = InMemoryEventStore()
        _ = try await store.append(events(2), to: "r-1")
        await #expect(throws: EventStoreError.self) { try await store.readAll(from: .start, direction: .forward, maxCount: -1) }
        await #expect(throws: EventStoreError.self) { try await store.saveSnapshot(Snapshot(stream: "r-1", version: 3, state: Data())) }
        await #expect(throws: EventStoreError.self) { try await store.saveSnapshot(Snapshot(stream: "r-1", version: 0, state: Data())) }
    }

    @Test func anAgeLimitHidesEventsAsTheClockMovesAndCompactionForgetsThem() async throws {
        let now = Mutex<Double>(1_000)
        let store = InMemoryEventStore(clock: { Date(timeIntervalSince1970: now.withLock { $0 }) })
        for n in 0..<10 {
            _ = try await store.append([EventData(type: "Tick", data: Data("{\"n\":\(n)}".utf8))], to: "sensor-1", expectedVersion: .any)
            now.withLock { $0 += 1 }
        }
        try await store.setStreamMetadata(StreamMetadata(maxAge: .milliseconds(3_500)), for: "sensor-1")
        #expect(try await store.readWholeStream("sensor-1").map(\.version) == [8, 9, 10])
        #expect(try await store.readWholeLog().map(\.version) == [8, 9, 10])
        now.withLock { $0 += 2 }
        #expect(try await store.readWholeStream("sensor-1").map(\.version) == [10])
        store.compact()
        try await store.setStreamMetadata(StreamMetadata(), for: "sensor-1")
        #expect(try await store.readWholeStream("sensor-1").map(\.version) == [10], "compaction kept only the last event")
        #expect(try await store.streamVersion("sensor-1") == 10)
    }
}
