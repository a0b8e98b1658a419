// The crash-test driver's body, shared by the `eventlog-crashtest` executable and
// the test suite: run a seeded workload on a simulated disk, crash it at a random
// I/O call, reopen, and check that no acknowledged event was lost and nothing
// half-written became visible; then append again, crash again, check again.
import EventSourcing
import Foundation

/// Crash-safety proof by simulation. See DESIGN.md, "Fault model".
@_spi(Testing) public enum CrashTest {
    /// Where the first crash falls.
    public enum CrashPoint: Sendable, Hashable, CustomStringConvertible {
        /// After a random counted I/O call, chosen from the seed.
        case random
        /// Right after the given counted I/O call (1-based); at the end of the workload if it makes fewer.
        case afterIOCalls(Int)
        /// Once the workload has finished.
        case atEnd

        /// The crash point as the driver's report prints it, such as `after I/O call 12`.
        public var description: String {
            switch self {
            case .random: "random"
            case .afterIOCalls(let count): "after I/O call \(count)"
            case .atEnd: "at the end"
            }
        }
    }

    /// One iteration's settings; what is left nil is drawn from the seed.
    public struct Scenario: Sendable, CustomStringConvertible {
        /// Decides everything not fixed below, and every crash's effects.
        public var seed: UInt64
        /// The first crash's kind (nil: from the seed, a power loss three times in five).
        /// A power loss is always paired with `.fsync` durability, since `.batched` and
        /// `.none` do not promise to survive one.
        public var crashKind: SimulatedFileSystem.CrashKind?
        /// Where the first crash falls (``CrashPoint/random`` by default).
        public var crashPoint: CrashPoint = .random
        /// Concurrent appending clients (1...4).
        public var appenders: Int?
        /// Calls each client makes per round.
        public var callsPerAppender: Int?
        /// Workload rounds; between two, the store may be closed and reopened cleanly.
        public var rounds: Int?
        /// Whether a reader runs beside the appenders.
        public var withReader: Bool?
        /// Whether a clean close and reopen happens between rounds (nil: from the seed).
        public var reopensBetweenRounds: Bool?
        /// Append again after recovering, crash a second time, and check again.
        public var crashesTwice = true
        /// The second crash's kind (nil: from the seed; a power loss only under `.fsync`,
        /// the one mode that promises to survive it).
        public var secondCrashKind: SimulatedFileSystem.CrashKind?
        /// Event data sizes (nil: mostly small, some large enough to roll segments fast).
        public var dataBytes: ClosedRange<Int>?

        /// A scenario drawing everything from `seed`.
        public init(seed: UInt64) { self.seed = seed }

        /// A small single-client workload whose I/O calls come in the same order every
        /// time, for crashing after each call in turn.
        public static func sequential(seed: UInt64, kind: SimulatedFileSystem.CrashKind, crashPoint: CrashPoint) -> Scenario {
            var scenario = Scenario(seed: seed)
            scenario.crashKind = kind
            scenario.crashPoint = crashPoint
            scenario.appenders = 1
            scenario.callsPerAppender = 7
            scenario.rounds = 2
            // Every call about 7 KiB: the 64 KiB segment rolls in the second round.
            scenario.dataBytes = 6_000...8_000
            scenario.withReader = false
            scenario.reopensBetweenRounds = true
            scenario.crashesTwice = false
            return scenario
        }

        /// The seed and the fixed first crash, such as `seed 7, crash power loss at the end`.
        public var description: String {
            "seed \(seed), crash \(crashKind.map(\.description) ?? "of a random kind") \(crashPoint)"
        }
    }

    /// What one iteration did and found.
    public struct Outcome: Sendable, CustomStringConvertible {
        /// The scenario as drawn: clients, calls, durability, where the crashes fell.
        public var plan = ""
        /// Simulated crashes (power losses and process crashes).
        public var crashes = 0
        /// Acknowledged events checked after the last crash.
        public var acknowledgedEvents = 0
        /// Append calls made.
        public var calls = 0
        /// Counted I/O calls before the first crash (all of the first workload's if it crashed at its end).
        public var ioCallsBeforeFirstCrash = 0
        /// The first crash's kind.
        public var firstCrash: SimulatedFileSystem.CrashKind = .powerLoss
        /// Whether the first crash fell during the workload rather than after it.
        public var crashedDuringWorkload = false
        /// What was wrong; empty when the iteration passed.
        public var problems: [String] = []
        /// The calls the workload made and their outcomes, for a failure report.
        public var trace: [String] = []
        /// The file system's last counted calls and crashes (kept for a failed iteration only).
        public var callLog: [String] = []

