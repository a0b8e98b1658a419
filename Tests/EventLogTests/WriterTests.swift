import EventSourcing
import Foundation
import Synchronization
import Testing

@testable import EventLog

/// The real file system, with a gate that holds the writer inside `fdatasync`
/// until the test opens it: makes group commit observable without timing.
final class GatedFileSystem: FileSystem {
    private let real = PosixFileSystem()
    private let gate = DispatchSemaphore(value: 0)
    private let state = Mutex<(armed: Bool, entered: CheckedContinuation<Void, Never>?)>((false, nil))

    /// Holds the next `fdatasync` until `open()`; returns once the writer is inside it.
    func holdNextSync() async {
        await withCheckedContinuation { continuation in
            state.withLock { $0 = (true, continuation) }
        }
    }

    func open() { gate.signal() }

    func syncData(_ file: OpenFile) throws {
        let entered = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.armed else { return nil }
            defer { state = (false, nil) }
            return state.entered
        }
        if let entered {
            entered.resume()
            gate.wait()
        }
        try real.syncData(file)
    }

    func open(_ path: String, mode: OpenMode) throws -> OpenFile { try real.open(path, mode: mode) }
    func close(_ file: OpenFile) throws { try real.close(file) }
    func read(_ file: OpenFile, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        try real.read(file, into: buffer, at: offset)
    }
    func write(_ file: OpenFile, _ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws { try real.write(file, bytes, at: offset) }
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

        async let first = store.append([event()], to: "g-0")
        await fileSystem.holdNextSync()
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
