// The wiring of the order example in one place: the registry of its event
// types and upcasters, its stream names, and its repositories.
import EventSourcing

/// The order example's registry, stream names and repositories.
public enum OrderDomain {
    /// Every event type of orders and shipments, with the ``OrderUpcasters``.
    public static let registry: EventTypeRegistry = {
        var registry = EventTypeRegistry(upcasters: OrderUpcasters.all)
        for type: any EventPayload.Type in [
            OrderCreated.self, ItemAdded.self, ItemRemoved.self, OrderPaid.self, OrderShipped.self, OrderCancelled.self,
            ShippingRequested.self,
        ] {
            registry.register(type)
        }
        return registry
    }()

    /// The category of order streams: the part of `order-42` before the dash.
    public static let orderCategory = "order"

    /// `order-<orderID>`.
    /// - Throws: ``EventStoreError/invalidStreamName(_:reason:)`` for an id with a
    ///   control character, or too long for a stream name.
    public static func orderStream(_ orderID: String) throws(EventStoreError) -> StreamName {
        try StreamName("\(orderCategory)-\(orderID)")
    }

    /// `shipment-<orderID>`.
    /// - Throws: ``EventStoreError/invalidStreamName(_:reason:)``, as ``orderStream(_:)``.
    public static func shipmentStream(_ orderID: String) throws(EventStoreError) -> StreamName {
        try StreamName("shipment-\(orderID)")
    }

    /// The order id of an order or shipment stream (`order-42` → `42`): the part
    /// after the first `-`, empty if there is none.
    /// - Complexity: O(*n*) in the stream name's length.
    public static func orderID(of stream: StreamName) -> String {
        String(stream.rawValue.drop { $0 != "-" }.dropFirst())
    }

    /// A repository of orders over `store`.
    public static func orders(_ store: any EventStore, options: RepositoryOptions = RepositoryOptions()) -> Repository<Order> {
        Repository(store: store, registry: registry, options: options)
    }

    /// A repository of shipments over `store`; it retries a conflicting command up to 3 times.
    public static func shipments(_ store: any EventStore) -> Repository<Shipment> {
        Repository(store: store, registry: registry, options: RepositoryOptions(maxAttempts: 3))
    }
}
