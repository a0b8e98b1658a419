import EventSourcing
import Foundation
import Testing

@_spi(Testing) @testable import EventLog

/// Builds a store with `calls` append calls of two events each, closes it, and
/// returns the active segment's path and where its last call begins and ends.
/// Unless `keepCheckpoint`, the index checkpoint written at close is removed, as
/// after a crash: the next open then reads the whole active segment.
func storeWithCalls(
    _ folder: TemporaryDirectory, calls: Int, keepCheckpoint: Bool = false
) async throws -> (segment: String, lastCallStart: Int, end: Int) {
    let store = try FileEventStore.open(directory: folder.path, options: testOptions(segmentSizeBytes: 1 << 20))
    for n in 0..<calls { try await store.append([event("A", n), event("B", n)], to: StreamName("t-\(n % 2)")) }
    try await store.close()
    if !keepCheckpoint { try removeIndexFiles(folder.path) }
    let segment = try #require(try segmentFiles(folder.path).last)
    // Walk the records to find the call boundaries.
    let content = try bytes(of: segment)
    var offset = SegmentHeader.size
    var callStarts: [Int] = [offset]
    // The records end at the end of the file (a clean close trims the zeros) or at a zero length.
    while offset + 4 <= content.count {
        let length = content.withUnsafeBytes { Int($0.loadLE(UInt32.self, at: offset)) }
        if length == 0 { break }
        let flags = content[offset + RecordLayout.flagsOffset]
        offset += length
        if flags & RecordLayout.flagCommit != 0 { callStarts.append(offset) }
    }
    return (segment, callStarts[callStarts.count - 2], offset)
}

@Suite struct RecoveryTests {
    /// A writer's open syncs what a killed writer may have left only in the page
    /// cache: the last segment (and the folder). Every earlier segment was synced
    /// before the next one was created, and syncing each of them made an open grow
    /// with the log (on a disk with a write cache, a flush per segment).
    @Test func anOpenSyncsOnlyTheLastSegment() async throws {
        let directory = "/store"
        let fileSystem = SimulatedFileSystem(seed: 1)
        fileSystem.makeDurableDirectory(directory)
        var options = StoreOptions()
        options.segmentSizeBytes = StoreOptions.minimumSegmentSizeBytes
        let store = try FileEventStore.open(directory: directory, options: options, simulatedFileSystem: fileSystem)
        for n in 0..<40 { try await store.append([EventData(type: "E", data: Data(repeating: UInt8(n), count: 6_000))], to: "s") }
        try await store.close()
        let segments = (fileSystem.names(in: directory) ?? []).filter { $0.hasSuffix(".seg") }.sorted()
        #expect(segments.count >= 4, "several sealed segments before the active one")

        let callsBefore = fileSystem.callLog.count
        let reopened = try FileEventStore.open(directory: directory, options: options, simulatedFileSystem: fileSystem)
        let syncedSegments = fileSystem.callLog.dropFirst(callsBefore).filter { $0.contains(" sync ") && $0.hasSuffix(".seg") }
        #expect(syncedSegments.count == 1 && syncedSegments.first?.hasSuffix(segments.last!) == true, "\(syncedSegments)")
        #expect(try reopened.readAll().count == 40)
        try await reopened.close()
    }

