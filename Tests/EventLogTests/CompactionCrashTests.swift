// A crash after every I/O call of a compaction, by power loss and by process
// crash, on the simulated disk: the store reopens without repair, every read
// answers as before the compaction (no reachable event lost, positions
// unchanged), it verifies healthy, takes appends, and compacts again.
import EventSourcing
import Foundation
import Testing

@_spi(Testing) @testable import EventLog

@Suite struct CompactionCrashTests {
    static let directory = "/data/store"

    /// Six streams of 40 events on 64 KiB segments (several sealed segments), then
    /// a hard delete, a truncation and a soft delete. Returns the open store.
    static func prepare(_ fileSystem: SimulatedFileSystem) async throws -> (FileEventStore, [StreamName]) {
        fileSystem.makeDurableDirectory("/data")
        let store = try FileEventStore.open(directory: directory, options: testOptions(), simulatedFileSystem: fileSystem)
        let names = try (0..<6).map { try StreamName(($0 % 3 == 0 ? "keep" : "drop") + "-\($0)") }
        for round in 0..<40 {
            for name in names { _ = try await store.append([event("E", round, bytes: 300)], to: name, expectedVersion: .any) }
        }
        try await store.deleteStream(names[1], expectedVersion: .any, hard: true)
        try await store.truncateStream(names[2], before: 25)
        try await store.deleteStream(names[4], expectedVersion: .any, hard: false)
        return (store, names)
    }

    @Test(arguments: SimulatedFileSystem.CrashKind.allCases)
    func aCrashAfterAnyIOCallOfACompactionLosesNothingReachable(kind: SimulatedFileSystem.CrashKind) async throws {
        // The whole compaction once, to count its I/O calls and learn the answers.
        let reference = SimulatedFileSystem(seed: 1)
        let (store, names) = try await Self.prepare(reference)
        let callsBefore = reference.ioCallCount
        let report = try await store.compact()
        let compactionCalls = reference.ioCallCount - callsBefore
        #expect(report.segmentsRewritten >= 2, "\(report)")
        #expect(compactionCalls >= 30, "\(compactionCalls) I/O calls")
        try await store.close()

        for crashAfter in 1...compactionCalls {
            let fileSystem = SimulatedFileSystem(seed: UInt64(crashAfter))
            let (store, _) = try await Self.prepare(fileSystem)
            let expected = try StoreReadings(store, streams: names)
            fileSystem.scheduleCrash(kind, afterIOCalls: crashAfter)
            _ = try? await store.compact()
            fileSystem.crash(kind, unlessCrashesExceed: 0)
            try? await store.close()
            let context = "\(kind) after I/O call \(crashAfter) of \(compactionCalls)"

            let recovered = try FileEventStore.open(directory: Self.directory, options: testOptions(), simulatedFileSystem: fileSystem)
            #expect(try StoreReadings(recovered, streams: names) == expected, "\(context)")
            // The soft-deleted stream continues at its next version.
            let next = try await recovered.append([event()], to: names[4], expectedVersion: .exact(40))
            #expect(next.nextExpectedVersion == 41, "\(context)")
            let again = try await recovered.compact()
            #expect(again.eventsRemoved <= report.eventsRemoved + 1, "\(context)")
            try await recovered.close()
            let verified = try FileEventStore.verify(directory: Self.directory, simulatedFileSystem: fileSystem)
            #expect(verified.isHealthy, "\(context): \(verified.problems)")
            let reopened = try FileEventStore.open(directory: Self.directory, options: testOptions(), simulatedFileSystem: fileSystem)
            #expect(try reopened.readAll().dropLast() == expected.all[...], "\(context)")
            // A stale index file the crash left (renamed segment, old index) was
            // rebuilt by the first session's reads and written back at its close:
            // every sealed segment now reads through a sound index file.
            let heldInMemory = reopened.shared.state.withLock { $0.sealed.filter { $0.index.memoryIndex != nil }.count }
            #expect(heldInMemory == 0, "\(context)")
            try await reopened.close()
            #expect(fileSystem.misuses.isEmpty, "\(context): \(fileSystem.misuses)")
            if !fileSystem.misuses.isEmpty { return }
        }
    }

