import EventSourcing
import Foundation
import Synchronization
import Testing

@testable import EventLog

/// The real file system, with a gate that holds the writer inside `fdatasync`
/// (or a segment `pwrite`) until the test opens it: makes group commit observable
/// without timing. Segments are written with `pwrite` (no mapping, so a write can
/// be held); `POSITION` is mapped as on the real file system, and its `pwrite`s
/// (the writer thread's) are counted.
final class GatedFileSystem: FileSystem {
    private let real = PosixFileSystem()
    private let gate = DispatchSemaphore(value: 0)
    private struct Hold {
        var isArmed = false
        var holdsWrite = false
        var hasEntered = false
    }
    private let hold = Mutex(Hold())
    private let positionWriteCount = Atomic<Int>(0)
    private let bytesReadCount = Atomic<Int>(0)

    /// Bytes read through this file system so far.
    var bytesRead: Int { bytesReadCount.load(ordering: .relaxed) }

    /// Holds the next `fdatasync`, by whichever thread, until ``open()``. Arm before
    /// starting the call whose sync is to be held.
    func armHold() { hold.withLock { $0 = Hold(isArmed: true) } }

    /// Holds the next `pwrite` to a segment file instead.
    func armWriteHold() { hold.withLock { $0 = Hold(isArmed: true, holdsWrite: true) } }

    /// `pwrite`s of `POSITION` so far.
    var positionWrites: Int { positionWriteCount.load(ordering: .relaxed) }

    private func passGate(forWrite: Bool) {
        let held = hold.withLock { hold in
            guard hold.isArmed, hold.holdsWrite == forWrite else { return false }
            hold.isArmed = false
            hold.hasEntered = true
            return true
        }
        if held { gate.wait() }
    }

    /// Returns once a thread is held inside the armed `fdatasync`; throws if the
    /// test is cancelled first (its time limit).
    func waitUntilHeld() async throws {
        while !hold.withLock({ $0.hasEntered }) {
            try Task.checkCancellation()
            await Task.yield()
        }
    }

    func open() { gate.signal() }

    func syncData(_ file: OpenFile) throws {
        passGate(forWrite: false)
        try real.syncData(file)
    }

    func mapForWriting(_ file: OpenFile, lengthBytes: UInt64) throws -> (any WritableMapping)? {
        file.path.hasSuffix(PositionFileFormat.fileName) ? try real.mapForWriting(file, lengthBytes: lengthBytes) : nil
    }

    func open(_ path: String, mode: OpenMode) throws -> OpenFile { try real.open(path, mode: mode) }
    func close(_ file: OpenFile) throws { try real.close(file) }
    func read(_ file: OpenFile, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        let count = try real.read(file, into: buffer, at: offset)
        bytesReadCount.add(count, ordering: .relaxed)
        return count
    }
    func write(_ file: OpenFile, _ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        if file.path.hasSuffix(PositionFileFormat.fileName) { positionWriteCount.add(1, ordering: .relaxed) }
        if file.path.hasSuffix(SegmentFileName.suffix) { passGate(forWrite: true) }
        try real.write(file, bytes, at: offset)
    }
    func sync(_ file: OpenFile) throws { try real.sync(file) }
    func syncDirectory(_ path: String) throws { try real.syncDirectory(path) }
    func truncate(_ file: OpenFile, toSizeBytes size: UInt64) throws { try real.truncate(file, toSizeBytes: size) }
    func allocate(_ file: OpenFile, sizeBytes size: UInt64) throws { try real.allocate(file, sizeBytes: size) }
    func size(_ file: OpenFile) throws -> UInt64 { try real.size(file) }
    func rename(_ from: String, to: String) throws { try real.rename(from, to: to) }
    func remove(_ path: String) throws { try real.remove(path) }
    func makeDirectory(_ path: String) throws { try real.makeDirectory(path) }
    func listDirectory(_ path: String) throws -> [String] { try real.listDirectory(path) }
    func exists(_ path: String) -> Bool { real.exists(path) }
    func tryLockExclusive(_ file: OpenFile) throws -> Bool { try real.tryLockExclusive(file) }
}

@Suite struct GroupCommitTests {
    @Test func appendsQueuedDuringASyncShareTheNextWriteAndSync() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let fileSystem = GatedFileSystem()
        let store = try FileEventStore.open(directory: folder.path, options: testOptions(), fileSystem: fileSystem)
        let writer = try #require(store.writer)
        let appenders = 64

        fileSystem.armHold()
        async let first = store.append([event()], to: "g-0")
        try await fileSystem.waitUntilHeld()
        let results = try await withThrowingTaskGroup(of: AppendResult.self) { group in
            for index in 1..<appenders {
                group.addTask { try await store.append([event()], to: StreamName("g-\(index)")) }
            }
            // The writer is parked in the first sync; wait until every other call is queued.
            while writer.pendingCount < appenders - 1 { await Task.yield() }
            #expect(store.lastPosition == 0, "nothing is visible before its sync")
            fileSystem.open()
            return try await group.reduce(into: [AppendResult]()) { $0.append($1) }
        }
        _ = try await first
        let statistics = store.statistics
        #expect(statistics.appendsAcknowledged == UInt64(appenders))
        #expect(statistics.syncs == 2, "one sync for the first call, one for the 63 queued behind it")
        #expect(statistics.batches == 2)
        #expect(Set(results.map(\.firstPosition)).count == appenders - 1)
        try await store.close()

