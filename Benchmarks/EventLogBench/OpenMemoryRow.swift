// The open-10m-rss row: what the large store costs in resident memory once open,
// and after reads have pulled index blocks of every segment into the cache.
import EventLog
import EventSourcing

extension OpenRows {
    /// Opens the large store, reads `streamsReadForMemory` random streams whole, and
    /// reports VmRSS after the open and after the reads.
    static func memoryRow(directory: String, eventCount: Int, extraNotes: [String]) async throws -> RowResult {
        let store = try FileEventStore.open(directory: directory, options: StoreOptions())
        let afterOpenBytes = ResidentMemory.currentBytes()
        var random = SplitMix64(seed: 0x5EED)
        var latency = LatencyHistogram()
        var eventsRead = 0
        let started = MonotonicClock.nanoseconds()
        for _ in 0..<streamsReadForMemory {
            let stream = streamNames[Int(random.next() % UInt64(streamCount))]
            let callStarted = MonotonicClock.nanoseconds()
            let events = try store.readStream(stream)
            latency.record(nanoseconds: MonotonicClock.nanoseconds() - callStarted)
            eventsRead += events.count
        }
        let seconds = MonotonicClock.seconds(from: started, to: MonotonicClock.nanoseconds())
        let afterReadsBytes = ResidentMemory.currentBytes()
        try await store.close()
        let eventsPerStream = eventCount / streamCount
        guard eventsRead == streamsReadForMemory * eventsPerStream else {
            throw BenchmarkError("\(memoryName): read \(eventsRead) events from \(streamsReadForMemory) streams "
                + "of \(eventsPerStream) events each")
        }

        let peakBytes = ResidentMemory.peakBytes()
        let worstBytes = [afterOpenBytes, afterReadsBytes, peakBytes].compactMap { $0 }.max()
        var notes = [
            "VmRSS after open \(afterOpenBytes.map(ResidentMemory.mebibytes) ?? "unknown"), after reading "
                + "\(NumberFormatting.grouped(streamsReadForMemory)) random streams \(afterReadsBytes.map(ResidentMemory.mebibytes) ?? "unknown"), "
                + "peak \(peakBytes.map(ResidentMemory.mebibytes) ?? "unknown")",
            "target < 256 MiB: " + (worstBytes.map { $0 < ResidentMemory.targetBytes ? "met" : "MISSED" } ?? "unknown"),
            "events, seconds, events/s and percentiles are of the \(NumberFormatting.grouped(streamsReadForMemory)) "
                + "readStream calls (whole streams of \(eventsPerStream) events)",
        ]
        notes += extraNotes
        Progress.log("  \(memoryName): " + notes[0])
        return RowResult(
            name: memoryName, events: eventsRead, seconds: seconds, eventsPerSecond: Double(eventsRead) / seconds,
            p50Microseconds: latency.valueMicroseconds(atPercentile: 50),
            p99Microseconds: latency.valueMicroseconds(atPercentile: 99),
            p999Microseconds: latency.valueMicroseconds(atPercentile: 99.9),
            baselineEventsPerSecond: nil, ratioToBaseline: nil, note: notes.joined(separator: "; "))
    }
}

/// A small seeded generator, so that every run reads the same "random" streams.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
