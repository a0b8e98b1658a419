// The append-durable-c16-compacting row: append-durable-c16's appenders while a
// compaction of a large store (nine events in ten deleted) runs in the same store,
// process and disk, because an embedded store compacts while it takes writes,
// and what compaction costs the writers is the figure that matters.
import EventLog
import EventSourcing
import Foundation
import Synchronization

enum CompactingAppendRow {
    static let name = "append-durable-c16-compacting"
    /// The row whose events/s this one is held against, from the same run.
    static let referenceName = "append-durable-c16"
    static let targetRatio = 0.7
    static let rounds = 3
    /// A round whose compaction ended before this share of the window has too
    /// short a window to stand for the row: the note says so.
    static let minimumCoveredShare = 0.9

    /// Large enough that compaction outlasts a round's appenders with room to
    /// spare: on the project's machine it read 460 to 810 MB/s beside the
    /// appenders (warm file cache), so the 24m store (4.4 GB of records) lasts
    /// 5 s or more for a 3 s round, the 8m store (1.5 GB) about 2 s for a 1 s
    /// round. 24,000,000 events in 10,000 streams of 2,400 (--quick: 8,000,000
    /// in 2,000 streams of 4,000).
    static func store(quick: Bool) -> CompactionStore {
        quick
            ? CompactionStore(label: "8m", streamCount: 2_000, eventsPerStream: 4_000)
            : CompactionStore(label: "24m", streamCount: 10_000, eventsPerStream: 2_400)
    }

    static func spec(quick: Bool) -> AppendRowSpec {
        guard let spec = AppendRowSpec.all(quick: quick).first(where: { $0.name == referenceName }) else {
            preconditionFailure("\(referenceName) is an append row")
        }
        return spec
    }

    /// What one round measured.
    private struct Round {
        let appended: AppendRoundMeasurement
        /// The round's planned window: the reference row's round length.
        let plannedSeconds: Double
        /// Seconds from the appenders' start until compaction returned, if it did
        /// before they stopped (they stop with it).
        let compactionFinishedAfterSeconds: Double?
        /// Compaction's progress when the appenders stopped (per segment, so a floor).
        let compactionBytesRead: UInt64
        let compactionBytesTotal: UInt64
        /// Compaction's read rate from its start to its last finished segment
        /// before the appenders stopped, in MB/s; nil if no segment was finished.
        let compactionMegabytesPerSecond: Double?

        var coveredShare: Double {
            compactionFinishedAfterSeconds.map { min(1, $0 / plannedSeconds) } ?? 1
        }
    }

    /// Runs the rounds on copies of the kept store. `reference` is the
    /// append-durable-c16 row of this run, or nil to run it here for the ratio.
    static func run(quick: Bool, scratch: ScratchDirectory, reference: RowResult?) async throws -> RowResult {
        let shape = store(quick: quick)
        let spec = spec(quick: quick)
        Progress.log("\(name): \(referenceName) (\(spec.appenderCount) appenders, .fsync) for \(rounds) rounds of "
            + "\(spec.targetNanoseconds / 1_000_000) ms, each while compacting a fresh working copy of a store of "
            + "\(NumberFormatting.grouped(shape.eventCount)) events, 90% deleted")
        let referenceRow: RowResult
        let referenceNote: String
        if let reference {
            referenceRow = reference
            referenceNote = "its row in this run"
        } else {
            Progress.log("  \(name): \(referenceName) was not selected; running it for the ratio")
            referenceRow = try await AppendRow.run(spec, scratchDirectory: scratch.path)
            referenceNote = "run for this ratio only: not selected as a row"
        }
        let (kept, keptNote) = try await shape.preparedWarm(in: scratch.parentPath, label: name)
        return try await ResidentMemory.measuring {
            var measured: [Round] = []
            for round in 1...rounds {
                let result = try await measureRound(round, spec: spec, kept: kept, scratchDirectory: scratch.path)
                measured.append(result)
                let compaction = result.compactionFinishedAfterSeconds.map {
                    "compaction FINISHED \(NumberFormatting.decimal($0, decimals: 2)) s into the window"
                } ?? "compaction still running at the end"
                Progress.log("  \(name) round \(round)/\(rounds): \(NumberFormatting.grouped(result.appended.events)) events in "
                    + "\(NumberFormatting.decimal(result.appended.seconds, decimals: 2)) s = "
                    + "\(NumberFormatting.grouped(result.appended.eventsPerSecond)) events/s; \(compaction) ("
                    + "\(CompactRow.megabytes(Int(result.compactionBytesRead))) of "
                    + "\(CompactRow.megabytes(Int(result.compactionBytesTotal))) read, "
                    + NumberFormatting.optional(result.compactionMegabytesPerSecond, decimals: 1) + " MB/s)")
            }
            return summary(
                measured, shape: shape, reference: referenceRow, referenceNote: referenceNote, keptNote: keptNote, quick: quick)
        }
    }