        let reopened = try FileEventStore.open(directory: folder.path, options: testOptions())
        #expect(try reopened.readAll().count == appenders, "every acknowledged event is on disk")
        try await reopened.close()
    }

    /// A batch written while calls queue behind it has its appenders resumed by the
    /// acknowledging thread, so the writer thread goes on with the queued calls at
    /// once; a batch with nothing (or too little) behind it is resumed by the writer.
    @Test func aBatchWithCallsQueuedBehindItIsAcknowledgedByItsOwnThread() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let fileSystem = GatedFileSystem()
        let store = try FileEventStore.open(directory: folder.path, options: testOptions(), fileSystem: fileSystem)
        let writer = try #require(store.writer)
        let queuedCalls = 8

        fileSystem.armHold()
        async let first = store.append([event()], to: "ack-0")
        try await fileSystem.waitUntilHeld()
        let results = try await withThrowingTaskGroup(of: AppendResult.self) { group in
            for index in 1...queuedCalls {
                group.addTask { try await store.append([event()], to: StreamName("ack-\(index)")) }
            }
            while writer.pendingCount < queuedCalls { await Task.yield() }
            fileSystem.open()
            return try await group.reduce(into: [AppendResult]()) { $0.append($1) }
        }
        #expect(try await first.firstPosition == 1)
        #expect(Set(results.map(\.firstPosition.rawValue)) == Set(2...UInt64(queuedCalls + 1)))
        let statistics = store.statistics
        #expect(statistics.batches == 2)
        #expect(statistics.batchesHandedToAcknowledger == 1, "the first batch, 8 calls queued behind it; not the second, none behind")

        // One appender at a time: nothing ever queues behind its call.
        for index in 0..<20 { try await store.append([event("E", index)], to: "lone") }
        #expect(store.statistics.batchesHandedToAcknowledger == 1)
        try await store.close()
    }

    /// The writer recognises a retry of a call accepted earlier in the same batch
    /// (nothing of it is in the index yet), for exact and `.any` expected versions,
    /// and a call repeating only some of its ids as a conflict.
    @Test func retriesOfACallInTheSameBatchAreRecognised() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let fileSystem = GatedFileSystem()
        let store = try FileEventStore.open(directory: folder.path, options: testOptions(), fileSystem: fileSystem)
        let writer = try #require(store.writer)
        let original = [event("A", 1), event("A", 2)]
        let partial = [original[0], event("A", 3)]

        fileSystem.armHold()
        async let first = store.append([event()], to: "other")
        try await fileSystem.waitUntilHeld()
        // One at a time, so the queue (and so the batch) keeps this order.
        async let written = store.append(original, to: "r", expectedVersion: .noStream)
        while writer.pendingCount < 1 { await Task.yield() }
        async let retried = store.append(original, to: "r", expectedVersion: .noStream)
        while writer.pendingCount < 2 { await Task.yield() }
        async let retriedAny = store.append(original, to: "r", expectedVersion: .any)
        while writer.pendingCount < 3 { await Task.yield() }
        async let conflicting = store.append(partial, to: "r", expectedVersion: .noStream)
        while writer.pendingCount < 4 { await Task.yield() }
        fileSystem.open()

        _ = try await first
        let result = try await written
        #expect(try await retried == result)
        #expect(try await retriedAny == result)
        do {
            let unexpected = try await conflicting
            Issue.record("a call repeating some of the ids was written: \(unexpected)")
        } catch let error as EventStoreError {
            guard case .idempotencyConflict(stream: "r", reason: _) = error else {
                Issue.record("expected an idempotency conflict, got \(error)")
                return
            }
        }
        #expect(store.statistics.batches == 2, "the four calls on r were one batch")
        #expect(try store.readStream("r").map(\.id) == original.map(\.id))
        try await store.close()
    }

    @Test func manyConcurrentAppendersNeedFewerSyncsThanAppends() async throws {
        try await withStore { store, folder in
            let appenders = 32
            let perAppender = 25
            var acknowledged: [UUID] = []
            try await withThrowingTaskGroup(of: [UUID].self) { group in
                for index in 0..<appenders {
                    group.addTask {
                        var ids: [UUID] = []
                        for n in 0..<perAppender {
                            let e = event("E", n)
                            try await store.append([e], to: StreamName("c-\(index)"))
                            ids.append(e.id)
                        }
                        return ids
                    }
                }
                for try await ids in group { acknowledged += ids }
            }
            #expect(store.statistics.syncs < store.statistics.appendsAcknowledged)
            #expect(Set(try store.readAll().map(\.id)) == Set(acknowledged))
            for index in 0..<appenders {
                #expect(try store.readStream(StreamName("c-\(index)")).map(\.version.rawValue) == Array(1...UInt64(perAppender)))
            }
        }
    }
}

