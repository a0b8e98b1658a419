// The simulated disk's own rules: what survives a power loss and what may not,
// what a process crash keeps, and that the same seed gives the same wreckage.
import Testing

@_spi(Testing) @testable import EventLog

/// Helpers for driving the simulation through the `FileSystem` seam.
extension SimulatedProcessFileSystem {
    func create(_ path: String, _ bytes: [UInt8] = []) throws -> OpenFile {
        let file = try open(path, mode: .createExclusive)
        if !bytes.isEmpty { try write(file, bytes, at: 0) }
        return file
    }

    func write(_ file: OpenFile, _ bytes: [UInt8], at offset: UInt64) throws {
        try bytes.withUnsafeBytes { try write(file, $0, at: offset) }
    }
}

@Suite struct SimulatedFileSystemTests {
    /// A file `/d/f` whose 4 KiB of zeros and whose name are durable.
    static func durableFile(seed: UInt64) throws -> (SimulatedFileSystem, SimulatedProcessFileSystem, OpenFile) {
        let simulation = SimulatedFileSystem(seed: seed)
        simulation.makeDurableDirectory("/d")
        let disk = simulation.attach()
        let file = try disk.create("/d/f")
        try disk.allocate(file, sizeBytes: 4096)
        try disk.sync(file)
        try disk.syncDirectory("/d")
        return (simulation, disk, file)
    }

    @Test func syncedDataAndSyncedEntriesSurviveAPowerLoss() throws {
        for seed in 0..<50 as Range<UInt64> {
            let (simulation, disk, file) = try Self.durableFile(seed: seed)
            try disk.write(file, Array(repeating: 7, count: 1000), at: 10)
            try disk.syncData(file)
            simulation.crash()
            #expect(simulation.contents(of: "/d/f") == Array(repeating: 0, count: 10) + Array(repeating: 7, count: 1000) + Array(repeating: 0, count: 3086))
        }
    }

    @Test func anUnsyncedWriteIsKeptDroppedOrTornAtASectorBoundaryWithGarbageAfterTheTear() throws {
        var kept = 0, dropped = 0, torn = 0, garbage = 0
        let offset = 100, length = 2000
        for seed in 0..<300 as Range<UInt64> {
            let (simulation, disk, file) = try Self.durableFile(seed: seed)
            try disk.write(file, Array(repeating: 0xAB, count: length), at: UInt64(offset))
            #expect(simulation.contents(of: "/d/f")![offset] == 0xAB, "reads see the unsynced write")
            simulation.crash()
            let after = try #require(simulation.contents(of: "/d/f"))
            #expect(after.count == 4096)
            #expect(after[..<offset].allSatisfy { $0 == 0 } && after[(offset + length)...].allSatisfy { $0 == 0 }, "outside the write nothing changes")
            // The written prefix ends at the write's start or at a sector boundary inside it.
            let prefixEnd = after[offset..<(offset + length)].firstIndex { $0 != 0xAB } ?? offset + length
            if prefixEnd == offset + length {
                kept += 1
                continue
            }
            // A garbage byte may happen to equal 0xAB: the tear is at the last boundary at or before prefixEnd.
            let tear = prefixEnd < 512 ? offset : prefixEnd / 512 * 512
            let sectorEnd = min((tear / 512 + 1) * 512, offset + length)
            #expect(after[sectorEnd..<(offset + length)].allSatisfy { $0 == 0 }, "seed \(seed): after the torn sector the old bytes stay")
            let damaged = after[tear..<sectorEnd].contains { $0 != 0 && $0 != 0xAB }
            if tear == offset && !damaged && after[offset..<(offset + length)].allSatisfy({ $0 == 0 }) {
                dropped += 1
            } else {
                torn += 1
                if damaged { garbage += 1 }
            }
        }
        #expect(kept > 30 && dropped > 30 && torn > 30 && garbage > 10, "kept \(kept), dropped \(dropped), torn \(torn) (\(garbage) with garbage)")
    }

