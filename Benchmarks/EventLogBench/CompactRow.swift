// The compact row: how fast `FileEventStore.compact()` gets through a log where
// nine events in ten belong to hard-deleted streams, in MB of log read per second,
// against the same reads and writes done raw, on a fresh working copy of a kept store
// each round (compaction changes the store it runs on).
import EventLog
import EventSourcing
import Foundation

enum CompactRow {
    static let name = "compact"
    static let rounds = 3
    /// Megabytes (10^6 bytes) of segment files read per second.
    static let targetMegabytesPerSecond = 200.0

    /// 1,000,000 events in 10,000 streams of 100 (--quick: 200,000 in 2,000).
    static func store(quick: Bool) -> CompactionStore {
        quick
            ? CompactionStore(label: "200k", streamCount: 2_000, eventsPerStream: 100)
            : CompactionStore(label: "1m", streamCount: 10_000, eventsPerStream: 100)
    }

    /// What one round measured.
    private struct Round {
        let report: CompactionReport
        /// From the call to `compact()` to its return, the seal of the active segment included.
        let seconds: Double
        let baseline: BaselineMeasurement
        /// Bytes the baseline read (the segment files as the kept store holds them).
        let baselineBytesRead: Int

        var megabytesPerSecond: Double { Double(report.bytesRead) / seconds / 1_000_000 }
        var baselineMegabytesPerSecond: Double { Double(baselineBytesRead) / baseline.seconds / 1_000_000 }
    }

    /// Prepares the kept store beside the scratch folder (built and deleted from
    /// once, then reused), and runs the rounds, each on its own copy.
    static func run(quick: Bool, scratch: ScratchDirectory) async throws -> RowResult {
        let shape = store(quick: quick)
        Progress.log("\(name): \(NumberFormatting.grouped(shape.eventCount)) events in "
            + "\(NumberFormatting.grouped(shape.streamCount)) streams, \(NumberFormatting.grouped(shape.deletedStreamCount)) "
            + "of them hard-deleted; \(rounds) rounds, each on a fresh working copy")
        let (kept, keptNote) = try await shape.preparedWarm(in: scratch.parentPath, label: name)
        return try await ResidentMemory.measuring {
            var measured: [Round] = []
            for round in 1...rounds {
                let result = try await measureRound(round, shape: shape, kept: kept, scratchDirectory: scratch.path)
                measured.append(result)
                Progress.log("  \(name) round \(round)/\(rounds): read \(megabytes(Int(result.report.bytesRead))) in "
                    + "\(NumberFormatting.decimal(result.seconds, decimals: 3)) s = "
                    + "\(NumberFormatting.decimal(result.megabytesPerSecond, decimals: 1)) MB/s (report: "
                    + "\(NumberFormatting.decimal(result.report.milliseconds, decimals: 1)) ms), "
                    + "\(result.report.segmentsRewritten) segments rewritten, \(megabytes(Int(result.report.bytesReclaimed))) "
                    + "reclaimed; baseline \(NumberFormatting.decimal(result.baselineMegabytesPerSecond, decimals: 1)) MB/s")
            }
            return summary(measured, shape: shape, keptNote: keptNote, quick: quick)
        }
    }

    /// Makes a working copy of the kept store, runs the raw baseline on its
    /// segment files, then opens the copy and compacts it.
    private static func measureRound(
        _ round: Int, shape: CompactionStore, kept: KeptStore, scratchDirectory: String
    ) async throws -> Round {
        try await kept.withWorkingCopy(in: "\(scratchDirectory)/\(name)-\(round)") { directory in
            try await measureRound(round, shape: shape, directory: directory, scratchDirectory: scratchDirectory)
        }
    }