/// A task's call that finds the writer thread asleep, nothing queued, and the same
/// task's call before it, is written by its caller, on the caller's thread
/// (`LogWriter.appendOnCallingThread`).
@Suite(.timeLimit(.minutes(3))) struct CallerWriteTests {
    /// Options that let a lone appender sync its own calls.
    private static func loneAppenderOptions(segmentSizeBytes: Int = 64 * 1024, durability: Durability = .fsync) -> StoreOptions {
        var options = testOptions(segmentSizeBytes: segmentSizeBytes, durability: durability)
        options.loneAppenderWritesOnItsThread = true
        return options
    }

    /// Waits, without sleeping, until the writer thread sleeps with nothing to do;
    /// throws if the test is cancelled first (its time limit).
    private static func idle(_ writer: LogWriter) async throws {
        while !writer.isIdle {
            try Task.checkCancellation()
            await Task.yield()
        }
    }

    /// Appends twice from one task, the second time once the writer thread sleeps:
    /// the second call is a lone appender's. `beforeSecondCall` runs just before it.
    private static func loneAppend(
        _ store: FileEventStore, to stream: StreamName, beforeSecondCall: @Sendable () -> Void = {}
    ) async throws -> AppendResult {
        try await store.append([event()], to: stream)
        try await idle(try #require(store.writer))
        beforeSecondCall()
        return try await store.append([event()], to: stream)
    }

    /// The events a fresh open of the closed store in `folder` finds.
    private static func eventCountAfterReopening(_ folder: TemporaryDirectory) async throws -> Int {
        let reopened = try FileEventStore.open(directory: folder.path, options: testOptions())
        let count = try reopened.readAll().count
        try await reopened.close()
        return count
    }

    @Test(arguments: [Durability.fsync, .batched(maxDelay: .milliseconds(1))])
    func byDefaultEveryCallGoesThroughTheWriterThread(durability: Durability) async throws {
        try await withStore(testOptions(durability: durability)) { store, _ in
            let writer = try #require(store.writer)
            for n in 1...10 {
                try await Self.idle(writer)
                try await store.append([event("E", n)], to: "default")
            }
            #expect(store.statistics.callsWrittenByCaller == 0)
        }
    }

    @Test(arguments: [Durability.none, .batched(maxDelay: .seconds(60))])
    func withoutASyncPerCallALoneAppendersCallsAreOnlyWritten(durability: Durability) async throws {
        try await withStore(Self.loneAppenderOptions(durability: durability)) { store, _ in
            let writer = try #require(store.writer)
            for n in 1...10 {
                try await Self.idle(writer)
                try await store.append([event("E", n)], to: "unsynced")
            }
            #expect(store.statistics.callsWrittenByCaller == 9, "all but the first call")
            #expect(store.statistics.syncs == 0)
            #expect(store.lastPosition == 10)
        }
    }

    @Test func withoutSyncsALoneAppenderWritesItsOwnCallsByDefault() async throws {
        try await withStore(testOptions(durability: .none)) { store, _ in
            let writer = try #require(store.writer)
            for n in 1...10 {
                try await Self.idle(writer)
                let result = try await store.append([event("E", n)], to: "unsynced")
                #expect(store.lastPosition == result.lastPosition, "acknowledged means visible")
            }
            #expect(store.statistics.callsWrittenByCaller == 9, "all but the first call")
            #expect(store.statistics.syncs == 0)
        }
    }

    @Test func aLoneAppendersCallsAreWrittenSyncedAndVisibleWhenTheyReturn() async throws {
        try await withStore(Self.loneAppenderOptions()) { store, _ in
            let writer = try #require(store.writer)
            try await store.append([event("E", 0)], to: "lone")
            for n in 1...20 {
                try await Self.idle(writer)
                let before = store.statistics
                let result = try await store.append([event("E", n)], to: "lone")
                let after = store.statistics
                #expect(after.callsWrittenByCaller == before.callsWrittenByCaller + 1)
                #expect(after.syncs == before.syncs + 1, "synced before the caller heard back")
                #expect(result.lastPosition == GlobalPosition(UInt64(n + 1)))
                #expect(store.lastPosition == result.lastPosition, "acknowledged means visible")
            }
        }
    }

    @Test func callsOfDifferentLiveTasksOneAfterAnotherGoThroughTheWriterThread() async throws {
        try await withStore(Self.loneAppenderOptions()) { store, _ in
            let writer = try #require(store.writer)
            // The handles keep every task alive (a finished task's memory may be
            // reused by the next one, which then counts as the same appender).
            var tasks: [Task<AppendResult, any Error>] = []
            for n in 1...10 {
                try await Self.idle(writer)
                tasks.append(Task { try await store.append([event("E", n)], to: "turns") })
                _ = try await tasks[tasks.count - 1].value
            }
            #expect(store.statistics.callsWrittenByCaller == 0)
            #expect(try store.readStream("turns").count == 10)
        }
    }

    @Test(arguments: [Durability.fsync, .none])
    func aCallThatFillsTheSegmentGoesToTheWriterThreadWhichSealsIt(durability: Durability) async throws {
        try await withStore(Self.loneAppenderOptions(segmentSizeBytes: 64 * 1024, durability: durability)) { store, folder in
            let writer = try #require(store.writer)
            for n in 1...40 {
                try await Self.idle(writer)
                try await store.append([event("E", n, bytes: 8_000)], to: "big")
            }
            let statistics = store.statistics
            #expect(statistics.segmentsSealed >= 3)
            #expect(
                statistics.callsWrittenByCaller + statistics.segmentsSealed == 39,
                "all but the first call and those that sealed a segment")
            try await Self.idle(writer)
            let segments = try segmentFiles(folder.path)
            for segment in segments.dropLast() {
                #expect(FileManager.default.fileExists(atPath: String(segment.dropLast(4)) + ".idx"), "\(segment)")
            }
        }
    }

    @Test func callsQueuedWhileACallerWritesGoToTheWriterThreadAfterIt() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let fileSystem = GatedFileSystem()
        let store = try FileEventStore.open(directory: folder.path, options: Self.loneAppenderOptions(), fileSystem: fileSystem)
        let writer = try #require(store.writer)
        async let first = offThePool { try await Self.loneAppend(store, to: "q-0", beforeSecondCall: fileSystem.armHold) }
        try await fileSystem.waitUntilHeld()
        #expect(store.statistics.callsWrittenByCaller == 1, "the lone appender holds the write turn, inside its sync")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 1...3 { group.addTask { try await store.append([event()], to: StreamName("q-\(index)")) } }
            while writer.pendingCount < 3 { await Task.yield() }
            #expect(store.lastPosition == 1, "nothing is visible before its sync")
            fileSystem.open()
            try await group.waitForAll()
        }
        #expect(try await first.lastPosition == 2)
        let statistics = store.statistics
        #expect(statistics.callsWrittenByCaller == 1)
        #expect(statistics.batches == 3, "the first call, the caller's, then the three queued behind it in one batch")
        #expect(statistics.syncs == 3)
        try await store.close()
        #expect(try await Self.eventCountAfterReopening(folder) == 5)
    }

    /// A caller that holds the turn when a `POSITION` nudge falls due leaves the
    /// writer thread asleep without a deadline (it may not read the turn's state while
    /// a caller holds it). Handing the turn back must wake it, or the nudge never
    /// comes and followers watching the folder never hear of the calls.
    @Test func aNudgeDueWhileACallerHoldsTheTurnStillComes() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let fileSystem = GatedFileSystem()
        var options = testOptions(durability: .none)
        options.positionNudgeDelay = .milliseconds(200)
        let store = try FileEventStore.open(directory: folder.path, options: options, fileSystem: fileSystem)
        let writer = try #require(store.writer)
        async let last = offThePool {
            try await store.append([event()], to: "n-0")  // by the writer thread
            try await Self.idle(writer)
            // By the caller: `POSITION` through its mapping, a nudge owed in 200 ms,
            // which the writer thread, woken for it, sleeps until.
            try await store.append([event()], to: "n-0")
            while writer.threadState != .sleepsUntilDeadline {
                try Task.checkCancellation()
                await Task.yield()
            }
            fileSystem.armWriteHold()
            return try await store.append([event()], to: "n-0")  // by the caller, held in its write
        }
        try await fileSystem.waitUntilHeld()
        let writesBefore = fileSystem.positionWrites
        // The nudge falls due while the caller holds the turn: the writer thread
        // wakes, may not nudge yet, and sleeps until signalled.
        while writer.threadState != .sleepsUntilSignalled {
            try Task.checkCancellation()
            await Task.yield()
        }
        fileSystem.open()
        #expect(try await last.lastPosition == 3)
        // Within the nudge's delay; never (the suite's time limit) if nothing wakes the writer thread.
        while fileSystem.positionWrites == writesBefore {
            try Task.checkCancellation()
            await Task.yield()
        }
        #expect(store.statistics.callsWrittenByCaller == 2)
        try await store.close()
    }

    /// Under `.fsync` the writer thread's batches publish `POSITION` through its
    /// mapping too: a follower's next read of the file sees each acknowledged call at
    /// once, and the `pwrite` that wakes watching followers comes once per nudge
    /// delay (here only at close), not once per batch (a second system call on a
    /// lone durable appender's path).
    @Test func durableBatchesPublishPositionThroughTheMappingAndNudgeOnce() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let fileSystem = GatedFileSystem()
        var options = testOptions(durability: .fsync)
        options.positionNudgeDelay = .seconds(600)
        let store = try FileEventStore.open(directory: folder.path, options: options, fileSystem: fileSystem)
        let writesAtOpen = fileSystem.positionWrites
        for call in 1...20 as ClosedRange<UInt64> {
            let result = try await store.append([event()], to: "p-0")
            #expect(result.lastPosition.rawValue == call)
            let published = try PosixFileSystem().readWholeFile(folder.path + "/" + PositionFileFormat.fileName)
            #expect(published.withUnsafeBytes { PositionFileFormat.decode($0) } == call, "call \(call) is published before it returns")
        }
        #expect(store.statistics.batches == 20, "each call a batch of the writer thread")
        #expect(fileSystem.positionWrites == writesAtOpen, "no pwrite of POSITION per batch")
        try await store.close()
        #expect(fileSystem.positionWrites == writesAtOpen + 1, "one nudge, at close")
    }

    @Test func closeWaitsForACallerThatHoldsTheWriteTurn() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let fileSystem = GatedFileSystem()
        let store = try FileEventStore.open(directory: folder.path, options: Self.loneAppenderOptions(), fileSystem: fileSystem)
        async let first = offThePool { try await Self.loneAppend(store, to: "c-0", beforeSecondCall: fileSystem.armHold) }
        try await fileSystem.waitUntilHeld()
        async let closing: Void = store.close()
        fileSystem.open()
        #expect(try await first.lastPosition == 2)
        try await closing
        #expect(store.statistics.callsWrittenByCaller == 1)
        #expect(try await Self.eventCountAfterReopening(folder) == 2)
    }

    @Test func inBatchedModeTheWriterThreadSyncsACallersWriteByTheDeadline() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let fileSystem = GatedFileSystem()
        let options = Self.loneAppenderOptions(durability: .batched(maxDelay: .milliseconds(1)))
        let store = try FileEventStore.open(directory: folder.path, options: options, fileSystem: fileSystem)
        let writer = try #require(store.writer)
        try await store.append([event()], to: "b-0")
        // The first call went through the writer thread; wait for its deadline sync.
        while store.statistics.syncs == 0 || !writer.isIdle {
            try Task.checkCancellation()
            await Task.yield()
        }
        fileSystem.armHold()
        try await store.append([event()], to: "b-0")
        #expect(store.statistics.callsWrittenByCaller == 1)
        #expect(store.statistics.syncs == 1, "acknowledged once written, before its sync")
        // Returns only once some thread is inside the deadline's fdatasync: the
        // writer thread, woken for it (else this test times out).
        try await fileSystem.waitUntilHeld()
        fileSystem.open()
        try await store.close()
        #expect(store.statistics.syncs >= 2)
    }
}

