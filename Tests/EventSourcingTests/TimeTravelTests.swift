// The past, reconstructed: an aggregate or a read model as of a position or a
// moment must equal a replay of exactly the events before that point.
import EventSourcing
import OrderExample
import Foundation
import Testing

@Suite struct TimeTravelTests {
    /// Two orders and some unrelated events, interleaved, with one fake-clock tick per append.
    func history() async throws -> (store: InMemoryEventStore, log: [RecordedEvent]) {
        let clock = FakeClock()
        let store = InMemoryEventStore(clock: { clock.now() })
        let orders = OrderDomain.orders(store)
        try await orders.handle("order-1") { try $0.create(orderID: "1", customerID: "ann") }
        try await orders.handle("order-2") { try $0.create(orderID: "2", customerID: "bob") }
        try await orders.handle("order-1") { try $0.addItem(sku: "A", quantity: 2, unitPriceCents: 150) }
        _ = try await store.append([EventData(type: "Noise", data: Data("{}".utf8))], to: "cart-1")
        try await orders.handle("order-2") { try $0.addItem(sku: "B", quantity: 1, unitPriceCents: 900) }
        try await orders.handle("order-1") { try $0.addItem(sku: "C", quantity: 1, unitPriceCents: 75) }
        try await orders.handle("order-1") { try $0.removeItem(sku: "A") }
        try await orders.handle("order-2") { try $0.pay() }
        try await orders.handle("order-1") { try $0.pay() }
        try await orders.handle("order-1") { try $0.ship(trackingCode: "T-1") }
        return (store, try await store.readWholeLog())
    }

    func replay(_ events: [RecordedEvent], of stream: StreamName) throws -> Order {
        try events.filter { $0.stream == stream }.reduce(into: Order()) { order, event in
            order.apply(try OrderDomain.registry.decode(event, as: OrderEvent.self))
        }
    }

    @Test func anAggregateAsOfAPositionEqualsAReplayOfItsEventsUpToThatPosition() async throws {
        let (store, log) = try await history()
        let orders = OrderDomain.orders(store)
        var distinctStates = Set<String>()
        for position in 0...UInt64(log.count) {
            let upTo = log.filter { $0.position.rawValue <= position }
            let loaded = try await orders.load("order-1", through: GlobalPosition(position))
            #expect(loaded.state == (try replay(upTo, of: "order-1")), "as of position \(position)")
            #expect(loaded.version == StreamVersion(UInt64(upTo.filter { $0.stream == "order-1" }.count)))
            distinctStates.insert("\(loaded.state)")
        }
        #expect(distinctStates.count == 7)  // Every order-1 event changed the state: the check had something to compare.
    }

    @Test func anAggregateAsOfATimeEqualsAReplayOfTheEventsAppendedBeforeIt() async throws {
        let (store, log) = try await history()
        let orders = OrderDomain.orders(store)
        for event in log {
            let before = log.filter { $0.timestampMicroseconds < event.timestampMicroseconds }
            #expect(try await orders.load("order-1", asOf: event.timestamp).state == (try replay(before, of: "order-1")))
            // Half a tick later the event itself is in the past.
            let halfTickLater = event.timestamp.addingTimeInterval(0.000_5)
            let including = log.filter { $0.timestampMicroseconds <= event.timestampMicroseconds }
            #expect(try await orders.load("order-1", asOf: halfTickLater).state == (try replay(including, of: "order-1")))
        }
        #expect(try await orders.load("order-1", asOf: .distantPast).state == Order())
        #expect(try await orders.load("order-1", asOf: .distantFuture).state == (try await orders.load("order-1").state))
    }

    @Test func aProjectionReplayedUpToAPositionSeesExactlyTheEventsUpToIt() async throws {
        let (store, log) = try await history()
        let checkpoints = InMemoryCheckpointStore()
        let runner = ProjectionRunner(store: store, checkpoints: checkpoints, batchSize: 2)
        for position in 0...UInt64(log.count) {
            var replayed = AuditedOrderSummary()
            try await runner.replay(&replayed, through: GlobalPosition(position))
            var expected = AuditedOrderSummary()
            for event in log where event.position.rawValue <= position && expected.filter.matches(event) { try expected.apply(event) }
            #expect(replayed.appliedPositions == expected.appliedPositions)
            #expect(replayed.summaries == expected.summaries)
        }
        var asOfTime = AuditedOrderSummary()
        try await runner.replay(&asOfTime, asOf: log[5].timestamp)
        #expect(asOfTime.appliedPositions.map(\.rawValue) == [1, 2, 3, 5])
        #expect(try await checkpoints.checkpoint(named: "order-summary") == nil)  // Time travel leaves checkpoints alone.
    }
}
