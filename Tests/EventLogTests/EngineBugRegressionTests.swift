// Engine bugs the simulated disk and the crash test found, each as the test that
// failed before its fix (361895d, and d22d666 for the last) and guards against
// its return.
import EventSourcing
import Foundation
import Synchronization
import Testing

@_spi(Testing) @testable import EventLog

@Suite struct EngineBugRegressionTests {
    static let directory = "/data/store"

    static var smallSegments: StoreOptions {
        var options = StoreOptions()
        options.segmentSizeBytes = StoreOptions.minimumSegmentSizeBytes
        return options
    }

    /// Recovery adopted what a killed process left in the page cache (a new segment
    /// and its directory entry, a segment's seal, the STORE manifest, complete but
    /// unsynced calls) without making it durable, then acknowledged appends on top of
    /// it. A power loss before the kernel wrote it back lost acknowledged events, or
    /// left a store that refused to open ("segment is not sealed, yet later segments
    /// exist", "segment files exist but the STORE manifest is missing").
    /// Found by `eventlog-crashtest --seed 1` (iteration 154) and `--seed 7` (iteration 376).
    @Test
    func aPowerLossAfterRecoveringFromAProcessCrashLosesNoAcknowledgedEvent() async {
        let whole = await CrashTest.run(.sequential(seed: 3, kind: .processCrash, crashPoint: .atEnd))
        var failures: [String] = []
        for count in 1...whole.ioCallsBeforeFirstCrash {
            for seed in 0..<4 as Range<UInt64> {
                var scenario = CrashTest.Scenario.sequential(seed: seed, kind: .processCrash, crashPoint: .afterIOCalls(count))
                scenario.crashesTwice = true
                scenario.dataBytes = 1...100  // no roll: this bug, not the sealing one below
                scenario.secondCrashKind = .powerLoss
                let outcome = await CrashTest.run(scenario)
                if !outcome.passed { failures.append("process crash after I/O call \(count), seed \(seed): \(outcome.problems.prefix(2))") }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) failing scenarios, e.g. \(failures.prefix(3))")
    }

    /// The same bug, step by step: a process dies right after writing a new
    /// segment's header (before the directory fsync); the next process appends to
    /// that segment and acknowledges; the directory entry was never synced, so a
    /// power loss takes the whole segment.
    @Test
    func anAcknowledgedAppendToASegmentAdoptedAfterAProcessCrashSurvivesAPowerLoss() async throws {
        var lost = 0
        for seed in 0..<8 as Range<UInt64> {
            let fileSystem = SimulatedFileSystem(seed: seed)
            fileSystem.makeDurableDirectory(Self.directory)
            // Find the counted call that writes the first segment's header, and die right after it.
            let probe = SimulatedFileSystem(seed: seed)
            probe.makeDurableDirectory(Self.directory)
            try await FileEventStore.open(directory: Self.directory, options: Self.smallSegments, simulatedFileSystem: probe).close()
            let headerWrite = try #require(probe.callLog.firstIndex { $0.contains("write \(Self.directory)/00000000000000000001.seg ") })
            let count = try #require(Int(probe.callLog[headerWrite].dropFirst().prefix { $0 != " " }))
            fileSystem.scheduleCrash(.processCrash, afterIOCalls: count)
            _ = try? FileEventStore.open(directory: Self.directory, options: Self.smallSegments, simulatedFileSystem: fileSystem)
            #expect(fileSystem.crashCount == 1)

            let recovered = try FileEventStore.open(directory: Self.directory, options: Self.smallSegments, simulatedFileSystem: fileSystem)
            let event = EventData(type: "Acknowledged", data: Data("{}".utf8))
            try await recovered.append([event], to: "bug-1")
            fileSystem.crash()
            let reopened = try FileEventStore.open(directory: Self.directory, options: Self.smallSegments, simulatedFileSystem: fileSystem)
            if try reopened.readAll().map(\.id) != [event.id] { lost += 1 }
            try await reopened.close()
        }
        #expect(lost == 0, "an acknowledged event was lost after \(lost) of 8 power losses")
    }

    /// `Recovery.recover` closed a segment's descriptor in its error path although
    /// the `Segment` built from it had already closed it in `deinit`: a double close,
    /// which in a real process can close a descriptor another thread just opened.
    /// Found by the crash test (seed 1, iteration 154: "close(...0001.seg) on descriptor 29, which is not open").
    @Test
    func aStoreThatFailsToOpenClosesEachDescriptorOnce() async throws {
        let fileSystem = SimulatedFileSystem(seed: 5)
        fileSystem.makeDurableDirectory(Self.directory)
        let store = try FileEventStore.open(directory: Self.directory, options: Self.smallSegments, simulatedFileSystem: fileSystem)
        for n in 0..<30 { try await store.append([EventData(type: "E", data: Data(repeating: UInt8(n), count: 4_000))], to: "s") }
        try await store.close()
        let first = Self.directory + "/00000000000000000001.seg"
        let size = try #require(fileSystem.contents(of: first)).count
        fileSystem.flip(first, at: size - 1)  // the footer's checksum: the first segment looks unsealed
        #expect(throws: EventStoreError.self) {
            _ = try FileEventStore.open(directory: Self.directory, options: Self.smallSegments, simulatedFileSystem: fileSystem)
        }
        #expect(fileSystem.misuses.isEmpty, "\(fileSystem.misuses)")
    }