/// Under `.none` and `.batched` the active segment is written through a memory
/// mapping (no system call per write); under `.fsync`, and into a segment that is
/// not pre-allocated, with `pwrite`.
@Suite(.timeLimit(.minutes(3))) struct MappedWriteTests {
    /// Appends from one task (the caller writes) and from eight at once (the writer
    /// thread writes), across several sealed segments, reading each call back at once.
    private static func appendAndReadBack(_ store: FileEventStore) async throws {
        for n in 0..<150 {
            let result = try await store.append([event("E", n, bytes: 700)], to: "mapped")
            #expect(try store.readStream("mapped", from: result.nextExpectedVersion, maxCount: 1).first?.position == result.lastPosition)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask { for n in 0..<20 { try await store.append([event("E", n, bytes: 700)], to: StreamName("mapped-\(task)")) } }
            }
            try await group.waitForAll()
        }
    }

    @Test(arguments: [Durability.none, .batched(maxDelay: .milliseconds(1))])
    func withoutASyncPerCallRecordsAreWrittenThroughTheMappingAndSurviveReopening(durability: Durability) async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let store = try FileEventStore.open(directory: folder.path, options: testOptions(segmentSizeBytes: 64 * 1024, durability: durability))
        try await Self.appendAndReadBack(store)
        let written = try store.readAll()
        let statistics = store.statistics
        #expect(statistics.writesThroughMapping >= statistics.batches - statistics.segmentsSealed, "every batch but those that sealed")
        #expect(statistics.segmentsSealed >= 3, "the mapping is released and renewed at every seal")
        try await store.close()

        let reopened = try FileEventStore.open(directory: folder.path, options: testOptions())
        #expect(reopened.openReport.tornTail == nil)
        #expect(try reopened.readAll() == written)
        #expect(written.count == 310)
        try await reopened.close()
        #expect(try FileEventStore.verify(directory: folder.path).isHealthy)
    }

    @Test func underFsyncAndWithoutPreallocationRecordsAreWrittenWithPwrite() async throws {
        var notPreallocated = testOptions(segmentSizeBytes: 64 * 1024, durability: .none)
        notPreallocated.preallocateSegments = false
        for options in [testOptions(segmentSizeBytes: 64 * 1024), notPreallocated] {
            try await withStore(options) { store, _ in
                try await Self.appendAndReadBack(store)
                #expect(store.statistics.writesThroughMapping == 0)
                #expect(try store.readAll().count == 310)
            }
        }
    }
}

