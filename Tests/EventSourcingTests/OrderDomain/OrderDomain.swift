// The wiring of the order example: the registry of its event types, stream
// names, and repositories, in one place for tests and the CLI demo.
import EventSourcing

enum OrderDomain {
    static let registry: EventTypeRegistry = {
        var registry = EventTypeRegistry(upcasters: OrderUpcasters.all)
        for type: any EventPayload.Type in [
            OrderCreated.self, ItemAdded.self, ItemRemoved.self, OrderPaid.self, OrderShipped.self, OrderCancelled.self,
            ShippingRequested.self,
        ] {
            registry.register(type)
        }
        return registry
    }()

    static func orderStream(_ orderID: String) -> StreamName { StreamName(unchecked: "order-" + orderID) }
    static func shipmentStream(_ orderID: String) -> StreamName { StreamName(unchecked: "shipment-" + orderID) }

    /// The order id of an order or shipment stream (`order-42` → `42`).
    static func orderID(of stream: StreamName) -> String {
        String(stream.rawValue.drop { $0 != "-" }.dropFirst())
    }

    static func orders(_ store: any EventStore, options: RepositoryOptions = RepositoryOptions()) -> Repository<Order> {
        Repository(store: store, registry: registry, options: options)
    }

    /// Creates an order, adds `items` and, if asked, pays it.
    @discardableResult
    static func placeOrder(
        _ orderID: String, customer: String = "c-1", items: [(sku: String, quantity: Int, cents: Int)], pay: Bool, in store: any EventStore
    ) async throws -> LoadedAggregate<Order> {
        let orders = orders(store)
        let stream = orderStream(orderID)
        var outcome = try await orders.handle(stream) { try $0.create(orderID: orderID, customerID: customer) }
        for item in items {
            outcome = try await orders.handle(stream) { try $0.addItem(sku: item.sku, quantity: item.quantity, unitPriceCents: item.cents) }
        }
        if pay { outcome = try await orders.handle(stream) { try $0.pay() } }
        return outcome.aggregate
    }
}
