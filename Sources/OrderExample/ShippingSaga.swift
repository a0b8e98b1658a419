// The shipping process: when an order is paid, request its shipment. The
// Shipment aggregate ignores a repeated request, which makes the reaction
// idempotent when the saga sees an OrderPaid again after a crash.
import EventSourcing

/// Shipping was requested for a paid order.
public struct ShippingRequested: EventPayload, Equatable {
    /// The stored event type.
    public static let eventType = "ShippingRequested"
    /// The order to ship.
    public var orderID: String
    /// What the order was paid, in cents (for the insurance value).
    public var amountCents: Int

    /// A `ShippingRequested` payload.
    public init(orderID: String, amountCents: Int) {
        self.orderID = orderID
        self.amountCents = amountCents
    }
}

/// The events of a ``Shipment``.
public enum ShipmentEvent: DomainEvent {
    /// See ``ShippingRequested``.
    case requested(ShippingRequested)

    /// The payload to store.
    public var payload: any EventPayload {
        switch self {
        case .requested(let payload): payload
        }
    }

    /// The event carrying `payload`, or nil for a payload of another aggregate.
    public init?(payload: any EventPayload) {
        guard let requested = payload as? ShippingRequested else { return nil }
        self = .requested(requested)
    }
}

/// The shipment of one order, in stream `shipment-<order id>`.
public struct Shipment: Aggregate {
    /// The order it ships; nil until requested.
    public private(set) var orderID: String?
    /// What the order was paid, in cents.
    public private(set) var amountCents = 0

    /// A shipment with no events.
    public init() {}

    /// Folds one event into the state.
    public mutating func apply(_ event: ShipmentEvent) {
        switch event {
        case .requested(let requested):
            orderID = requested.orderID
            amountCents = requested.amountCents
        }
    }

    /// Requests the shipment, once: a repeat decides nothing.
    public func request(orderID: String, amountCents: Int) -> [ShipmentEvent] {
        self.orderID == nil ? [.requested(ShippingRequested(orderID: orderID, amountCents: amountCents))] : []
    }
}

/// The saga that requests shipping for every paid order.
public enum ShippingSaga {
    /// The name its checkpoint is stored under.
    public static let name = "shipping-saga"

    /// The saga as a process manager over `store`: on each `OrderPaid`, a
    /// `request` command on the order's Shipment, caused by the event (so the
    /// request carries the payment's correlation and causation ids).
    ///
    /// The reaction throws, and so stops the manager: a ``DomainError`` for an
    /// `OrderPaid` that does not decode,
    /// ``EventStoreError/invalidStreamName(_:reason:)`` for an order id too long
    /// for a shipment stream, or what the shipments'
    /// ``Repository/handle(_:context:_:)`` throws (a version conflict only after
    /// 3 attempts).
    /// - Parameter commandIssued: Hears the order id of each command it issues
    ///   (for logging and tests), before the command runs.
    public static func make(
        store: any EventStore, checkpoints: any CheckpointStore, commandIssued: @escaping @Sendable (String) -> Void = { _ in }
    ) -> ProcessManager {
        let shipments = OrderDomain.shipments(store)
        return ProcessManager(
            name: name, store: store, checkpoints: checkpoints, filter: EventFilter(eventTypes: [OrderPaid.eventType])
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