@Suite struct DurabilityModeTests {
    @Test(arguments: [Durability.none, .batched(maxDelay: .milliseconds(2)), .fsync])
    func everyModeKeepsEveryEventAcrossACleanClose(durability: Durability) async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let store = try FileEventStore.open(directory: folder.path, options: testOptions(durability: durability))
        for n in 0..<200 { try await store.append([event("E", n, bytes: 400)], to: "d-1") }
        #expect(store.lastPosition == 200, "acknowledged means visible")
        try await store.close()
        let reopened = try FileEventStore.open(directory: folder.path, options: testOptions())
        #expect(try reopened.readAll().count == 200)
        try await reopened.close()
    }

    @Test func noneModeSyncsOnlyOnRollAndClose() async throws {
        try await withStore(testOptions(segmentSizeBytes: 1 << 20, durability: .none)) { store, _ in
            for n in 0..<100 { try await store.append([event("E", n)], to: "d-2") }
            #expect(store.statistics.syncs == 0)
        }
    }
}

@Suite struct WriterFaultTests {
    typealias Operation = FaultInjectingFileSystem.Operation

    @Test func aFailedSyncPoisonsTheWriterAndReopenRecovers() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let fileSystem = FaultInjectingFileSystem()
        let store = try FileEventStore.open(directory: folder.path, options: testOptions(), fileSystem: fileSystem)
        try await store.append([event("A", 1)], to: "f-1")
        try await store.append([event("A", 2)], to: "f-1")
        fileSystem.arm(.init(operation: .syncData, afterCalls: 1, errno: Errno.io, persistent: false))
        await #expect(throws: EventStoreError.self) { try await store.append([event("A", 3)], to: "f-1") }
        // The fault was one-shot, yet the writer stays failed: after a failed fsync
        // the page cache cannot be trusted (fsyncgate).
        await #expect {
            try await store.append([event("A", 4)], to: "f-1")
        } throws: { error in
            if case .writerFailed = error as? EventStoreError { return true }
            return false
        }
        #expect(store.lastPosition == 2, "the unsynced event never became visible")
        #expect(try store.readAll().count == 2, "the store stays readable")
        await #expect(throws: EventStoreError.self) { try await store.close() }

        let reopened = try FileEventStore.open(directory: folder.path, options: testOptions())
        let events = try reopened.readAll()
        #expect(events.prefix(2).map(\.type) == ["A", "A"])
        #expect(events.count <= 3)
        try await reopened.append([event("B", 5)], to: "f-1")
        try await reopened.close()
    }

    @Test func runningOutOfSpaceFailsCleanlyAndTheStoreStaysReadable() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let fileSystem = FaultInjectingFileSystem()
        let store = try FileEventStore.open(directory: folder.path, options: testOptions(), fileSystem: fileSystem)
        try await store.append([event()], to: "f-2")
        fileSystem.arm(.init(operation: .write, afterCalls: 1, errno: Errno.noSpace, persistent: true))
        await #expect {
            try await store.append([event()], to: "f-2")
        } throws: { error in
            guard case .writerFailed(let reason) = error as? EventStoreError else { return false }
            return reason.contains("pwrite") || reason.contains("write")
        }
        #expect(try store.readAll().count == 1)
        await #expect(throws: EventStoreError.self) { try await store.close() }
        fileSystem.disarm()
        let reopened = try FileEventStore.open(directory: folder.path, options: testOptions())
        #expect(try reopened.readAll().count == 1)
        try await reopened.close()
    }

    /// A fault at every call site the writer uses, once and persistently: every
    /// acknowledged event survives reopening, and nothing after the fault is acknowledged.
    @Test(arguments: [Operation.write, .syncData, .sync, .syncDirectory, .open, .truncate, .allocate])
    func aFaultAtAnyCallNeverLosesAnAcknowledgedEvent(operation: Operation) async throws {
        for afterCalls in 1...4 {
            for persistent in [false, true] {
                let folder = TemporaryDirectory()
                defer { folder.remove() }
                let fileSystem = FaultInjectingFileSystem()
                // Small segments so the workload rolls: seal, create, allocate, directory sync.
                let store = try FileEventStore.open(
                    directory: folder.path, options: testOptions(segmentSizeBytes: 64 * 1024), fileSystem: fileSystem)
                fileSystem.arm(.init(operation: operation, afterCalls: afterCalls, errno: Errno.io, persistent: persistent))
                var acknowledged: [UUID] = []
                var failedOnce = false
                for n in 0..<60 {
                    let e = event("E", n, bytes: 3_000)
                    do {
                        try await store.append([e], to: "w-1")
                        #expect(!failedOnce, "\(operation) #\(afterCalls): an append succeeded after the writer failed")
                        acknowledged.append(e.id)
                    } catch {
                        failedOnce = true
                    }
                }
                try? await store.close()
                if afterCalls == 1 {
                    #expect(fileSystem.failuresInjected > 0 && failedOnce, "\(operation): the workload reaches the call site")
                }
                fileSystem.disarm()
                let reopened = try FileEventStore.open(directory: folder.path, options: testOptions())
                let recovered = try reopened.readAll().map(\.id)
                #expect(Array(recovered.prefix(acknowledged.count)) == acknowledged, "\(operation) #\(afterCalls) persistent \(persistent)")
                #expect(recovered.count <= acknowledged.count + 1, "at most the one call in flight at the fault")
                try await reopened.append([event()], to: "w-1")
                try await reopened.close()
                #expect(try FileEventStore.verify(directory: folder.path).isHealthy)
            }
        }
    }
}

