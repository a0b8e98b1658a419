import EventLog
import EventSourcing
import EventStoreConformance
import Foundation
import Testing

/// A store in a fresh temporary folder, removed when the process ends (the suite's
/// factory cannot know when a rule is done with it).
func temporaryFileStore(segmentSizeBytes: Int = 64 * 1024) throws -> FileEventStore {
    var options = StoreOptions()
    options.segmentSizeBytes = segmentSizeBytes
    return try FileEventStore.open(directory: TemporaryDirectory.scheduledForRemoval().path, options: options)
}

/// The protocol's rules, checked against the file store: the same suite the
/// in-memory store passes (Tests/EventSourcingTests/ConformanceTests.swift).
@Suite struct FileStoreConformanceTests {
    @Test(arguments: ConformanceSuite.rules.map(\.name))
    func fileStoreKeepsRule(_ name: String) async throws {
        let rule = try #require(ConformanceSuite.rule(named: name))
        // A rule's limit only catches a hang: this suite runs beside the crash tests
        // on two cores, where the default 10 s was seen to run out.
        try await rule.check({ try temporaryFileStore() }, timeLimit: .seconds(60))
    }

    /// The same random operations on the file store and the in-memory store must
    /// give the same answers (small segments: rolls and index files included).
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func fileStoreAnswersLikeTheInMemoryStore(seed: UInt64) async throws {
        let report = try await DifferentialRunner(seed: seed, operationCount: 3_000).run(
            reference: { InMemoryEventStore() }, candidate: { try temporaryFileStore(segmentSizeBytes: 64 * 1024) })
        #expect(report.operationCount >= 3_000)
    }

    /// Compaction every 250 operations (the in-memory store's model of it on the
    /// reference) changes no answer: reads, versions and positions stay the same.
    @Test(arguments: [5, 6, 7, 8] as [UInt64])
    func compactionChangesNoAnswer(seed: UInt64) async throws {
        let report = try await DifferentialRunner(seed: seed, operationCount: 3_000).run(
            reference: { InMemoryEventStore() }, candidate: { try temporaryFileStore(segmentSizeBytes: 64 * 1024) },
            maintenance: { store in
                if let store = store as? FileEventStore {
                    try await store.compact()
                } else {
                    (store as! InMemoryEventStore).compact()
                }
            })
        #expect(report.maintenanceRuns == 12)
        #expect(report.operationsByKind["hardDelete", default: 0] > 0)
        #expect(report.operationsByKind["truncateStream", default: 0] > 0)
        #expect(report.operationsByKind["setStreamMetadata", default: 0] > 0)
    }
}
