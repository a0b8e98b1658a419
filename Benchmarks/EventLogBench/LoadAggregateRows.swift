// The load-aggregate rows: how long the Repository takes to rehydrate one Order
// of 10,000 events from a FileEventStore, replaying every event, and from a
// snapshot at version 9,900 plus the 100 events after it. What a snapshot buys
// is the point of the pair, so the snapshot row's note gives the speedup.
import EventLog
import EventSourcing
import Foundation
import OrderExample

enum LoadAggregateRows {
    static let noSnapshotName = "load-aggregate-nosnapshot"
    static let snapshotName = "load-aggregate-snapshot"
    static let names = [noSnapshotName, snapshotName]

    /// Events in each order's stream: one OrderCreated, then ItemAdded events.
    static let eventCount = 10_000
    /// Events per save while building (the snapshot version is a multiple of it).
    static let eventsPerSave = 100
    /// Where the snapshot row's repository snapshots: the save that reaches this
    /// version crosses it, and no later save crosses a multiple of it.
    static let snapshotVersion = 9_900
    /// SKUs the items cycle over, so the state (and the snapshot) stays small, as
    /// an order's does: the cost measured is the events', not a huge state's.
    static let skuCount = 10
    /// Timed loads per row, after one untimed load that warms the file cache.
    static func timedLoads(snapshot: Bool, quick: Bool) -> Int {
        switch (snapshot, quick) {
        case (false, false): 40
        case (false, true): 12
        case (true, false): 1_000
        case (true, true): 300
        }
    }

    static let targetSpeedup = 20.0

    static let noSnapshotStream = fixedOrderStream("nosnapshot")
    static let snapshotStream = fixedOrderStream("snapshot")