    /// A segment file's name must say where its header says it starts, even where
    /// the log's positions would chain without it: a renamed file is refused.
    @Test func aSegmentWhoseNameDisagreesWithItsHeaderIsRefused() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let store = try FileEventStore.open(directory: folder.path, options: testOptions())
        try await store.append([event("E", 1)], to: "s")
        try await store.close()
        let segment = try #require(try segmentFiles(folder.path).first)
        #expect(segment.hasSuffix("/" + SegmentFileName.name(firstPosition: 1)))
        try FileManager.default.moveItem(atPath: segment, toPath: folder.file(SegmentFileName.name(firstPosition: 0)))
        #expect {
            try FileEventStore.open(directory: folder.path, options: testOptions())
        } throws: { error in
            guard case .corrupted(let file, 40, let reason) = error as? EventStoreError else { return false }
            return file.hasSuffix(SegmentFileName.name(firstPosition: 0)) && reason.contains("starts at position 1")
        }
    }

    @Test func tornTailAtEveryByteOfTheLastCallIsTruncatedOnOpen() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let (segment, lastCallStart, end) = try await storeWithCalls(folder, calls: 3)
        let pristine = try bytes(of: segment)
        let original = try FileEventStore.open(directory: folder.path, options: testOptions()).readAll()
        #expect(original.count == 6)

        for cut in lastCallStart..<end {
            for garbage in [false, true] {
                // The write of the last call stopped after `cut` bytes: the rest is
                // zeros (never written) or garbage (a torn sector).
                var damaged = pristine
                for index in cut..<end { damaged[index] = garbage ? UInt8(truncatingIfNeeded: index &* 131 &+ 7) : 0 }
                try write(damaged, to: segment)
                let store = try FileEventStore.open(directory: folder.path, options: testOptions())
                let events = try store.readAll()
                #expect(events == Array(original.prefix(4)), "cut at \(cut), garbage \(garbage)")
                let tornExpected = garbage || cut > lastCallStart
                #expect((store.openReport.tornTail != nil) == tornExpected, "cut at \(cut), garbage \(garbage)")
                // The store accepts appends again at the next dense position.
                let result = try await store.append([event()], to: "t-0")
                #expect(result.firstPosition == 5)
                try await store.close()
                #expect(try FileEventStore.verify(directory: folder.path).isHealthy)
            }
        }
    }

    @Test func checksumFailureFollowedByValidRecordsRefusesToOpen() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let (segment, _, _) = try await storeWithCalls(folder, calls: 3)
        var damaged = try bytes(of: segment)
        let target = SegmentHeader.size + RecordLayout.headerSize + 3  // inside the first record's stream name
        damaged[target] ^= 0x01
        try write(damaged, to: segment)
        #expect {
            try FileEventStore.open(directory: folder.path, options: testOptions())
        } throws: { error in
            guard case .corrupted(let file, let offset, let reason) = error as? EventStoreError else { return false }
            return file == segment && offset == UInt64(SegmentHeader.size) && reason.contains("valid record follows")
        }
        let report = try FileEventStore.verify(directory: folder.path)
        #expect(report.problems.map(\.offset) == [UInt64(SegmentHeader.size)])
    }

    @Test func aCloseThatAddedNothingLeavesTheCheckpointAloneAndOneThatAddedRewritesIt() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let (segment, _, _) = try await storeWithCalls(folder, calls: 3, keepCheckpoint: true)
        let checkpoint = segment.replacingOccurrences(of: ".seg", with: ".idx")
        // Index files are replaced by rename, so a rewrite shows as a new inode.
        func inode() throws -> Int {
            try #require(try FileManager.default.attributesOfItem(atPath: checkpoint)[.systemFileNumber] as? Int)
        }
        let written = try inode()

        // Opened and read, nothing appended: the checkpoint on disk is still exact.
        var store = try FileEventStore.open(directory: folder.path, options: testOptions(segmentSizeBytes: 1 << 20))
        #expect(store.openReport.scannedRecords == 0)
        #expect(try store.readAll().count == 6)
        try await store.close()
        #expect(try inode() == written, "a close with nothing new rewrote the checkpoint")

        // An append makes it stale: the close writes a new one, which the next open uses.
        store = try FileEventStore.open(directory: folder.path, options: testOptions(segmentSizeBytes: 1 << 20))
        try await store.append([event()], to: "t-0")
        try await store.close()
        #expect(try inode() != written, "a close after an append kept the stale checkpoint")
        store = try FileEventStore.open(directory: folder.path, options: testOptions(segmentSizeBytes: 1 << 20))
        #expect(store.openReport.scannedRecords == 0, "the new checkpoint covers the appended record")
        #expect(try store.readAll().count == 7)
        try await store.close()

        // Without a checkpoint (as after a crash) the open scans, and the close writes one.
        try removeIndexFiles(folder.path)
        store = try FileEventStore.open(directory: folder.path, options: testOptions(segmentSizeBytes: 1 << 20))
        #expect(store.openReport.scannedRecords == 7)
        try await store.close()
        #expect(FileManager.default.fileExists(atPath: checkpoint))
        store = try FileEventStore.open(directory: folder.path, options: testOptions(segmentSizeBytes: 1 << 20))
        #expect(store.openReport.scannedRecords == 0)
        try await store.close()
    }

    @Test func damageBehindACheckpointIsCaughtWhenRead() async throws {
        // A clean close leaves an index checkpoint, so the next open does not read
        // the records it covers; reads and verify still check every checksum.
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let (segment, _, _) = try await storeWithCalls(folder, calls: 3, keepCheckpoint: true)
        var damaged = try bytes(of: segment)
        damaged[SegmentHeader.size + RecordLayout.headerSize + 3] ^= 0x01
        try write(damaged, to: segment)
        let store = try FileEventStore.open(directory: folder.path, options: testOptions())
        #expect(store.openReport.scannedRecords == 0, "open used the checkpoint")
        #expect {
            try store.readAll()
        } throws: { error in
            guard case .corrupted(let file, let offset, _) = error as? EventStoreError else { return false }
            return file == segment && offset == UInt64(SegmentHeader.size)
        }
        #expect(throws: EventStoreError.self) { try store.readStream("t-0") }
        #expect(try FileEventStore.verify(directory: folder.path).problems.count == 1)
        try await store.close()
    }

    @Test func aZeroedRecordInTheMiddleIsCorruptionNotAnEnd() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let (segment, lastCallStart, _) = try await storeWithCalls(folder, calls: 3)
        var damaged = try bytes(of: segment)
        for index in SegmentHeader.size..<(SegmentHeader.size + 8) { damaged[index] = 0 }
        _ = lastCallStart
        try write(damaged, to: segment)
        #expect(throws: EventStoreError.self) { try FileEventStore.open(directory: folder.path, options: testOptions()) }
    }

    @Test func damageInASealedSegmentIsReportedWithFileAndOffset() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let store = try FileEventStore.open(directory: folder.path, options: testOptions(segmentSizeBytes: 64 * 1024))
        for n in 0..<400 { try await store.append([event("E", n, bytes: 300)], to: "s-1") }
        try await store.close()
        let sealed = try segmentFiles(folder.path)[0]
        let pristine = try bytes(of: sealed)
        // A record byte: sealed segments are trusted through their footer and index
        // at open, so the damage surfaces when the record is read (and in verify).
        var damaged = pristine
        damaged[SegmentHeader.size + 9] ^= 0x40
        try write(damaged, to: sealed)
        let reopened = try FileEventStore.open(directory: folder.path, options: testOptions())
        #expect {
            try reopened.readAll()
        } throws: { error in
            guard case .corrupted(let file, let offset, _) = error as? EventStoreError else { return false }
            return file == sealed && offset == UInt64(SegmentHeader.size)
        }
        try await reopened.close()
        // A footer byte or a segment header byte: refused at open.
        for index in [pristine.count - 40, 20] {
            var damaged = pristine
            damaged[index] ^= 0x40
            try write(damaged, to: sealed)
            #expect(throws: EventStoreError.self, "byte \(index)") {
                try FileEventStore.open(directory: folder.path, options: testOptions())
            }
        }
        for index in [SegmentHeader.size + 9, pristine.count - 40, 20] {
            var damaged = pristine
            damaged[index] ^= 0x40
            try write(damaged, to: sealed)
            let report = try FileEventStore.verify(directory: folder.path)
            #expect(report.problems.count == 1, "byte \(index)")
            #expect(report.problems.first?.file == sealed)
        }
        try write(pristine, to: sealed)
        #expect(try FileEventStore.verify(directory: folder.path).events == 400)
    }

    @Test func aRecordCopiedToTheWrongPlaceIsDetected() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let (segment, lastCallStart, end) = try await storeWithCalls(folder, calls: 3)
        var damaged = try bytes(of: segment)
        // Overwrite the last call with a copy of the first call (a misdirected write):
        // every checksum holds, but the positions are wrong for the place.
        let firstCall = Array(damaged[SegmentHeader.size..<(SegmentHeader.size + end - lastCallStart)])
        damaged.replaceSubrange(lastCallStart..<end, with: firstCall)
        try write(damaged, to: segment)
        let store = try FileEventStore.open(directory: folder.path, options: testOptions())
        // Nothing valid follows the misplaced records, so they read as a torn tail and
        // are dropped: never returned as events 5 and 6.
        #expect(try store.readAll().map(\.position.rawValue) == [1, 2, 3, 4])
        #expect(store.openReport.tornTail != nil)
        try await store.close()
    }

    @Test func reopeningAcrossManySegmentsKeepsEveryEvent() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        var expected: [RecordedEvent] = []
        for round in 0..<3 {
            let store = try FileEventStore.open(directory: folder.path, options: testOptions(segmentSizeBytes: 64 * 1024))
            #expect(try store.readAll() == expected, "round \(round)")
            for n in 0..<150 { try await store.append([event("E", n, bytes: 500)], to: StreamName("m-\(n % 7)")) }
            expected = try store.readAll()
            try await store.close()
        }
        #expect(expected.count == 450)
        let report = try FileEventStore.verify(directory: folder.path)
        #expect(report.isHealthy && report.events == 450 && report.segments > 3)
    }

    @Test func aSegmentWhoseCreationDidNotFinishIsRemoved() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let store = try FileEventStore.open(directory: folder.path, options: testOptions(segmentSizeBytes: 64 * 1024))
        for n in 0..<200 { try await store.append([event("E", n, bytes: 500)], to: "x-1") }
        try await store.close()
        // Keep only the sealed segments, then add the next segment as a crash while
        // creating it leaves it: a file whose header never became durable.
        var segments = try segmentFiles(folder.path)
        try FileManager.default.removeItem(atPath: segments.removeLast())
        let sealedEvents = try FileEventStore.verify(directory: folder.path).events
        let orphanName = SegmentFileName.name(firstPosition: sealedEvents + 1)
        try write([UInt8](repeating: 0, count: 4096), to: folder.file(orphanName))

        let reopened = try FileEventStore.open(directory: folder.path, options: testOptions())
        #expect(reopened.openReport.removedIncompleteSegments == [orphanName])
        #expect(try reopened.readAll().count == Int(sealedEvents))
        #expect(try await reopened.append([event()], to: "x-1").firstPosition.rawValue == sealedEvents + 1)
        try await reopened.close()
        #expect(try FileEventStore.verify(directory: folder.path).isHealthy)
    }

    @Test func aStoreWrittenByAnotherFormatVersionIsRefused() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await FileEventStore.open(directory: folder.path, options: testOptions()).close()
        var manifest = try bytes(of: folder.file("STORE"))
        manifest.withUnsafeMutableBytes { raw in
            raw.storeLE(UInt32(99), at: 8)
            raw.storeLE(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<60])), at: 60)
        }
        try write(manifest, to: folder.file("STORE"))
        #expect {
            try FileEventStore.open(directory: folder.path, options: testOptions())
        } throws: { error in
            guard case .incompatibleStore(_, let reason) = error as? EventStoreError else { return false }
            return reason.contains("version 99")
        }
    }
}

