// The order domain's events: one Codable payload per event type, and the
// enum the Order aggregate folds. Self-contained (it depends only on
// EventSourcing), so the CLI demo can reuse it as is.
import EventSourcing

struct OrderCreated: EventPayload, Equatable {
    static let eventType = "OrderCreated"
    var orderID: String
    var customerID: String
}

/// Schema 3. Version 1 carried a `price` in currency units as a Double, version 2
/// replaced it with `unitPriceCents`, version 3 added `currency`; see OrderUpcasters.
struct ItemAdded: EventPayload, Equatable {
    static let eventType = "ItemAdded"
    static let schemaVersion = 3
    var sku: String
    var quantity: Int
    var unitPriceCents: Int
    var currency: String
}

struct ItemRemoved: EventPayload, Equatable {
    static let eventType = "ItemRemoved"
    var sku: String
}

struct OrderPaid: EventPayload, Equatable {
    static let eventType = "OrderPaid"
    var amountCents: Int
}

struct OrderShipped: EventPayload, Equatable {
    static let eventType = "OrderShipped"
    var trackingCode: String
}

struct OrderCancelled: EventPayload, Equatable {
    static let eventType = "OrderCancelled"
    var reason: String
}

enum OrderEvent: DomainEvent, Equatable {
    case created(OrderCreated)
    case itemAdded(ItemAdded)
    case itemRemoved(ItemRemoved)
    case paid(OrderPaid)
    case shipped(OrderShipped)
    case cancelled(OrderCancelled)

    var payload: any EventPayload {
        switch self {
        case .created(let payload): payload
        case .itemAdded(let payload): payload
        case .itemRemoved(let payload): payload
        case .paid(let payload): payload
        case .shipped(let payload): payload
        case .cancelled(let payload): payload
        }
    }

    init?(payload: any EventPayload) {
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
