// Fills a store for the read and open rows fast (no sync, many events per call)
// while keeping an exact layout: which stream each global position belongs to.
import EventLog
import EventSourcing

/// A store's contents, position by position.
struct StoreLayout: Sendable {
    let eventCount: Int
    let streamNames: [StreamName]
    /// The index in `streamNames` of the stream holding the event at 0-based
    /// position `index` (global position `index + 1`).
    let streamOfEvent: @Sendable (_ index: Int) -> Int
    /// Most events in one append call.
    let maxEventsPerCall: Int
    /// Append calls in flight at once: more than one keeps the writer busy while
    /// the next call is made, but lets calls land out of order (fine where only
    /// the streams' sizes matter, not where each event lies).
    var maxCallsInFlight = 1
}

enum StoreBuilder {
    /// Appends `layout`'s events to a new store in `directory` with durability
    /// `.none`, and closes it cleanly (so its index checkpoint is written).
    ///
    /// Consecutive events go in one multi-stream call as long as no stream would
    /// need two parts (a call writes its parts one after the other, so a stream
    /// coming back within a call would move its events), up to `maxEventsPerCall`.
    /// Returns the seconds it took.
    static func build(_ layout: StoreLayout, directory: String, label: String) async throws -> Double {
        let store = try FileEventStore.open(directory: directory, options: StoreOptions(durability: .none))
        let started = MonotonicClock.nanoseconds()
        try await withThrowingTaskGroup(of: Void.self) { group in
            var inFlight = 0
            func submit(_ parts: [StreamAppend]) async throws {
                if inFlight == layout.maxCallsInFlight {
                    try await group.next()
                    inFlight -= 1
                }
                group.addTask { _ = try await store.append(parts) }
                inFlight += 1
            }
            var factory = BenchmarkEventFactory()
            // The call each stream last joined, so "is it in this call" costs no hashing.
            var callOfStream = [Int](repeating: -1, count: layout.streamNames.count)
            var call = 0
            var parts: [StreamAppend] = []
            var eventsInCall = 0
            var lastPartStream = -1
            var nextReportNanoseconds = started + 5_000_000_000
            for index in 0..<layout.eventCount {
                let stream = layout.streamOfEvent(index)
                let isInCall = callOfStream[stream] == call
                if eventsInCall == layout.maxEventsPerCall || (isInCall && lastPartStream != stream) {
                    try await submit(parts)
                    parts = []
                    parts.reserveCapacity(layout.maxEventsPerCall)
                    eventsInCall = 0
                    call += 1
                    if MonotonicClock.nanoseconds() >= nextReportNanoseconds {
                        Progress.log("  \(label): building, \(NumberFormatting.grouped(index)) of "
                            + "\(NumberFormatting.grouped(layout.eventCount)) events")
                        nextReportNanoseconds += 5_000_000_000
                    }
                }
                if callOfStream[stream] == call {
                    parts[parts.count - 1].events.append(factory.next())
                } else {
                    callOfStream[stream] = call
                    lastPartStream = stream
                    parts.append(StreamAppend(stream: layout.streamNames[stream], events: [factory.next()]))
                }
                eventsInCall += 1
            }
            if !parts.isEmpty { try await submit(parts) }
            try await group.waitForAll()
        }
        let written = store.statistics.eventsWritten
        try await store.close()
        guard written == UInt64(layout.eventCount) else {
            throw BenchmarkError("\(label): built \(written) events of the \(layout.eventCount) planned")
        }
        let seconds = MonotonicClock.seconds(from: started, to: MonotonicClock.nanoseconds())
        Progress.log("  \(label): built \(NumberFormatting.grouped(layout.eventCount)) events in "
            + "\(NumberFormatting.grouped(layout.streamNames.count)) streams in \(NumberFormatting.decimal(seconds, decimals: 2)) s "
            + "(\(NumberFormatting.grouped(Double(layout.eventCount) / seconds)) events/s, up to "
            + "\(NumberFormatting.grouped(layout.maxEventsPerCall)) per call, no sync)")
        return seconds
    }
}