    /// `LogWriter.writtenEvents` read the stream with `try?`: when the read failed,
    /// a retry of an acknowledged call was answered `wrongExpectedVersion` ("nothing
    /// was written; reload and retry") although the call was written: a definite
    /// wrong answer instead of an I/O error.
    /// Found by the crash test (seed 2, iteration 40: a retry refused after the crash).
    @Test
    func aReadErrorWhileRecognisingARetryIsNotAWrongExpectedVersion() async throws {
        let fileSystem = SimulatedFileSystem(seed: 6)
        fileSystem.makeDurableDirectory(Self.directory)
        let store = try FileEventStore.open(directory: Self.directory, options: Self.smallSegments, simulatedFileSystem: fileSystem)
        let events = [EventData(type: "A", data: Data("{}".utf8)), EventData(type: "B", data: Data("{}".utf8))]
        let original = try await store.append(events, to: "retried", expectedVersion: .noStream)
        fileSystem.inject(.init(.read, errno: SimulatedFileSystem.ioError, persistent: true, pathContains: ".seg"))
        do {
            let retried = try await store.append(events, to: "retried", expectedVersion: .noStream)
            #expect(retried == original)
        } catch EventStoreError.wrongExpectedVersion {
            Issue.record("the retry of a written call was answered wrongExpectedVersion because a read failed")
        } catch EventStoreError.io(let operation, _, _, _) {
            // The honest answer: the read failed. (It used to say writerFailed, though the writer went on.)
            #expect(operation.contains("read") || operation.contains("pread"), "\(operation)")
        } catch {
            Issue.record("expected an I/O error, got \(error)")
        }
        fileSystem.removeFaults()
        let after = try await store.append([EventData(type: "C", data: Data("{}".utf8))], to: "other", expectedVersion: .noStream)
        #expect(after.nextExpectedVersion == 1, "the writer goes on")
        try? await store.close()
    }

    /// Sealing wrote the rolling batch's records, then the footer, then truncated,
    /// and only then fsynced. A disk may persist the footer (and the new size) but not
    /// the records before it: after the power loss the segment ended with a valid
    /// footer over a hole or a torn record, recovery took it as sealed, found it
    /// damaged, and the store refused to open (`corrupted`, "zero bytes where a record
    /// belongs" / "checksum mismatch") until repaired. The records are now synced
    /// before the footer is written.
    /// Found by `eventlog-crashtest --seed 11` (iteration 4774) and seeds 12, 14, 18.
    @Test(.timeLimit(.minutes(3)))
    func aPowerLossDuringASealLeavesAStoreThatOpens() async throws {
        var refused: [String] = []
        for seed in 0..<40 as Range<UInt64> {
            // Writes of one file may reach the disk out of order (a volatile device cache).
            let simulation = SimulatedFileSystem(seed: seed)
            simulation.makeDurableDirectory(Self.directory)
            let holding = HoldingFileSystem(simulation.attach())
            let store = try FileEventStore.open(directory: Self.directory, options: Self.smallSegments, fileSystem: holding)
            let writer = try #require(store.writer)
            for _ in 0..<9 { try await store.append([EventData(type: "E", data: Data(repeating: 1, count: 6_000))], to: "seal") }
            // Hold the writer in a sync so that the next two calls make one batch: the
            // first still fits the segment, the second rolls it. The batch writes the
            // first call's records, the footer, truncates, and then fsyncs.
            let held = holding.hold(.syncData, ".seg")
            async let first = store.append([EventData(type: "E", data: Data(repeating: 2, count: 100))], to: "seal")
            await held.value
            async let fits = store.append([EventData(type: "E", data: Data(repeating: 3, count: 3_000))], to: "seal")
            async let rolls = store.append([EventData(type: "E", data: Data(repeating: 4, count: 9_000))], to: "seal")
            while writer.pendingCount < 2 { await Task.yield() }
            simulation.scheduleCrash(.powerLoss, after: .truncate, onPathContaining: ".seg")
            holding.release()
            _ = try? await (first, fits, rolls)
            #expect(simulation.crashCount == 1)
            try? await store.close()
            do {
                let reopened = try FileEventStore.open(directory: Self.directory, options: Self.smallSegments, simulatedFileSystem: simulation)
                try await reopened.close()
            } catch {
                refused.append("seed \(seed): \(error)")
            }
        }
        #expect(refused.isEmpty, "the store refused to open after \(refused.count) of 40 power losses, e.g. \(refused.prefix(2))")
    }