        /// Whether every check held.
        public var passed: Bool { problems.isEmpty }

        /// A report for a person: the plan and each problem, then (if it failed) the
        /// last 60 calls and the last 250 I/O log lines.
        public var description: String {
            var lines = ["plan: \(plan)"]
            lines += problems.map { "  problem: \($0)" }
            if !problems.isEmpty { lines += ["  calls:"] + trace.suffix(60).map { "    \($0)" } }
            if !callLog.isEmpty { lines += ["  I/O (last counted calls, crashes and their decisions):"] + callLog.suffix(250).map { "    \($0)" } }
            return lines.joined(separator: "\n")
        }
    }

    /// A failed iteration of ``run(iterations:seed:firstIteration:adjust:progress:)``.
    public struct Failure: Sendable, CustomStringConvertible {
        /// The run's seed (not the iteration's: ``iterationSeed(_:iteration:)`` derives that).
        public var seed: UInt64
        /// The failed iteration's number within the run.
        public var iteration: Int
        /// What the failed iteration did and found.
        public var outcome: Outcome

        /// The failure's report, beginning with the command that replays it.
        public var description: String {
            "iteration \(iteration) of seed \(seed) failed (replay: eventlog-crashtest --seed \(seed) --iteration \(iteration))\n\(outcome)"
        }
    }

    /// What a run of many iterations did.
    public struct Summary: Sendable {
        /// Iterations run, the failed one included.
        public var iterations = 0
        /// Simulated crashes (power losses and process crashes) over all iterations.
        public var crashes = 0
        /// Iterations whose first crash was a power loss rather than a process crash.
        public var powerLosses = 0
        /// Acknowledged events checked after the last crash, over all iterations.
        public var acknowledgedEvents = 0
        /// Append calls made, over all iterations.
        public var calls = 0
        /// Iterations whose first crash fell during the workload rather than after it.
        public var crashesDuringWorkload = 0
        /// The first failure (the run stops at it).
        public var failure: Failure?
    }

    /// The seed of iteration `iteration` of a run seeded with `seed`.
    public static func iterationSeed(_ seed: UInt64, iteration: Int) -> UInt64 {
        SimulationRandom.derive(seed, UInt64(iteration))
    }

    /// Runs iterations `firstIteration ..< firstIteration + iterations` of `seed`,
    /// stopping at the first failure.
    /// - Parameters:
    ///   - iterations: How many iterations to run.
    ///   - seed: The run's seed; each iteration's scenario is drawn from
    ///     ``iterationSeed(_:iteration:)``, so one iteration replays on its own.
    ///   - firstIteration: The number of the first iteration to run.
    ///   - adjust: Fixes parts of each scenario before it runs (the rest stays drawn from its seed).
    ///   - progress: Called after each passed iteration with its number and the summary so far.
    /// - Returns: The summary; its ``Summary/failure`` is set if an iteration failed.
    /// - Complexity: O(*n*) in `iterations`, each iteration a whole simulated workload.
    public static func run(
        iterations: Int, seed: UInt64, firstIteration: Int = 0, adjust: @Sendable (inout Scenario) -> Void = { _ in },
        progress: (@Sendable (Int, Summary) -> Void)? = nil
    ) async -> Summary {
        var summary = Summary()
        for iteration in firstIteration..<(firstIteration + iterations) {
            var scenario = Scenario(seed: iterationSeed(seed, iteration: iteration))
            adjust(&scenario)
            let outcome = await run(scenario)
            summary.iterations += 1
            summary.crashes += outcome.crashes
            summary.acknowledgedEvents += outcome.acknowledgedEvents
            summary.calls += outcome.calls
            if outcome.crashedDuringWorkload { summary.crashesDuringWorkload += 1 }
            if outcome.firstCrash == .powerLoss { summary.powerLosses += 1 }
            if !outcome.passed {
                summary.failure = Failure(seed: seed, iteration: iteration, outcome: outcome)
                return summary
            }
            progress?(iteration, summary)
        }
        return summary
    }

