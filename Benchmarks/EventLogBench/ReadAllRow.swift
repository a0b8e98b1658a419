// The read-all rows: whole-log scans with every checksum verified (decoded
// events, event views, a catch-up subscription), against sequential preads of
// the same segment bytes, all from a warm file cache and one store.
import EventLog
import EventSourcing
import Foundation

enum ReadAllRow {
    static let name = "read-all"
    /// The zero-copy scan of the same store: ``FileEventStore/forEachEventView``.
    static let viewName = "readall-view"
    /// A catch-up subscription over the same store: the history part of `subscribeToAll`.
    static let catchUpName = "subscribe-catchup"
    /// The rows that share the store this file builds, in report order.
    static let names = [name, viewName, catchUpName]
    static let rounds = 3
    /// Events per append call while building the store.
    static let buildEventsPerCall = 1_000
    /// Streams the built store's events are spread over.
    static let buildStreamCount = 64
    static let catchUpTargetEventsPerSecond = 3_000_000.0

    static func eventCount(quick: Bool) -> Int { quick ? 200_000 : 1_000_000 }

    /// Builds a store of `eventCount` events under `scratchDirectory`, reopens it
    /// with default options, runs the selected rows on it against the raw reads,
    /// and removes the store. Each row's resident memory is measured on its own.
    static func run(eventCount: Int, selects: (String) -> Bool, scratchDirectory: String) async throws -> [RowResult] {
        let directory = "\(scratchDirectory)/\(name)"
        try await build(directory: directory, eventCount: eventCount)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let store = try FileEventStore.open(directory: directory, options: StoreOptions())
        Progress.log("  \(name): reopened \(NumberFormatting.grouped(eventCount)) events in "
            + "\(NumberFormatting.decimal(store.openReport.openMilliseconds, decimals: 1)) ms")
        let extents = try segmentExtents(directory: directory, eventCount: eventCount)

        var rows: [RowResult] = []
        do {
            // Warm the file cache for both sides, and check the store reads every event.
            let warmCount = try scan(store)
            guard warmCount == eventCount else {
                throw BenchmarkError("\(name): the store read \(warmCount) events of the \(eventCount) appended")
            }
            _ = try ReadBaseline.run(extents, events: eventCount)

            if selects(name) {
                rows.append(try await ResidentMemory.measuring {
                    let measured = try await measureRounds(name: name, extents: extents, eventCount: eventCount) {
                        try scan(store)
                    }
                    return RowResult(name: name, rounds: measured.rounds)
                })
            }
            if selects(viewName) {
                rows.append(try await ResidentMemory.measuring {
                    try await viewRow(store: store, extents: extents, eventCount: eventCount)
                })
            }
            if selects(catchUpName) {
                rows.append(try await ResidentMemory.measuring {
                    try await catchUpRow(store: store, extents: extents, eventCount: eventCount)
                })
            }
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        return rows
    }

    /// What ``measureRounds(name:extents:eventCount:reference:scan:)`` measured:
    /// the rounds, and the reference scan's events/s of each round (if one ran).
    private struct MeasuredRounds {
        var rounds: [RoundResult] = []
        var referenceEventsPerSecond: [Double] = []
    }

    /// Times `scan` `rounds` times, each followed by the raw read baseline and,
    /// if given, the `reference` scan (timed in the same round, so a comparison
    /// between the two is not skewed by a slow spell of the shared machine).
    private static func measureRounds(
        name: String, extents: [ReadBaseline.FileExtent], eventCount: Int, reference: (() throws -> Int)? = nil,
        scan: () async throws -> Int
    ) async throws -> MeasuredRounds {
        var measured = MeasuredRounds()
        for round in 1...rounds {
            let started = MonotonicClock.nanoseconds()
            let count = try await scan()
            let seconds = MonotonicClock.seconds(from: started, to: MonotonicClock.nanoseconds())
            precondition(count == eventCount, "the log does not change between scans")
            let baseline = try ReadBaseline.run(extents, events: eventCount)
            let result = RoundResult(events: count, seconds: seconds, latency: nil, baseline: baseline)
            measured.rounds.append(result)
            var line = "  \(name) round \(round)/\(rounds): \(NumberFormatting.grouped(count)) events in "
                + "\(NumberFormatting.decimal(seconds, decimals: 3)) s = "
                + "\(NumberFormatting.grouped(result.eventsPerSecond)) events/s; "
                + "baseline \(NumberFormatting.grouped(baseline.eventsPerSecond)) events/s"
            if let reference {
                let referenceStarted = MonotonicClock.nanoseconds()
                let referenceCount = try reference()
                let referenceSeconds = MonotonicClock.seconds(from: referenceStarted, to: MonotonicClock.nanoseconds())
                precondition(referenceCount == eventCount, "the log does not change between scans")
                measured.referenceEventsPerSecond.append(Double(referenceCount) / referenceSeconds)
                line += "; \(ReadAllRow.name) \(NumberFormatting.grouped(measured.referenceEventsPerSecond.last!)) events/s"
            }
            Progress.log(line)
        }
        return measured
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

    /// The readall-view row: the same scan through event views, each round
    /// beside a read-all scan so the two are compared under the same load.
    private static func viewRow(store: FileEventStore, extents: [ReadBaseline.FileExtent], eventCount: Int) async throws -> RowResult {
        _ = try viewScan(store)
        let measured = try await measureRounds(
            name: viewName, extents: extents, eventCount: eventCount, reference: { try scan(store) }
        ) { try viewScan(store) }
        var row = RowResult(name: viewName, rounds: measured.rounds)
        let readAllEventsPerSecond = RowResult.median(measured.referenceEventsPerSecond)
        let speedup = row.eventsPerSecond / readAllEventsPerSecond
        row.note = "forEachEventView over the whole log touching only each event's position and data length "
            + "(checksums verified by the library); median of \(rounds) rounds; read-all (forEachEvent) in the same rounds: "
            + "\(NumberFormatting.grouped(readAllEventsPerSecond)) events/s, so \(NumberFormatting.decimal(speedup, decimals: 2))x "
            + "(target > 1x read-all: \(speedup > 1 ? "met" : "MISSED")); baseline: sequential 1 MiB preads, as read-all"
        return row
    }

    /// Reads the whole log through event views, decoding nothing but each
    /// event's position and data length.
    private static func viewScan(_ store: FileEventStore) throws -> Int {
        var count = 0
        var dataBytes = 0
        var lastPosition: UInt64 = 0
        try store.forEachEventView { view in
            count += 1
            lastPosition = view.position.rawValue
            dataBytes &+= view.withData { $0.count }
            return true
        }
        precondition(dataBytes == count * BenchmarkEventFactory.dataSizeBytes, "every event carries the benchmark payload")
        precondition(lastPosition == UInt64(count), "positions run from 1 with no gap in a store nothing was deleted from")
        return count
    }

    /// The subscribe-catchup row: a new `subscribeToAll(from: 1)` each round,
    /// iterated until the last position.
    private static func catchUpRow(store: FileEventStore, extents: [ReadBaseline.FileExtent], eventCount: Int) async throws -> RowResult {
        _ = try await catchUp(store, eventCount: eventCount)
        let measured = try await measureRounds(
            name: catchUpName, extents: extents, eventCount: eventCount, reference: { try scan(store) }
        ) { try await catchUp(store, eventCount: eventCount) }
        var row = RowResult(name: catchUpName, rounds: measured.rounds)
        let readAllEventsPerSecond = RowResult.median(measured.referenceEventsPerSecond)
        row.note = "subscribeToAll(from: 1) iterated to the last of \(NumberFormatting.grouped(eventCount)) events, "
            + "touching each event's data; a new subscription per round; median of \(rounds) rounds (target >= 3,000,000 events/s: "
            + "\(row.eventsPerSecond >= catchUpTargetEventsPerSecond ? "met" : "MISSED")); read-all in the same rounds "
            + "\(NumberFormatting.grouped(readAllEventsPerSecond)) events/s "
            + "(\(NumberFormatting.decimal(row.eventsPerSecond / readAllEventsPerSecond, decimals: 2))x); "
            + "baseline: sequential 1 MiB preads, as read-all"
        return row
    }

    /// Catches a new subscription up with the whole log (nothing is appended
    /// meanwhile, so reaching the last position ends the history).
    private static func catchUp(_ store: FileEventStore, eventCount: Int) async throws -> Int {
        let lastPosition = UInt64(eventCount)
        var count = 0
        var dataBytes = 0
        for try await event in store.subscribeToAll(from: .start) {
            count += 1
            dataBytes &+= event.data.count
            if event.position.rawValue >= lastPosition { break }
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