/// A new store is made only in a folder of its own (a writer's open removes
/// `*.tmp` files, and the store lists and rewrites what it finds).
@Suite struct StoreFolderTests {
    @Test func aNewStoreIsNotMadeInAFolderThatHoldsOtherFiles() throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try write(Array("draft".utf8), to: folder.file("report.tmp"))
        try write(Array("{}".utf8), to: folder.file("settings.json"))
        #expect {
            try FileEventStore.open(directory: folder.path, options: testOptions())
        } throws: { error in
            guard case .incompatibleStore(let path, let reason) = error as? EventStoreError else { return false }
            return path == folder.path && reason.contains("'report.tmp', 'settings.json'") && reason.contains("empty or new folder")
        }
        // Nothing was created, and nothing removed.
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names == ["report.tmp", "settings.json"])
    }

    /// What a creation cut short leaves (the lock file, the manifest's temporary
    /// file) does not keep the store from being made; a store's own folder may hold
    /// other files once the store is there.
    @Test func leftoversOfACreationCutShortDoNotCountAndAStoreKeepsOpeningWithOtherFiles() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try write([], to: folder.file("LOCK"))
        try write([1, 2, 3], to: folder.file("STORE.tmp"))
        let store = try FileEventStore.open(directory: folder.path, options: testOptions())
        try await store.append([event()], to: "f-1")
        try await store.close()
        try write(Array("{}".utf8), to: folder.file("settings.json"))
        let reopened = try FileEventStore.open(directory: folder.path, options: testOptions())
        #expect(try reopened.readAll().count == 1)
        try await reopened.close()
    }
}

