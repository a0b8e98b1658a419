// Typed events to stored bytes and back, and old schema versions upcast on
// read, step by step in version order.
import EventSourcing
import OrderExample
import Foundation
import Synchronization
import Testing

@Suite struct EventTypeRegistryTests {
    let registry = OrderDomain.registry

    func recorded(_ data: EventData, position: GlobalPosition = 1) -> RecordedEvent {
        RecordedEvent(
            position: position, stream: "order-1", version: 1, id: data.id, type: data.type, data: data.data,
            metadata: data.metadata, isJSON: data.isJSON, timestampMicroseconds: 0,
            correlationID: data.correlationID, causationID: data.causationID)
    }

    @Test func payloadsEncodeAsJSONUnderTheirTypeNameWithTheSchemaVersionInMetadata() throws {
        let added = ItemAdded(sku: "A", quantity: 2, unitPriceCents: 250, currency: "EUR")
        let context = CommandContext(correlationID: EventID.make(), causationID: EventID.make())
        let data = try registry.encode(added, context: context)
        #expect(data.type == "ItemAdded")
        #expect(data.isJSON)
        #expect(String(decoding: data.data, as: UTF8.self) == #"{"currency":"EUR","quantity":2,"sku":"A","unitPriceCents":250}"#)
        #expect(String(decoding: data.metadata, as: UTF8.self) == #"{"schemaVersion":3}"#)
        #expect(data.correlationID == context.correlationID && data.causationID == context.causationID)
        #expect(try registry.decode(recorded(data)) as? ItemAdded == added)
        #expect(try registry.decode(recorded(data), as: OrderEvent.self) == .itemAdded(added))
    }

    @Test func anUnknownEventTypeIsATypedError() throws {
        let unknown = EventData(type: "Mystery", data: Data("{}".utf8))
        #expect(throws: DomainError.unknownEventType("Mystery", position: 7)) { try registry.decode(recorded(unknown, position: 7)) }
        struct Unregistered: EventPayload { static let eventType = "Unregistered" }
        #expect(throws: DomainError.unknownEventType("Unregistered", position: nil)) { try registry.encode(Unregistered()) }
    }

    @Test func aPayloadOfAnotherAggregateIsNotHandled() throws {
        let data = try registry.encode(ShippingRequested(orderID: "1", amountCents: 5))
        #expect(throws: DomainError.eventNotHandled(eventType: "ShippingRequested", aggregate: "OrderEvent", position: 1)) {
            try registry.decode(recorded(data), as: OrderEvent.self)
        }
    }

    @Test func aPayloadThatDoesNotMatchItsTypeIsUndecodable() {
        let broken = EventData(type: "OrderPaid", data: Data(#"{"amount":"lots"}"#.utf8))
        #expect {
            try registry.decode(recorded(broken))
        } throws: { error in
            guard case .undecodablePayload(let type, _, let position) = error as? DomainError else { return false }
            return type == "OrderPaid" && position == 1
        }
    }
}

@Suite struct UpcastingTests {
    func recorded(type: String, json: String, metadata: String) -> RecordedEvent {
        RecordedEvent(
            position: 3, stream: "order-1", version: 2, id: EventID.make(), type: type, data: Data(json.utf8),
            metadata: Data(metadata.utf8), isJSON: true, timestampMicroseconds: 0)
    }

    let version1 = #"{"sku":"A","quantity":3,"price":2.5}"#

    @Test func anEventWithoutSchemaVersionIsVersion1AndUpcastToTheCurrentShape() throws {
        let event = recorded(type: "ItemAdded", json: version1, metadata: "")
        let payload = try OrderDomain.registry.decode(event)
        #expect(payload as? ItemAdded == ItemAdded(sku: "A", quantity: 3, unitPriceCents: 250, currency: "EUR"))
    }

    @Test func aVersion2EventTakesOnlyTheLastStep() throws {
        let event = recorded(type: "ItemAdded", json: #"{"sku":"B","quantity":1,"unitPriceCents":199}"#, metadata: #"{"schemaVersion":2}"#)
        #expect(try OrderDomain.registry.decode(event) as? ItemAdded == ItemAdded(sku: "B", quantity: 1, unitPriceCents: 199, currency: "EUR"))
    }

    @Test func upcastersRunInVersionOrderWhateverOrderTheyWereRegisteredIn() throws {
        let steps = Mutex<[String]>([])
        // Each step checks it sees the previous step's output, and records itself.
        let oneToTwo = Upcaster(eventType: "ItemAdded", fromSchemaVersion: 1) { data in
            steps.withLock { $0.append("1→2") }
            return try OrderUpcasters.itemAddedV1ToV2.upcast(data)
        }
        let twoToThree = Upcaster(eventType: "ItemAdded", fromSchemaVersion: 2) { data in
            steps.withLock { $0.append("2→3") }
            _ = try JSONDecoder().decode(ItemAddedV2.self, from: data)
            return try OrderUpcasters.itemAddedV2ToV3.upcast(data)
        }
        var registry = EventTypeRegistry(upcasters: [twoToThree, oneToTwo])
        registry.register(ItemAdded.self)
        let payload = try registry.decode(recorded(type: "ItemAdded", json: version1, metadata: #"{"schemaVersion":1}"#))
        #expect(steps.withLock { $0 } == ["1→2", "2→3"])
        #expect(payload as? ItemAdded == ItemAdded(sku: "A", quantity: 3, unitPriceCents: 250, currency: "EUR"))
    }

    @Test func aMissingStepIsAnUnsupportedSchemaVersion() {
        var registry = EventTypeRegistry(upcasters: [OrderUpcasters.itemAddedV1ToV2])
        registry.register(ItemAdded.self)
        #expect(throws: DomainError.unsupportedSchemaVersion(eventType: "ItemAdded", stored: 1, current: 3, position: 3)) {
            try registry.decode(recorded(type: "ItemAdded", json: version1, metadata: ""))
        }
    }

    @Test func aFailingStepIsReportedWithItsVersion() {
        #expect {
            try OrderDomain.registry.decode(recorded(type: "ItemAdded", json: #"{"sku":"A"}"#, metadata: #"{"schemaVersion":1}"#))
        } throws: { error in
            guard case .upcastFailed("ItemAdded", 1, _, 3) = error as? DomainError else { return false }
            return true
        }
    }

    @Test func upcastEventsLoadIntoTheAggregate() async throws {
        let store = InMemoryEventStore()
        let orders = OrderDomain.orders(store)
        try await orders.handle("order-1") { try $0.create(orderID: "1", customerID: "c") }
        // An event written by an old version of the application, before schema versions.
        _ = try await store.append([EventData(type: "ItemAdded", data: Data(version1.utf8))], to: "order-1", expectedVersion: .exact(1))
        try await orders.handle("order-1") { try $0.addItem(sku: "A", quantity: 1, unitPriceCents: 250) }
        let order = try await orders.load("order-1")
        #expect(order.state.lines["A"] == Order.Line(quantity: 4, unitPriceCents: 250, currency: "EUR"))
        #expect(order.state.totalCents == 1_000)
    }
}
