// The read-stream rows: one long stream whose events are spread thinly through a
// log of many short streams, read whole forward and backward through the indexes,
// against preads of the same records; and how soon the first event arrives.
import EventLog
import EventSourcing
import Foundation

enum ReadStreamRows {
    static let forwardName = "read-stream"
    static let backwardName = "read-stream-backward"
    static let names = [forwardName, backwardName]

    static let hotStream = BenchmarkStreams.fixedName("hot-1")
    static let hotEventCount = 10_000
    static let coldStreamCount = 9_999
    static let coldEventsPerStream = 99
    /// 999,901: the "1M events in 10,000 streams", with every stream but
    /// hot-1 holding 99 events.
    static let eventCount = hotEventCount + coldStreamCount * coldEventsPerStream

    /// Whole-stream reads timed per row, alternating with the baseline's.
    static let rounds = 11
    /// `readStream(maxCount: 1)` calls timed per row for the first-event latency.
    static let firstEventCalls = 2_000

    static let wholeStreamTargetEventsPerSecond = 3_000_000.0
    static let firstEventTargetMicroseconds = 200.0

    /// `cold-0000` ... `cold-9998`, then hot-1 (the last index).
    static let streamNames = (0..<coldStreamCount).map { index in
        let digits = String(index)
        return BenchmarkStreams.fixedName("cold-" + String(repeating: "0", count: 4 - digits.count) + digits)
    } + [hotStream]

    /// hot-1 takes every ~100th position (evenly, by integer division); the other
    /// positions go round-robin to the cold streams, so each cold stream's 99
    /// events are also spread over the whole log.
    static let layout = StoreLayout(
        eventCount: eventCount, streamNames: streamNames,
        streamOfEvent: { index in
            let hotBefore = index * ReadStreamRows.hotEventCount / ReadStreamRows.eventCount
            let hotThrough = (index + 1) * ReadStreamRows.hotEventCount / ReadStreamRows.eventCount
            if hotThrough > hotBefore { return ReadStreamRows.coldStreamCount }
            return (index - hotBefore) % ReadStreamRows.coldStreamCount
        },
        maxEventsPerCall: 1_000)

    /// Builds the store in the scratch folder and runs the selected rows on it.
    static func run(selects: (String) -> Bool, scratchDirectory: String) async throws -> [RowResult] {
        let directory = "\(scratchDirectory)/read-stream"
        Progress.log("\(forwardName): \(NumberFormatting.grouped(eventCount)) events, hot-1 holds "
            + "\(NumberFormatting.grouped(hotEventCount)); \(rounds) rounds per direction")
        let buildSeconds = try await StoreBuilder.build(layout, directory: directory, label: forwardName)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let records = try await hotRecordLocations(directory: directory)
        var rows: [RowResult] = []
        for direction in [ReadDirection.forward, .backward] {
            let name = direction == .forward ? forwardName : backwardName
            guard selects(name) else { continue }
            rows.append(try await ResidentMemory.measuring {
                try await row(
                    name: name, direction: direction, directory: directory,
                    records: direction == .forward ? records : records.reversed(), buildSeconds: buildSeconds)
            })
        }
        return rows
    }

    /// Where each hot-1 record lies, in version order (from ``FileEventStore/inspect(position:)``).
    private static func hotRecordLocations(directory: String) async throws -> [StreamReadBaseline.Record] {
        let store = try FileEventStore.open(directory: directory, options: StoreOptions())
        let records = try store.readStream(hotStream).map { event in
            guard let inspection = try store.inspect(position: event.position) else {
                throw BenchmarkError("\(forwardName): no record at position \(event.position)")
            }
            return StreamReadBaseline.Record(path: inspection.file, offset: Int(inspection.offset), lengthBytes: inspection.lengthBytes)
        }
        try await store.close()
        return records
    }

