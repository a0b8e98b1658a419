// The README's API tour ("The API in four steps"), as code that must compile and
// run. The declarations and statements are the README's, copied verbatim; only the
// store's folder is put inside a temporary one, and the checks at the end are added.
import EventLog
import EventSourcing
import Foundation
import Testing

// 1. Define events: a Codable payload per event type, and the aggregate's enum of them.
struct OrderCreated: EventPayload {
    static let eventType = "OrderCreated"
    var customer: String
}

struct ItemAdded: EventPayload {
    static let eventType = "ItemAdded"
    var sku: String
    var quantity: Int
}

enum OrderEvent: DomainEvent {
    case created(OrderCreated), itemAdded(ItemAdded)

    var payload: any EventPayload {
        switch self {
        case .created(let payload): payload
        case .itemAdded(let payload): payload
        }
    }

    init?(payload: any EventPayload) {
        switch payload {
        case let payload as OrderCreated: self = .created(payload)
        case let payload as ItemAdded: self = .itemAdded(payload)
        default: return nil
        }
    }
}

// 2. Define an aggregate: its state is a fold of its events; a command checks the
//    rules against the state and returns new events, changing nothing itself.
enum OrderError: Error { case alreadyCreated, notCreated }

struct Order: Aggregate {
    var customer: String?
    var items: [String: Int] = [:]

    mutating func apply(_ event: OrderEvent) {
        switch event {
        case .created(let created): customer = created.customer
        case .itemAdded(let added): items[added.sku, default: 0] += added.quantity
        }
    }

    func create(customer: String) throws -> [OrderEvent] {
        guard self.customer == nil else { throw OrderError.alreadyCreated }
        return [.created(OrderCreated(customer: customer))]
    }

    func addItem(sku: String, quantity: Int) throws -> [OrderEvent] {
        guard customer != nil else { throw OrderError.notCreated }
        return [.itemAdded(ItemAdded(sku: sku, quantity: quantity))]
    }
}

extension ItemAdded: Equatable {}
extension OrderError: Equatable {}

@Suite struct ReadmeTourTests {
    @Test func theFourStepTourRunsAsWritten() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }

        // 3. Open a store, or create one in an empty or new folder. Recovery runs here: a torn
        //    tail left by a crash is truncated and reported in `store.openReport`. Register the event types.
        let store = try FileEventStore.open(directory: folder.path + "/var/lib/shop/events")
        var registry = EventTypeRegistry()
        registry.register(OrderCreated.self)
        registry.register(ItemAdded.self)
        let orders = Repository<Order>(store: store, registry: registry, options: RepositoryOptions(maxAttempts: 3))

        // 4. Handle a command: the repository loads the order, runs the command and appends its
        //    events at exactly the version it loaded. If another writer got there first, it
        //    reloads and runs the command again (up to maxAttempts in all), then throws
        //    EventStoreError.wrongExpectedVersion.
        try await orders.handle("order-1001") { try $0.create(customer: "ada") }
        let outcome = try await orders.handle("order-1001") { try $0.addItem(sku: "TEA-01", quantity: 2) }
        // outcome.aggregate.version == 2, outcome.aggregate.state.items == ["TEA-01": 2]

        // Added checks: the outcome the comment above states, and the sentences after the code.
        #expect(outcome.aggregate.version == 2 && outcome.aggregate.state.items == ["TEA-01": 2])
        let events = try store.readStream("order-1001")
        let everything = try store.readAll(from: 1, maxCount: 1_000)
        #expect(events.map(\.type) == ["OrderCreated", "ItemAdded"] && everything == events)
        #expect(try registry.decode(events[1], as: OrderEvent.self).payload as? ItemAdded == ItemAdded(sku: "TEA-01", quantity: 2))
        await #expect(throws: OrderError.alreadyCreated) { try await orders.handle("order-1001") { try $0.create(customer: "bob") } }
        try await store.close()
    }
}
