// The story `eventlog demo` tells: one order's life through the domain layer
// (the OrderExample library) on a real FileEventStore, one numbered step per
// promise, each checked as it is told so the demo cannot print a false claim.
import EventLog
import EventSourcing
import Foundation
import OrderExample

/// The steps of the demo, in order; each prints its own lines.
struct DemoStory {
    let store: FileEventStore
    let orders: Repository<Order>
    /// The projection's and the saga's checkpoints. In memory for the demo; an
    /// application keeps them durably, beside its read model.
    let checkpoints = InMemoryCheckpointStore()

    static let order: StreamName = "order-1001"
    static let wholesaleOrder: StreamName = "order-1002"
    /// Orders created at once in the group-commit step.
    static let concurrentOrders = 20
    /// The wholesale order's items: commands of `itemsPerCommand` ItemAdded events each.
    static let wholesaleCommands = 4
    static let itemsPerCommand = 500
    /// The wholesale repository saves a snapshot each time a save crosses a multiple of this.
    static let snapshotEvery = 1_000
    /// Loads timed per way of loading; the fastest counts (the first one warms caches).
    static let timedLoads = 3

    /// How long loading the wholesale order took, with and without its snapshot.
    struct LoadTimes {
        let fromSnapshot: Duration
        let fullReplay: Duration
        /// Events a full replay applies.
        let eventCount: Int
    }

    init(store: FileEventStore) {
        self.store = store
        self.orders = OrderDomain.orders(store)
    }

    /// Tells every step.
    func tell() async throws -> LoadTimes {
        var summaries = OrderSummaryProjection()
        try await handleCommands()
        try await conflictThenRetry()
        try await upcastAnOldEvent()
        try await payWithAnIdempotentRetry()
        try await sagaRequestsShipping()
        try await catchUp(&summaries, step: 6)
        try await concurrentCustomers()
        let loadTimes = try await snapshotAndLoad()
        try await catchUp(&summaries, step: 9)
        try await replay(&summaries)
        try await truncateAndCompact()
        return loadTimes
    }

    // MARK: Steps

    private func handleCommands() async throws {
        printOutput("""
            1. Commands go through a Repository<Order>: it loads the order, runs the command on its state,
               and appends the events the command decides at exactly the version it loaded.
            """)
        let commands: [(name: String, run: (Order) throws -> [OrderEvent])] = [
            ("create", { try $0.create(orderID: "1001", customerID: "ada@example.com") }),
            ("addItem", { try $0.addItem(sku: "TEA-01", quantity: 2, unitPriceCents: 450) }),
            ("addItem", { try $0.addItem(sku: "MUG-07", quantity: 1, unitPriceCents: 1200) }),
        ]
        for command in commands {
            let outcome = try await orders.handle(Self.order, command.run)
            try printEvents(of: Self.order, from: outcome.aggregate.version, label: command.name, payload: true)
        }
    }

    private func conflictThenRetry() async throws {
        // Both handlers load before either saves: the second save meets a stream that moved.
        async let loadedByA = orders.load(Self.order)
        async let loadedByB = orders.load(Self.order)
        let (clerkA, clerkB) = try await (loadedByA, loadedByB)
        printOutput("2. Two clerks handle a command on \(Self.order) at the same moment; both load it at v\(clerkB.version).")
        let saved = try await orders.save(try clerkA.state.removeItem(sku: "MUG-07"), to: clerkA)
        try printEvents(of: Self.order, from: saved.aggregate.version, label: "clerk A", note: "removeItem(MUG-07): saved first")

        let addSpoons: (Order) throws -> [OrderEvent] = { try $0.addItem(sku: "SPOON-3", quantity: 4, unitPriceCents: 250) }
        do {
            try await orders.save(try addSpoons(clerkB.state), to: clerkB)
            throw CommandFailure(exitCode: .failure, message: "clerk B's save at a stale version was accepted; this is a bug in EventLog")
        } catch EventStoreError.wrongExpectedVersion(_, let expected, let actual) {
            printOutput(Self.column("clerk B") + "addItem(SPOON-3 x4) refused: wrong expected version "
                + "(expected \(expected), but the stream is at version \(actual))")
        }
        // What `RepositoryOptions(maxAttempts:)` does by itself: reload, decide again on the new state.
        let retried = try await orders.handle(Self.order, addSpoons)
        try printEvents(
            of: Self.order, from: retried.aggregate.version, label: "clerk B",
            note: "the same command, run again on the reloaded v\(saved.aggregate.version): saved")
    }

