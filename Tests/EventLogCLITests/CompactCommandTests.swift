// `eventlog compact`: after deletions the store shrinks, every read answers as
// before, a hard-deleted stream's data is gone from every file; the summary,
// the JSON and the errors are what the help promises.
import EventLog
import EventSourcing
import Foundation
import Testing

@Suite struct CompactCommandTests {
    /// Ten streams of 200 events each on 64 KiB segments; streams 1...8 then deleted
    /// (odd ones hard, even ones soft).
    private func makeStore(in folder: TemporaryDirectory, marker: String) async throws {
        try await StoreFixture.write(in: folder) { store in
            for round in 0..<200 {
                for stream in 0..<10 {
                    _ = try await store.append(
                        [StoreFixture.event("Tick", #"{"n":\#(round),"note":"\#(marker)-\#(stream)"}"#)],
                        to: try StreamName("clock-\(stream)"), expectedVersion: .any)
                }
            }
            for stream in 1...8 {
                try await store.deleteStream(try StreamName("clock-\(stream)"), expectedVersion: .any, hard: stream % 2 == 1)
            }
        }
    }

    @Test func compactReclaimsTheSpaceAndEveryReadAnswersAsBefore() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let marker = "MARK\(UInt32.random(in: 0...UInt32.max))"
        try await makeStore(in: folder, marker: marker)
        let before = try await EventLogProcess.run(["read", "--store", folder.store], in: folder)
        let sizeBefore = try folderBytes(folder.store)

        let compact = try await EventLogProcess.run(["compact", "--store", folder.store], in: folder)
        #expect(compact.status == 0, "\(compact)")
        #expect(compact.standardOutput.hasPrefix("Compacted \(folder.store) in "), "\(compact)")
        #expect(compact.standardOutput.contains("events removed      1596 ("), "\(compact)")
        #expect(compact.standardOutput.contains("bytes reclaimed"), "\(compact)")
        #expect(compact.standardError.isEmpty, "\(compact)")
        #expect(try folderBytes(folder.store) < sizeBefore / 2)

        let after = try await EventLogProcess.run(["read", "--store", folder.store], in: folder)
        #expect(after.standardOutput == before.standardOutput)
        // A soft-deleted stream keeps its version; a hard-deleted one's data is gone everywhere.
        let append = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "clock-2", "--expected-version", "200"],
            lines: [#"{"type":"Tick","data":{}}"#], in: folder)
        #expect(append.standardOutput.hasPrefix("clock-2 201 "), "\(append)")
        for stream in [1, 3, 5, 7] { #expect(try !folderContains("\(marker)-\(stream)\"", folder.store), "clock-\(stream)") }
        #expect(try folderContains("\(marker)-0\"", folder.store))
        let verify = try await EventLogProcess.run(["verify", "--store", folder.store], in: folder)
        #expect(verify.status == 0, "\(verify)")
    }

    @Test func jsonOutputCarriesTheReportAndASecondRunFindsNothingToReclaim() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder, marker: "m")
        let first = try await EventLogProcess.run(["compact", "--store", folder.store, "--json"], in: folder)
        #expect(first.status == 0, "\(first)")
        let report = try #require(try JSONLines.objects(first.standardOutput).first)
        #expect(report["eventsRemoved"] as? Int == 1_596, "4 hard-deleted streams of 200 and 4 soft-deleted ones but their last events")
        #expect((report["bytesReclaimed"] as? Int ?? 0) > 0)
        #expect(report["segmentsRewritten"] as? Int == report["segmentsConsidered"] as? Int)
        for key in ["bytesRead", "bytesBefore", "bytesAfter", "eventsKept", "snapshotsRemoved", "milliseconds"] {
            #expect(report[key] != nil, "\(key)")
        }
        let second = try await EventLogProcess.run(["compact", "--store", folder.store], in: folder)
        #expect(second.status == 0, "\(second)")
        #expect(second.standardOutput.hasPrefix("Nothing to reclaim in \(folder.store)"), "\(second)")
    }

    @Test func statsCountWhatIsLeftAndInspectSaysARemovedPositionWasCompactedAway() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder, marker: "m")
        let compact = try await EventLogProcess.run(["compact", "--store", folder.store], in: folder)
        #expect(compact.status == 0, "\(compact)")
        let stats = try await EventLogProcess.run(["stats", "--store", folder.store, "--json"], in: folder)
        let figures = try #require(try JSONLines.objects(stats.standardOutput).first)
        #expect(figures["events"] as? Int == 2_000 - 1_596, "\(stats)")
        #expect(figures["streams"] as? Int == 6, "2 kept and 4 soft-deleted streams' last events")
        // Position 2 was clock-1's first event (hard-deleted).
        let removed = try await EventLogProcess.run(["inspect", "--store", folder.store, "--position", "2"], in: folder)
        #expect(removed.status == 2, "\(removed)")
        #expect(removed.standardError.contains("compaction removed it"), "\(removed)")
        let kept = try await EventLogProcess.run(["inspect", "--store", folder.store, "--position", "1"], in: folder)
        #expect(kept.status == 0, "\(kept)")
        let past = try await EventLogProcess.run(["inspect", "--store", folder.store, "--position", "9999"], in: folder)
        #expect(past.status == 2 && past.standardError.contains("which holds positions 1...2000"), "\(past)")
    }

    @Test func aMissingStoreOrAMissingFlagIsAnErrorThatSaysWhatToDo() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let missing = try await EventLogProcess.run(["compact", "--store", folder.file("nothing-here")], in: folder)
        #expect(missing.status != 0, "\(missing)")
        #expect(missing.standardError.contains("nothing-here"), "\(missing)")
        #expect(!missing.standardError.contains("Fatal error"), "\(missing)")
        let usage = try await EventLogProcess.run(["compact"], in: folder)
        #expect(usage.status == 2, "\(usage)")
        #expect(usage.standardError.contains("--store"), "\(usage)")
    }

    @Test func anotherWriterMakesCompactExitFive() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder, marker: "m")
        let writer = try FileEventStore.open(directory: folder.store)
        let locked = try await EventLogProcess.run(["compact", "--store", folder.store], in: folder)
        #expect(locked.status == 5, "\(locked)")
        try await writer.close()
    }

    private func folderBytes(_ path: String) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: path).reduce(0) { total, name in
            total + ((try FileManager.default.attributesOfItem(atPath: path + "/" + name)[.size] as? Int) ?? 0)
        }
    }

    private func folderContains(_ text: String, _ path: String) throws -> Bool {
        let needle = Data(text.utf8)
        let enumerator = FileManager.default.enumerator(atPath: path)
        while let name = enumerator?.nextObject() as? String {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path + "/" + name, isDirectory: &isFolder), !isFolder.boolValue else { continue }
            if try Data(contentsOf: URL(fileURLWithPath: path + "/" + name)).range(of: needle) != nil { return true }
        }
        return false
    }
}
