// Two correct stores must agree on every answer over thousands of random
// operations; the run must also reach every kind of operation and answer, or
// agreement would mean little.
import EventSourcing
import EventStoreConformance
import Testing

@Suite struct DifferentialTests {
    @Test(arguments: [1, 2, 3] as [UInt64])
    func twoInMemoryStoresAgreeOnThousandsOfOperations(seed: UInt64) async throws {
        let report = try await DifferentialRunner(seed: seed, operationCount: 3_000)
            .run(reference: { InMemoryEventStore() }, candidate: { InMemoryEventStore(subscriptionBatchSize: 3) })
        #expect(report.operationCount == 3_001)
        #expect(report.eventsWritten > 1_000)
        for kind in ["append", "appendMultiple", "readStream", "readAll", "streamVersion", "lastPosition", "firstPosition",
                     "softDelete", "hardDelete", "truncateStream", "saveSnapshot", "loadSnapshot", "readEverything"] {
            #expect(report.operationsByKind[kind, default: 0] > 0, "no \(kind) operation in \(report)")
        }
        for answer in ["appended", "appendedMultiple", "readEvents", "readNothing", "wrongExpectedVersion", "idempotencyConflict",
                       "streamDeleted", "emptyAppend", "duplicateEventID", "invalidEventType", "invalidArgument"] {
            #expect(report.outcomesByKind[answer, default: 0] > 0, "no \(answer) answer in \(report)")
        }
    }

    @Test func theSameSeedRunsTheSameOperations() async throws {
        let runner = DifferentialRunner(seed: 99, operationCount: 500)
        let first = try await runner.run(reference: { InMemoryEventStore() }, candidate: { InMemoryEventStore() })
        let second = try await runner.run(reference: { InMemoryEventStore() }, candidate: { InMemoryEventStore() })
        #expect(first.operationsByKind == second.operationsByKind)
        #expect(first.outcomesByKind == second.outcomesByKind)
        #expect(first.eventsWritten == second.eventsWritten)
    }
}
