// One round of an append row against a fresh store: the appenders' timed loops
// and the writer's counters around them.
import EventLog
import EventSourcing

/// What one round of an append row measured.
struct AppendRoundMeasurement: Sendable {
    let events: Int
    let seconds: Double
    /// Segment syncs during the timed part (from ``WriterStatistics``).
    let syncs: Int
    /// Batches the writer wrote during the timed part (from ``WriterStatistics``).
    let batches: Int
    /// One sample per append call, all appenders merged.
    let latency: LatencyHistogram

    var eventsPerSecond: Double { Double(events) / seconds }
    var eventsPerSync: Double? { syncs > 0 ? Double(events) / Double(syncs) : nil }
}

enum AppendRound {
    /// Calls appended before the clock starts, so the first call's one-off costs
    /// (thread wake-up, page faults in the writer's buffer) stay out of the numbers.
    static let warmUpCalls = 20

    /// Opens a fresh store in `directory`, runs the row's appenders until its time
    /// or event limit, and closes the store (the close's final sync is not timed).
    static func measure(_ spec: AppendRowSpec, directory: String) async throws -> AppendRoundMeasurement {
        let store = try FileEventStore.open(directory: directory, options: spec.storeOptions)
        var warmUp = BenchmarkEventFactory(dataSizeBytes: spec.dataSizeBytes)
        for _ in 0..<warmUpCalls {
            try await store.append(warmUp.next(spec.eventsPerCall), to: BenchmarkStreams.name(0))
        }

        let before = store.statistics
        let started = MonotonicClock.nanoseconds()
        let deadline = started + spec.targetNanoseconds
        let maxEventsPerAppender = max(spec.eventsPerCall, spec.maxEvents / spec.appenderCount)
        let outcome = try await withThrowingTaskGroup(of: AppenderOutcome.self) { group in
            for appender in 0..<spec.appenderCount {
                group.addTask {
                    try await appendLoop(
                        store: store, stream: BenchmarkStreams.name(appender), eventsPerCall: spec.eventsPerCall,
                        dataSizeBytes: spec.dataSizeBytes, deadlineNanoseconds: deadline, maxEvents: maxEventsPerAppender)
                }
            }
            var total = AppenderOutcome()
            for try await appenderOutcome in group { total.add(appenderOutcome) }
            return total
        }
        let finished = MonotonicClock.nanoseconds()
        let after = store.statistics
        try await store.close()

        let eventsWritten = Int(after.eventsWritten - before.eventsWritten)
        guard eventsWritten == outcome.events else {
            throw BenchmarkError("\(spec.name): appenders counted \(outcome.events) events, the writer wrote \(eventsWritten)")
        }
        return AppendRoundMeasurement(
            events: outcome.events, seconds: MonotonicClock.seconds(from: started, to: finished),
            syncs: Int(after.syncs - before.syncs), batches: Int(after.batches - before.batches), latency: outcome.latency)
    }

    /// What one appender did: events acknowledged and the latency of each call.
    struct AppenderOutcome: Sendable {
        var events = 0
        var latency = LatencyHistogram()

        mutating func add(_ other: AppenderOutcome) {
            events += other.events
            latency.add(other.latency)
        }
    }

    /// Appends `eventsPerCall` events per call to `stream`, one call at a time,
    /// until the deadline has passed, `maxEvents` are written or `shouldStop`
    /// (asked after each call) says so. The only work between the two clock
    /// readings is the append call itself.
    static func appendLoop(
        store: FileEventStore, stream: StreamName, eventsPerCall: Int, dataSizeBytes: Int, deadlineNanoseconds: UInt64,
        maxEvents: Int, shouldStop: @Sendable () -> Bool = { false }
    ) async throws -> AppenderOutcome {
        var factory = BenchmarkEventFactory(dataSizeBytes: dataSizeBytes)
        var outcome = AppenderOutcome()
        while outcome.events + eventsPerCall <= maxEvents {
            let events = factory.next(eventsPerCall)
            let callStarted = MonotonicClock.nanoseconds()
            try await store.append(events, to: stream)
            let callFinished = MonotonicClock.nanoseconds()
            outcome.latency.record(nanoseconds: callFinished - callStarted)
            outcome.events += eventsPerCall
            if callFinished >= deadlineNanoseconds || shouldStop() { break }
        }
        return outcome
    }
}