    /// The `POSITION` nudge's delay in a simulated run: longer than any run, so the
    /// nudge comes only at close. Its `pwrite` falls due by the clock, and so would
    /// the count of I/O calls before a crash point: an iteration would not replay
    /// from its seed. (`POSITION` is advisory and recovery never reads it; the
    /// nudge's timing is tested on the real disk, `CallerWriteTests`.)
    static let positionNudgeDelay: Duration = .seconds(24 * 3600)

    /// The store's folder on the simulated disk, and the folder it is created in.
    static let directory = "/data/store"
    static let parentDirectory = "/data"

    /// Runs one iteration: workload, crash, recovery and checks, append, crash, checks.
    /// - Returns: What the iteration did; its ``Outcome/problems`` are empty if it passed.
    ///   Failures are reported there, never thrown.
    public static func run(_ scenario: Scenario) async -> Outcome {
        var random = SimulationRandom(seed: scenario.seed)
        let plan = Plan(scenario, &random)
        let fileSystem = SimulatedFileSystem(seed: random.next())
        // The store's parent exists; creating the store's folder durably is the engine's job.
        fileSystem.makeDurableDirectory(parentDirectory)
        let ledger = CrashTestLedger()
        var outcome = Outcome()
        outcome.plan = plan.description
        outcome.firstCrash = plan.firstCrash
        await exercise(plan, &random, fileSystem, ledger, &outcome)
        outcome.crashes = fileSystem.crashCount
        outcome.calls = ledger.calls.count
        outcome.acknowledgedEvents = ledger.acknowledgedEventCount
        outcome.problems = ledger.problems + fileSystem.misuses.map { "file system misuse: \($0)" }
        outcome.trace = ledger.calls.map { $0.summary() }
        if !outcome.problems.isEmpty { outcome.callLog = fileSystem.callLog }
        return outcome
    }