    /// `ReadAllPlan.Part.offsets(for:)` looked up an active segment's records in its
    /// in-memory index under the state lock; if the segment had been sealed and its
    /// index file swapped in since the read was planned, it fell back to an empty
    /// index and the read threw `corrupted(offset: 0, "record index past the segment's
    /// records")` although nothing was damaged. Found by the crash test's
    /// concurrent reader (seed 16, iteration 7183; seed 17, iteration 19184).
    @Test(.timeLimit(.minutes(3)))
    func aReadAllThatStartedBeforeASealStillReadsEveryEvent() async throws {
        let simulation = SimulatedFileSystem(seed: 8)
        simulation.makeDurableDirectory(Self.directory)
        let gated = HoldingFileSystem(simulation.attach())
        let store = try FileEventStore.open(directory: Self.directory, options: Self.smallSegments, fileSystem: gated)
        func fill(_ count: Int) async throws {
            for _ in 0..<count { try await store.append([EventData(type: "E", data: Data(repeating: 1, count: 6_000))], to: "race") }
        }
        try await fill(14)  // segment 1 sealed (with its index file), segment 2 active
        let segments = try #require(simulation.names(in: Self.directory)?.filter { $0.hasSuffix(".seg") })
        try #require(segments.count == 2)
        let visible = store.lastPosition
        // The reader plans [segment 1, segment 2] and stops inside its first read of segment 1.
        let entered = gated.hold(.read, Self.directory + "/" + segments[0])
        // On a thread of its own: the gate blocks it, and the cooperative pool must stay free.
        let (results, delivery) = AsyncStream<Result<[RecordedEvent], any Error>>.makeStream()
        let reader = Thread {
            delivery.yield(Result { try store.readAll(maxCount: Int(visible.rawValue)) })
            delivery.finish()
        }
        reader.start()
        await entered.value
        try await fill(12)  // segment 2 seals; the call after the sealing one waits for its index file
        gated.release()
        for await result in results {
            switch result {
            case .success(let events): #expect(events.count == Int(visible.rawValue))
            case .failure(let error): Issue.record("a readAll planned before the seal failed: \(error)")
            }
        }
        try await store.close()
    }

    /// `FileEventStore.open` created a missing store folder but never fsynced its
    /// parent, so the folder's own directory entry was not durable: a power loss could
    /// take the whole store, acknowledged events included. (ext4 and XFS happen to
    /// commit the mkdir with the first fsync in the folder; POSIX does not promise it.)
    @Test
    func aStoreInANewFolderSurvivesAPowerLoss() async throws {
        var lost = 0
        for seed in 0..<8 as Range<UInt64> {
            let fileSystem = SimulatedFileSystem(seed: seed)
            fileSystem.makeDurableDirectory("/data")
            let store = try FileEventStore.open(directory: "/data/new-store", options: Self.smallSegments, simulatedFileSystem: fileSystem)
            let event = EventData(type: "Acknowledged", data: Data("{}".utf8))
            try await store.append([event], to: "s")
            fileSystem.crash()
            let reopened = try FileEventStore.open(directory: "/data/new-store", options: Self.smallSegments, simulatedFileSystem: fileSystem)
            if try reopened.readAll().map(\.id) != [event.id] { lost += 1 }
        }
        #expect(lost == 0, "the store folder vanished in \(lost) of 8 power losses")
    }