@Suite struct ThreadNameTests {
    /// The names of this process's threads, as top and perf show them (a thread
    /// that ends between the listing and the read is left out).
    private static func threadNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").compactMap { task in
            (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8))?.trimmingCharacters(in: .newlines)
        }
    }

    @Test func aStoresWriterThreadIsNamed() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let store = try FileEventStore.open(directory: folder.path, options: testOptions())
        try await store.append([event()], to: "named")
        #expect(try Self.threadNames().contains("eventlog-writer"))
        #expect(try Self.threadNames().contains("eventlog-acks"))
        try await store.close()
    }

    /// Each of many threads, as soon as its body runs. Foundation's `Thread.name`,
    /// set by the thread itself, reached Linux only if the creating thread had
    /// already stored the new thread's handle, which it may do after the thread
    /// started: one full test run in 16 failed here with one thread, and one run in
    /// five of this loop under load.
    @Test func aThreadCarriesItsNameCutToWhatLinuxKeeps() async throws {
        for _ in 0..<200 {
            let name = await withCheckedContinuation { continuation in
                NamedThread.start(named: "eventlog-compaction") {
                    continuation.resume(returning: (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "")
                }
            }
            #expect(name.trimmingCharacters(in: .newlines) == "eventlog-compac")
            if name.trimmingCharacters(in: .newlines) != "eventlog-compac" { return }
        }
    }
}

