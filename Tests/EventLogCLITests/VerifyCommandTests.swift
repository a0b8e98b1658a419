// `eventlog verify` and corruption: a healthy store passes; a flipped byte is
// found, named by file and offset, and makes every command exit 4.
import Foundation
import Testing

@Suite struct VerifyCommandTests {
    /// A store with three events in three append calls, so that valid records
    /// follow the first one (damage there is corruption, not a torn tail).
    private func makeStore(in folder: TemporaryDirectory) async throws {
        let result = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "order-1", "--segment-size", "65536"],
            lines: [
                #"{"type":"OrderCreated","data":{"customer":"ada@example.com","currency":"EUR"}}"#,
                #"{"type":"ItemAdded","data":{"sku":"TEA-01"}}"#,
                #"{"type":"OrderPaid","data":{"amountCents":2100}}"#,
            ],
            in: folder)
        try #require(result.status == 0, "\(result)")
    }

    /// Flips one byte in the middle of the first record of the first segment and
    /// returns the segment's path and the record's range of offsets.
    private func corruptFirstRecord(in folder: TemporaryDirectory) throws -> (path: String, record: Range<Int>) {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.store).filter { $0.hasSuffix(".seg") }.sorted()
        let path = folder.store + "/" + (try #require(names.first))
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let recordStart = 64
        // The record's first four bytes are its length, little-endian.
        let length = (0..<4).reduce(0) { $0 | Int(bytes[recordStart + $1]) << (8 * $1) }
        try #require(length > 64 && recordStart + length < bytes.count)
        bytes[recordStart + length / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (path, recordStart..<recordStart + length)
    }

    @Test func verifyOnAHealthyStoreExitsZero() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder)
        let result = try await EventLogProcess.run(["verify", "--store", folder.store], in: folder)
        #expect(result.status == 0, "\(result)")
        #expect(result.standardOutput.contains("events         3"), "\(result)")
        #expect(result.standardOutput.contains("last position  3"))
        #expect(result.standardOutput.contains("Healthy"))
        #expect(result.standardError.isEmpty)
    }

    @Test func verifyAfterAFlippedByteExitsFourAndNamesTheFileAndOffset() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder)
        let (path, record) = try corruptFirstRecord(in: folder)

        let result = try await EventLogProcess.run(["verify", "--store", folder.store], in: folder)
        #expect(result.status == 4, "\(result)")
        let problem = try #require(
            result.outputLines.first { $0.contains(path) && $0.contains("byte offset") }, "no problem line names \(path):\n\(result)")
        let offset = try #require(problem.firstMatch(of: /byte offset (\d+)/).flatMap { Int($0.1) })
        #expect(record.contains(offset), "offset \(offset) is not in the damaged record \(record)")
        #expect(result.standardError.hasPrefix("eventlog: error: "), "\(result)")
        #expect(result.standardError.contains("backup"), "the error should say what to do: \(result)")
    }

    /// Reads meet the damage wherever it is. An append meets it at open when the
    /// store was not closed cleanly (no index checkpoint: open reads the active
    /// segment); after a clean close, open trusts the checkpoint and the damage
    /// surfaces on the next read or verify instead.
    @Test(arguments: [["read"], ["read", "--stream", "order-1"], ["append", "--stream", "order-1"]])
    func commandsOnACorruptedStoreExitFour(command: [String]) async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder)
        let (path, _) = try corruptFirstRecord(in: folder)
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.store) where name.hasSuffix(".idx") {
            try FileManager.default.removeItem(atPath: folder.store + "/" + name)
        }

        let result = try await EventLogProcess.run(
            command + ["--store", folder.store], lines: [#"{"type":"ItemAdded","data":{}}"#], in: folder)
        #expect(result.status == 4, "\(result)")
        #expect(result.standardError.contains("Corruption in \(path)"), "\(result)")
        #expect(result.standardError.contains("eventlog verify"), "\(result)")
        #expect(result.standardOutput.isEmpty)
        #expect(!result.showsCrash)
    }

    @Test func verifyOfAFolderWithoutAStoreExitsOne() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(["verify", "--store", folder.path], in: folder)
        #expect(result.status == 1, "\(result)")
        #expect(result.standardError.contains("is not a usable EventLog store"), "\(result)")
    }
}