    /// Fixed: every writer open now fsyncs the store folder's parent. Before,
    /// `makeDirectories` synced a folder's parent only when it created the folder itself. A process killed between the `mkdir` and that sync leaves the
    /// folder in the page cache; the next open finds it there, skips the sync, and
    /// acknowledges appends inside it; a power loss can then take the folder and every
    /// event in it. Found by this suite's process-crash-then-power-loss test once the
    /// crash test let the engine create the store folder (process crash after I/O call
    /// 1, the `mkdir`).
    @Test
    func aStoreFolderCreatedByAKilledProcessSurvivesAPowerLoss() async throws {
        var lost = 0
        for seed in 0..<8 as Range<UInt64> {
            let fileSystem = SimulatedFileSystem(seed: seed)
            fileSystem.makeDurableDirectory("/data")
            fileSystem.scheduleCrash(.processCrash, after: .makeDirectory)
            _ = try? FileEventStore.open(directory: "/data/store", options: Self.smallSegments, simulatedFileSystem: fileSystem)
            #expect(fileSystem.crashCount == 1, "the process died right after its mkdir")
            let reopened = try FileEventStore.open(directory: "/data/store", options: Self.smallSegments, simulatedFileSystem: fileSystem)
            let event = EventData(type: "Acknowledged", data: Data("{}".utf8))
            try await reopened.append([event], to: "s")
            fileSystem.crash()
            let recovered = try FileEventStore.open(directory: "/data/store", options: Self.smallSegments, simulatedFileSystem: fileSystem)
            if try recovered.readAll().map(\.id) != [event.id] { lost += 1 }
            try await recovered.close()
        }
        #expect(lost == 0, "an acknowledged event was lost after \(lost) of 8 power losses")
    }
}

/// A file system that holds the next read or sync of a chosen file until released,
/// so a test can act while a reader or the writer is stopped in the middle of its work.
final class HoldingFileSystem: FileSystem, @unchecked Sendable {
    enum Call { case read, syncData }

    private let base: any FileSystem
    private let gate = DispatchSemaphore(value: 0)
    private let state = Mutex<(call: Call, path: String, entered: @Sendable () -> Void)?>(nil)

    init(_ base: any FileSystem) { self.base = base }

    /// Holds the next `call` on a path containing `path`; the task finishes once a thread is held.
    func hold(_ call: Call, _ path: String) -> Task<Void, Never> {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        state.withLock { $0 = (call, path, { continuation.yield(); continuation.finish() }) }
        return Task { for await _ in stream {} }
    }

    func release() { gate.signal() }

    private func pause(_ call: Call, _ file: OpenFile) {
        let entered = state.withLock { state -> (@Sendable () -> Void)? in
            guard let armed = state, armed.call == call, file.path.contains(armed.path) else { return nil }
            state = nil
            return armed.entered
        }
        if let entered {
            entered()
            gate.wait()
        }
    }

    func read(_ file: OpenFile, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        pause(.read, file)
        return try base.read(file, into: buffer, at: offset)
    }

    func syncData(_ file: OpenFile) throws {
        pause(.syncData, file)
        try base.syncData(file)
    }

    func open(_ path: String, mode: OpenMode) throws -> OpenFile { try base.open(path, mode: mode) }
    func close(_ file: OpenFile) throws { try base.close(file) }
    func write(_ file: OpenFile, _ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws { try base.write(file, bytes, at: offset) }
    func sync(_ file: OpenFile) throws { try base.sync(file) }
    func syncDirectory(_ path: String) throws { try base.syncDirectory(path) }
    func truncate(_ file: OpenFile, toSizeBytes size: UInt64) throws { try base.truncate(file, toSizeBytes: size) }
    func allocate(_ file: OpenFile, sizeBytes size: UInt64) throws { try base.allocate(file, sizeBytes: size) }
    func size(_ file: OpenFile) throws -> UInt64 { try base.size(file) }
    func rename(_ from: String, to: String) throws { try base.rename(from, to: to) }
    func remove(_ path: String) throws { try base.remove(path) }
    func makeDirectory(_ path: String) throws { try base.makeDirectory(path) }
    func listDirectory(_ path: String) throws -> [String] { try base.listDirectory(path) }
    func exists(_ path: String) -> Bool { base.exists(path) }
    func tryLockExclusive(_ file: OpenFile) throws -> Bool { try base.tryLockExclusive(file) }
}