/// Reads give way to appends: while an append call is in flight, a read yields the
/// processor every so many records (the writer's own reads never do).
@Suite(.timeLimit(.minutes(3))) struct ReadCourtesyTests {
    @Test func readsYieldOnlyWhileAnAppendIsInFlight() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let fileSystem = GatedFileSystem()
        let store = try FileEventStore.open(directory: folder.path, options: testOptions(segmentSizeBytes: 1 << 20), fileSystem: fileSystem)
        try await store.append((0..<200).map { event("E", $0) }, to: "courtesy")
        func yields() -> Int { store.shared.readerYields.load(ordering: .relaxed) }

        #expect(try store.readStream("courtesy").count == 200)
        #expect(try store.readAll().count == 200)
        #expect(yields() == 0, "no append in flight: reads run through")

        fileSystem.armHold()
        async let held = store.append([event()], to: "other")
        try await fileSystem.waitUntilHeld()
        #expect(try store.readStream("courtesy").count == 200)
        #expect(yields() == 3, "a stream read yields every 64 records: after 64, 128 and 192 (8 left are too few)")
        #expect(try store.readAll().count == 200)
        #expect(yields() == 4, "a scan yields every 256 records, and at its end after 200 (a quarter or more)")
        fileSystem.open()
        _ = try await held

        #expect(try store.readStream("courtesy").count == 200)
        #expect(yields() == 4, "the append returned: no more yields")
        try await store.close()
    }
}

@Suite(.timeLimit(.minutes(1))) struct AppendAcknowledgerTests {
    /// Appenders' continuations, as they suspend.
    private final class Waiting: Sendable {
        let continuations = Mutex<[(Int, UnsafeContinuation<[AppendResult], any Error>)]>([])
    }

    /// Every outcome reaches its own appender, handed over or resumed in place, and
    /// `stop()` returns only once the thread has resumed all it was given (an
    /// appender left waiting would hang the test until its time limit).
    @Test(arguments: [true, false]) func everyAppenderHearsItsOwnOutcome(handingOver: Bool) async throws {
        let acknowledger = AppendAcknowledger()
        acknowledger.start()
        let appenders = 100
        let waiting = Waiting()
        let outcomes = await withTaskGroup(of: (Int, UInt64?).self) { group in
            for index in 0..<appenders {
                group.addTask {
                    do {
                        let results = try await withUnsafeThrowingContinuation { continuation in
                            waiting.continuations.withLock { $0.append((index, continuation)) }
                        }
                        return (index, results[0].firstPosition.rawValue)
                    } catch {
                        return (index, nil)
                    }
                }
            }
            while waiting.continuations.withLock({ $0.count }) < appenders { await Task.yield() }
            var acknowledgements = waiting.continuations.withLock { suspended in
                suspended.map { index, continuation -> AppendAcknowledger.Acknowledgement in
                    let position = GlobalPosition(UInt64(index + 1))
                    let result = AppendResult(nextExpectedVersion: 1, firstPosition: position, lastPosition: position)
                    return (continuation, index.isMultiple(of: 3) ? .failure(.closed) : .success([result]))
                }
            }
            // In two deliveries, so that the second may find the first still being resumed.
            var rest = Array(acknowledgements[50...])
            acknowledgements.removeLast(50)
            acknowledger.deliver(&acknowledgements, handingOver: handingOver)
            acknowledger.deliver(&rest, handingOver: handingOver)
            #expect(acknowledgements.isEmpty && rest.isEmpty, "the arrays come back empty")
            return await group.reduce(into: [Int: UInt64?]()) { $0[$1.0] = $1.1 }
        }
        acknowledger.stop()
        #expect(outcomes.count == appenders)
        for (index, position) in outcomes {
            #expect(position == (index.isMultiple(of: 3) ? nil : UInt64(index + 1)), "appender \(index)")
        }
    }

    @Test func stopReturnsAtOnceWhenNothingWasDelivered() {
        let acknowledger = AppendAcknowledger()
        acknowledger.start()
        acknowledger.stop()
    }
}

