// The checkers must fail on stores with known bugs; otherwise a green
// conformance run would prove nothing.
import EventSourcing
import EventStoreConformance
import Testing

@Suite struct BrokenStoreDetectionTests {
    @Test func suiteFailsAStoreThatIgnoresExpectedVersions() async throws {
        let failures = try await ConformanceSuite.failures(of: { FaultyEventStore(fault: .ignoresExpectedVersions) }, timeLimit: .seconds(5))
        let failed = Set(failures.map(\.rule))
        let mustFail = [
            "noStream accepts only a stream without events",
            "streamExists accepts only a stream with events",
            "exact accepts only the current version, and the error carries it",
            "a rejected append writes nothing",
            "a multi-stream append with a failing part writes nothing anywhere",
            "deleting checks the expected version and deletes nothing on a mismatch",
        ]
        for rule in mustFail { #expect(failed.contains(rule), "the suite missed the bug in '\(rule)'") }
        // Rules the bug does not touch still pass: the failures are specific.
        #expect(!failed.contains("an event id twice in one append is refused with duplicateEventID"))
        #expect(!failed.contains("readAll reads forward and backward from a position, up to a count"))
        let exact = try #require(failures.first { $0.rule == "exact accepts only the current version, and the error carries it" })
        #expect(exact.expected.contains("wrongExpectedVersion"))
    }

    @Test func suiteFailsAStoreWhoseSubscriptionsSkipAnEvent() async throws {
        let makeStore: EventStoreFactory = { FaultyEventStore(fault: .subscriptionsSkipEvery(7)) }
        let concurrent = try #require(ConformanceSuite.rule(named: "subscriptions deliver history then live events with no gap or duplicate while 8 writers append"))
        let failure = await #expect(throws: ConformanceFailure.self) { try await concurrent.check(makeStore, timeLimit: .seconds(5)) }
        // Subscribers start at different positions, so the first one to fail may meet
        // any skipped event: every seventh position.
        let reported = failure?.expected.firstMatch(of: /deliver position (\d+)/).flatMap { Int($0.1) }
        #expect(reported.map { $0 % 7 == 0 } == true, "the gap is reported where it is: \(String(describing: failure))")
        let stream = try #require(ConformanceSuite.rule(named: "a stream subscription delivers the stream's events from a version, then live ones"))
        await #expect(throws: ConformanceFailure.self) { try await stream.check(makeStore, timeLimit: .seconds(5)) }
        // Reads are untouched by this bug, so read rules still pass.
        let reads = try #require(ConformanceSuite.rule(named: "readStream reads forward and backward from a version, up to a count"))
        try await reads.check(makeStore)
    }

    @Test func differentialRunnerReportsTheFirstDivergenceWithItsSeed() async throws {
        let runner = DifferentialRunner(seed: 7, operationCount: 3_000)
        let divergence = await #expect(throws: DifferentialDivergence.self) {
            try await runner.run(reference: { InMemoryEventStore() }, candidate: { FaultyEventStore(fault: .ignoresExpectedVersions) })
        }
        let found = try #require(divergence)
        #expect(found.seed == 7)
        #expect(found.reference.contains("wrongExpectedVersion") || found.reference.contains("idempotencyConflict"))
        #expect(found.description.contains("DifferentialRunner(seed: 7, operationCount: \(found.operationIndex + 1))"))
        // Replaying up to the divergence reproduces it at the same operation.
        let replay = DifferentialRunner(seed: 7, operationCount: found.operationIndex + 1)
        let again = await #expect(throws: DifferentialDivergence.self) {
            try await replay.run(reference: { InMemoryEventStore() }, candidate: { FaultyEventStore(fault: .ignoresExpectedVersions) })
        }
        #expect(again?.operationIndex == found.operationIndex)
    }
}
