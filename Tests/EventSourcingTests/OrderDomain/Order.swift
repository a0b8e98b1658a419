// The Order aggregate: its state is a fold of OrderEvents, and its commands
// check the business rules against that state and return new events.
import EventSourcing

enum OrderError: Error, Equatable {
    case alreadyCreated
    case notCreated
    case wrongStatus(Order.Status, command: String)
    case unknownItem(sku: String)
    case invalidQuantity(Int)
    case emptyOrder
}

struct Order: Aggregate, Equatable {
    enum Status: String, Codable, Sendable {
        case new, open, paid, shipped, cancelled
    }

    struct Line: Codable, Equatable, Sendable {
        var quantity: Int
        var unitPriceCents: Int
        var currency: String
    }

    var orderID: String?
    var customerID: String?
    var status = Status.new
    var lines: [String: Line] = [:]
    var paidCents = 0
    var trackingCode: String?
    var cancelReason: String?

    var totalCents: Int { lines.values.reduce(0) { $0 + $1.quantity * $1.unitPriceCents } }

    mutating func apply(_ event: OrderEvent) {
        switch event {
        case .created(let created):
            orderID = created.orderID
            customerID = created.customerID
            status = .open
        case .itemAdded(let added):
            var line = lines[added.sku] ?? Line(quantity: 0, unitPriceCents: added.unitPriceCents, currency: added.currency)
            line.quantity += added.quantity
            line.unitPriceCents = added.unitPriceCents
            lines[added.sku] = line
        case .itemRemoved(let removed):
            lines[removed.sku] = nil
        case .paid(let paid):
            paidCents = paid.amountCents
            status = .paid
        case .shipped(let shipped):
            trackingCode = shipped.trackingCode
            status = .shipped
        case .cancelled(let cancelled):
            cancelReason = cancelled.reason
            status = .cancelled
        }
    }

    // MARK: Commands

    func create(orderID: String, customerID: String) throws(OrderError) -> [OrderEvent] {
        guard status == .new else { throw .alreadyCreated }
        return [.created(OrderCreated(orderID: orderID, customerID: customerID))]
    }

    func addItem(sku: String, quantity: Int, unitPriceCents: Int, currency: String = "EUR") throws(OrderError) -> [OrderEvent] {
        try require(.open, for: "addItem")
        guard quantity > 0 else { throw .invalidQuantity(quantity) }
        return [.itemAdded(ItemAdded(sku: sku, quantity: quantity, unitPriceCents: unitPriceCents, currency: currency))]
    }

    func removeItem(sku: String) throws(OrderError) -> [OrderEvent] {
        try require(.open, for: "removeItem")
        guard lines[sku] != nil else { throw .unknownItem(sku: sku) }
        return [.itemRemoved(ItemRemoved(sku: sku))]
    }

    func pay() throws(OrderError) -> [OrderEvent] {
        try require(.open, for: "pay")
        guard totalCents > 0 else { throw .emptyOrder }
        return [.paid(OrderPaid(amountCents: totalCents))]
    }

    func ship(trackingCode: String) throws(OrderError) -> [OrderEvent] {
        try require(.paid, for: "ship")
        return [.shipped(OrderShipped(trackingCode: trackingCode))]
    }

    func cancel(reason: String) throws(OrderError) -> [OrderEvent] {
        guard status == .open || status == .paid else { throw .wrongStatus(status, command: "cancel") }
        return [.cancelled(OrderCancelled(reason: reason))]
    }

    private func require(_ expected: Status, for command: String) throws(OrderError) {
        if status == .new { throw .notCreated }
        guard status == expected else { throw .wrongStatus(status, command: command) }
    }
}
