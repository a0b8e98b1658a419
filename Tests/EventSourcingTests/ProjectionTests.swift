// Projections consume the log from a checkpoint: each event once, resumable,
// rebuildable from position 1, and live until cancelled.
import EventSourcing
import OrderExample
import Foundation
import Testing

/// A projection that reports each position it applies to a recorder.
struct RecordingProjection: Projection {
    let name: String
    let recorder: Recorder<GlobalPosition>
    var filter: EventFilter = .all

    mutating func apply(_ event: RecordedEvent) throws { recorder.record(event.position) }
    mutating func reset() {}
}

@Suite struct ProjectionTests {
    func placeOrders(_ range: ClosedRange<Int>, in store: any EventStore) async throws {
        for number in range {
            try await OrderDomain.placeOrder(String(number), items: [("A", number, 100), ("B", 1, 50)], pay: number % 2 == 0, in: store)
            _ = try await store.append([EventData(type: "Noise", data: Data("{}".utf8))], to: try StreamName("cart-\(number)"))
        }
    }

    @Test func aRestartedProjectionResumesFromItsCheckpointAndAppliesEachEventOnce() async throws {
        let store = InMemoryEventStore()
        try await placeOrders(1...4, in: store)
        let checkpoints = InMemoryCheckpointStore()
        let runner = ProjectionRunner(store: store, checkpoints: checkpoints, batchSize: 3)
        var projection = AuditedOrderSummary()
        let middle = GlobalPosition(9)
        #expect(try await runner.catchUp(&projection, through: middle) == middle)
        #expect(try await checkpoints.checkpoint(named: projection.name) == middle)
        // Position 9 is not an order event: passed over, but checkpointed all the same.
        #expect(projection.appliedPositions.last == 8)

        // A restart: a new runner over the same checkpoints, continuing the kept read model.
        try await placeOrders(5...6, in: store)
        let restarted = ProjectionRunner(store: store, checkpoints: checkpoints, batchSize: 4)
        let end = try await store.lastPosition()
        #expect(try await restarted.catchUp(&projection) == end)
        #expect(try await restarted.catchUp(&projection) == end)  // Nothing new: nothing applied.

        let orderPositions = try await store.readWholeLog().filter { $0.stream.category == "order" }.map(\.position)
        #expect(projection.appliedPositions == orderPositions)
        var rebuilt = OrderSummaryProjection()
        try await ProjectionRunner(store: store, checkpoints: InMemoryCheckpointStore()).catchUp(&rebuilt)
        #expect(projection.summaries == rebuilt.summaries)
        #expect(projection.summaries["4"] == OrderSummary(customerID: "c-1", itemCount: 5, totalCents: 450, status: .paid))
    }

    @Test func rebuildingStartsOverFromPosition1() async throws {
        let store = InMemoryEventStore()
        try await placeOrders(1...3, in: store)
        let runner = ProjectionRunner(store: store, checkpoints: InMemoryCheckpointStore())
        var projection = AuditedOrderSummary()
        try await runner.catchUp(&projection)
        let before = projection
        try await runner.rebuild(&projection)
        #expect(projection.appliedPositions == before.appliedPositions)
        #expect(projection.summaries == before.summaries)
    }

    @Test(.timeLimit(.minutes(3)))
    func aLiveProjectionFollowsNewEventsAndResumesAfterCancellation() async throws {
        let store = InMemoryEventStore()
        let checkpoints = InMemoryCheckpointStore()
        let runner = ProjectionRunner(store: store, checkpoints: checkpoints)
        let recorder = Recorder<GlobalPosition>()
        _ = try await store.append([EventData(type: "Before", data: Data())], to: "x-1")

        let firstRun = Task {
            var projection = RecordingProjection(name: "live", recorder: recorder)
            try await runner.run(&projection)
        }
        _ = try await store.append([EventData(type: "Live", data: Data()), EventData(type: "Live", data: Data())], to: "x-1")
        await recorder.wait { $0.count == 3 }
        firstRun.cancel()
        try await firstRun.value  // Ends normally on cancellation.
        #expect(try await checkpoints.checkpoint(named: "live") == 3)

        _ = try await store.append([EventData(type: "WhileStopped", data: Data())], to: "x-2")
        let secondRun = Task {
            var projection = RecordingProjection(name: "live", recorder: recorder)
            try await runner.run(&projection)
        }
        _ = try await store.append([EventData(type: "Live", data: Data())], to: "x-2")
        await recorder.wait { $0.count == 5 }
        secondRun.cancel()
        try await secondRun.value
        #expect(recorder.values == [1, 2, 3, 4, 5])
    }

    @Test(.timeLimit(.minutes(3)))
    func eventsDeliveredAgainAtOrBelowTheCheckpointAreNotAppliedAgain() async throws {
        let store = FaultyEventStore(fault: .subscriptionsRepeatEachEvent)
        for number in 1...6 { _ = try await store.append([EventData(type: "E\(number)", data: Data())], to: "x-1") }
        let recorder = Recorder<GlobalPosition>()
        let run = Task {
            var projection = RecordingProjection(name: "once", recorder: recorder)
            try await ProjectionRunner(store: store, checkpoints: InMemoryCheckpointStore()).run(&projection)
        }
        await recorder.wait { $0.last == 6 }
        run.cancel()
        try await run.value
        // Each event arrived twice; the repeat of event N came before event N + 1.
        #expect(recorder.values == [1, 2, 3, 4, 5, 6])
    }

    @Test func checkpointsAreSavedReplacedAndRemovedByName() async throws {
        let checkpoints = InMemoryCheckpointStore()
        #expect(try await checkpoints.checkpoint(named: "a") == nil)
        try await checkpoints.saveCheckpoint(5, named: "a")
        try await checkpoints.saveCheckpoint(9, named: "a")
        try await checkpoints.saveCheckpoint(2, named: "b")
        #expect(try await checkpoints.checkpoint(named: "a") == 9)
        try await checkpoints.removeCheckpoint(named: "a")
        #expect(try await checkpoints.checkpoint(named: "a") == nil)
        #expect(try await checkpoints.checkpoint(named: "b") == 2)
    }
}
