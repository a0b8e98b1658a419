// The read-all row: a whole-log scan with every checksum verified, against
// sequential preads of the same segment bytes, both from a warm file cache.
import EventLog
import EventSourcing
import Foundation

enum ReadAllRow {
    static let name = "read-all"
    static let rounds = 3
    /// Events per append call while building the store.
    static let buildEventsPerCall = 1_000
    /// Streams the built store's events are spread over.
    static let buildStreamCount = 64

    static func eventCount(quick: Bool) -> Int { quick ? 200_000 : 1_000_000 }

    /// Builds a store of `eventCount` events under `scratchDirectory`, reopens it
    /// with default options, times `forEachEvent` over all of it against the raw
    /// reads, and removes the store.
    static func run(eventCount: Int, scratchDirectory: String) async throws -> RowResult {
        let directory = "\(scratchDirectory)/\(name)"
        try await build(directory: directory, eventCount: eventCount)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let store = try FileEventStore.open(directory: directory, options: StoreOptions())
        Progress.log("  \(name): reopened \(NumberFormatting.grouped(eventCount)) events in "
            + "\(NumberFormatting.decimal(store.openReport.openMilliseconds, decimals: 1)) ms")
        let extents = try segmentExtents(directory: directory, eventCount: eventCount)

        // Warm the file cache for both sides, and check the store reads every event.
        let warmCount = try scan(store)
        guard warmCount == eventCount else {
            throw BenchmarkError("\(name): the store read \(warmCount) events of the \(eventCount) appended")
        }
        _ = try ReadBaseline.run(extents, events: eventCount)

        var results: [RoundResult] = []
        for round in 1...rounds {
            let started = MonotonicClock.nanoseconds()
            let count = try scan(store)
            let seconds = MonotonicClock.seconds(from: started, to: MonotonicClock.nanoseconds())
            precondition(count == eventCount, "the log does not change between scans")
            let baseline = try ReadBaseline.run(extents, events: eventCount)
            let result = RoundResult(events: count, seconds: seconds, latency: nil, baseline: baseline)
            results.append(result)
            Progress.log(
                "  \(name) round \(round)/\(rounds): \(NumberFormatting.grouped(count)) events in "
                    + "\(NumberFormatting.decimal(seconds, decimals: 3)) s = "
                    + "\(NumberFormatting.grouped(result.eventsPerSecond)) events/s; "
                    + "baseline \(NumberFormatting.grouped(baseline.eventsPerSecond)) events/s")
        }
        try await store.close()
        return RowResult(name: name, rounds: results)
    }

    /// Reads the whole log, touching each event's data so the work cannot be skipped.
    private static func scan(_ store: FileEventStore) throws -> Int {
        var count = 0
        var dataBytes = 0
        try store.forEachEvent { event in
            count += 1
            dataBytes &+= event.data.count
        }
        precondition(dataBytes == count * BenchmarkEventFactory.dataSizeBytes, "every event carries the benchmark payload")
        return count
    }

    /// Appends `eventCount` events without syncing, in calls of 1,000 spread over
    /// 64 streams, and closes the store.
    private static func build(directory: String, eventCount: Int) async throws {
        let store = try FileEventStore.open(directory: directory, options: StoreOptions(durability: .none))
        var factory = BenchmarkEventFactory()
        var written = 0
        var call = 0
        let started = MonotonicClock.nanoseconds()
        while written < eventCount {
            let count = min(buildEventsPerCall, eventCount - written)
            try await store.append(factory.next(count), to: BenchmarkStreams.name(call % buildStreamCount))
            written += count
            call += 1
        }
        try await store.close()
        let seconds = MonotonicClock.seconds(from: started, to: MonotonicClock.nanoseconds())
        Progress.log("  \(name): built \(NumberFormatting.grouped(eventCount)) events in "
            + "\(NumberFormatting.decimal(seconds, decimals: 2)) s "
            + "(\(NumberFormatting.grouped(Double(eventCount) / seconds)) events/s, \(buildEventsPerCall) per call, no sync)")
    }

    /// The bytes the store's scan covers, file by file: sealed segments whole (they
    /// are truncated after their footer), the active one up to its last record (it
    /// is preallocated, and reading its unwritten tail would flatter neither side).
    ///
    /// Segment file names are the first global position, zero-padded to 20 digits
    /// (`SegmentFileName` in Format/SegmentFormat.swift); the public API does not
    /// expose where each segment's records end.
    static func segmentExtents(directory: String, eventCount: Int) throws -> [ReadBaseline.FileExtent] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".seg") }.sorted()
        guard let lastName = names.last, let lastFirstPosition = Int(lastName.dropLast(".seg".count)) else {
            throw BenchmarkError("\(name): no segment files in \(directory)")
        }
        var extents: [ReadBaseline.FileExtent] = []
        for fileName in names.dropLast() {
            let path = "\(directory)/\(fileName)"
            let file = try RawFile.openForReading(path)
            extents.append(ReadBaseline.FileExtent(path: path, lengthBytes: try file.sizeBytes()))
            try file.close()
        }
        let activeEvents = eventCount - lastFirstPosition + 1
        extents.append(ReadBaseline.FileExtent(
            path: "\(directory)/\(lastName)",
            lengthBytes: BenchmarkStreams.segmentHeaderSizeBytes + activeEvents * BenchmarkStreams.recordSizeBytes))
        return extents
    }
}