    /// Makes a working copy of the kept store, opens it, starts its compaction, and runs the
    /// appenders from the compaction's first progress report (the active segment
    /// sealed, the segments to rewrite chosen) until the round's time is up or the
    /// compaction returns. Closing the store then stops the compaction at its next segment.
    private static func measureRound(
        _ round: Int, spec: AppendRowSpec, kept: KeptStore, scratchDirectory: String
    ) async throws -> Round {
        try await kept.withWorkingCopy(in: "\(scratchDirectory)/\(name)-\(round)") { directory in
            try await measureRound(spec: spec, directory: directory)
        }
    }

    /// One round on the working copy in `directory`.
    private static func measureRound(spec: AppendRowSpec, directory: String) async throws -> Round {
        let store = try FileEventStore.open(directory: directory, options: StoreOptions(durability: spec.durability))
        do {
            var warmUp = BenchmarkEventFactory(dataSizeBytes: spec.dataSizeBytes)
            for _ in 0..<AppendRound.warmUpCalls {
                try await store.append(warmUp.next(spec.eventsPerCall), to: BenchmarkStreams.name(0))
            }
        } catch {
            try? await store.close()
            throw error
        }
        let watch = CompactionWatch()
        let compaction = Task { () throws -> CompactionReport? in
            defer { watch.finished() }
            do {
                return try await store.compact(progress: { watch.record($0) })
            } catch EventStoreError.closed {
                return nil
            }
        }
        let appended: TimedAppenders
        do {
            await watch.waitUntilStarted()
            appended = try await appenders(spec: spec, store: store, until: { watch.isFinished })
        } catch {
            try? await store.close()
            _ = try? await compaction.value
            throw error
        }
        let state = watch.state
        try await store.close()
        let report = try await compaction.value
        if let report, report.eventsRemoved == 0 {
            throw BenchmarkError("\(name): the compaction removed nothing from the store in \(directory)")
        }
        guard let startedNanoseconds = state.startedNanoseconds else {
            throw BenchmarkError("\(name): the compaction ended before reporting progress")
        }
        let finishedAfter = state.finishedNanoseconds.flatMap { finished in
            finished <= appended.finishedNanoseconds
                ? MonotonicClock.seconds(from: appended.startedNanoseconds, to: max(finished, appended.startedNanoseconds))
                : nil
        }
        var megabytesPerSecond: Double?
        if state.segmentBytesRead > 0, let last = state.lastSegmentNanoseconds {
            megabytesPerSecond = Double(state.segmentBytesRead) / MonotonicClock.seconds(from: startedNanoseconds, to: last)
                / 1_000_000
        }
        return Round(
            appended: appended.measurement, plannedSeconds: Double(spec.targetNanoseconds) / 1_000_000_000,
            compactionFinishedAfterSeconds: finishedAfter, compactionBytesRead: state.segmentBytesRead,
            compactionBytesTotal: state.bytesTotal, compactionMegabytesPerSecond: megabytesPerSecond)
    }

    /// The appenders' measurement and when their window began and ended.
    private struct TimedAppenders {
        let measurement: AppendRoundMeasurement
        let startedNanoseconds: UInt64
        let finishedNanoseconds: UInt64
    }

    /// The append-durable-c16 round's timed part (``AppendRound/measure(_:directory:)``)
    /// on an open store, stopping early once `until` says so.
    private static func appenders(
        spec: AppendRowSpec, store: FileEventStore, until shouldStop: @escaping @Sendable () -> Bool
    ) async throws -> TimedAppenders {
        let before = store.statistics
        let started = MonotonicClock.nanoseconds()
        let deadline = started + spec.targetNanoseconds
        let maxEventsPerAppender = max(spec.eventsPerCall, spec.maxEvents / spec.appenderCount)
        let outcome = try await withThrowingTaskGroup(of: AppendRound.AppenderOutcome.self) { group in
            for appender in 0..<spec.appenderCount {
                group.addTask {
                    try await AppendRound.appendLoop(
                        store: store, stream: BenchmarkStreams.name(appender), eventsPerCall: spec.eventsPerCall,
                        dataSizeBytes: spec.dataSizeBytes, deadlineNanoseconds: deadline, maxEvents: maxEventsPerAppender,
                        shouldStop: shouldStop)
                }
            }
            var total = AppendRound.AppenderOutcome()
            for try await appenderOutcome in group { total.add(appenderOutcome) }
            return total
        }
        let finished = MonotonicClock.nanoseconds()
        let after = store.statistics
        let eventsWritten = Int(after.eventsWritten - before.eventsWritten)
        guard eventsWritten == outcome.events else {
            throw BenchmarkError("\(name): appenders counted \(outcome.events) events, the writer wrote \(eventsWritten)")
        }
        let measurement = AppendRoundMeasurement(
            events: outcome.events, seconds: MonotonicClock.seconds(from: started, to: finished),
            syncs: Int(after.syncs - before.syncs), batches: Int(after.batches - before.batches), latency: outcome.latency)
        return TimedAppenders(measurement: measurement, startedNanoseconds: started, finishedNanoseconds: finished)
    }

