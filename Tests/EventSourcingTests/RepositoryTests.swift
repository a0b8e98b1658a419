// Loading from snapshots or full replay, saving at the exact version, retrying
// commands on conflicts, and carrying correlation and causation ids.
import EventSourcing
import OrderExample
import Foundation
import Testing

@Suite struct RepositoryTests {
    /// An order with `count` item events after its creation.
    @discardableResult
    func orderWithItems(_ count: Int, in store: any EventStore, options: RepositoryOptions) async throws -> [CommandOutcome<Order>] {
        let orders = OrderDomain.orders(store, options: options)
        var outcomes = [try await orders.handle("order-1") { try $0.create(orderID: "1", customerID: "c-9") }]
        for index in 0..<count {
            outcomes.append(try await orders.handle("order-1") { order in
                index % 5 == 4
                    ? try order.removeItem(sku: "sku-\(index - 1)")
                    : try order.addItem(sku: "sku-\(index)", quantity: index % 3 + 1, unitPriceCents: 100 + index)
            })
        }
        return outcomes
    }

    /// The state from replaying every event by hand: the reference for every load.
    func replayByHand(_ stream: StreamName, in store: any EventStore) async throws -> Order {
        try await store.readWholeStream(stream).reduce(into: Order()) { order, event in
            order.apply(try OrderDomain.registry.decode(event, as: OrderEvent.self))
        }
    }

    @Test func loadingFromASnapshotGivesTheSameStateAsAFullReplay() async throws {
        let store = InMemoryEventStore()
        let outcomes = try await orderWithItems(22, in: store, options: RepositoryOptions(snapshotEvery: 5))
        #expect(outcomes.map(\.snapshotSaved) == (1...23).map { $0 % 5 == 0 })
        let snapshot = try #require(try await store.loadSnapshot(of: "order-1"))
        #expect(snapshot.version == 20)

        let fromSnapshot = try await OrderDomain.orders(store).load("order-1")
        #expect(fromSnapshot.snapshotVersion == 20)
        #expect(fromSnapshot.eventsApplied == 3)
        #expect(fromSnapshot.version == 23)
        let replayed = try await replayByHand("order-1", in: store)
        #expect(fromSnapshot.state == replayed)
        #expect(replayed.lines.count > 5 && replayed.totalCents > 0)
    }

    @Test func anUndecodableSnapshotFallsBackToAFullReplay() async throws {
        let store = InMemoryEventStore()
        try await orderWithItems(7, in: store, options: RepositoryOptions())
        try await store.saveSnapshot(Snapshot(stream: "order-1", version: 8, state: Data("not json".utf8)))
        let loaded = try await OrderDomain.orders(store).load("order-1")
        #expect(loaded.snapshotVersion == nil)
        #expect(loaded.eventsApplied == 8)
        #expect(loaded.state == (try await replayByHand("order-1", in: store)))
    }

    @Test func aSnapshotOfAnotherSchemaVersionIsIgnored() async throws {
        let store = InMemoryEventStore()
        try await orderWithItems(3, in: store, options: RepositoryOptions())
        // Decodable bytes, but written by an encoding this version does not claim.
        let stale = try JSONEncoder().encode(Order())
        try await store.saveSnapshot(Snapshot(stream: "order-1", version: 4, schemaVersion: 99, state: stale))
        let loaded = try await OrderDomain.orders(store).load("order-1")
        #expect(loaded.snapshotVersion == nil)
        #expect(loaded.state == (try await replayByHand("order-1", in: store)))
    }

    @Test func aSnapshotWhoseLaterEventsWereDeletedIsNotBuiltOn() async throws {
        let store = SnapshotKeepingStore()
        try await orderWithItems(6, in: store, options: RepositoryOptions(snapshotEvery: 3))
        try await store.deleteStream("order-1", expectedVersion: .exact(7), hard: false)
        #expect(try await store.loadSnapshot(of: "order-1")?.version == 6)  // Kept by this store.
        // The order starts over; built on the stale snapshot it would already exist.
        let orders = OrderDomain.orders(store)
        try await orders.handle("order-1") { try $0.create(orderID: "1", customerID: "new") }
        try await orders.handle("order-1") { try $0.addItem(sku: "Z", quantity: 1, unitPriceCents: 5) }
        let loaded = try await orders.load("order-1")
        #expect(loaded.snapshotVersion == nil)
        #expect(loaded.version == 9)
        #expect(loaded.state == (try await replayByHand("order-1", in: store)))
        #expect(loaded.state.customerID == "new" && Array(loaded.state.lines.keys) == ["Z"])
    }

    @Test func aSnapshotStaysInUseWhenOnlyEventsBeforeItAreTruncated() async throws {
        let store = SnapshotKeepingStore()
        try await orderWithItems(7, in: store, options: RepositoryOptions(snapshotEvery: 4))
        let before = try await OrderDomain.orders(store).load("order-1")
        try await store.truncateStream("order-1", before: 4)
        let after = try await OrderDomain.orders(store).load("order-1")
        #expect(after.snapshotVersion == 8 && before.snapshotVersion == 8)
        #expect(after.state == before.state)
    }

