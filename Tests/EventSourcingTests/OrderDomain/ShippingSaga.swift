// The shipping process: when an order is paid, request its shipment. The
// Shipment aggregate ignores a repeated request, which makes the reaction
// idempotent when the saga sees an OrderPaid again after a crash.
import EventSourcing
import Synchronization

struct ShippingRequested: EventPayload, Equatable {
    static let eventType = "ShippingRequested"
    var orderID: String
    var amountCents: Int
}

enum ShipmentEvent: DomainEvent {
    case requested(ShippingRequested)

    var payload: any EventPayload {
        switch self {
        case .requested(let payload): payload
        }
    }

    init?(payload: any EventPayload) {
        guard let requested = payload as? ShippingRequested else { return nil }
        self = .requested(requested)
    }
}

struct Shipment: Aggregate {
    var orderID: String?
    var amountCents = 0

    mutating func apply(_ event: ShipmentEvent) {
        switch event {
        case .requested(let requested):
            orderID = requested.orderID
            amountCents = requested.amountCents
        }
    }

    /// Requests the shipment, once: a repeat decides nothing.
    func request(orderID: String, amountCents: Int) -> [ShipmentEvent] {
        self.orderID == nil ? [.requested(ShippingRequested(orderID: orderID, amountCents: amountCents))] : []
    }
}

enum ShippingSaga {
    /// The saga as a process manager; `commandIssued` hears the order id of each command it issues.
    static func make(
        store: any EventStore, checkpoints: any CheckpointStore, commandIssued: @escaping @Sendable (String) -> Void = { _ in }
    ) -> ProcessManager {
        let shipments = Repository<Shipment>(store: store, registry: OrderDomain.registry, options: RepositoryOptions(maxAttempts: 3))
        return ProcessManager(
            name: "shipping-saga", store: store, checkpoints: checkpoints, filter: EventFilter(eventTypes: [OrderPaid.eventType])
        ) { event in
            guard case .paid(let paid) = try OrderDomain.registry.decode(event, as: OrderEvent.self) else { return }
            let orderID = OrderDomain.orderID(of: event.stream)
            commandIssued(orderID)
            try await shipments.handle(OrderDomain.shipmentStream(orderID), context: .causedBy(event)) {
                $0.request(orderID: orderID, amountCents: paid.amountCents)
            }
        }
    }
}
