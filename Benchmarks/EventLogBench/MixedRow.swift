// The mixed row: durable appenders while stream readers and a live subscriber
// work the same store, against the same appenders alone, because an embedded
// store serves reads and projections while it takes writes, and what the readers
// cost the writers is the figure that matters.
import EventLog
import EventSourcing
import Foundation

enum MixedRow {
    static let name = "mixed"
    static let appenderCount = 8
    static let readerCount = 8
    /// Rounds of each kind, alternating alone and mixed so a slow spell of the
    /// shared machine does not land on one side only.
    static let rounds = 3
    /// Most events one appender writes in a round (a bound on disk use).
    static let maxEventsPerAppender = 250_000
    /// The streams the readers read, built before the rounds: `mix-0000` ... `mix-0999`.
    static let readStreamCount = 1_000
    static let eventsPerReadStream = 50
    static let targetRatio = 0.8

    static func roundNanoseconds(quick: Bool) -> UInt64 { quick ? 1_000_000_000 : 3_000_000_000 }

    static let readStreamNames = (0..<readStreamCount).map { index in
        let digits = String(index)
        return BenchmarkStreams.fixedName("mix-" + String(repeating: "0", count: 4 - digits.count) + digits)
    }

    /// What the appenders of one round did.
    private struct AppendersOutcome {
        let events: Int
        let seconds: Double
        let syncs: Int
        let latency: LatencyHistogram
    }

    /// The raw disk in one round: a pwrite + fdatasync loop at the appenders'
    /// events per sync, alone and while the same readers run. It tells how much of
    /// the appenders' loss is the disk's own (the readers' load slowing its syncs)
    /// and how much the store's (its threads waiting for a core).
    private struct RawDiskRound {
        let alone: BaselineMeasurement
        let withReaders: BaselineMeasurement
        var ratio: Double { withReaders.eventsPerSecond / alone.eventsPerSecond }
    }

    /// What the other roles did in one mixed round.
    private struct MixedRound {
        let appenders: AppendersOutcome
        let readers: [ReaderThreads.Outcome]
        /// Events the subscriber received while the appenders ran, per second.
        let subscriberEventsPerSecond: Double
        /// Events appended but not yet received by the subscriber when the appenders stopped.
        let subscriberLagEvents: Int
        /// From the appenders' stop (and the readers') until the subscriber had the last event.
        let subscriberCatchUpMilliseconds: Double

        var readsPerSecond: Double { readers.reduce(0) { $0 + $1.readsPerSecond } }
    }