/// A stream rule change whose version check must still hold when it takes effect
/// (a delete with an expected version, a stream's start) runs between the writer's
/// batches: an append waiting in its sync is published first, and the check sees it.
@Suite(.timeLimit(.minutes(1))) struct RuleChangeOrderTests {
    /// Runs `change` while an append of version 2 to `order-1` (version 1 before)
    /// is held in its `fdatasync`, waits until the change has either returned or
    /// queued work between the writer's batches, lets the append finish, and
    /// returns the change's outcome once the append was acknowledged at version 2.
    /// `otherStream`: the held call appends to it too (one multi-stream call).
    private static func duringAHeldAppend<T: Sendable>(
        options: StoreOptions = testOptions(), otherStream: StreamName? = nil,
        _ change: @escaping @Sendable (FileEventStore) async throws -> T,
        then check: (FileEventStore, Result<T, any Error>) async throws -> Void
    ) async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let fileSystem = GatedFileSystem()
        let store = try FileEventStore.open(directory: folder.path, options: options, fileSystem: fileSystem)
        let writer = try #require(store.writer)
        try await store.append([event("E", 1)], to: "order-1")

        fileSystem.armHold()
        var parts = [StreamAppend(stream: "order-1", expectedVersion: .any, events: [event("E", 2)])]
        if let otherStream { parts.append(StreamAppend(stream: otherStream, expectedVersion: .any, events: [event("E", 3)])) }
        async let appended = store.append(parts)
        try await fileSystem.waitUntilHeld()
        let changeReturned = DoneFlag()
        let changing = Task {
            defer { changeReturned.set() }
            return try await change(store)
        }
        // Queued behind the held batch (before the change, it returned on its own).
        while writer.pendingBetweenBatchesCount == 0 && !changeReturned.isSet {
            try Task.checkCancellation()
            await Task.yield()
        }
        fileSystem.open()
        #expect(try await appended[0].nextExpectedVersion == 2)
        try await check(store, await changing.result)
        try await store.close()
    }

    /// The append is held in `fdatasync` while the delete expects the version before
    /// it. A check on the caller's thread passed (the append was not yet visible),
    /// the append was then acknowledged at version 2, and a hard delete hid it
    /// although it expected version 1: no order of the two calls explains that. (A
    /// soft delete's outcome was one order's, delete first; now both see the append.)
    /// Now the delete waits for the batch and fails.
    @Test(arguments: [true, false])
    func aDeleteExpectingAVersionSeesAnAppendStillInItsSync(hard: Bool) async throws {
        try await Self.duringAHeldAppend { store in
            try await store.deleteStream("order-1", expectedVersion: .exact(1), hard: hard)
        } then: { store, outcome throws in
            #expect {
                try outcome.get()
            } throws: { error in
                guard case .wrongExpectedVersion(_, _, let actual) = error as? EventStoreError else { return false }
                return actual == 2
            }
            #expect(try store.readStream("order-1").map(\.version) == [1, 2], "nothing deleted")
            try await store.deleteStream("order-1", expectedVersion: .exact(2), hard: hard)
            #expect(try store.readStream("order-1").isEmpty)
        }
    }

    /// A bulk delete looked the versions up on the caller's thread and changed the
    /// rules there: an append held in its sync was missed, so a hard delete kept
    /// version 1 as the stream's (its acknowledged version 2 hidden and then
    /// forgotten), and a soft delete truncated before version 2, leaving the
    /// acknowledged event visible after the delete that returned after it. Now the
    /// rules change between the writer's batches, with the versions brought up to
    /// date from the writer's cache of heads. `evictingHeads`: a cache of one head,
    /// which the held two-stream call overflows, so the stream's head is evicted
    /// before the delete runs and its version must be looked up again.
    @Test(arguments: [(true, false), (false, false), (true, true), (false, true)])
    func aBulkDeleteSeesAnAppendStillInItsSync(hard: Bool, evictingHeads: Bool) async throws {
        var options = testOptions()
        if evictingHeads { options.streamCacheCapacity = 1 }
        try await Self.duringAHeldAppend(options: options, otherStream: evictingHeads ? "other-1" : nil) { store in
            try await store.deleteStreams(["order-1"], hard: hard)
        } then: { store, outcome throws in
            #expect(try outcome.get() == 1)
            #expect(try store.readStream("order-1").isEmpty, "the acknowledged version 2 is deleted too")
            #expect(try store.version(of: "order-1") == 2)
            if hard {
                await #expect(throws: EventStoreError.streamDeleted(stream: "order-1")) {
                    try await store.append([event("E", 4)], to: "order-1")
                }
            } else {
                #expect(try await store.append([event("E", 4)], to: "order-1").nextExpectedVersion == 3)
                #expect(try store.readStream("order-1").map(\.version) == [3])
            }
        }
    }
}