    /// Opens the store, times whole-stream reads against the baseline, then the
    /// first-event calls, and closes it.
    private static func row(
        name: String, direction: ReadDirection, directory: String, records: [StreamReadBaseline.Record], buildSeconds: Double
    ) async throws -> RowResult {
        let store = try FileEventStore.open(directory: directory, options: StoreOptions())
        let start: StreamVersion = direction == .forward ? 1 : .end
        func readWhole() throws -> Int {
            let events = try store.readStream(hotStream, from: start, direction: direction)
            let firstVersion: UInt64 = direction == .forward ? 1 : UInt64(hotEventCount)
            guard events.count == hotEventCount, events.first?.version.rawValue == firstVersion,
                events.allSatisfy({ $0.data.count == BenchmarkEventFactory.dataSizeBytes })
            else {
                throw BenchmarkError("\(name): read \(events.count) events of hot-1, expected \(hotEventCount) from version \(firstVersion)")
            }
            return events.count
        }
        // Warm the file cache and the index cache for both sides.
        _ = try readWhole()
        _ = try StreamReadBaseline.run(records)

        var results: [RoundResult] = []
        for round in 1...rounds {
            let started = MonotonicClock.nanoseconds()
            let count = try readWhole()
            let seconds = MonotonicClock.seconds(from: started, to: MonotonicClock.nanoseconds())
            let baseline = try StreamReadBaseline.run(records)
            results.append(RoundResult(events: count, seconds: seconds, latency: nil, baseline: baseline))
            if round == 1 || round == rounds {
                Progress.log("  \(name) round \(round)/\(rounds): \(NumberFormatting.grouped(count)) events in "
                    + "\(NumberFormatting.decimal(seconds * 1_000, decimals: 2)) ms = "
                    + "\(NumberFormatting.grouped(Double(count) / seconds)) events/s; "
                    + "baseline \(NumberFormatting.grouped(baseline.eventsPerSecond)) events/s")
            }
        }

        var firstEvent = LatencyHistogram()
        for _ in 0..<firstEventCalls {
            let started = MonotonicClock.nanoseconds()
            let events = try store.readStream(hotStream, from: start, direction: direction, maxCount: 1)
            firstEvent.record(nanoseconds: MonotonicClock.nanoseconds() - started)
            precondition(events.count == 1, "hot-1 has events")
        }
        try await store.close()

        let summary = RowResult(name: name, rounds: results)
        let p50 = firstEvent.valueMicroseconds(atPercentile: 50)!
        let p99 = firstEvent.valueMicroseconds(atPercentile: 99)!
        func verdict(_ met: Bool) -> String { met ? "met" : "MISSED" }
        let notes = [
            "events/s: the whole \(NumberFormatting.grouped(hotEventCount))-event stream hot-1 read "
                + (direction == .forward ? "forward" : "backward from its end")
                + ", median of \(rounds) reads (target >= 3,000,000: \(verdict(summary.eventsPerSecond >= wholeStreamTargetEventsPerSecond)))",
            "p50/p99/p99.9: time to the first event, readStream(hot-1, maxCount: 1)"
                + (direction == .forward ? "" : " backward from .end")
                + ", \(NumberFormatting.grouped(firstEventCalls)) calls (target < 200 µs: p50 "
                + "\(verdict(p50 < firstEventTargetMicroseconds)), p99 \(verdict(p99 < firstEventTargetMicroseconds)))",
            "baseline: one pread per hot-1 record at its offset, same order",
            "store: \(NumberFormatting.grouped(eventCount)) events, \(NumberFormatting.grouped(coldStreamCount)) streams of \(coldEventsPerStream) "
                + "+ hot-1 every ~100th position, built in \(NumberFormatting.decimal(buildSeconds, decimals: 1)) s",
        ]
        return RowResult(
            name: name, events: summary.events, seconds: summary.seconds, eventsPerSecond: summary.eventsPerSecond,
            p50Microseconds: p50, p99Microseconds: p99, p999Microseconds: firstEvent.valueMicroseconds(atPercentile: 99.9),
            baselineEventsPerSecond: summary.baselineEventsPerSecond, ratioToBaseline: summary.ratioToBaseline,
            note: notes.joined(separator: "; "))
    }
}
