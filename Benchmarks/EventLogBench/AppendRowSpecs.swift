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

    /// Whether the store syncs each batch, so the baseline syncs as often.
    var syncsEachBatch: Bool { durability == .fsync }

    /// The five append rows, in report order.
    static func all(quick: Bool) -> [AppendRowSpec] {
        let durableNanoseconds: UInt64 = quick ? 1_000_000_000 : 3_000_000_000
        let noSyncMaxEvents = quick ? 1_000_000 : 2_000_000
        return [
            AppendRowSpec(
                name: "append-durable-c1", durability: .fsync, appenderCount: 1, eventsPerCall: 1,
                targetNanoseconds: durableNanoseconds, maxEvents: 1_000_000),
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
                name: "append-nosync-c1", durability: .none, appenderCount: 1, eventsPerCall: 1,
                targetNanoseconds: durableNanoseconds, maxEvents: noSyncMaxEvents),
        ]
    }
}
