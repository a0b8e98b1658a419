// Test scaffolding over the OrderExample library: a one-call order, and the
// order-summary projection with a record of every position it was handed.
import EventSourcing
import OrderExample

extension OrderDomain {
    /// Creates an order, adds `items` and, if asked, pays it.
    @discardableResult
    static func placeOrder(
        _ orderID: String, customer: String = "c-1", items: [(sku: String, quantity: Int, cents: Int)], pay: Bool, in store: any EventStore
    ) async throws -> LoadedAggregate<Order> {
        let orders = orders(store)
        let stream = try orderStream(orderID)
        var outcome = try await orders.handle(stream) { try $0.create(orderID: orderID, customerID: customer) }
        for item in items {
            outcome = try await orders.handle(stream) { try $0.addItem(sku: item.sku, quantity: item.quantity, unitPriceCents: item.cents) }
        }
        if pay { outcome = try await orders.handle(stream) { try $0.pay() } }
        return outcome.aggregate
    }
}

/// ``OrderSummaryProjection`` plus every position the runner handed it, in order,
/// recorded before the projection sees the event: so a runner that delivers an
/// event twice shows up here even though the projection itself would skip it.
@dynamicMemberLookup
struct AuditedOrderSummary: Projection {
    var projection = OrderSummaryProjection()
    private(set) var appliedPositions: [GlobalPosition] = []

    var name: String { projection.name }
    var filter: EventFilter { projection.filter }

    mutating func apply(_ event: RecordedEvent) throws {
        appliedPositions.append(event.position)
        try projection.apply(event)
    }

    mutating func reset() {
        appliedPositions = []
        projection.reset()
    }

    subscript<Value>(dynamicMember keyPath: KeyPath<OrderSummaryProjection, Value>) -> Value { projection[keyPath: keyPath] }
}