    /// The row: the median round against the reference row's events/s.
    private static func summary(
        _ measured: [Round], shape: CompactionStore, reference: RowResult, referenceNote: String, keptNote: String, quick: Bool
    ) -> RowResult {
        let referenceBaseline = BaselineMeasurement(events: reference.events, seconds: reference.seconds)
        let roundResults = measured.map { round in
            RoundResult(
                events: round.appended.events, seconds: round.appended.seconds, latency: round.appended.latency,
                baseline: referenceBaseline, eventsPerSync: round.appended.eventsPerSync)
        }
        var row = RowResult(name: name, rounds: roundResults)
        let ratio = row.ratioToBaseline ?? 0
        let shortRounds = measured.enumerated().filter { $0.element.coveredShare < minimumCoveredShare }
        var notes = [
            "\(referenceName) (16 appenders, .fsync, 1 event per call, own stream each) measured while "
                + "FileEventStore.compact() runs in the same store (same process, same disk) on a fresh working copy of a store of "
                + "\(NumberFormatting.grouped(shape.eventCount)) events (\(NumberFormatting.grouped(shape.streamCount)) streams, "
                + "\(NumberFormatting.grouped(shape.deletedStreamCount)) hard-deleted: 90% of the events; "
                + "\(CompactRow.megabytes(shape.logBytes)) of records) each round; the appenders start once compaction has "
                + "sealed the active segment and begun, and stop after \(NumberFormatting.decimal(measured[0].plannedSeconds, decimals: 1)) s or when it "
                + "returns; median of \(measured.count) rounds",
            "baseline = \(referenceName) events/s (\(referenceNote)); ratio target >= "
                + "\(NumberFormatting.decimal(targetRatio, decimals: 1)): " + (ratio >= targetRatio ? "met" : "MISSED"),
        ]
        if shortRounds.isEmpty {
            notes.append("compaction ran through every round's whole window")
        } else {
            notes.append("NOT a during-compaction figure for the whole window: compaction finished "
                + shortRounds.map { "\(NumberFormatting.decimal($0.element.compactionFinishedAfterSeconds ?? 0, decimals: 2)) s "
                    + "into round \($0.offset + 1)" }.joined(separator: ", ")
                + " (the appenders stopped with it, so those rounds are shorter); use a larger store")
        }
        notes.append("compaction meanwhile: " + measured.map { round in
            "\(CompactRow.megabytes(Int(round.compactionBytesRead))) of \(CompactRow.megabytes(Int(round.compactionBytesTotal))) "
                + "read at " + NumberFormatting.optional(round.compactionMegabytesPerSecond, decimals: 1) + " MB/s"
        }.joined(separator: " / ") + " (rounds 1/2/3; per finished segment)")
        notes.append(keptNote)
        if quick { notes.append("--quick: a store of 8,000,000 events in 2,000 streams instead of 24,000,000 in 10,000") }
        row.note = notes.joined(separator: "; ")
        return row
    }
}

/// What a running compaction has reported, for the appenders to follow: when it
/// started reading, how far it got and when, and when it returned.
final class CompactionWatch: Sendable {
    struct State: Sendable {
        var startedNanoseconds: UInt64?
        var bytesTotal: UInt64 = 0
        /// Bytes of the segments finished so far.
        var segmentBytesRead: UInt64 = 0
        var lastSegmentNanoseconds: UInt64?
        var finishedNanoseconds: UInt64?
    }

    private struct Guarded {
        var state = State()
        var startWaiter: CheckedContinuation<Void, Never>?
    }

    private let guarded = Mutex(Guarded())

    var state: State { guarded.withLock { $0.state } }
    var isFinished: Bool { guarded.withLock { $0.state.finishedNanoseconds != nil } }

    /// The compaction's progress callback (on the compaction's thread).
    func record(_ progress: CompactionProgress) {
        let now = MonotonicClock.nanoseconds()
        let waiter = guarded.withLock { guarded in
            if guarded.state.startedNanoseconds == nil { guarded.state.startedNanoseconds = now }
            guarded.state.bytesTotal = progress.bytesTotal
            if progress.bytesRead > guarded.state.segmentBytesRead {
                guarded.state.segmentBytesRead = progress.bytesRead
                guarded.state.lastSegmentNanoseconds = now
            }
            defer { guarded.startWaiter = nil }
            return guarded.startWaiter
        }
        waiter?.resume()
    }

    /// Marks the compaction as returned (or failed), waking a waiter for its start.
    func finished() {
        let now = MonotonicClock.nanoseconds()
        let waiter = guarded.withLock { guarded in
            guarded.state.finishedNanoseconds = now
            defer { guarded.startWaiter = nil }
            return guarded.startWaiter
        }
        waiter?.resume()
    }

    /// Returns once the compaction has reported progress or returned.
    func waitUntilStarted() async {
        await withCheckedContinuation { continuation in
            let ready = guarded.withLock { guarded in
                if guarded.state.startedNanoseconds != nil || guarded.state.finishedNanoseconds != nil { return true }
                guarded.startWaiter = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }
}
