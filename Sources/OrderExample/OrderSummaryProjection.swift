// A read model of every order: its customer, item count, total and status,
// built from the order streams by a ProjectionRunner.
import EventSourcing

/// One order as the read side shows it.
public struct OrderSummary: Equatable, Sendable {
    /// Who placed the order.
    public var customerID: String
    /// Items on the order, all SKUs together.
    public var itemCount: Int
    /// The sum of the lines, in cents.
    public var totalCents: Int
    /// Where the order is in its life.
    public var status: Order.Status

    /// A summary.
    public init(customerID: String = "", itemCount: Int = 0, totalCents: Int = 0, status: Order.Status = .open) {
        self.customerID = customerID
        self.itemCount = itemCount
        self.totalCents = totalCents
        self.status = status
    }
}

/// Summaries of every order, by order id.
///
/// ```swift
/// var summaries = OrderSummaryProjection()
/// try await ProjectionRunner(store: store, checkpoints: checkpoints).catchUp(&summaries)
/// summaries.summaries["42"]?.totalCents
/// ```
public struct OrderSummaryProjection: Projection {
    /// The name its checkpoint is stored under.
    public let name: String
    /// The order streams only.
    public var filter: EventFilter { EventFilter(categories: [OrderDomain.orderCategory]) }
    /// The read model: one summary per order id.
    public private(set) var summaries: [String: OrderSummary] = [:]
    /// The last position applied. A read model kept in a database would store it
    /// in the same transaction as its rows, and so skip an event redelivered after
    /// a crash between the rows and the checkpoint (see ``Projection``).
    public private(set) var position: GlobalPosition = 0
    /// Per order: SKU → quantity and unit price, so a removal corrects the total.
    private var lines: [String: [String: (quantity: Int, unitPriceCents: Int)]] = [:]

    /// An empty read model.
    public init(name: String = "order-summary") { self.name = name }

    /// Folds one order event into the summaries; an event at or below
    /// ``position`` is skipped.
    /// - Throws: ``DomainError`` for an event that does not decode as an ``OrderEvent``
    ///   (see ``EventTypeRegistry/decode(_:as:)``); the summaries are then unchanged.
    /// - Complexity: O(the order's lines).
    public mutating func apply(_ event: RecordedEvent) throws {
        guard event.position > position else { return }
        let orderID = OrderDomain.orderID(of: event.stream)
        var summary = summaries[orderID] ?? OrderSummary()
        switch try OrderDomain.registry.decode(event, as: OrderEvent.self) {
        case .created(let created): summary.customerID = created.customerID
        case .itemAdded(let added):
            let old = lines[orderID]?[added.sku]?.quantity ?? 0
            lines[orderID, default: [:]][added.sku] = (old + added.quantity, added.unitPriceCents)
        case .itemRemoved(let removed): lines[orderID]?[removed.sku] = nil
        case .paid: summary.status = .paid
        case .shipped: summary.status = .shipped
        case .cancelled: summary.status = .cancelled
        }
        let orderLines = lines[orderID]?.values.map { $0 } ?? []
        summary.itemCount = orderLines.reduce(0) { $0 + $1.quantity }
        summary.totalCents = orderLines.reduce(0) { $0 + $1.quantity * $1.unitPriceCents }
        summaries[orderID] = summary
        position = event.position
    }

    /// Forgets everything, before a rebuild from position 1.
    public mutating func reset() {
        summaries = [:]
        position = 0
        lines = [:]
    }
}