    /// Builds the store in the scratch folder and runs the selected rows on it.
    /// The no-snapshot loads also run when only the snapshot row is selected: they
    /// are the speedup's reference (reported in the note only).
    static func run(quick: Bool, selects: (String) -> Bool, scratchDirectory: String) async throws -> [RowResult] {
        let directory = "\(scratchDirectory)/load-aggregate"
        Progress.log("\(noSnapshotName), \(snapshotName): one Order of \(NumberFormatting.grouped(eventCount)) events each, "
            + "snapshot at v\(NumberFormatting.grouped(snapshotVersion))")
        let buildSeconds = try await build(directory: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let store = try FileEventStore.open(directory: directory, options: StoreOptions())
        var rows: [RowResult] = []
        do {
            // The application's repository: the snapshot row's stream has a snapshot, the other has none.
            let orders = OrderDomain.orders(store)
            let replay = try await ResidentMemory.measuring {
                try await row(
                    name: noSnapshotName, orders: orders, stream: noSnapshotStream,
                    loads: timedLoads(snapshot: false, quick: quick), expectedSnapshot: nil,
                    notes: ["store built in \(NumberFormatting.decimal(buildSeconds, decimals: 2)) s"])
            }
            if selects(noSnapshotName) { rows.append(replay) }
            if selects(snapshotName) {
                var snapshotRow = try await ResidentMemory.measuring {
                    try await row(
                        name: snapshotName, orders: orders, stream: snapshotStream,
                        loads: timedLoads(snapshot: true, quick: quick), expectedSnapshot: StreamVersion(UInt64(snapshotVersion)),
                        notes: [])
                }
                let speedup = replay.p50Microseconds! / snapshotRow.p50Microseconds!
                snapshotRow.note! += "; speedup over \(noSnapshotName): \(NumberFormatting.decimal(speedup, decimals: 1))x "
                    + "at p50 (target >= \(Int(targetSpeedup))x: \(speedup >= targetSpeedup ? "met" : "MISSED"))"
                rows.append(snapshotRow)
            }
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        return rows
    }

    /// Times `loads` loads of `stream` through `orders`, each checked: the whole
    /// stream's version and the snapshot it started from (nil: a full replay).
    private static func row(
        name: String, orders: Repository<Order>, stream: StreamName, loads: Int, expectedSnapshot: StreamVersion?,
        notes: [String]
    ) async throws -> RowResult {
        let expectedApplied = eventCount - Int(expectedSnapshot?.rawValue ?? 0)
        func loadChecked() async throws {
            let loaded = try await orders.load(stream)
            guard loaded.version == StreamVersion(UInt64(eventCount)), loaded.snapshotVersion == expectedSnapshot,
                loaded.eventsApplied == expectedApplied, loaded.state.lines.count == skuCount
            else {
                throw BenchmarkError("\(name): loaded v\(loaded.version) from snapshot \(loaded.snapshotVersion.map(String.init(describing:)) ?? "none") "
                    + "applying \(loaded.eventsApplied) events; expected v\(eventCount), \(expectedApplied) events applied")
            }
        }
        try await loadChecked()
        var latency = LatencyHistogram()
        let started = MonotonicClock.nanoseconds()
        for _ in 0..<loads {
            let loadStarted = MonotonicClock.nanoseconds()
            try await loadChecked()
            latency.record(nanoseconds: MonotonicClock.nanoseconds() - loadStarted)
        }
        let seconds = MonotonicClock.seconds(from: started, to: MonotonicClock.nanoseconds())
        let loadsPerSecond = Double(loads) / seconds
        let p50 = latency.valueMicroseconds(atPercentile: 50)!
        Progress.log("  \(name): \(NumberFormatting.grouped(loads)) loads in \(NumberFormatting.decimal(seconds, decimals: 2)) s = "
            + "\(NumberFormatting.decimal(loadsPerSecond, decimals: 1)) loads/s, p50 \(NumberFormatting.decimal(p50 / 1_000, decimals: 2)) ms")
        let how = expectedSnapshot.map { "from the snapshot at v\(NumberFormatting.grouped(Int($0.rawValue))) plus "
            + "\(NumberFormatting.grouped(expectedApplied)) events" } ?? "replaying all \(NumberFormatting.grouped(eventCount)) events"
        let rowNotes = [
            "\(NumberFormatting.decimal(loadsPerSecond, decimals: 1)) loads/s: Repository<Order>.load of one "
                + "\(NumberFormatting.grouped(eventCount))-event order \(how), \(NumberFormatting.grouped(loads)) loads after one untimed; "
                + "p50/p99/p99.9 per load; events = loads x \(NumberFormatting.grouped(eventCount)), "
                + "events/s = the order's events rehydrated per second",
        ] + notes
        return RowResult(
            name: name, events: loads * eventCount, seconds: seconds, eventsPerSecond: Double(loads * eventCount) / seconds,
            p50Microseconds: p50, p99Microseconds: latency.valueMicroseconds(atPercentile: 99),
            p999Microseconds: latency.valueMicroseconds(atPercentile: 99.9),
            baselineEventsPerSecond: nil, ratioToBaseline: nil, note: rowNotes.joined(separator: "; "))
    }

    /// Writes both orders through repositories, in saves of 100 events (the
    /// snapshot row's repository snapshotting every 9,900), and closes the store.
    /// Each save continues from the previous one's aggregate rather than loading
    /// again (as `handle` would), so the build is linear in the events, not quadratic.
    /// - Returns: The seconds it took.
    private static func build(directory: String) async throws -> Double {
        let started = MonotonicClock.nanoseconds()
        let store = try FileEventStore.open(directory: directory, options: StoreOptions(durability: .none))
        do {
            for (stream, snapshotEvery) in [(noSnapshotStream, nil), (snapshotStream, snapshotVersion)] {
                let orders = OrderDomain.orders(store, options: RepositoryOptions(snapshotEvery: snapshotEvery))
                var order = try await orders.handle(stream) {
                    try $0.create(orderID: OrderDomain.orderID(of: stream), customerID: "bench")
                }.aggregate
                while order.version.rawValue < UInt64(eventCount) {
                    let version = Int(order.version.rawValue)
                    let count = min(eventsPerSave - version % eventsPerSave, eventCount - version)
                    let items = try (0..<count).flatMap { [state = order.state] item in
                        try state.addItem(sku: "SKU-\(item % skuCount)", quantity: 1, unitPriceCents: 100 + item % skuCount)
                    }
                    let outcome = try await orders.save(items, to: order)
                    if let failure = outcome.snapshotFailure { throw failure }
                    order = outcome.aggregate
                }
            }
            let snapshot = try await store.loadSnapshot(of: snapshotStream)
            guard snapshot?.version == StreamVersion(UInt64(snapshotVersion)), try await store.loadSnapshot(of: noSnapshotStream) == nil else {
                throw BenchmarkError("load-aggregate: the snapshot is at \(snapshot.map { "v\($0.version)" } ?? "no version"), "
                    + "not v\(snapshotVersion)")
            }
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        let seconds = MonotonicClock.seconds(from: started, to: MonotonicClock.nanoseconds())
        Progress.log("  load-aggregate: built 2 orders of \(NumberFormatting.grouped(eventCount)) events in "
            + "\(NumberFormatting.decimal(seconds, decimals: 2)) s (\(eventsPerSave) events per save, no sync)")
        return seconds
    }

    /// `order-<id>` for an id the benchmark made up and knows to be valid.
    private static func fixedOrderStream(_ orderID: String) -> StreamName {
        do { return try OrderDomain.orderStream(orderID) } catch { preconditionFailure("benchmark order id '\(orderID)': \(error)") }
    }
}
