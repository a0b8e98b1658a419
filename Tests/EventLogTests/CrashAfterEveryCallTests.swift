// Crash after the 1st, 2nd, ... k-th I/O call of a small workload, by power loss
// and by process crash, and check the recovered store against the workload's
// model; then a few hundred iterations of the random crash-test driver.
import EventSourcing
import Testing

@_spi(Testing) @testable import EventLog

@Suite struct CrashAfterEveryCallTests {
    /// Three small workloads (the seed also picks durability and pre-allocation).
    static let seeds: [UInt64] = [20_251_123, 7, 99]

    @Test(arguments: SimulatedFileSystem.CrashKind.allCases)
    func aCrashAfterAnyIOCallLosesNoAcknowledgedEventAndShowsNoPartialCall(kind: SimulatedFileSystem.CrashKind) async {
        var crashPoints = 0
        for seed in Self.seeds {
            let whole = await CrashTest.run(.sequential(seed: seed, kind: kind, crashPoint: .atEnd))
            #expect(whole.passed, "\(whole)")
            let calls = whole.ioCallsBeforeFirstCrash
            #expect(calls >= 40, "the workload creates a store, rolls a segment and reopens: \(calls) calls")
            for count in 1...calls {
                let outcome = await CrashTest.run(.sequential(seed: seed, kind: kind, crashPoint: .afterIOCalls(count)))
                #expect(outcome.passed, "seed \(seed), \(kind) after I/O call \(count) of \(calls):\n\(outcome)")
                if !outcome.passed { return }
                crashPoints += 1
            }
        }
        #expect(crashPoints >= 120)
    }
}

@Suite struct CrashTestDriverTests {
    @Test func threeHundredRandomCrashIterationsLoseNoAcknowledgedEvent() async {
        let summary = await CrashTest.run(iterations: 300, seed: 2_025)
        #expect(summary.failure == nil, "\(summary.failure.map(String.init(describing:)) ?? "")")
        #expect(summary.crashes == 600, "two crashes per iteration")
        #expect(summary.crashesDuringWorkload > 100 && summary.powerLosses > 100, "crashes land mid-workload, of both kinds")
    }

    @Test func anIterationIsReproducibleFromItsSeedWhenSequential() async {
        let scenario = CrashTest.Scenario.sequential(seed: 5, kind: .powerLoss, crashPoint: .afterIOCalls(30))
        let first = await CrashTest.run(scenario)
        let second = await CrashTest.run(scenario)
        #expect(first.passed && second.passed)
        #expect(first.trace == second.trace, "the same calls with the same outcomes")
    }
}
