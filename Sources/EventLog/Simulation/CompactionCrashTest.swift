// Compaction under random crashes, shared by `eventlog-crashtest --compaction` and
// the test suite: a seeded workload of streams, deletions, truncations and limits
// on a simulated disk, a compaction crashed at a random I/O call, then recovery,
// which must answer every read as before the compaction, verify healthy, take
// appends, and compact again to the same answers.
import EventSourcing
import Foundation

/// Crash-safety proof of compaction by simulation. See DESIGN.md, "Compaction".
@_spi(Testing) public enum CompactionCrashTest {
    /// What a run of many iterations did.
    public struct Summary: Sendable {
        /// Iterations run.
        public var iterations = 0
        /// Crashes that fell inside a compaction (the others fell after it ended).
        public var crashesDuringCompaction = 0
        /// Iterations whose crash was a power loss (the others: a process crash).
        public var powerLosses = 0
        /// Events the compactions removed, over all iterations.
        public var eventsRemoved: UInt64 = 0
        /// Reads compared after recovery (the log both ways and every stream).
        public var readsCompared = 0
        /// The first failure: the iteration, and what was wrong (the run stops at it).
        public var failure: (iteration: Int, problem: String)?
    }

    static let directory = "/data/store"

    /// Runs iterations `firstIteration ..< firstIteration + iterations` of `seed`,
    /// stopping at the first failure.
    public static func run(iterations: Int, seed: UInt64, firstIteration: Int = 0) async -> Summary {
        var summary = Summary()
        for iteration in firstIteration..<(firstIteration + iterations) {
            let outcome = await runOne(seed: SimulationRandom.derive(seed, UInt64(iteration)))
            summary.iterations += 1
            summary.eventsRemoved += outcome.eventsRemoved
            summary.readsCompared += outcome.readsCompared
            if outcome.crashedDuringCompaction { summary.crashesDuringCompaction += 1 }
            if outcome.kind == .powerLoss { summary.powerLosses += 1 }
            if let problem = outcome.problem {
                summary.failure = (iteration, problem)
                return summary
            }
        }
        return summary
    }

    struct Outcome {
        var kind: SimulatedFileSystem.CrashKind = .powerLoss
        var crashedDuringCompaction = false
        var eventsRemoved: UInt64 = 0
        var readsCompared = 0
        var problem: String?
    }

    /// Everything a store answers about the streams named, to compare before and after.
    struct Readings: Equatable {
        var all: [RecordedEvent] = []
        var backward: [RecordedEvent] = []
        var streams: [[RecordedEvent]] = []
        var versions: [StreamVersion] = []

        init(_ store: FileEventStore, streams names: [StreamName]) throws {
            all = try store.readAll()
            backward = try store.readAll(from: .end, direction: .backward)
            for name in names {
                streams.append(try store.readStream(name))
                streams.append(try store.readStream(name, from: .end, direction: .backward))
                versions.append(try store.version(of: name))
            }
        }

        var count: Int { 2 + streams.count + versions.count }
    }