    /// Runs the baseline on the segment files in `directory`, then compacts the store there.
    private static func measureRound(
        _ round: Int, shape: CompactionStore, directory: String, scratchDirectory: String
    ) async throws -> Round {
        // The baseline goes first because compaction replaces the files it reads.
        // Both read from a warm file cache.
        let extents = try ReadAllRow.segmentExtents(directory: directory, eventCount: shape.eventCount)
        let baselinePath = "\(scratchDirectory)/\(name)-\(round).baseline"
        let baseline = try CompactionBaseline.run(
            extents, keptBytes: shape.keptBytes, path: baselinePath, events: shape.eventCount)
        try FileManager.default.removeItem(atPath: baselinePath)

        let store = try FileEventStore.open(directory: directory, options: StoreOptions())
        let report: CompactionReport
        let seconds: Double
        do {
            let started = MonotonicClock.nanoseconds()
            report = try await store.compact()
            seconds = MonotonicClock.seconds(from: started, to: MonotonicClock.nanoseconds())
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        guard report.eventsRemoved == UInt64(shape.removedEventCount), report.eventsKept == UInt64(shape.keptEventCount) else {
            throw BenchmarkError("\(name): compaction removed \(report.eventsRemoved) and kept \(report.eventsKept) events; "
                + "expected \(shape.removedEventCount) and \(shape.keptEventCount)")
        }
        return Round(
            report: report, seconds: seconds, baseline: baseline,
            baselineBytesRead: extents.reduce(0) { $0 + $1.lengthBytes })
    }

    /// The row: events are the events compaction went through, events/s those per
    /// second; MB/s, space reclaimed and the target in the note.
    private static func summary(_ measured: [Round], shape: CompactionStore, keptNote: String, quick: Bool) -> RowResult {
        let rounds = measured.map { round in
            RoundResult(
                events: Int(round.report.eventsRemoved + round.report.eventsKept), seconds: round.seconds, latency: nil,
                baseline: round.baseline)
        }
        var row = RowResult(name: name, rounds: rounds)
        let median = measured.sorted { $0.megabytesPerSecond < $1.megabytesPerSecond }[measured.count / 2]
        let report = median.report
        let megabytesPerSecond = median.megabytesPerSecond
        let baselineMegabytesPerSecond = RowResult.median(measured.map(\.baselineMegabytesPerSecond))
        var notes = [
            "FileEventStore.compact() of \(NumberFormatting.grouped(shape.eventCount)) events "
                + "(\(NumberFormatting.grouped(shape.streamCount)) streams of \(shape.eventsPerStream), appended round-robin; "
                + "\(NumberFormatting.grouped(shape.deletedStreamCount)) hard-deleted, so 90% of the events in every segment) "
                + "on a fresh working copy of the kept store each round, warm file cache; events/s = events compacted per second, "
                + "median of \(measured.count) rounds",
            "\(NumberFormatting.decimal(megabytesPerSecond, decimals: 1)) MB/s of log read (bytesRead "
                + "\(megabytes(Int(report.bytesRead))) / \(NumberFormatting.decimal(median.seconds, decimals: 3)) s; "
                + "rounds " + measured.map { NumberFormatting.decimal($0.megabytesPerSecond, decimals: 1) }.joined(separator: "/")
                + "; target >= \(Int(targetMegabytesPerSecond)) MB/s: "
                + (megabytesPerSecond >= targetMegabytesPerSecond ? "met" : "MISSED") + ")",
            "reclaimed \(megabytes(Int(report.bytesReclaimed))) (segments and index files "
                + "\(megabytes(Int(report.bytesBefore))) -> \(megabytes(Int(report.bytesAfter)))), "
                + "\(NumberFormatting.grouped(Int(report.eventsRemoved))) events removed, "
                + "\(NumberFormatting.grouped(Int(report.eventsKept))) kept, "
                + "\(report.segmentsRewritten) of \(report.segmentsConsidered) segments rewritten",
            "baseline: the same segment bytes read in 1 MiB preads and the kept share "
                + "(\(megabytes(shape.keptBytes))) written to one new file, one fsync: "
                + "\(NumberFormatting.decimal(baselineMegabytesPerSecond, decimals: 1)) MB/s (median); ratio = compaction "
                + "events/s / baseline events/s, medians (baseline time / compaction time)",
            keptNote,
        ]
        if quick { notes.append("--quick: 200,000 events in 2,000 streams instead of 1,000,000 in 10,000") }
        row.note = notes.joined(separator: "; ")
        return row
    }

    /// `bytes` in megabytes (10^6), the unit of the MB/s figures.
    static func megabytes(_ bytes: Int) -> String {
        NumberFormatting.decimal(Double(bytes) / 1_000_000, decimals: 1) + " MB"
    }
}
