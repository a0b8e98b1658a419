// A read model of every order: its customer, item count, total and status,
// built from the order streams. It also records which positions it applied,
// so tests can check that each event was applied exactly once.
import EventSourcing

struct OrderSummary: Equatable, Sendable {
    var customerID = ""
    var itemCount = 0
    var totalCents = 0
    var status = "open"
}

struct OrderSummaryProjection: Projection {
    let name: String
    var filter: EventFilter { EventFilter(categories: ["order"]) }
    var summaries: [String: OrderSummary] = [:]
    /// Every position applied, in order.
    var appliedPositions: [GlobalPosition] = []
    /// Per order: sku → (quantity, unit price), to keep totals right on removal.
    private var lines: [String: [String: (quantity: Int, cents: Int)]] = [:]

    init(name: String = "order-summary") { self.name = name }

    mutating func apply(_ event: RecordedEvent) throws {
        appliedPositions.append(event.position)
        let orderID = OrderDomain.orderID(of: event.stream)
        var summary = summaries[orderID] ?? OrderSummary()
        switch try OrderDomain.registry.decode(event, as: OrderEvent.self) {
        case .created(let created): summary.customerID = created.customerID
        case .itemAdded(let added):
            let old = lines[orderID]?[added.sku] ?? (0, added.unitPriceCents)
            lines[orderID, default: [:]][added.sku] = (old.quantity + added.quantity, added.unitPriceCents)
        case .itemRemoved(let removed): lines[orderID]?[removed.sku] = nil
        case .paid: summary.status = "paid"
        case .shipped: summary.status = "shipped"
        case .cancelled: summary.status = "cancelled"
        }
        let orderLines = lines[orderID]?.values.map { $0 } ?? []
        summary.itemCount = orderLines.reduce(0) { $0 + $1.quantity }
        summary.totalCents = orderLines.reduce(0) { $0 + $1.quantity * $1.cents }
        summaries[orderID] = summary
    }

    mutating func reset() {
        summaries = [:]
        appliedPositions = []
        lines = [:]
    }
}
