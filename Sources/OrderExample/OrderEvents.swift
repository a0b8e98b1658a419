// The order domain's events: one Codable payload per event type, and the enum
// the Order aggregate folds. Past-tense names, because an event is a fact.
import EventSourcing

/// An order was opened for a customer.
public struct OrderCreated: EventPayload, Equatable {
    /// The stored event type.
    public static let eventType = "OrderCreated"
    /// The order's id, as in its stream name `order-<id>`.
    public var orderID: String
    /// Who placed the order.
    public var customerID: String

    /// An `OrderCreated` payload.
    public init(orderID: String, customerID: String) {
        self.orderID = orderID
        self.customerID = customerID
    }
}

/// Items of one SKU were added to an order.
///
/// Schema 3. Version 1 carried a `price` in currency units as a Double, version 2
/// replaced it with `unitPriceCents`, version 3 added `currency`; events stored at
/// older versions are upgraded on read by ``OrderUpcasters``.
public struct ItemAdded: EventPayload, Equatable {
    /// The stored event type (the same at every schema version).
    public static let eventType = "ItemAdded"
    /// The current schema version.
    public static let schemaVersion = 3
    /// The stock-keeping unit added.
    public var sku: String
    /// How many were added (at least 1).
    public var quantity: Int
    /// The price of one, in cents of `currency`.
    public var unitPriceCents: Int
    /// ISO 4217 code, e.g. `EUR`.
    public var currency: String

    /// An `ItemAdded` payload.
    public init(sku: String, quantity: Int, unitPriceCents: Int, currency: String) {
        self.sku = sku
        self.quantity = quantity
        self.unitPriceCents = unitPriceCents
        self.currency = currency
    }
}

/// Every item of one SKU was removed from an order.
public struct ItemRemoved: EventPayload, Equatable {
    /// The stored event type.
    public static let eventType = "ItemRemoved"
    /// The stock-keeping unit removed.
    public var sku: String

    /// An `ItemRemoved` payload.
    public init(sku: String) { self.sku = sku }
}

/// An order was paid in full.
public struct OrderPaid: EventPayload, Equatable {
    /// The stored event type.
    public static let eventType = "OrderPaid"
    /// The amount paid, in cents.
    public var amountCents: Int

    /// An `OrderPaid` payload.
    public init(amountCents: Int) { self.amountCents = amountCents }
}

/// A paid order left the warehouse.
public struct OrderShipped: EventPayload, Equatable {
    /// The stored event type.
    public static let eventType = "OrderShipped"
    /// The carrier's tracking code.
    public var trackingCode: String

    /// An `OrderShipped` payload.
    public init(trackingCode: String) { self.trackingCode = trackingCode }
}

/// An order was cancelled before it shipped.
public struct OrderCancelled: EventPayload, Equatable {
    /// The stored event type.
    public static let eventType = "OrderCancelled"
    /// Why, in the customer's or clerk's words.
    public var reason: String

    /// An `OrderCancelled` payload.
    public init(reason: String) { self.reason = reason }
}

/// The events of an ``Order``: one case per payload.
public enum OrderEvent: DomainEvent, Equatable {
    /// See ``OrderCreated``.
    case created(OrderCreated)
    /// See ``ItemAdded``.
    case itemAdded(ItemAdded)
    /// See ``ItemRemoved``.
    case itemRemoved(ItemRemoved)
    /// See ``OrderPaid``.
    case paid(OrderPaid)
    /// See ``OrderShipped``.
    case shipped(OrderShipped)
    /// See ``OrderCancelled``.
    case cancelled(OrderCancelled)

    /// The payload to store.
    public var payload: any EventPayload {
        switch self {
        case .created(let payload): payload
        case .itemAdded(let payload): payload
        case .itemRemoved(let payload): payload
        case .paid(let payload): payload
        case .shipped(let payload): payload
        case .cancelled(let payload): payload
        }
    }

    /// The event carrying `payload`, or nil for a payload of another aggregate.
    public init?(payload: any EventPayload) {
        switch payload {
        case let payload as OrderCreated: self = .created(payload)
        case let payload as ItemAdded: self = .itemAdded(payload)
        case let payload as ItemRemoved: self = .itemRemoved(payload)
        case let payload as OrderPaid: self = .paid(payload)
        case let payload as OrderShipped: self = .shipped(payload)
        case let payload as OrderCancelled: self = .cancelled(payload)
        default: return nil
        }
    }
}