    private static func exercise(
        _ plan: Plan, _ random: inout SimulationRandom, _ fileSystem: SimulatedFileSystem, _ ledger: CrashTestLedger,
        _ outcome: inout Outcome
    ) async {

        // Phase 0: the workload, crashed at the planned call.
        if case .afterIOCalls(let count) = plan.crashPoint { fileSystem.scheduleCrash(plan.firstCrash, afterIOCalls: count) }
        var store = open(fileSystem, plan, ledger, label: "opening a new store", mayCrash: true, crashesBefore: 0)
        for round in 0..<plan.rounds {
            guard let live = store, fileSystem.crashCount == 0 else { break }
            await runRound(live, plan: plan, random: &random, ledger: ledger, phase: 0, fileSystem: fileSystem, crashesBefore: 0)
            if round < plan.rounds - 1, plan.reopensBetweenRounds, fileSystem.crashCount == 0 {
                do {
                    try await live.close()
                } catch {
                    if fileSystem.crashCount == 0 { ledger.report("a clean close failed: \(error)") }
                }
                store = open(fileSystem, plan, ledger, label: "a clean reopen", mayCrash: true, crashesBefore: 0)
                if let store, fileSystem.crashCount == 0 { ledger.check(store, label: "after a clean close and reopen") }
            }
        }
        let ioCalls = fileSystem.ioCallCount
        outcome.crashedDuringWorkload = !fileSystem.crash(plan.firstCrash, unlessCrashesExceed: 0)
        if outcome.crashedDuringWorkload, case .afterIOCalls(let count) = plan.crashPoint {
            outcome.ioCallsBeforeFirstCrash = count
        } else {
            outcome.ioCallsBeforeFirstCrash = ioCalls
        }
        // The dead process's store: let its writer thread finish (its calls all fail).
        try? await store?.close()
        store = nil

        // Phase 1: recover and check; append again (resending every call whose fate
        // was open), crash again, recover and check.
        guard let recovered = open(fileSystem, plan, ledger, label: "recovery after the \(plan.firstCrash)", mayCrash: false, crashesBefore: 1)
        else { return }
        ledger.check(recovered, label: "after the \(plan.firstCrash)")
        var final = recovered
        if plan.crashesTwice {
            fileSystem.scheduleCrash(plan.secondCrash, afterIOCalls: plan.secondCrashAfterIOCalls)
            var client = CrashTestClient(seed: random.next(), ledger: ledger, phase: 1, tag: ledger.uniqueTag())
            let fresh = StreamAppend(stream: StreamName(unchecked: "after-crash"), expectedVersion: .noStream, events: client.events())
            await CrashTestRound.append(
                [fresh], expectation: .appended, to: recovered, client: client, fileSystem: fileSystem, crashesBefore: 1)
            for call in ledger.calls where call.phase == 0 && !call.outcome.isAcknowledged && !call.isResend {
                if case .invalid = call.expectation { continue }
                if fileSystem.crashCount > 1 { break }
                await CrashTestRound.append(
                    call.parts, expectation: .resend(of: call.number), to: recovered, client: client, fileSystem: fileSystem,
                    crashesBefore: 1)
            }
            await runRound(recovered, plan: plan, random: &random, ledger: ledger, phase: 1, fileSystem: fileSystem, crashesBefore: 1)
            fileSystem.crash(plan.secondCrash, unlessCrashesExceed: 1)
            try? await recovered.close()
            guard let again = open(fileSystem, plan, ledger, label: "recovery after the second crash (\(plan.secondCrash))", mayCrash: false, crashesBefore: 2)
            else { return }
            ledger.check(again, label: "after the second crash (\(plan.secondCrash))")
            final = again
        }

        // The recovered store takes appends, closes cleanly, verifies healthy, and
        // reopens to the same log.
        var client = CrashTestClient(seed: random.next(), ledger: ledger, phase: 2, tag: ledger.uniqueTag())
        let crashes = fileSystem.crashCount
        let last = StreamAppend(stream: StreamName(unchecked: "final"), expectedVersion: .any, events: client.events())
        await CrashTestRound.append([last], expectation: .appended, to: final, client: client, fileSystem: fileSystem, crashesBefore: crashes)
        do {
            try await final.close()
        } catch {
            ledger.report("closing the recovered store failed: \(error)")
        }
        do {
            let report = try FileEventStore.verify(directory: directory, simulatedFileSystem: fileSystem)
            if !report.isHealthy { ledger.report("verify after a clean close: \(report.problems.map(\.description))") }
            if report.tornTail != nil { ledger.report("verify after a clean close found a torn tail: \(report.tornTail!)") }
        } catch {
            ledger.report("verify failed: \(error)")
        }
        if let reopened = open(fileSystem, plan, ledger, label: "the final reopen", mayCrash: false, crashesBefore: crashes) {
            ledger.check(reopened, label: "after the final clean close")
            try? await reopened.close()
        }
    }

    /// Opens the store; reports a failure unless a crash explains it.
    private static func open(
        _ fileSystem: SimulatedFileSystem, _ plan: Plan, _ ledger: CrashTestLedger, label: String, mayCrash: Bool,
        crashesBefore: Int
    ) -> FileEventStore? {
        do {
            return try FileEventStore.open(directory: directory, options: plan.options, simulatedFileSystem: fileSystem)
        } catch {
            if !(mayCrash && fileSystem.crashCount > crashesBefore) { ledger.report("\(label) failed: \(error)") }
            return nil
        }
    }