    private func upcastAnOldEvent() async throws {
        printOutput("""
            3. An older client still appends ItemAdded at schema 1 (the price in euros as a Double, no schema
               version in the metadata); the registry's upcasters bring it to schema 3 whenever it is read.
            """)
        let version = try await store.streamVersion(Self.order)
        let old = EventData(type: ItemAdded.eventType, data: Data(#"{"sku":"BAG-02","quantity":1,"price":3.5}"#.utf8))
        let result = try await store.append([old], to: Self.order, expectedVersion: .exact(version))
        let stored = try store.readStream(Self.order, from: result.nextExpectedVersion, maxCount: 1)
        printEvents(stored, label: "stored", payload: true)
        guard let event = stored.first, case .itemAdded(let upgraded) = try OrderDomain.registry.decode(event, as: OrderEvent.self),
            upgraded == ItemAdded(sku: "BAG-02", quantity: 1, unitPriceCents: 350, currency: "EUR")
        else {
            throw CommandFailure(exitCode: .failure, message: "the schema-1 ItemAdded did not read back as schema 3; this is a bug")
        }
        printOutput(Self.column("read back") + "as schema 3: " + Self.json(upgraded))
    }

    private func payWithAnIdempotentRetry() async throws {
        let loaded = try await orders.load(Self.order)
        printOutput("""
            4. The customer pays: the payment service appends OrderPaid (event id = its request id) at expected
               version \(loaded.version), loses the reply, and retries the same event at the same expected version.
            """)
        let paymentRequestID = EventID.make()
        let paid = try loaded.state.pay().map { try OrderDomain.registry.encode($0.payload, id: paymentRequestID) }
        let first = try await store.append(paid, to: Self.order, expectedVersion: .exact(loaded.version))
        try printEvents(of: Self.order, from: first.nextExpectedVersion, label: "first try", payload: true)
        let retry = try await store.append(paid, to: Self.order, expectedVersion: .exact(loaded.version))
        guard retry == first else {
            throw CommandFailure(exitCode: .failure, message: "the retry returned \(retry), not \(first); this is a bug in EventLog")
        }
        try printEvents(
            of: Self.order, from: retry.nextExpectedVersion, label: "retry", note: "the original result, nothing written: recorded once")
    }

    private func sagaRequestsShipping() async throws {
        printOutput("5. A saga (a ProcessManager) reacts to OrderPaid by requesting shipping; then the warehouse ships.")
        try await ShippingSaga.make(store: store, checkpoints: checkpoints).catchUp()
        let shipment = try store.readStream(try OrderDomain.shipmentStream("1001"))
        let payment = try store.readStream(Self.order).last { $0.type == OrderPaid.eventType }
        guard let request = shipment.first, shipment.count == 1, let payment, request.causationID == payment.id else {
            throw CommandFailure(exitCode: .failure, message: "the saga did not request shipping once, caused by the payment; this is a bug")
        }
        printEvents(shipment, label: "saga", note: "caused by OrderPaid @\(payment.position)")
        let shipped = try await orders.handle(Self.order) { try $0.ship(trackingCode: "TRK-1001") }
        try printEvents(of: Self.order, from: shipped.aggregate.version, label: "warehouse", payload: true)
    }

    private func catchUp(_ summaries: inout OrderSummaryProjection, step: Int) async throws {
        let checkpoint = try await checkpoints.checkpoint(named: summaries.name)
        let reached = try await ProjectionRunner(store: store, checkpoints: checkpoints).catchUp(&summaries)
        let from = checkpoint.map { "its checkpoint @\($0)" } ?? "position 1 (no checkpoint yet)"
        let read = reached.rawValue - (checkpoint?.rawValue ?? 0)
        printOutput("\(step). The order-summary projection catches up from \(from) to @\(Self.grouped(reached.rawValue)): "
            + "\(Self.grouped(read)) events read.")
        for line in Self.describe(summaries.summaries, after: checkpoint) { printOutput("     " + line) }
    }

    private func concurrentCustomers() async throws {
        let before = store.statistics
        try await withThrowingTaskGroup(of: Void.self) { group in
            for number in 1...Self.concurrentOrders {
                group.addTask { [orders] in
                    let orderID = String(2000 + number)
                    try await orders.handle(try OrderDomain.orderStream(orderID)) {
                        try $0.create(orderID: orderID, customerID: "customer-\(number)@example.com")
                    }
                }
            }
            try await group.waitForAll()
        }
        let after = store.statistics
        let syncs = after.syncs - before.syncs
        printOutput("""
            7. \(Self.concurrentOrders) other customers order at the same moment (order-2001 ... order-\(2000 + Self.concurrentOrders)): \
            \(after.appendsAcknowledged - before.appendsAcknowledged) appends, \(syncs) fsync\(syncs == 1 ? "" : "s");
               the writer shares one write and one fsync among the appends that arrive together.
            """)
    }

    private func snapshotAndLoad() async throws -> LoadTimes {
        let wholesale = OrderDomain.orders(store, options: RepositoryOptions(snapshotEvery: Self.snapshotEvery))
        try await wholesale.handle(Self.wholesaleOrder) { try $0.create(orderID: "1002", customerID: "shop@example.com") }
        var snapshotVersions: [StreamVersion] = []
        for _ in 0..<Self.wholesaleCommands {
            let outcome = try await wholesale.handle(Self.wholesaleOrder) { order in
                try (0..<Self.itemsPerCommand).flatMap { item in
                    try order.addItem(sku: "SKU-\(item % 20)", quantity: 1, unitPriceCents: 100 + item % 20)
                }
            }
            if let failure = outcome.snapshotFailure { throw failure }
            if outcome.snapshotSaved { snapshotVersions.append(outcome.aggregate.version) }
        }
        let cancelled = try await wholesale.handle(Self.wholesaleOrder) { try $0.cancel(reason: "ordered twice") }
        let items = Self.wholesaleCommands * Self.itemsPerCommand
        printOutput("""
            8. A wholesale order (\(Self.wholesaleOrder)) gets \(Self.grouped(items)) items in \(Self.wholesaleCommands) \
            commands of \(Self.itemsPerCommand) events, through a repository
               that snapshots every \(Self.grouped(Self.snapshotEvery)) events (at \
            \(snapshotVersions.map { "v" + Self.grouped($0) }.joined(separator: " and "))); then it is cancelled \
            (v\(Self.grouped(cancelled.aggregate.version))). Loading it:
            """)

        let (fromSnapshot, snapshotTime) = try await Self.fastestLoad { try await orders.load(Self.wholesaleOrder) }
        // Time travel to the log's end replays every event: snapshots hold only the latest state.
        let end = store.lastPosition
        let (replayed, replayTime) = try await Self.fastestLoad { try await orders.load(Self.wholesaleOrder, through: end) }
        guard let snapshotVersion = fromSnapshot.snapshotVersion, fromSnapshot.state == replayed.state,
            replayed.snapshotVersion == nil
        else {
            throw CommandFailure(exitCode: .failure, message: "loading from the snapshot gave another state than a full replay; this is a bug")
        }
        let after = fromSnapshot.eventsApplied == 1 ? "1 event" : "\(fromSnapshot.eventsApplied) events"
        let ways = [
            ("from the snapshot at v\(Self.grouped(snapshotVersion)), then \(after):", Self.milliseconds(snapshotTime), ""),
            ("replaying all \(Self.grouped(replayed.eventsApplied)) events:", Self.milliseconds(replayTime), "  (the same state)"),
        ]
        let width = ways.map(\.0.count).max()! + 1
        let timeWidth = ways.map(\.1.count).max()!
        for (way, time, note) in ways {
            printOutput("     " + way.padding(toLength: width, withPad: " ", startingAt: 0)
                + String(repeating: " ", count: timeWidth - time.count) + time + note)
        }
        return LoadTimes(fromSnapshot: snapshotTime, fullReplay: replayTime, eventCount: replayed.eventsApplied)
    }

    private func replay(_ summaries: inout OrderSummaryProjection) async throws {
        let caughtUp = summaries.summaries
        let reached = try await ProjectionRunner(store: store, checkpoints: checkpoints).rebuild(&summaries)
        guard summaries.summaries == caughtUp else {
            throw CommandFailure(exitCode: .failure, message: "the rebuilt read model differs from the caught-up one; this is a bug")
        }
        printOutput("10. Replay: the projection is reset and rebuilt from position 1 to @\(Self.grouped(reached.rawValue)): "
            + "the same \(caughtUp.count) summaries.")
    }

    private func truncateAndCompact() async throws {
        let before = try await orders.load(Self.wholesaleOrder)
        guard let snapshotVersion = try await store.truncateToLatestSnapshot(of: Self.wholesaleOrder) else {
            throw CommandFailure(exitCode: .failure, message: "\(Self.wholesaleOrder) has no snapshot to truncate to; this is a bug")
        }
        let visible = try store.readAll()
        let report = try await store.compact()
        let after = try await orders.load(Self.wholesaleOrder)
        guard after.state == before.state, after.version == before.version, try store.readAll() == visible else {
            throw CommandFailure(exitCode: .failure, message: "compaction changed what the store reads; this is a bug")
        }
        printOutput("""
            11. \(Self.wholesaleOrder)'s snapshot makes its first \(Self.grouped(snapshotVersion)) events unnecessary: the stream is \
            truncated up
                to it and the store compacted, online: \(Self.grouped(report.eventsRemoved)) events removed, \
            \(HumanReadable.bytes(report.bytesReclaimed)) reclaimed; every
                other event keeps its position, and \(Self.wholesaleOrder) still loads to the same state \
            (v\(Self.grouped(after.version))).
            """)
    }

    // MARK: Printing

    /// Prints the events of `stream` from version `from` on.
    private func printEvents(
        of stream: StreamName, from version: StreamVersion, label: String, payload: Bool = false, note: String? = nil
    ) throws {
        try printEvents(store.readStream(stream, from: version), label: label, payload: payload, note: note)
    }

    /// One line per event: label, stream, version, position, type, and the stored payload or a note.
    private func printEvents(_ events: [RecordedEvent], label: String, payload: Bool = false, note: String? = nil) {
        for event in events {
            var line = Self.column(label) + "\(event.stream)  v\(event.version)  @\(event.position)  "
            line += event.type.padding(toLength: max(event.type.count, 12), withPad: " ", startingAt: 0)
            if payload { line += "  " + String(decoding: event.data, as: UTF8.self) }
            if let note { line += "  " + note }
            printOutput(line)
        }
    }

    /// The indent and the label column of an event line.
    static func column(_ label: String) -> String {
        "     " + label.padding(toLength: max(label.count + 1, 11), withPad: " ", startingAt: 0)
    }

    /// `1234` as `1,234`.
    static func grouped<Number: BinaryInteger>(_ value: Number) -> String {
        let digits = String(value)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return result
    }

    static func grouped(_ version: StreamVersion) -> String { grouped(version.rawValue) }

    /// A duration in milliseconds with one decimal.
    static func milliseconds(_ duration: Duration) -> String {
        String(format: "%.1f ms", milliseconds(of: duration))
    }

    static func milliseconds(of duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1_000 + Double(attoseconds) / 1e15
    }

    /// A payload as sorted-key JSON, the way the registry stores it.
    private static func json(_ payload: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(payload)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
    }

    /// What a catch-up brought into the read model: order-1001 on the first one;
    /// the wholesale order and the other customers' orders on the later one.
    private static func describe(_ summaries: [String: OrderSummary], after checkpoint: GlobalPosition?) -> [String] {
        func line(_ orderID: String) -> String? {
            summaries[orderID].map { summary in
                "order-\(orderID): \(summary.customerID), \(grouped(summary.itemCount)) items, "
                    + "\(grouped(summary.totalCents / 100)).\(String(format: "%02d", summary.totalCents % 100)) EUR, "
                    + summary.status.rawValue
            }
        }
        guard checkpoint != nil else { return line("1001").map { [$0] } ?? [] }
        let others = summaries.filter { $0.key != "1001" && $0.key != "1002" }
        let byStatus = Dictionary(grouping: others.values, by: \.status.rawValue).mapValues(\.count)
        let statuses = byStatus.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        return [line("1002"), "order-2001 ... order-\(2000 + concurrentOrders): \(statuses)"].compactMap { $0 }
    }

    /// The fastest of ``timedLoads`` runs of `load`, and what the last one loaded.
    private static func fastestLoad(
        _ load: () async throws -> LoadedAggregate<Order>
    ) async throws -> (LoadedAggregate<Order>, Duration) {
        let clock = ContinuousClock()
        var started = clock.now
        var loaded = try await load()
        var fastest = clock.now - started
        for _ in 1..<timedLoads {
            started = clock.now
            loaded = try await load()
            fastest = min(fastest, clock.now - started)
        }
        return (loaded, fastest)
    }
}