@Suite struct WriterLockTests {
    @Test func aSecondWriterIsRefusedWhileReadOnlyOpensWork() async throws {
        try await withStore { store, folder in
            try await store.append([event()], to: "l-1")
            #expect(throws: EventStoreError.storeLocked(path: folder.path)) {
                try FileEventStore.open(directory: folder.path, options: testOptions())
            }
            var readOnly = testOptions()
            readOnly.readOnly = true
            let reader = try FileEventStore.open(directory: folder.path, options: readOnly)
            #expect(try reader.readAll().count == 1)
            await #expect(throws: EventStoreError.readOnly(path: folder.path)) { try await reader.append([event()], to: "l-1") }
        }
    }

    @Test func theLockIsReleasedOnClose() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await FileEventStore.open(directory: folder.path, options: testOptions()).close()
        try await FileEventStore.open(directory: folder.path, options: testOptions()).close()
    }
}

@Suite struct RepairTests {
    @Test func repairCutsAtTheLastCompleteCallBeforeTheDamageAndKeepsABackup() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let options = testOptions(segmentSizeBytes: 64 * 1024)
        let store = try FileEventStore.open(directory: folder.path, options: options)
        for n in 0..<600 { try await store.append([event("E", n, bytes: 300)], to: StreamName("r-\(n % 4)")) }
        let everything = try store.readAll()
        try await store.close()
        #expect(try FileEventStore.repair(directory: folder.path).corruption == nil, "a healthy store is left alone")

