// The subscribe-live-latency row: how long after an append is acknowledged a
// caught-up subscriber has the event, which is the delay a live projection adds
// on top of the append itself.
import EventLog
import EventSourcing
import Foundation

enum LiveLatencyRow {
    static let name = "subscribe-live-latency"
    /// Appends before the clock starts: the subscriber's first wake-ups and the
    /// writer's first batches stay out of the numbers.
    static let warmUpEvents = 20
    /// At most this many timed appends: bounds the two timestamp arrays (1.6 MB).
    static let maxEvents = 100_000
    static let targetP99Microseconds = 1_000.0

    static func durationNanoseconds(quick: Bool) -> UInt64 { quick ? 1_000_000_000 : 3_000_000_000 }

    /// One appender appends one event per call to a fresh store (default options:
    /// `.fsync`) for the row's duration while one subscriber, started at the end
    /// of the empty log, follows it live.
    ///
    /// What is measured, per event: from the appender's clock reading right after
    /// its `append` returned (the acknowledgement) to the subscriber's reading right
    /// after its iterator returned that event. Each side writes its own array,
    /// indexed by position, and the deltas are taken after both have finished, so
    /// no timestamp is read before it is written. The writer wakes subscribers
    /// when it publishes a batch, just before it resumes the appenders, so the
    /// subscriber often has the event first: such a delivery counts as 0 µs (the
    /// subscriber was not behind the acknowledgement), and the note says how many.
    static func run(quick: Bool, scratchDirectory: String) async throws -> RowResult {
        let durationNanoseconds = durationNanoseconds(quick: quick)
        Progress.log("\(name): 1 appender (.fsync, 1 event per call) and 1 live subscriber for "
            + "\(durationNanoseconds / 1_000_000) ms")
        let directory = "\(scratchDirectory)/\(name)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try FileEventStore.open(directory: directory, options: StoreOptions())
        let durability = store.options.durability

        let firstPosition = store.lastPosition.rawValue + 1
        let capacity = warmUpEvents + maxEvents
        let progress = FollowProgress()
        let subscriber = Task { () throws -> [UInt64] in
            var receivedNanoseconds = [UInt64](repeating: 0, count: capacity)
            for try await event in store.subscribeToAll(from: GlobalPosition(firstPosition)) {
                let now = MonotonicClock.nanoseconds()
                let index = Int(event.position.rawValue - firstPosition)
                // Only the appender writes to this store, at most `capacity` events.
                precondition(index < capacity, "position \(event.position) is past the \(capacity) events appended")
                receivedNanoseconds[index] = now
                if progress.received(event.position.rawValue) { break }
            }
            return receivedNanoseconds
        }

        var acknowledgedNanoseconds = [UInt64](repeating: 0, count: capacity)
        var callStartedNanoseconds = [UInt64](repeating: 0, count: capacity)
        var appended = 0
        var started: UInt64 = 0
        var finished: UInt64 = 0
        do {
            var factory = BenchmarkEventFactory()
            let stream = BenchmarkStreams.name(0)
            while appended < capacity {
                let event = factory.next()
                let callStarted = MonotonicClock.nanoseconds()
                let result = try await store.append([event], to: stream)
                let acknowledged = MonotonicClock.nanoseconds()
                guard result.firstPosition.rawValue == firstPosition + UInt64(appended) else {
                    throw BenchmarkError("\(name): append \(appended + 1) landed at position \(result.firstPosition), "
                        + "expected \(firstPosition + UInt64(appended)); nothing else writes to this store")
                }
                callStartedNanoseconds[appended] = callStarted
                acknowledgedNanoseconds[appended] = acknowledged
                appended += 1
                if appended == warmUpEvents { started = acknowledged }
                if appended > warmUpEvents && acknowledged >= started + durationNanoseconds { break }
            }
            finished = MonotonicClock.nanoseconds()
        } catch {
            subscriber.cancel()
            _ = try? await subscriber.value
            try? await store.close()
            throw error
        }
        if progress.stop(at: firstPosition + UInt64(appended) - 1) { subscriber.cancel() }
        let receivedNanoseconds = try await subscriber.value
        try await store.close()

        var latency = LatencyHistogram()
        var endToEnd = LatencyHistogram()
        var early = 0
        for index in warmUpEvents..<appended {
            let received = receivedNanoseconds[index]
            guard received != 0 else {
                throw BenchmarkError("\(name): the subscriber never received position \(firstPosition + UInt64(index))")
            }
            let acknowledged = acknowledgedNanoseconds[index]
            if received <= acknowledged { early += 1 }
            latency.record(nanoseconds: received > acknowledged ? received - acknowledged : 0)
            endToEnd.record(nanoseconds: received &- callStartedNanoseconds[index])
        }
        let events = appended - warmUpEvents
        let seconds = MonotonicClock.seconds(from: started, to: finished)
        let p50 = latency.valueMicroseconds(atPercentile: 50)!
        let p99 = latency.valueMicroseconds(atPercentile: 99)!
        Progress.log("  \(name): \(NumberFormatting.grouped(events)) appends in \(NumberFormatting.decimal(seconds, decimals: 2)) s; "
            + "acknowledgement to subscriber p50 \(NumberFormatting.decimal(p50, decimals: 1)) µs, "
            + "p99 \(NumberFormatting.decimal(p99, decimals: 1)) µs; \(early) delivered before the acknowledgement")
        let note = [
            "durability \(durability) (the default), 1 appender, 1 event per call, 1 subscriber (subscribeToAll) started at the "
                + "end of the empty log; events/s = appends acknowledged per second (all delivered)",
            "p50/p99/p99.9: from the appender's clock reading right after append returned to the subscriber's right after "
                + "its iterator returned the event, each side writing its own array by position, deltas taken afterwards; "
                + "\(NumberFormatting.grouped(early)) of \(NumberFormatting.grouped(events)) "
                + "(\(NumberFormatting.decimal(Double(early) * 100 / Double(max(events, 1)), decimals: 1))%) reached the subscriber "
                + "before the appender's await returned (the writer wakes subscribers just before it resumes appenders) "
                + "and count as 0 µs",
            "append call start to subscriber: p50 \(NumberFormatting.optional(endToEnd.valueMicroseconds(atPercentile: 50), decimals: 1)) µs, "
                + "p99 \(NumberFormatting.optional(endToEnd.valueMicroseconds(atPercentile: 99), decimals: 1)) µs",
            "target p99 < 1 ms: \(p99 < targetP99Microseconds ? "met" : "MISSED")",
            "\(warmUpEvents) warm-up appends not counted; no baseline",
        ]
        return RowResult(
            name: name, events: events, seconds: seconds, eventsPerSecond: Double(events) / seconds,
            p50Microseconds: p50, p99Microseconds: p99, p999Microseconds: latency.valueMicroseconds(atPercentile: 99.9),
            baselineEventsPerSecond: nil, ratioToBaseline: nil, note: note.joined(separator: "; "))
    }
}
