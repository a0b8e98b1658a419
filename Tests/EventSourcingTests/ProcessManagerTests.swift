// The shipping saga: one shipping request per paid order, resumed from its
// checkpoint, harmless when an OrderPaid is seen again, and live.
import EventSourcing
import OrderExample
import Foundation
import Testing

@Suite struct ProcessManagerTests {
    func shipmentEvents(_ orderIDs: [String], in store: any EventStore) async throws -> [String: [RecordedEvent]] {
        var result: [String: [RecordedEvent]] = [:]
        for orderID in orderIDs { result[orderID] = try await store.readWholeStream(OrderDomain.shipmentStream(orderID)) }
        return result
    }

    @Test func theSagaRequestsShippingOncePerOrderPaidAndResumesFromItsCheckpoint() async throws {
        let store = InMemoryEventStore()
        let checkpoints = InMemoryCheckpointStore()
        let commands = Recorder<String>()
        for number in 1...4 { try await OrderDomain.placeOrder(String(number), items: [("A", 1, 100 * number)], pay: number != 3, in: store) }
        let saga = ShippingSaga.make(store: store, checkpoints: checkpoints) { commands.record($0) }
        try await saga.catchUp()
        #expect(commands.values == ["1", "2", "4"])

        // Restarted: a new saga over the same checkpoints sees nothing old again.
        let restarted = ShippingSaga.make(store: store, checkpoints: checkpoints) { commands.record($0) }
        try await restarted.catchUp()
        #expect(commands.values == ["1", "2", "4"])
        try await OrderDomain.orders(store).handle(OrderDomain.orderStream("3")) { try $0.pay() }
        try await OrderDomain.placeOrder("5", items: [("B", 2, 10)], pay: true, in: store)
        try await restarted.catchUp()
        #expect(commands.values == ["1", "2", "4", "3", "5"])

        let shipments = try await shipmentEvents(["1", "2", "3", "4", "5"], in: store)
        #expect(shipments.values.allSatisfy { $0.count == 1 })
        let paid = try await store.readWholeLog().filter { $0.type == OrderPaid.eventType }
        for event in paid {
            let shipment = try #require(shipments[OrderDomain.orderID(of: event.stream)]?.first)
            #expect(shipment.causationID == event.id)
            #expect(shipment.correlationID == event.id)
            #expect(try OrderDomain.registry.decode(shipment) as? ShippingRequested
                == ShippingRequested(orderID: OrderDomain.orderID(of: event.stream), amountCents: (try OrderDomain.registry.decode(event) as? OrderPaid)?.amountCents ?? -1))
        }
    }

    @Test func anOrderPaidSeenAgainAfterACrashDoesNotRequestShippingTwice() async throws {
        let store = InMemoryEventStore()
        let checkpoints = InMemoryCheckpointStore()
        for number in 1...3 { try await OrderDomain.placeOrder(String(number), items: [("A", 1, 100)], pay: true, in: store) }
        let commands = Recorder<String>()
        try await ShippingSaga.make(store: store, checkpoints: checkpoints) { commands.record($0) }.catchUp()
        // A crash after the reactions but before the checkpoint was saved.
        try await checkpoints.removeCheckpoint(named: "shipping-saga")
        try await ShippingSaga.make(store: store, checkpoints: checkpoints) { commands.record($0) }.catchUp()
        #expect(commands.values == ["1", "2", "3", "1", "2", "3"])  // Reactions ran again...
        let shipments = try await shipmentEvents(["1", "2", "3"], in: store)
        #expect(shipments.values.map(\.count) == [1, 1, 1])  // ...but the Shipment aggregate refused the repeats.
    }

    @Test(.timeLimit(.minutes(3)))
    func theSagaReactsToLiveEventsUntilCancelled() async throws {
        let store = InMemoryEventStore()
        let checkpoints = InMemoryCheckpointStore()
        let saga = ShippingSaga.make(store: store, checkpoints: checkpoints)
        let running = Task { try await saga.run() }
        try await OrderDomain.placeOrder("9", items: [("A", 3, 100)], pay: true, in: store)
        var shipments = store.subscribe(to: try OrderDomain.shipmentStream("9"), from: 1).makeAsyncIterator()
        let requested = try #require(try await shipments.next())
        #expect(try OrderDomain.registry.decode(requested) as? ShippingRequested == ShippingRequested(orderID: "9", amountCents: 300))
        running.cancel()
        try await running.value
        let paidPosition = try #require(try await store.readWholeLog().first { $0.type == OrderPaid.eventType }?.position)
        #expect(try await checkpoints.checkpoint(named: "shipping-saga") == paidPosition)
    }
}