        // Damage a record in the second segment: the rest of the log is cut.
        let segments = try segmentFiles(folder.path)
        #expect(segments.count > 3)
        var damaged = try bytes(of: segments[1])
        damaged[SegmentHeader.size + 700] ^= 0xFF
        try write(damaged, to: segments[1])
        #expect(try FileEventStore.verify(directory: folder.path).problems.count == 1)

        let report = try FileEventStore.repair(directory: folder.path)
        #expect(report.corruption?.file == segments[1])
        #expect(report.eventsRemoved == UInt64(everything.count) - report.lastPositionKept)
        #expect(report.lastPositionKept > 0 && report.lastPositionCut == UInt64(everything.count))
        let backup = try #require(report.backupDirectory)
        #expect(try FileManager.default.contentsOfDirectory(atPath: backup).count >= segments.count - 2)

        let repaired = try FileEventStore.open(directory: folder.path, options: options)
        #expect(try repaired.readAll() == Array(everything.prefix(Int(report.lastPositionKept))))
        #expect(try await repaired.append([event()], to: "r-1").firstPosition.rawValue == report.lastPositionKept + 1)
        try await repaired.close()
        #expect(try FileEventStore.verify(directory: folder.path).isHealthy)
    }

    @Test func repairRefusesWhileAWriterHoldsTheStore() async throws {
        try await withStore { _, folder in
            #expect(throws: EventStoreError.storeLocked(path: folder.path)) { try FileEventStore.repair(directory: folder.path) }
        }
    }
}

/// A clean close cuts the active segment's pre-allocated zeros, so the next open
/// reads the checkpoint and the records, not megabytes of zeros; the writer
/// pre-allocates again before its first write.
@Suite struct TrimmedTailTests {
    static let segmentSizeBytes = 1 << 20

    static func sizeBytes(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
    }

    @Test func aCleanCloseTrimsTheZerosAndTheNextOpenReadsNoneOfThem() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let options = testOptions(segmentSizeBytes: Self.segmentSizeBytes)
        let store = try FileEventStore.open(directory: folder.path, options: options)
        for index in 0..<10 { try await store.append([event()], to: StreamName("trim-\(index)")) }
        let segment = try #require(try segmentFiles(folder.path).first)
        #expect(try Self.sizeBytes(segment) == Self.segmentSizeBytes, "pre-allocated while written to")
        try await store.close()
        let trimmedSizeBytes = try Self.sizeBytes(segment)
        #expect(trimmedSizeBytes < 4096, "only the header and ten records are left")

        let counting = GatedFileSystem()
        let reopened = try FileEventStore.open(directory: folder.path, options: options, fileSystem: counting)
        #expect(counting.bytesRead < 64 * 1024, "the open read no megabyte of zeros")
        #expect(reopened.openReport.tornTail == nil)
        #expect(try reopened.readAll().count == 10)
        #expect(try Self.sizeBytes(segment) == trimmedSizeBytes, "an open that writes nothing leaves the file as it was")
        try await reopened.append([event()], to: "trim-more")
        #expect(try Self.sizeBytes(segment) == Self.segmentSizeBytes, "pre-allocated again before the first write")
        try await reopened.close()
        #expect(try Self.sizeBytes(segment) < 4096)

        let last = try FileEventStore.open(directory: folder.path, options: options)
        #expect(try last.readAll().map(\.position.rawValue) == Array(1...11))
        try await last.close()
    }

    @Test func aFailedPreAllocationOfATrimmedSegmentOnlyCostsTheSpeedUp() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let options = testOptions(segmentSizeBytes: Self.segmentSizeBytes)
        let store = try FileEventStore.open(directory: folder.path, options: options)
        try await store.append([event()], to: "trim-a")
        try await store.close()

        let faulty = FaultInjectingFileSystem()
        let reopened = try FileEventStore.open(directory: folder.path, options: options, fileSystem: faulty)
        faulty.arm(.init(operation: .allocate, afterCalls: 1, errno: ENOSPC, persistent: true))
        try await reopened.append([event()], to: "trim-b")
        try await reopened.append([event()], to: "trim-c")
        #expect(faulty.failuresInjected == 1)
        try await reopened.close()

        let last = try FileEventStore.open(directory: folder.path, options: options)
        #expect(try last.readAll().map(\.stream.rawValue) == ["trim-a", "trim-b", "trim-c"])
        try await last.close()
    }
}
