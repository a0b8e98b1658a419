// The append rows: which store setting and load each one puts on the writer, and
// how long it runs in each mode.
import EventLog

/// One append row: durability, appender count, events per call and run length.
struct AppendRowSpec: Sendable {
    let name: String
    let durability: Durability
    /// Concurrent appender tasks, each appending to its own stream.
    let appenderCount: Int
    let eventsPerCall: Int
    /// Each round appends until this much time has passed...
    let targetNanoseconds: UInt64
    /// ...or this many events are written, whichever comes first (a bound on disk
    /// and memory use if the store is much faster than expected).
    let maxEvents: Int
    /// Bytes of each event's data.
    var dataSizeBytes = BenchmarkEventFactory.dataSizeBytes
    /// ``StoreOptions/loneAppenderWritesOnItsThread``.
    var loneAppenderWritesOnItsThread = false

    /// The store's options for this row.
    var storeOptions: StoreOptions {
        var options = StoreOptions(durability: durability)
        options.loneAppenderWritesOnItsThread = loneAppenderWritesOnItsThread
        return options
    }

    /// Bytes of each event's record, which the baseline writes as many of.
    var recordSizeBytes: Int { BenchmarkStreams.recordSizeBytes(dataSizeBytes: dataSizeBytes) }

    /// How the baseline syncs to match this row's durability, given what a round
    /// of the row measured: as many syncs (`.fsync`), none (`.none`), or one
    /// every `maxDelay` with writes the size of the store's batches (`.batched`).
    func baselinePlan(for measured: AppendRoundMeasurement) -> BaselineSyncPlan {
        switch durability {
        case .fsync: .everyGroup(syncs: measured.syncs)
        case .none: .never
        case .batched(let maxDelay):
            .interval(
                nanoseconds: Self.nanoseconds(maxDelay),
                eventsPerWrite: measured.batches > 0 ? max(1, measured.events / measured.batches) : 1)
        }
    }

    private static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }

    /// The append rows, in report order.
    static func all(quick: Bool) -> [AppendRowSpec] {
        let durableNanoseconds: UInt64 = quick ? 1_000_000_000 : 3_000_000_000
        let noSyncMaxEvents = quick ? 1_000_000 : 2_000_000
        return [
            AppendRowSpec(
                name: "append-durable-c1", durability: .fsync, appenderCount: 1, eventsPerCall: 1,
                targetNanoseconds: durableNanoseconds, maxEvents: 1_000_000),
            AppendRowSpec(
                name: "append-durable-c1-1k", durability: .fsync, appenderCount: 1, eventsPerCall: 1,
                targetNanoseconds: durableNanoseconds, maxEvents: 1_000_000, dataSizeBytes: 1_000),
            AppendRowSpec(
                name: "append-durable-c1-lone", durability: .fsync, appenderCount: 1, eventsPerCall: 1,
                targetNanoseconds: durableNanoseconds, maxEvents: 1_000_000, loneAppenderWritesOnItsThread: true),
            AppendRowSpec(
                name: "append-durable-c1-1k-lone", durability: .fsync, appenderCount: 1, eventsPerCall: 1,
                targetNanoseconds: durableNanoseconds, maxEvents: 1_000_000, dataSizeBytes: 1_000,
                loneAppenderWritesOnItsThread: true),
            AppendRowSpec(
                name: "append-durable-c16", durability: .fsync, appenderCount: 16, eventsPerCall: 1,
                targetNanoseconds: durableNanoseconds, maxEvents: 2_000_000),
            AppendRowSpec(
                name: "append-durable-c64", durability: .fsync, appenderCount: 64, eventsPerCall: 1,
                targetNanoseconds: durableNanoseconds, maxEvents: 2_000_000),
            AppendRowSpec(
                name: "append-durable-batch100", durability: .fsync, appenderCount: 1, eventsPerCall: 100,
                targetNanoseconds: durableNanoseconds, maxEvents: 2_000_000),
            AppendRowSpec(
                name: "append-batched-c64", durability: .batched(maxDelay: .milliseconds(2)), appenderCount: 64,
                eventsPerCall: 1, targetNanoseconds: durableNanoseconds, maxEvents: 2_000_000),
            AppendRowSpec(
                name: "append-nosync-c1", durability: .none, appenderCount: 1, eventsPerCall: 1,
                targetNanoseconds: durableNanoseconds, maxEvents: noSyncMaxEvents),
            AppendRowSpec(
                name: "append-nosync-c1-lone", durability: .none, appenderCount: 1, eventsPerCall: 1,
                targetNanoseconds: durableNanoseconds, maxEvents: noSyncMaxEvents, loneAppenderWritesOnItsThread: true),
        ]
    }

    /// Appender counts of the throughput-versus-concurrency plot (`--svg`).
    static let sweepAppenderCounts = [1, 4, 16, 64, 256]

    /// The `.fsync`, one-event-per-call row with `appenders` appenders: a row of
    /// ``all(quick:)`` where there is one, else an extra point for the plot.
    static func durable(appenders: Int, quick: Bool) -> AppendRowSpec {
        if let row = all(quick: quick).first(where: { $0.name == "append-durable-c\(appenders)" }) { return row }
        return AppendRowSpec(
            name: "append-durable-c\(appenders)", durability: .fsync, appenderCount: appenders, eventsPerCall: 1,
            targetNanoseconds: quick ? 1_000_000_000 : 3_000_000_000, maxEvents: 2_000_000)
    }
}