    @Test func savingAppendsAtTheLoadedVersionAndCarriesTheContextIDs() async throws {
        let store = InMemoryEventStore()
        let orders = OrderDomain.orders(store)
        let context = CommandContext(correlationID: EventID.make(), causationID: EventID.make())
        let outcome = try await orders.handle("order-7", context: context) { try $0.create(orderID: "7", customerID: "c") }
        #expect(outcome.appendResult?.nextExpectedVersion == 1)
        #expect(outcome.aggregate.version == 1 && outcome.aggregate.state.status == .open)
        let events = try await store.readWholeStream("order-7")
        #expect(events.map(\.correlationID) == [context.correlationID])
        #expect(events.map(\.causationID) == [context.causationID])
    }

    @Test func aCommandThatThrowsWritesNothing() async throws {
        let store = InMemoryEventStore()
        let orders = OrderDomain.orders(store)
        await #expect(throws: OrderError.notCreated) { try await orders.handle("order-1") { try $0.pay() } }
        try await orders.handle("order-1") { try $0.create(orderID: "1", customerID: "c") }
        await #expect(throws: OrderError.emptyOrder) { try await orders.handle("order-1") { try $0.pay() } }
        #expect(try await store.lastPosition() == 1)
    }

    @Test func aCommandThatDecidesNothingAppendsNothing() async throws {
        let store = InMemoryEventStore()
        let shipments = Repository<Shipment>(store: store, registry: OrderDomain.registry)
        try await shipments.handle("shipment-1") { $0.request(orderID: "1", amountCents: 5) }
        let repeated = try await shipments.handle("shipment-1") { $0.request(orderID: "1", amountCents: 5) }
        #expect(repeated.events.isEmpty && repeated.appendResult == nil)
        #expect(try await store.lastPosition() == 1)
    }

    @Test func aSoftDeletedStreamLoadsEmptyAndContinuesAtItsNextVersion() async throws {
        let store = InMemoryEventStore()
        try await orderWithItems(2, in: store, options: RepositoryOptions())
        try await store.deleteStream("order-1", expectedVersion: .exact(3), hard: false)
        let orders = OrderDomain.orders(store)
        let loaded = try await orders.load("order-1")
        #expect(loaded.state == Order() && loaded.version == 3)
        let outcome = try await orders.handle("order-1") { try $0.create(orderID: "1", customerID: "again") }
        #expect(outcome.appendResult?.nextExpectedVersion == 4)
    }

    // MARK: Concurrency

    /// Two handlers of one order: the second one's whole command runs between the
    /// first one's load and save (through the hook), so the first one's save meets
    /// a stream that moved.
    func racingAddItems(maxAttempts: Int) async throws -> (store: InMemoryEventStore, first: Result<CommandOutcome<Order>, any Error>) {
        let store = InMemoryEventStore()
        try await OrderDomain.orders(store).handle("order-1") { try $0.create(orderID: "1", customerID: "c") }
        let hooked = HookedEventStore(inner: store) { call in
            guard call == 0 else { return }
            let winner = try await OrderDomain.orders(store).handle("order-1") { try $0.addItem(sku: "B", quantity: 1, unitPriceCents: 200) }
            #expect(winner.attempts == 1)
        }
        let first = await Result {
            try await OrderDomain.orders(hooked, options: RepositoryOptions(maxAttempts: maxAttempts)).handle("order-1") {
                try $0.addItem(sku: "A", quantity: 1, unitPriceCents: 100)
            }
        }
        return (store, first)
    }

    @Test func aConflictingHandlerRetriesOnTheNewStateWhenRetryIsOn() async throws {
        let (store, first) = try await racingAddItems(maxAttempts: 3)
        let outcome = try first.get()
        #expect(outcome.attempts == 2)
        #expect(outcome.aggregate.version == 3)
        let order = try await OrderDomain.orders(store).load("order-1")
        #expect(Set(order.state.lines.keys) == ["A", "B"])
        #expect(order.state.totalCents == 300)
    }

    @Test func aConflictingHandlerFailsWithWrongExpectedVersionWhenRetryIsOff() async throws {
        let (store, first) = try await racingAddItems(maxAttempts: 1)
        #expect(throws: EventStoreError.wrongExpectedVersion(stream: "order-1", expected: .exact(1), actual: 2)) { try first.get() }
        #expect(Set(try await OrderDomain.orders(store).load("order-1").state.lines.keys) == ["B"])
    }

    @Test func manyConcurrentHandlersAllSucceedWithEnoughRetries() async throws {
        let store = InMemoryEventStore()
        try await OrderDomain.orders(store).handle("order-1") { try $0.create(orderID: "1", customerID: "c") }
        let handlerCount = 16
        // A handler loses only to a handler that then finishes, so 16 attempts always suffice.
        let orders = OrderDomain.orders(store, options: RepositoryOptions(maxAttempts: handlerCount))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<handlerCount {
                group.addTask {
                    try await orders.handle("order-1") { try $0.addItem(sku: "sku-\(index)", quantity: 1, unitPriceCents: 10) }
                }
            }
            try await group.waitForAll()
        }
        let order = try await orders.load("order-1")
        #expect(order.state.lines.count == handlerCount)
        #expect(order.version == StreamVersion(UInt64(handlerCount + 1)))
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
