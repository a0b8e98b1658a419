// A store keeps every segment file open: one of more segments than the process's
// soft limit on open files still opens (the limit is raised toward the hard one),
// and one beyond the hard limit is refused with what to do, not a bare EMFILE.
import EventSourcing
import Foundation
import Testing

@Suite struct OpenFileLimitTests {
    static let segmentCount = 300

    /// A store of about ``segmentCount`` segments of 64 KiB, one 40 KB event each.
    private func makeStore(in folder: TemporaryDirectory) async throws {
        try await StoreFixture.write(in: folder) { store in
            let data = String(repeating: "x", count: 40_000)
            for n in 0..<Self.segmentCount {
                try await store.append([StoreFixture.event("Big", #"{"x":"\#(data)"}"#)], to: try StreamName("big-\(n % 10)"))
            }
        }
        let segments = try FileManager.default.contentsOfDirectory(atPath: folder.store).filter { $0.hasSuffix(".seg") }
        try #require(segments.count >= Self.segmentCount, "one segment per event")
    }

    @Test func aStoreOfMoreSegmentsThanTheSoftLimitOpens() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder)
        let result = try await EventLogProcess.run(
            ["stats", "--store", folder.store, "--json"], openFileLimit: "-S -n 128", in: folder)
        #expect(result.status == 0, "\(result)")
        let stats = try #require(try JSONLines.objects(result.standardOutput).first)
        #expect(stats["events"] as? Int == Self.segmentCount)
    }

    @Test func aStoreOfMoreSegmentsThanTheHardLimitSaysWhatToDo() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder)
        let result = try await EventLogProcess.run(["stats", "--store", folder.store], openFileLimit: "-n 128", in: folder)
        #expect(result.status != 0, "\(result)")
        #expect(!result.showsCrash, "\(result)")
        #expect(result.standardError.contains("Too many open files"), "\(result)")
        #expect(result.standardError.contains("raise the limit on open files (ulimit -n, now 128)"), "\(result)")
        #expect(result.standardError.contains("or use a larger segment size"), "\(result)")
        #expect(result.standardOutput.isEmpty)
    }
}