    /// An I/O error at any call of a compaction fails the compaction and nothing
    /// else: every read answers as before, no temporary file is left, appends go on,
    /// and the next compaction finishes the work.
    @Test(arguments: [SimulatedFileSystem.Operation.write, .sync, .rename, .open])
    func anIOErrorDuringACompactionFailsItAndChangesNoAnswer(operation: SimulatedFileSystem.Operation) async throws {
        let fileSystem = SimulatedFileSystem(seed: 3)
        let (store, names) = try await Self.prepare(fileSystem)
        let expected = try StoreReadings(store, streams: names)
        try await store.compact()  // the first compaction seals and compacts: later ones compact new deletions only
        try await store.deleteStream(names[5], expectedVersion: .any, hard: true)
        let expectedAfterDelete = try StoreReadings(store, streams: names)
        #expect(expectedAfterDelete != expected)
        fileSystem.inject(.init(operation, errno: SimulatedFileSystem.ioError, persistent: true, pathContains: "seg"))
        await #expect(throws: EventStoreError.self) { try await store.compact() }
        fileSystem.removeFaults()
        #expect(try StoreReadings(store, streams: names) == expectedAfterDelete, "\(operation)")
        #expect(fileSystem.names(in: Self.directory)?.contains { $0.hasSuffix(".tmp") } == false, "\(operation)")
        let report = try await store.compact()
        #expect(report.eventsRemoved > 0, "\(operation): \(report)")
        #expect(try StoreReadings(store, streams: names) == expectedAfterDelete, "\(operation)")
        _ = try await store.append([event()], to: names[0], expectedVersion: .exact(40))
        try await store.close()
        #expect(try FileEventStore.verify(directory: Self.directory, simulatedFileSystem: fileSystem).isHealthy)
    }

    /// Random workloads (streams, deletions, truncations, count limits, earlier
    /// compactions), each compaction crashed at a random I/O call.
    @Test func aHundredRandomCompactionsCrashedAtRandomCallsLoseNothingReachable() async {
        let summary = await CompactionCrashTest.run(iterations: 100, seed: 2_026)
        #expect(summary.failure == nil, "iteration \(summary.failure?.iteration ?? -1): \(summary.failure?.problem ?? "")")
        #expect(summary.iterations == 100)
        #expect(summary.crashesDuringCompaction > 50, "most crashes land inside the compaction")
        #expect(summary.powerLosses > 25 && summary.powerLosses < 75)
        #expect(summary.eventsRemoved > 500, "the workloads give compaction work")
    }
}

@Suite struct BulkDeleteTests {
    @Test func deletingManyStreamsAtOnceRewritesTheRulesOnceAndActsLikeDeletingEach() async throws {
        let fileSystem = SimulatedFileSystem(seed: 9)
        fileSystem.makeDurableDirectory("/data")
        let store = try FileEventStore.open(directory: "/data/store", options: testOptions(), simulatedFileSystem: fileSystem)
        let names = try (0..<60).map { try StreamName("bulk-\($0)") }
        for name in names { _ = try await store.append([event(), event()], to: name, expectedVersion: .noStream) }
        try await store.saveSnapshot(Snapshot(stream: names[0], version: 2, state: Data("s".utf8)))
        try await store.deleteStream(names[59], expectedVersion: .any, hard: true)
        let renamesBefore = fileSystem.callCount(.rename)
        let deleted = try await store.deleteStreams(Array(names[0..<30]) + [names[59]], hard: true)
        #expect(deleted == 30, "the one already hard-deleted is skipped")
        #expect(fileSystem.callCount(.rename) - renamesBefore == 1, "one atomic rewrite of STREAMS")
        #expect(try await store.deleteStreams(Array(names[30..<59]), hard: false) == 29)
        #expect(try store.readAll().isEmpty)
        #expect(try await store.loadSnapshot(of: names[0]) == nil)
        await #expect(throws: EventStoreError.streamDeleted(stream: names[1])) {
            try await store.append([event()], to: names[1], expectedVersion: .any)
        }
        #expect(try await store.append([event()], to: names[30], expectedVersion: .exact(2)).nextExpectedVersion == 3)
        #expect(try store.version(of: names[1]) == 2)
        let report = try await store.compact()
        #expect(report.eventsRemoved == 31 * 2 + 28 + 2, "hard: both events; soft: all but the last (bulk-30 got a third after its delete)")
        try await store.close()
    }
}
