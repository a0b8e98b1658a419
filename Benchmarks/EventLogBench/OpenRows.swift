// The open rows: how long `FileEventStore.open` takes on a small and a large store
// after a clean close (the index checkpoint should make it independent of the
// log's size), and how much memory the large store needs open and read from.
import EventLog
import EventSourcing
import Foundation

enum OpenRows {
    static let smallName = "open-100k"
    static let largeName = "open-10m"
    static let memoryName = "open-10m-rss"
    static let names = [smallName, largeName, memoryName]

    static let streamCount = 100_000
    static let smallEventCount = 100_000
    static func largeEventCount(quick: Bool) -> Int { quick ? 2_000_000 : 10_000_000 }
    /// Opens timed per store, after one untimed open.
    static let timedOpens = 7
    /// Streams read whole, picked at random, for the memory row.
    static let streamsReadForMemory = 1_000

    static let openTargetMilliseconds = 100.0
    static let largeToSmallTargetRatio = 1.5

    /// `open-000000` ... `open-099999`.
    static let streamNames = (0..<streamCount).map { index in
        let digits = String(index)
        return BenchmarkStreams.fixedName("open-" + String(repeating: "0", count: 6 - digits.count) + digits)
    }

    /// `eventCount` events of 100 bytes, round-robin over the 100,000 streams, so
    /// that every stream's events are spread over the whole log; 1,000 per call,
    /// four calls in flight (the exact order does not matter to these rows).
    static func layout(eventCount: Int) -> StoreLayout {
        StoreLayout(
            eventCount: eventCount, streamNames: streamNames, streamOfEvent: { $0 % OpenRows.streamCount },
            maxEventsPerCall: 1_000, maxCallsInFlight: 4)
    }

    /// Runs the selected open rows: the small store is built in the scratch folder,
    /// the large one kept beside it between runs (see ``KeptStore``).
    static func run(
        quick: Bool, selects: (String) -> Bool, scratch: ScratchDirectory
    ) async throws -> [RowResult] {
        var rows: [RowResult] = []
        var smallMedianSeconds: Double?
        if selects(smallName) {
            let directory = "\(scratch.path)/\(smallName)"
            Progress.log("\(smallName): \(NumberFormatting.grouped(smallEventCount)) events, \(timedOpens) timed opens")
            let buildSeconds = try await StoreBuilder.build(layout(eventCount: smallEventCount), directory: directory, label: smallName)
            let row = try await ResidentMemory.measuring {
                try await openRow(
                    name: smallName, directory: directory, eventCount: smallEventCount, smallMedianSeconds: nil,
                    extraNotes: ["store built in \(NumberFormatting.decimal(buildSeconds, decimals: 2)) s"])
            }
            smallMedianSeconds = row.seconds
            rows.append(row)
            try FileManager.default.removeItem(atPath: directory)
        }
        guard selects(largeName) || selects(memoryName) else { return rows }

        let eventCount = largeEventCount(quick: quick)
        let kept = KeptStore(
            parentPath: scratch.parentPath, label: quick ? "2m" : "10m", layout: layout(eventCount: eventCount))
        Progress.log("\(largeName): \(NumberFormatting.grouped(eventCount)) events\(quick ? " (--quick)" : "")")
        var notes = [try await kept.prepare(label: largeName)]
        if quick { notes.append("--quick: 2,000,000 events instead of 10,000,000") }
        if selects(largeName) {
            rows.append(try await ResidentMemory.measuring {
                try await openRow(
                    name: largeName, directory: kept.storeDirectory, eventCount: eventCount,
                    smallMedianSeconds: smallMedianSeconds, extraNotes: notes)
            })
        }
        if selects(memoryName) {
            rows.append(try await ResidentMemory.measuring {
                try await memoryRow(directory: kept.storeDirectory, eventCount: eventCount, extraNotes: Array(notes.dropFirst()))
            })
        }
        return rows
    }

    /// Opens and closes the store `timedOpens + 1` times and reports the opens'
    /// median (seconds, p50) and maximum (p99).
    private static func openRow(
        name: String, directory: String, eventCount: Int, smallMedianSeconds: Double?, extraNotes: [String]
    ) async throws -> RowResult {
        var seconds: [Double] = []
        var reportedMilliseconds: [Double] = []
        var lastReport: OpenReport?
        for attempt in 0...timedOpens {
            let started = MonotonicClock.nanoseconds()
            let store = try FileEventStore.open(directory: directory, options: StoreOptions())
            let finished = MonotonicClock.nanoseconds()
            let report = store.openReport
            lastReport = report
            try await store.close()
            guard report.lastPosition == UInt64(eventCount) else {
                throw BenchmarkError("\(name): the store opened with \(report.lastPosition) events, not \(eventCount)")
            }
            // The first open warms the file cache for the index files and checkpoint.
            if attempt == 0 { continue }
            seconds.append(MonotonicClock.seconds(from: started, to: finished))
            reportedMilliseconds.append(report.openMilliseconds)
        }
        let median = RowResult.median(seconds)
        let slowest = seconds.max()!
        let report = lastReport!
        Progress.log("  \(name): opens " + seconds.map { NumberFormatting.decimal($0 * 1_000, decimals: 1) }.joined(separator: ", ")
            + " ms; \(report.segmentCount) segments, \(NumberFormatting.grouped(Int(report.scannedRecords))) records scanned")

        var notes = [
            "p50 = median, p99 = slowest of \(timedOpens) opens (µs), each after a clean close, one untimed open first; "
                + "seconds = median open; events/s = events / median open, not a throughput",
            "openReport: \(NumberFormatting.decimal(RowResult.median(reportedMilliseconds), decimals: 1)) ms median, "
                + "\(report.segmentCount) segments, \(NumberFormatting.grouped(Int(report.scannedRecords))) records scanned, "
                + "\(report.rebuiltIndexes.count) indexes rebuilt",
        ]
        if name == largeName {
            let milliseconds = median * 1_000
            notes.append("target < \(Int(openTargetMilliseconds)) ms: \(milliseconds < openTargetMilliseconds ? "met" : "MISSED")")
            if let smallMedianSeconds {
                let ratio = median / smallMedianSeconds
                notes.append("\(NumberFormatting.decimal(ratio, decimals: 2))x \(smallName) (target <= "
                    + "\(NumberFormatting.decimal(largeToSmallTargetRatio, decimals: 1))x): "
                    + (ratio <= largeToSmallTargetRatio ? "met" : "MISSED"))
            }
        }
        return RowResult(
            name: name, events: eventCount, seconds: median, eventsPerSecond: Double(eventCount) / median,
            p50Microseconds: median * 1_000_000, p99Microseconds: slowest * 1_000_000, p999Microseconds: nil,
            baselineEventsPerSecond: nil, ratioToBaseline: nil, note: (notes + extraNotes).joined(separator: "; "))
    }
}