    static func runOne(seed: UInt64) async -> Outcome {
        var random = SimulationRandom(seed: seed)
        var outcome = Outcome()
        outcome.kind = random.chance(1, in: 2) ? .powerLoss : .processCrash
        let fileSystem = SimulatedFileSystem(seed: random.next())
        fileSystem.makeDurableDirectory("/data")
        var options = StoreOptions(durability: .fsync)
        options.segmentSizeBytes = StoreOptions.minimumSegmentSizeBytes
        options.preallocateSegments = random.chance(4, in: 5)
        options.positionNudgeDelay = CrashTest.positionNudgeDelay
        let streams = (0..<Int.random(in: 2...8, using: &random)).map { StreamName(unchecked: "s-\($0)") }
        do {
            let store = try FileEventStore.open(directory: directory, options: options, simulatedFileSystem: fileSystem)
            // The workload: appends in rounds, with stream rules and (sometimes) a
            // compaction between them, so compacted segments are compacted again.
            for round in 0..<Int.random(in: 1...3, using: &random) {
                for _ in 0..<Int.random(in: 20...80, using: &random) {
                    let stream = streams.randomElement(using: &random)!
                    let events = (0..<Int.random(in: 1...3, using: &random)).map { _ in
                        EventData(type: "E", data: Data(repeating: UInt8.random(in: 0...255, using: &random), count: Int.random(in: 10...900, using: &random)))
                    }
                    // A hard-deleted stream refuses it: nothing to check here.
                    _ = try? await store.append(events, to: stream, expectedVersion: .any)
                }
                for stream in streams where random.chance(1, in: 3) {
                    let version = try store.version(of: stream).rawValue
                    switch Int.random(in: 0..<5, using: &random) {
                    case 0: try? await store.deleteStream(stream, expectedVersion: .any, hard: true)
                    case 1: try? await store.deleteStream(stream, expectedVersion: .any, hard: false)
                    case 2: try? await store.truncateStream(stream, before: StreamVersion(UInt64.random(in: 1...(version + 2), using: &random)))
                    default: try? await store.setStreamMetadata(StreamMetadata(maxCount: Int.random(in: 1...5, using: &random)), for: stream)
                    }
                }
                if round > 0 && random.chance(1, in: 2) { _ = try await store.compact() }
            }
            let expected = try Readings(store, streams: streams)

            // The compaction, crashed at a random counted I/O call (or after it, if it makes fewer).
            let callsBefore = fileSystem.ioCallCount
            // About a dozen calls seal the active segment, and up to about sixteen rewrite each sealed one.
            let segments = store.shared.state.withLock { $0.sealed.count } + 1
            fileSystem.scheduleCrash(outcome.kind, afterIOCalls: Int.random(in: 1...(10 + 12 * segments), using: &random))
            let report = try? await store.compact()
            outcome.crashedDuringCompaction = fileSystem.crashCount > 0
            fileSystem.crash(outcome.kind, unlessCrashesExceed: 0)
            try? await store.close()
            let compactionCalls = fileSystem.ioCallCount - callsBefore

            // Recovery answers as before, verifies, takes appends, compacts again.
            let recovered = try FileEventStore.open(directory: directory, options: options, simulatedFileSystem: fileSystem)
            let found = try Readings(recovered, streams: streams)
            outcome.readsCompared += found.count
            guard found == expected else {
                return failed(outcome, "after a \(outcome.kind) during compaction (\(compactionCalls) I/O calls in): reads differ: "
                    + describe(expected, found), fileSystem)
            }
            let again = try await recovered.compact()
            outcome.eventsRemoved = (report?.eventsRemoved ?? 0) + again.eventsRemoved
            guard try Readings(recovered, streams: streams) == expected else {
                return failed(outcome, "a second compaction after recovery changed the answers", fileSystem)
            }
            let next = streams.first { recovered.shared.rules.rule(for: $0)?.isHardDeleted != true }
            if let next {
                let version = try recovered.version(of: next)
                let result = try await recovered.append([EventData(type: "After", data: Data("{}".utf8))], to: next, expectedVersion: .exact(version))
                guard result.nextExpectedVersion.rawValue == version.rawValue + 1 else {
                    return failed(outcome, "an append after recovery got version \(result.nextExpectedVersion), not \(version.rawValue + 1)", fileSystem)
                }
            }
            try await recovered.close()
            let verified = try FileEventStore.verify(directory: directory, simulatedFileSystem: fileSystem)
            guard verified.isHealthy, verified.tornTail == nil else {
                return failed(outcome, "verify after recovery: \(verified.problems.map(\.description))", fileSystem)
            }
            if !fileSystem.misuses.isEmpty { return failed(outcome, "file system misuse: \(fileSystem.misuses)", fileSystem) }
        } catch {
            return failed(outcome, "\(error)", fileSystem)
        }
        return outcome
    }

    private static func failed(_ outcome: Outcome, _ problem: String, _ fileSystem: SimulatedFileSystem) -> Outcome {
        var outcome = outcome
        outcome.problem = problem + "\n  I/O (last calls):\n" + fileSystem.callLog.suffix(80).map { "    \($0)" }.joined(separator: "\n")
        return outcome
    }

    private static func describe(_ expected: Readings, _ found: Readings) -> String {
        if expected.all != found.all {
            return "readAll gives \(found.all.count) events, expected \(expected.all.count) (positions "
                + "\(Set(expected.all.map(\.position)).symmetricDifference(found.all.map(\.position)).sorted().prefix(10)) differ)"
        }
        if expected.backward != found.backward { return "backward readAll differs" }
        if expected.versions != found.versions { return "versions \(found.versions), expected \(expected.versions)" }
        return "a stream read differs"
    }
}
