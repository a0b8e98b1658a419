// The Order aggregate: its state is a fold of OrderEvents, and its commands
// check the business rules against that state and return new events.
import EventSourcing

/// Why an order refused a command (nothing is written).
public enum OrderError: Error, Equatable, Sendable {
    /// `create` on an order that exists.
    case alreadyCreated
    /// A command other than `create` on an order that does not exist.
    case notCreated
    /// The command is not allowed in the order's status.
    case wrongStatus(Order.Status, command: String)
    /// `removeItem` of a SKU the order does not hold.
    case unknownItem(sku: String)
    /// A quantity below 1.
    case invalidQuantity(Int)
    /// `pay` on an order with nothing to pay.
    case emptyOrder
}

/// An order: its lines, its status and what was paid.
///
/// ```swift
/// let orders = OrderDomain.orders(store)
/// try await orders.handle("order-42") { try $0.create(orderID: "42", customerID: "ada") }
/// try await orders.handle("order-42") { try $0.addItem(sku: "TEA-01", quantity: 2, unitPriceCents: 450) }
/// ```
public struct Order: Aggregate, Equatable {
    /// Where an order is in its life: new → open → paid → shipped, or cancelled
    /// while open or paid.
    public enum Status: String, Codable, Sendable {
        /// No event yet.
        case new
        /// Created; items can be added and removed.
        case open
        /// Paid; waiting to ship.
        case paid
        /// Shipped; final.
        case shipped
        /// Cancelled; final.
        case cancelled
    }

    /// The items of one SKU.
    public struct Line: Codable, Equatable, Sendable {
        /// How many.
        public var quantity: Int
        /// The price of one, in cents of `currency` (the latest price the SKU was added at).
        public var unitPriceCents: Int
        /// ISO 4217 code.
        public var currency: String

        /// A line.
        public init(quantity: Int, unitPriceCents: Int, currency: String) {
            self.quantity = quantity
            self.unitPriceCents = unitPriceCents
            self.currency = currency
        }
    }

    /// The order's id; nil until created.
    public private(set) var orderID: String?
    /// Who placed it; nil until created.
    public private(set) var customerID: String?
    /// Where it is in its life.
    public private(set) var status = Status.new
    /// The lines, by SKU.
    public private(set) var lines: [String: Line] = [:]
    /// What was paid, in cents.
    public private(set) var paidCents = 0
    /// Set once shipped.
    public private(set) var trackingCode: String?
    /// Set once cancelled.
    public private(set) var cancelReason: String?

    /// The sum of the lines, in cents.
    /// - Complexity: O(lines).
    public var totalCents: Int { lines.values.reduce(0) { $0 + $1.quantity * $1.unitPriceCents } }

    /// An order with no events.
    public init() {}

    /// Folds one event into the state. Never checks rules: an event is a fact.
    public mutating func apply(_ event: OrderEvent) {
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

    // MARK: Commands: each checks the rules and returns the events, leaving `self` alone.

    /// Opens the order.
    /// - Throws: ``OrderError/alreadyCreated`` unless the order is new.
    public func create(orderID: String, customerID: String) throws(OrderError) -> [OrderEvent] {
        guard status == .new else { throw .alreadyCreated }
        return [.created(OrderCreated(orderID: orderID, customerID: customerID))]
    }

    /// Adds `quantity` items of `sku` to an open order.
    /// - Parameters:
    ///   - unitPriceCents: The price of one, in cents of `currency`; it replaces
    ///     the line's earlier price.
    ///   - currency: ISO 4217 code.
    /// - Throws: ``OrderError/notCreated`` for a new order,
    ///   ``OrderError/wrongStatus(_:command:)`` unless it is open, and
    ///   ``OrderError/invalidQuantity(_:)`` for a quantity below 1.
    public func addItem(sku: String, quantity: Int, unitPriceCents: Int, currency: String = "EUR") throws(OrderError) -> [OrderEvent] {
        try require(.open, for: "addItem")
        guard quantity > 0 else { throw .invalidQuantity(quantity) }
        return [.itemAdded(ItemAdded(sku: sku, quantity: quantity, unitPriceCents: unitPriceCents, currency: currency))]
    }

    /// Removes every item of `sku` from an open order.
    /// - Throws: ``OrderError/notCreated`` for a new order,
    ///   ``OrderError/wrongStatus(_:command:)`` unless it is open, and
    ///   ``OrderError/unknownItem(sku:)`` if it has no line for `sku`.
    public func removeItem(sku: String) throws(OrderError) -> [OrderEvent] {
        try require(.open, for: "removeItem")
        guard lines[sku] != nil else { throw .unknownItem(sku: sku) }
        return [.itemRemoved(ItemRemoved(sku: sku))]
    }

    /// Pays the total of an open, non-empty order.
    /// - Throws: ``OrderError/notCreated`` for a new order,
    ///   ``OrderError/wrongStatus(_:command:)`` unless it is open, and
    ///   ``OrderError/emptyOrder`` unless the total is above 0.
    /// - Complexity: O(lines), for the total.
    public func pay() throws(OrderError) -> [OrderEvent] {
        try require(.open, for: "pay")
        guard totalCents > 0 else { throw .emptyOrder }
        return [.paid(OrderPaid(amountCents: totalCents))]
    }

    /// Ships a paid order.
    /// - Parameter trackingCode: The carrier's tracking code.
    /// - Throws: ``OrderError/notCreated`` for a new order, and
    ///   ``OrderError/wrongStatus(_:command:)`` unless it is paid.
    public func ship(trackingCode: String) throws(OrderError) -> [OrderEvent] {
        try require(.paid, for: "ship")
        return [.shipped(OrderShipped(trackingCode: trackingCode))]
    }

    /// Cancels an order that has not shipped.
    /// - Throws: ``OrderError/wrongStatus(_:command:)`` unless the order is open or
    ///   paid; for a new order too, as `wrongStatus(.new, command: "cancel")`
    ///   rather than ``OrderError/notCreated``.
    public func cancel(reason: String) throws(OrderError) -> [OrderEvent] {
        guard status == .open || status == .paid else { throw .wrongStatus(status, command: "cancel") }
        return [.cancelled(OrderCancelled(reason: reason))]
    }

    private func require(_ expected: Status, for command: String) throws(OrderError) {
        if status == .new { throw .notCreated }
        guard status == expected else { throw .wrongStatus(status, command: command) }
    }
}
