// `eventlog repair`: never without --truncate-after-corruption; with it, a log
// damaged in an early segment is cut before the damage, the cut part kept in a
// backup, and the store verifies and reads again.
import EventLog
import EventSourcing
import Foundation
import Testing

@Suite struct RepairCommandTests {
    /// A store of 64 KiB segments holding 200 events of about 1 KB, one append call
    /// each, closed, with its index files removed (so that opening it scans the
    /// segments). Returns the ids of the events in position order.
    private func makeStore(in folder: TemporaryDirectory) async throws -> [String] {
        var ids: [String] = []
        try await StoreFixture.write(in: folder, segmentSizeBytes: 65_536) { store in
            let padding = String(repeating: "x", count: 1_000)
            for index in 1...200 {
                let event = StoreFixture.event("Tick", #"{"n":\#(index),"pad":"\#(padding)"}"#)
                try await store.append([event], to: StreamName("clock-\(index % 3)"))
                ids.append(event.id.uuidString)
            }
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.store) where name.hasSuffix(".idx") {
            try FileManager.default.removeItem(atPath: folder.store + "/" + name)
        }
        return ids
    }

    /// The store's segment files, in log order.
    private func segments(in folder: TemporaryDirectory) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.store).filter { $0.hasSuffix(".seg") }.sorted()
    }

    /// Flips a byte in the middle of the first record of the second segment and
    /// returns the segment's path and first position (from its name).
    private func corruptSecondSegment(in folder: TemporaryDirectory) throws -> (path: String, firstPosition: Int) {
        let names = try segments(in: folder)
        try #require(names.count >= 3, "the store should have several segments, not \(names)")
        let path = folder.store + "/" + names[1]
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        // After the 64-byte segment header, 20 bytes into the record: inside its body.
        let offset: UInt64 = 64 + 20
        try handle.seek(toOffset: offset)
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: [byte ^ 0xFF])
        return (path, try #require(Int(names[1].dropLast(".seg".count))))
    }

    /// Every file of the store with its bytes, to show that nothing changed.
    private func snapshot(of folder: TemporaryDirectory) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.store) {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: folder.store + "/" + name))
        }
        return files
    }

    @Test func repairCutsACorruptedLogBeforeTheDamageAndKeepsABackup() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let ids = try await makeStore(in: folder)
        let (damaged, firstCut) = try corruptSecondSegment(in: folder)
        let segmentsBefore = try segments(in: folder)

        let verify = try await EventLogProcess.run(["verify", "--store", folder.store], in: folder)
        #expect(verify.status == 4, "\(verify)")

        let repair = try await EventLogProcess.run(["repair", "--store", folder.store, "--truncate-after-corruption"], in: folder)
        #expect(repair.status == 0, "\(repair)")
        #expect(repair.standardError.isEmpty, "\(repair)")
        let output = repair.standardOutput
        #expect(output.contains("Repaired store \(folder.store)"), "\(repair)")
        #expect(output.contains("corruption       \(damaged) at byte offset "), "\(repair)")
        #expect(output.contains("positions kept   1...\(firstCut - 1)"), "\(repair)")
        #expect(output.contains("positions cut    \(firstCut)...200 (\(201 - firstCut) events removed)"), "\(repair)")
        let backupLine = try #require(repair.outputLines.first { $0.hasPrefix("  backup ") }, "\(repair)")
        let backup = String(backupLine.dropFirst("  backup ".count)).trimmingCharacters(in: .whitespaces)
        #expect(backup.hasPrefix(folder.store + "/repair-backup-"), "\(repair)")
        let backedUp = try FileManager.default.contentsOfDirectory(atPath: backup)
        // The damaged segment's cut bytes and every later segment are in the backup.
        #expect(backedUp.contains { $0.hasPrefix(segmentsBefore[1]) }, "\(backedUp)")
        for later in segmentsBefore[2...] { #expect(backedUp.contains(later), "\(later) not in \(backedUp)") }

        let verifyAfter = try await EventLogProcess.run(["verify", "--store", folder.store], in: folder)
        #expect(verifyAfter.status == 0, "\(verifyAfter)")
        let read = try await EventLogProcess.run(["read", "--store", folder.store], in: folder)
        #expect(read.status == 0, "\(read)")
        let events = try JSONLines.objects(read.standardOutput)
        #expect(events.map { $0["position"] as? Int } == Array(1..<firstCut))
        #expect(events.map { $0["id"] as? String } == Array(ids[..<(firstCut - 1)]))

        // The store takes appends again, right after what was kept.
        let append = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "clock-9"], lines: [#"{"type":"Tick","data":{}}"#], in: folder)
        #expect(append.standardOutput == "clock-9 1 \(firstCut)\n", "\(append)")
    }

    @Test func aDamagedCompactedSegmentIsCutAndSealedAndTheStoreOpensAgain() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        _ = try await makeStore(in: folder)
        try await StoreFixture.write(in: folder, segmentSizeBytes: 65_536) { store in
            try await store.deleteStream("clock-1", expectedVersion: .any, hard: true)
            try await store.compact()
        }
        let before = try JSONLines.objects(try await EventLogProcess.run(["read", "--store", folder.store], in: folder).standardOutput)
        // The second segment's third record (compacted: its positions skip clock-1's).
        let names = try segments(in: folder)
        let path = folder.store + "/" + names[1]
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let second = 64 + Int(bytes[64]) + Int(bytes[65]) << 8
        let third = second + Int(bytes[second]) + Int(bytes[second + 1]) << 8
        bytes[third + 30] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let keptPositions = before.compactMap { $0["position"] as? Int }.filter { $0 < Int(names[1].dropLast(4))! }.count + 2

        let repair = try await EventLogProcess.run(["repair", "--store", folder.store, "--truncate-after-corruption"], in: folder)
        #expect(repair.status == 0, "\(repair)")
        let verify = try await EventLogProcess.run(["verify", "--store", folder.store], in: folder)
        #expect(verify.status == 0, "\(verify)")
        let after = try JSONLines.objects(try await EventLogProcess.run(["read", "--store", folder.store], in: folder).standardOutput)
        #expect(after.map { $0["id"] as? String } == before.prefix(keptPositions).map { $0["id"] as? String })
        let append = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "clock-9"], lines: [#"{"type":"Tick","data":{}}"#], in: folder)
        #expect(append.status == 0, "\(append)")
        #expect(append.standardOutput == "clock-9 1 \((after.last?["position"] as? Int ?? 0) + 1)\n", "\(append)")
    }

    @Test func repairWithoutTheFlagExitsTwoSaysWhatItWouldDoAndChangesNothing() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        _ = try await makeStore(in: folder)
        let (damaged, _) = try corruptSecondSegment(in: folder)
        let before = try snapshot(of: folder)

        let repair = try await EventLogProcess.run(["repair", "--store", folder.store], in: folder)
        #expect(repair.status == 2, "\(repair)")
        #expect(repair.standardOutput.contains("is corrupted"), "\(repair)")
        #expect(repair.standardOutput.contains("\(damaged) at byte offset"), "\(repair)")
        #expect(repair.standardOutput.contains("With --truncate-after-corruption, repair would cut the log"), "\(repair)")
        #expect(repair.standardError.contains("nothing was changed"), "\(repair)")
        #expect(repair.standardError.contains("'--truncate-after-corruption'"), "\(repair)")
        #expect(repair.standardError.contains("eventlog repair --help"), "\(repair)")
        #expect(try snapshot(of: folder) == before, "repair without the flag changed the store")

        let verify = try await EventLogProcess.run(["verify", "--store", folder.store], in: folder)
        #expect(verify.status == 4, "\(verify)")
    }

    @Test func repairOfAHealthyStoreDoesNothing() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        _ = try await makeStore(in: folder)
        let before = try snapshot(of: folder)

        let repair = try await EventLogProcess.run(["repair", "--store", folder.store, "--truncate-after-corruption"], in: folder)
        #expect(repair.status == 0, "\(repair)")
        #expect(repair.standardOutput == "Store \(folder.store) is healthy (last position 200): nothing to do, nothing changed.\n")
        // The lock file is the only one repair may touch (it locks the store while it checks).
        #expect(try snapshot(of: folder).filter { $0.key != "LOCK" } == before.filter { $0.key != "LOCK" })

        let withoutFlag = try await EventLogProcess.run(["repair", "--store", folder.store], in: folder)
        #expect(withoutFlag.status == 2, "\(withoutFlag)")
        #expect(withoutFlag.standardOutput.contains("repair would do nothing"), "\(withoutFlag)")
    }

    @Test func repairWhileAnotherProcessWritesExitsFive() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let append = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "order-1"], lines: [#"{"type":"OrderCreated","data":{}}"#], in: folder)
        try #require(append.status == 0, "\(append)")
        let writer = try FileEventStore.open(directory: folder.store)
        do {
            let repair = try await EventLogProcess.run(["repair", "--store", folder.store, "--truncate-after-corruption"], in: folder)
            #expect(repair.status == 5, "\(repair)")
            #expect(repair.standardError.contains("locked by another writer"), "\(repair)")
            #expect(repair.standardOutput.isEmpty)
        } catch {
            try? await writer.close()
            throw error
        }
        try await writer.close()
    }

    @Test func repairOfAMissingFolderExitsOneAndCreatesNothing() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let repair = try await EventLogProcess.run(["repair", "--store", folder.store, "--truncate-after-corruption"], in: folder)
        #expect(repair.status == 1, "\(repair)")
        #expect(repair.standardError.contains("is not a usable EventLog store: the folder does not exist"), "\(repair)")
        #expect(!FileManager.default.fileExists(atPath: folder.store))
    }
}