    @Test func fdatasyncKeepsTheWritesButOnlyFsyncKeepsALaterSizeChange() throws {
        var truncationLost = 0
        for seed in 0..<40 as Range<UInt64> {
            let (simulation, disk, file) = try Self.durableFile(seed: seed)
            try disk.write(file, [1, 2, 3], at: 0)
            try disk.truncate(file, toSizeBytes: 100)
            try disk.syncData(file)
            simulation.crash()
            let after = try #require(simulation.contents(of: "/d/f"))
            #expect(after.prefix(3) == [1, 2, 3])
            if after.count == 4096 { truncationLost += 1 } else { #expect(after.count == 100) }

            let (again, disk2, file2) = try Self.durableFile(seed: seed)
            try disk2.truncate(file2, toSizeBytes: 100)
            try disk2.sync(file2)
            again.crash()
            #expect(again.contents(of: "/d/f")?.count == 100)
        }
        #expect(truncationLost > 5)
    }

    @Test func unsyncedDirectoryEntriesMayVanishAndSyncedOnesStay() throws {
        var createdLost = 0, renameUndone = 0, removalUndone = 0
        for seed in 0..<100 as Range<UInt64> {
            let simulation = SimulatedFileSystem(seed: seed)
            simulation.makeDurableDirectory("/d")
            let disk = simulation.attach()
            let old = try disk.create("/d/old", [1])
            try disk.sync(old)
            let doomed = try disk.create("/d/doomed", [2])
            try disk.sync(doomed)
            try disk.syncDirectory("/d")
            let new = try disk.create("/d/new", [3])
            try disk.sync(new)  // the data, not the name
            try disk.rename("/d/old", to: "/d/renamed")
            try disk.remove("/d/doomed")
            simulation.crash()
            let names = Set(simulation.names(in: "/d") ?? [])
            if !names.contains("new") { createdLost += 1 }
            if names.contains("old") { renameUndone += 1 } else { #expect(names.contains("renamed") && simulation.contents(of: "/d/renamed") == [1]) }
            if names.contains("doomed") { removalUndone += 1 }
            #expect(names.contains("old") != names.contains("renamed"), "a rename is atomic across a crash")

            let synced = SimulatedFileSystem(seed: seed)
            synced.makeDurableDirectory("/d")
            let disk2 = synced.attach()
            _ = try disk2.create("/d/new", [3])
            try disk2.syncDirectory("/d")
            synced.crash()
            #expect(synced.names(in: "/d") == ["new"], "a synced entry stays (its unsynced data may not)")
        }
        #expect(createdLost > 10 && renameUndone > 10 && removalUndone > 10, "\(createdLost) \(renameUndone) \(removalUndone)")
    }

    @Test func theSameSeedGivesTheSamePostCrashStateAndOtherSeedsDiffer() throws {
        func wreck(seed: UInt64) throws -> [String: [UInt8]] {
            let simulation = SimulatedFileSystem(seed: seed)
            simulation.makeDurableDirectory("/d")
            let disk = simulation.attach()
            for index in 0..<6 {
                let file = try disk.create("/d/f\(index)", Array(repeating: UInt8(index), count: 700 * (index + 1)))
                if index % 2 == 0 { try disk.syncData(file) }
                try disk.write(file, Array(repeating: 0xEE, count: 1500), at: 300)
                try disk.truncate(file, toSizeBytes: 5000)
            }
            try disk.syncDirectory("/d")
            _ = try disk.create("/d/late", [9])
            simulation.crash()
            return simulation.durableSnapshot()
        }
        var distinct = Set<[String: [UInt8]]>()
        for seed in 0..<20 as Range<UInt64> {
            let first = try wreck(seed: seed)
            #expect(try wreck(seed: seed) == first, "seed \(seed) replays")
            distinct.insert(first)
        }
        #expect(distinct.count > 15, "different seeds wreck differently")
    }

    @Test func aProcessCrashKeepsEverythingWrittenAndAPowerLossAfterItMayNot() throws {
        var lost = 0
        for seed in 0..<30 as Range<UInt64> {
            let simulation = SimulatedFileSystem(seed: seed)
            simulation.makeDurableDirectory("/d")
            let disk = simulation.attach()
            let file = try disk.create("/d/f", Array(repeating: 5, count: 3000))
            simulation.crashProcess()
            #expect(simulation.contents(of: "/d/f") == Array(repeating: 5, count: 3000))
            #expect(simulation.pendingChangeCount(of: "/d/f") == 1, "still only in the page cache")
            #expect(throws: SystemError.self) { try disk.write(file, [1], at: 0) }
            simulation.crash()
            if simulation.contents(of: "/d/f") != Array(repeating: 5, count: 3000) { lost += 1 }
        }
        #expect(lost > 10)
    }

    @Test func afterACrashTheDeadProcessCannotTouchTheDiskAndItsLocksAreGone() throws {
        let simulation = SimulatedFileSystem(seed: 1)
        simulation.makeDurableDirectory("/d")
        let before = simulation.attach()
        let lock = try before.open("/d/LOCK", mode: .createOrOpen)
        #expect(try before.tryLockExclusive(lock))
        let second = try before.open("/d/LOCK", mode: .readWrite)
        #expect(try before.tryLockExclusive(second) == false, "one holder at a time")
        try before.close(second)
        try before.syncDirectory("/d")
        simulation.crashProcess()
        #expect(throws: SystemError.self) { _ = try before.open("/d/x", mode: .createExclusive) }
        #expect(throws: SystemError.self) { try before.close(lock) }
        #expect(!before.exists("/d/LOCK"), "a dead process sees nothing")
        let after = simulation.attach()
        let again = try after.open("/d/LOCK", mode: .readWrite)
        #expect(try after.tryLockExclusive(again), "the crash released the lock")
        try after.close(again)
        #expect(simulation.openDescriptorCount == 0)
        #expect(simulation.misuses.isEmpty)
        #expect(throws: SystemError.self) { try after.close(again) }
        #expect(simulation.misuses.count == 1, "closing twice is recorded as misuse")
    }

    @Test func injectedFaultsFailTheChosenCallOnceOrForGood() throws {
        let simulation = SimulatedFileSystem(seed: 2)
        simulation.makeDurableDirectory("/d")
        let disk = simulation.attach()
        let file = try disk.create("/d/f")
        simulation.inject(.init(.write, nthCall: 2, errno: SimulatedFileSystem.noSpace))
        try disk.write(file, [1], at: 0)
        #expect { try disk.write(file, [2], at: 1) } throws: { ($0 as? SystemError)?.errno == Errno.noSpace }
        try disk.write(file, [3], at: 2)
        #expect(simulation.contents(of: "/d/f") == [1, 0, 3], "the failed write changed nothing")
        simulation.removeFaults()
        simulation.inject(.init(.syncData, nthCall: 1, errno: SimulatedFileSystem.ioError, persistent: true))
        for _ in 0..<3 { #expect(throws: SystemError.self) { try disk.syncData(file) } }
        #expect(simulation.faultsTriggered == 4)
        simulation.removeFaults()
        simulation.inject(.init(.open, nthCall: 1, errno: SimulatedFileSystem.ioError, pathContains: ".idx"))
        _ = try disk.create("/d/a.seg")
        #expect(throws: SystemError.self) { _ = try disk.create("/d/a.idx") }
    }

    @Test func aFailedSyncLosesTheDirtyPagesEvenIfALaterSyncSucceeds() throws {
        let (simulation, disk, file) = try Self.durableFile(seed: 3)
        try disk.write(file, [9, 9, 9], at: 0)
        simulation.inject(.init(.syncData, errno: SimulatedFileSystem.ioError))
        #expect(throws: SystemError.self) { try disk.syncData(file) }
        try disk.syncData(file)
        #expect(simulation.contents(of: "/d/f")?.prefix(3) == [9, 9, 9], "the page cache still shows them")
        simulation.crash()
        #expect(simulation.contents(of: "/d/f")?.prefix(3) == [0, 0, 0], "fsyncgate: the retried sync did not write them")
    }

    @Test func aScheduledCrashHappensRightAfterTheChosenCountedCall() throws {
        let simulation = SimulatedFileSystem(seed: 4)
        simulation.makeDurableDirectory("/d")
        let disk = simulation.attach()
        let file = try disk.create("/d/f")  // counted call 1
        simulation.scheduleCrash(.processCrash, afterIOCalls: 2)
        try disk.write(file, [1], at: 0)  // 2
        var buffer = [UInt8](repeating: 0, count: 1)
        _ = try buffer.withUnsafeMutableBytes { try disk.read(file, into: $0, at: 0) }  // reads are not counted
        #expect(simulation.crashCount == 0)
        try disk.syncData(file)  // 3: takes effect, then the process dies
        #expect(simulation.crashes == [.processCrash])
        #expect(simulation.ioCallCount == 3)
        #expect(throws: SystemError.self) { try disk.write(file, [2], at: 1) }
        #expect(simulation.ioCallCount == 3, "a dead process's calls are not counted")
    }
}

/// `readWholeFile` (every small file of a store, and the active segment's index
/// checkpoint) on both file systems: exactly the file's bytes, none for an empty file.
@Suite struct ReadWholeFileTests {
    static let sizes = [0, 1, 4095, 4096, 1 << 20, (1 << 20) + 17]

    static func bytes(count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }

    @Test(arguments: sizes) func onThePosixFileSystem(sizeBytes: Int) throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let fileSystem = PosixFileSystem()
        let path = folder.path + "/file"
        let file = try fileSystem.open(path, mode: .createExclusive)
        let expected = Self.bytes(count: sizeBytes)
        try expected.withUnsafeBytes { try fileSystem.write(file, $0, at: 0) }
        try fileSystem.close(file)
        #expect(try fileSystem.readWholeFile(path) == expected)
    }

    @Test(arguments: sizes) func onTheSimulatedFileSystem(sizeBytes: Int) throws {
        let disk = SimulatedFileSystem(seed: 1).attach()
        try disk.makeDirectory("/d")
        let expected = Self.bytes(count: sizeBytes)
        try disk.close(try disk.create("/d/f", expected))
        #expect(try disk.readWholeFile("/d/f") == expected)
    }
}