    /// One round: the appenders (and maybe a reader) at once.
    private static func runRound(
        _ store: FileEventStore, plan: Plan, random: inout SimulationRandom, ledger: CrashTestLedger, phase: Int,
        fileSystem: SimulatedFileSystem, crashesBefore: Int
    ) async {
        let clients = (0..<plan.appenders).map { index in
            var client = CrashTestClient(seed: random.next(), ledger: ledger, phase: phase, tag: ledger.uniqueTag())
            client.dataBytes = plan.dataBytes
            return client
        }
        let readerSeed = random.next()
        await withTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask {
                    await CrashTestRound.append(
                        store, client: client, calls: plan.callsPerAppender, fileSystem: fileSystem, crashesBefore: crashesBefore)
                }
            }
            if plan.withReader {
                group.addTask {
                    await CrashTestRound.read(
                        store, seed: readerSeed, reads: plan.callsPerAppender, ledger: ledger, fileSystem: fileSystem,
                        crashesBefore: crashesBefore)
                }
            }
        }
    }

    /// A scenario with everything drawn.
    struct Plan: CustomStringConvertible {
        let appenders: Int
        let callsPerAppender: Int
        let rounds: Int
        let withReader: Bool
        let reopensBetweenRounds: Bool
        let crashesTwice: Bool
        let durability: Durability
        let preallocate: Bool
        let streamCacheCapacity: Int
        let firstCrash: SimulatedFileSystem.CrashKind
        let crashPoint: CrashPoint
        let secondCrash: SimulatedFileSystem.CrashKind
        let secondCrashAfterIOCalls: Int
        let dataBytes: ClosedRange<Int>?

        init(_ scenario: Scenario, _ random: inout SimulationRandom) {
            dataBytes = scenario.dataBytes
            appenders = scenario.appenders ?? Int.random(in: 1...4, using: &random)
            callsPerAppender = scenario.callsPerAppender ?? Int.random(in: 2...10, using: &random)
            rounds = scenario.rounds ?? Int.random(in: 1...3, using: &random)
            withReader = scenario.withReader ?? random.chance(1, in: 3)
            reopensBetweenRounds = scenario.reopensBetweenRounds ?? random.chance(1, in: 2)
            crashesTwice = scenario.crashesTwice
            // A power loss may take what .batched and .none acknowledged without a sync
            // (as documented), so those modes meet process crashes only.
            let kind = scenario.crashKind ?? (random.chance(3, in: 5) ? .powerLoss : .processCrash)
            switch (kind, Int.random(in: 0..<6, using: &random)) {
            case (.processCrash, 0): durability = .none
            case (.processCrash, 1): durability = .batched(maxDelay: .milliseconds(1))
            default: durability = .fsync
            }
            preallocate = random.chance(4, in: 5)
            streamCacheCapacity = random.chance(1, in: 4) ? 2 : 100_000
            firstCrash = kind
            // About two counted calls per append (write + fdatasync) plus opening and rolling.
            let estimate = 2 * appenders * callsPerAppender * rounds + 20
            crashPoint =
                switch scenario.crashPoint {
                case .random: random.chance(1, in: 10) ? .atEnd : .afterIOCalls(Int.random(in: 1...estimate, using: &random))
                default: scenario.crashPoint
                }
            let second: SimulatedFileSystem.CrashKind = random.chance(1, in: 2) ? .powerLoss : .processCrash
            secondCrash = durability == .fsync ? scenario.secondCrashKind ?? second : .processCrash
            secondCrashAfterIOCalls = Int.random(in: 1...(2 * appenders * callsPerAppender + 30), using: &random)
        }

        var options: StoreOptions {
            var options = StoreOptions(durability: durability)
            options.segmentSizeBytes = StoreOptions.minimumSegmentSizeBytes
            options.preallocateSegments = preallocate
            options.streamCacheCapacity = streamCacheCapacity
            options.positionNudgeDelay = CrashTest.positionNudgeDelay
            return options
        }

        var description: String {
            "\(appenders) appender(s) × \(callsPerAppender) calls × \(rounds) round(s)\(withReader ? " + reader" : "")"
                + "\(reopensBetweenRounds && rounds > 1 ? ", clean reopens" : ""), durability \(durability), "
                + "\(preallocate ? "preallocated" : "growing") 64 KiB segments, stream cache \(streamCacheCapacity); "
                + "\(firstCrash) \(crashPoint)"
                + (crashesTwice ? ", then \(secondCrash) after I/O call \(secondCrashAfterIOCalls) of the recovered store" : "")
        }
    }
}