    /// Builds the readers' streams in a store under `scratchDirectory`, opens it with
    /// default options (`.fsync`), and alternates rounds of the appenders alone and
    /// with readers and subscriber, all on that one open store.
    static func run(quick: Bool, scratchDirectory: String) async throws -> RowResult {
        let roundNanoseconds = roundNanoseconds(quick: quick)
        Progress.log("\(name): \(appenderCount) appenders (.fsync), \(readerCount) stream readers, 1 live subscriber; "
            + "\(rounds) rounds of \(roundNanoseconds / 1_000_000) ms alone and mixed")
        let directory = "\(scratchDirectory)/\(name)"
        let layout = StoreLayout(
            eventCount: readStreamCount * eventsPerReadStream, streamNames: readStreamNames,
            streamOfEvent: { $0 % MixedRow.readStreamCount }, maxEventsPerCall: 1_000, maxCallsInFlight: 4)
        let buildSeconds = try await StoreBuilder.build(layout, directory: directory, label: name)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let store = try FileEventStore.open(directory: directory, options: StoreOptions())
        var soloRounds: [AppendersOutcome] = []
        var mixedRounds: [MixedRound] = []
        var rawRounds: [RawDiskRound] = []
        do {
            // Warm the file cache and the index caches for the readers, and the appenders' streams.
            for stream in readStreamNames {
                guard try store.readStream(stream).count == eventsPerReadStream else {
                    throw BenchmarkError("\(name): \(stream) does not hold \(eventsPerReadStream) events")
                }
            }
            var warmUp = BenchmarkEventFactory()
            for appender in 0..<appenderCount {
                try await store.append(warmUp.next(AppendRound.warmUpCalls), to: BenchmarkStreams.name(appender))
            }
            for round in 1...rounds {
                let solo = try await appenders(store: store, roundNanoseconds: roundNanoseconds)
                soloRounds.append(solo)
                let mixed = try await mixedRound(store: store, roundNanoseconds: roundNanoseconds)
                mixedRounds.append(mixed)
                let raw = try await rawDisk(like: solo, store: store, path: "\(scratchDirectory)/\(name).raw-\(round)")
                rawRounds.append(raw)
                Progress.log("  \(name) round \(round)/\(rounds): appenders alone "
                    + "\(NumberFormatting.grouped(Double(solo.events) / solo.seconds)) events/s, mixed "
                    + "\(NumberFormatting.grouped(Double(mixed.appenders.events) / mixed.appenders.seconds)) events/s; readers "
                    + "\(NumberFormatting.grouped(mixed.readsPerSecond)) reads/s; subscriber "
                    + "\(NumberFormatting.grouped(mixed.subscriberEventsPerSecond)) events/s, lag at end "
                    + "\(mixed.subscriberLagEvents) events; raw disk alone "
                    + "\(NumberFormatting.grouped(raw.alone.eventsPerSecond)) events/s, with the readers "
                    + "\(NumberFormatting.grouped(raw.withReaders.eventsPerSecond)) events/s")
            }
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        return summary(soloRounds: soloRounds, mixedRounds: mixedRounds, rawRounds: rawRounds, buildSeconds: buildSeconds)
    }

    /// The row: the mixed rounds' appenders against the solo rounds', the other
    /// roles in the note.
    private static func summary(
        soloRounds: [AppendersOutcome], mixedRounds: [MixedRound], rawRounds: [RawDiskRound], buildSeconds: Double
    ) -> RowResult {
        let roundResults = zip(mixedRounds, soloRounds).map { mixed, solo in
            RoundResult(
                events: mixed.appenders.events, seconds: mixed.appenders.seconds, latency: mixed.appenders.latency,
                baseline: BaselineMeasurement(events: solo.events, seconds: solo.seconds))
        }
        var row = RowResult(name: name, rounds: roundResults)
        var soloLatency = LatencyHistogram()
        for solo in soloRounds { soloLatency.add(solo.latency) }
        var readLatency = LatencyHistogram()
        for mixed in mixedRounds {
            for reader in mixed.readers {
                readLatency.add(reader.latency)
            }
        }
        let ratio = row.ratioToBaseline ?? 0
        let rawRatio = RowResult.median(rawRounds.map(\.ratio))
        func microseconds(_ histogram: LatencyHistogram, _ percent: Double) -> String {
            NumberFormatting.optional(histogram.valueMicroseconds(atPercentile: percent), decimals: 1) + " µs"
        }
        let notes = [
            "\(appenderCount) appenders (.fsync, 1 event per call, own stream each), \(readerCount) readers (own threads, each "
                + "readStream of a random one of \(NumberFormatting.grouped(readStreamCount)) streams of \(eventsPerReadStream) events, "
                + "whole) and 1 subscriber (subscribeToAll from the end, following live) at once, \(rounds) rounds alternating "
                + "with the appenders alone; events/s and p50/p99/p99.9 are the appenders' (per append call), median round",
            "appenders: \(NumberFormatting.grouped(row.eventsPerSecond)) events/s, p99 \(microseconds(row.latency ?? LatencyHistogram(), 99)) "
                + "per append; alone (baseline): \(NumberFormatting.grouped(row.baselineEventsPerSecond ?? 0)) events/s, "
                + "p99 \(microseconds(soloLatency, 99))",
            "readers: \(NumberFormatting.grouped(RowResult.median(mixedRounds.map(\.readsPerSecond)))) reads/s "
                + "(\(NumberFormatting.grouped(RowResult.median(mixedRounds.map(\.readsPerSecond)) * Double(eventsPerReadStream))) events/s), "
                + "p50 \(microseconds(readLatency, 50)), p99 \(microseconds(readLatency, 99)) per whole-stream read",
            "subscriber: \(NumberFormatting.grouped(RowResult.median(mixedRounds.map(\.subscriberEventsPerSecond)))) events/s, "
                + "lag when the appenders stopped " + mixedRounds.map { String($0.subscriberLagEvents) }.joined(separator: "/")
                + " events, caught up " + mixedRounds.map { NumberFormatting.decimal($0.subscriberCatchUpMilliseconds, decimals: 1) }
                .joined(separator: "/") + " ms later (rounds 1/2/3; includes stopping the readers)",
            "ratio = mixed / alone (target >= \(NumberFormatting.decimal(targetRatio, decimals: 1)): "
                + "\(ratio >= targetRatio ? "met" : "MISSED"))",
            "raw disk (a pwrite + fdatasync loop at the solo round's events per sync, as many events as a third of it) "
                + "alone " + rawRounds.map { NumberFormatting.grouped($0.alone.eventsPerSecond) }.joined(separator: "/")
                + " events/s, while the same \(readerCount) readers run "
                + rawRounds.map { NumberFormatting.grouped($0.withReaders.eventsPerSecond) }.joined(separator: "/")
                + " events/s (rounds 1/2/3): the disk itself keeps \(NumberFormatting.decimal(rawRatio, decimals: 2))x "
                + "(median), so the store keeps \(NumberFormatting.decimal(rawRatio > 0 ? ratio / rawRatio : 0, decimals: 2))x "
                + "of what the disk does under the same load",
            "read streams built in \(NumberFormatting.decimal(buildSeconds, decimals: 2)) s",
        ]
        row.note = notes.joined(separator: "; ")
        return row
    }

    /// Runs the appenders, each to its own stream, until `roundNanoseconds` pass.
    private static func appenders(store: FileEventStore, roundNanoseconds: UInt64) async throws -> AppendersOutcome {
        let before = store.statistics
        let started = MonotonicClock.nanoseconds()
        let deadline = started + roundNanoseconds
        let outcome = try await withThrowingTaskGroup(of: AppendRound.AppenderOutcome.self) { group in
            for appender in 0..<appenderCount {
                group.addTask {
                    try await AppendRound.appendLoop(
                        store: store, stream: BenchmarkStreams.name(appender), eventsPerCall: 1,
                        dataSizeBytes: BenchmarkEventFactory.dataSizeBytes, deadlineNanoseconds: deadline,
                        maxEvents: maxEventsPerAppender)
                }
            }
            var total = AppendRound.AppenderOutcome()
            for try await appenderOutcome in group { total.add(appenderOutcome) }
            return total
        }
        let finished = MonotonicClock.nanoseconds()
        let eventsWritten = Int(store.statistics.eventsWritten - before.eventsWritten)
        guard eventsWritten == outcome.events else {
            throw BenchmarkError("\(name): appenders counted \(outcome.events) events, the writer wrote \(eventsWritten)")
        }
        return AppendersOutcome(
            events: outcome.events, seconds: MonotonicClock.seconds(from: started, to: finished),
            syncs: Int(store.statistics.syncs - before.syncs), latency: outcome.latency)
    }

    /// The raw disk at `solo`'s events per sync, for a third of its events: alone,
    /// then with the readers running (reading `store`, as in a mixed round).
    private static func rawDisk(like solo: AppendersOutcome, store: FileEventStore, path: String) async throws -> RawDiskRound {
        let events = max(1, solo.events / 3)
        let plan = BaselineSyncPlan.everyGroup(syncs: max(1, solo.syncs / 3))
        let recordSizeBytes = BenchmarkStreams.recordSizeBytes(dataSizeBytes: BenchmarkEventFactory.dataSizeBytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let alone = try WriteBaseline.run(path: path, events: events, recordSizeBytes: recordSizeBytes, plan: plan)
        try FileManager.default.removeItem(atPath: path)
        let readers = ReaderThreads(
            count: readerCount, store: store, streams: readStreamNames, eventsPerStream: eventsPerReadStream)
        let withReaders = Result { try WriteBaseline.run(path: path, events: events, recordSizeBytes: recordSizeBytes, plan: plan) }
        let readerOutcomes = await readers.stop()
        if let failure = readerOutcomes.compactMap(\.failure).first { throw BenchmarkError("\(name): \(failure)") }
        return RawDiskRound(alone: alone, withReaders: try withReaders.get())
    }

    /// One mixed round: readers and subscriber start, the appenders run their
    /// time, then the readers stop and the subscriber catches up and stops.
    private static func mixedRound(store: FileEventStore, roundNanoseconds: UInt64) async throws -> MixedRound {
        let firstPosition = store.lastPosition.rawValue + 1
        let progress = FollowProgress()
        let subscriber = Task { () throws -> Int in
            var received = 0
            for try await event in store.subscribeToAll(from: GlobalPosition(firstPosition)) {
                received += 1
                if progress.received(event.position.rawValue) { break }
            }
            return received
        }
        let readers = ReaderThreads(
            count: readerCount, store: store, streams: readStreamNames, eventsPerStream: eventsPerReadStream)

        let appended: AppendersOutcome
        do {
            appended = try await appenders(store: store, roundNanoseconds: roundNanoseconds)
        } catch {
            _ = await readers.stop()
            subscriber.cancel()
            _ = try? await subscriber.value
            throw error
        }
        let lastPosition = store.lastPosition.rawValue
        let subscriberPosition = max(progress.position, firstPosition - 1)
        let stopped = MonotonicClock.nanoseconds()
        let readerOutcomes = await readers.stop()
        if progress.stop(at: lastPosition) { subscriber.cancel() }
        let received = try await subscriber.value
        let caughtUp = MonotonicClock.nanoseconds()
        if let failure = readerOutcomes.compactMap(\.failure).first { throw BenchmarkError("\(name): \(failure)") }
        guard received == Int(lastPosition + 1 - firstPosition) else {
            throw BenchmarkError("\(name): the subscriber received \(received) events of the "
                + "\(lastPosition + 1 - firstPosition) appended")
        }
        return MixedRound(
            appenders: appended, readers: readerOutcomes,
            subscriberEventsPerSecond: Double(subscriberPosition + 1 - firstPosition) / appended.seconds,
            subscriberLagEvents: Int(lastPosition - subscriberPosition),
            subscriberCatchUpMilliseconds: MonotonicClock.seconds(from: stopped, to: caughtUp) * 1_000)
    }
}
