// `eventlog delete-stream`: soft deletion hides a stream and lets it go on; hard
// deletion retires its name; the expected version and the writer lock hold as
// they do for an append.
import EventLog
import EventSourcing
import Foundation
import Testing

@Suite struct DeleteStreamCommandTests {
    /// Appends three events to `order-1` and one to `order-2` through the CLI.
    private func makeStore(in folder: TemporaryDirectory) async throws {
        for (stream, lines) in [
            ("order-1", [#"{"type":"OrderCreated","data":{}}"#, #"{"type":"ItemAdded","data":{}}"#, #"{"type":"OrderPaid","data":{}}"#]),
            ("order-2", [#"{"type":"OrderCreated","data":{}}"#]),
        ] {
            let result = try await EventLogProcess.run(["append", "--store", folder.store, "--stream", stream], lines: lines, in: folder)
            try #require(result.status == 0, "\(result)")
        }
    }

    private func readStream(_ stream: String, in folder: TemporaryDirectory) async throws -> [[String: Any]] {
        let read = try await EventLogProcess.run(["read", "--store", folder.store, "--stream", stream], in: folder)
        #expect(read.status == 0, "\(read)")
        return try JSONLines.objects(read.standardOutput)
    }

    @Test func softDeleteHidesTheStreamAndAppendingContinuesAtTheNextVersion() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder)
        let delete = try await EventLogProcess.run(
            ["delete-stream", "--store", folder.store, "--stream", "order-1", "--expected-version", "3"], in: folder)
        #expect(delete.status == 0, "\(delete)")
        #expect(delete.standardOutput.contains("Soft-deleted stream 'order-1' (it was at version 3)"), "\(delete)")
        #expect(delete.standardOutput.contains("appending continues at version 4"), "\(delete)")
        #expect(delete.standardError.isEmpty)

        #expect(try await readStream("order-1", in: folder).isEmpty)
        let whole = try await EventLogProcess.run(["read", "--store", folder.store], in: folder)
        #expect(try JSONLines.objects(whole.standardOutput).map { $0["stream"] as? String } == ["order-2"])

        let append = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "order-1", "--expected-version", "3"],
            lines: [#"{"type":"OrderReopened","data":{}}"#], in: folder)
        #expect(append.status == 0, "\(append)")
        #expect(append.standardOutput == "order-1 4 5\n")
        let after = try await readStream("order-1", in: folder)
        #expect(after.map { $0["version"] as? Int } == [4])
        #expect(after.map { $0["type"] as? String } == ["OrderReopened"])
    }

    @Test func hardDeleteHidesTheStreamAndAnAppendToItsNameFailsClearly() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder)
        let delete = try await EventLogProcess.run(
            ["delete-stream", "--store", folder.store, "--stream", "order-1", "--hard"], in: folder)
        #expect(delete.status == 0, "\(delete)")
        #expect(delete.standardOutput.contains("Hard-deleted stream 'order-1' (it was at version 3)"), "\(delete)")
        #expect(delete.standardOutput.contains("appending to this name now fails"), "\(delete)")
        #expect(try await readStream("order-1", in: folder).isEmpty)
        #expect(try await readStream("order-2", in: folder).count == 1)

        let append = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "order-1"], lines: [#"{"type":"OrderReopened","data":{}}"#], in: folder)
        #expect(append.status == 1, "\(append)")
        #expect(append.standardError.contains("Stream 'order-1' was hard-deleted"), "\(append)")
        #expect(append.standardError.contains("Append to a new stream name"), "\(append)")
        #expect(append.standardOutput.isEmpty)

        let again = try await EventLogProcess.run(
            ["delete-stream", "--store", folder.store, "--stream", "order-1", "--hard"], in: folder)
        #expect(again.status == 1, "\(again)")
        #expect(again.standardError.contains("was hard-deleted"), "\(again)")
    }

    @Test(arguments: ["2", "no-stream"])
    func aWrongExpectedVersionExitsThreeAndDeletesNothing(expected: String) async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder)
        for hard in [[], ["--hard"]] {
            let delete = try await EventLogProcess.run(
                ["delete-stream", "--store", folder.store, "--stream", "order-1", "--expected-version", expected] + hard, in: folder)
            #expect(delete.status == 3, "\(delete)")
            #expect(delete.standardError.contains("Wrong expected version for stream 'order-1'"), "\(delete)")
            #expect(delete.standardError.contains("the stream is at version 3"), "\(delete)")
            #expect(delete.standardOutput.isEmpty)
        }
        #expect(try await readStream("order-1", in: folder).count == 3)
    }

    @Test func deleteStreamOnAStoreAnotherProcessWritesExitsFive() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder)
        let writer = try FileEventStore.open(directory: folder.store)
        do {
            let delete = try await EventLogProcess.run(
                ["delete-stream", "--store", folder.store, "--stream", "order-1"], in: folder)
            #expect(delete.status == 5, "\(delete)")
            #expect(delete.standardError.contains("locked by another writer"), "\(delete)")
            #expect(try writer.readStream("order-1").count == 3)
        } catch {
            try? await writer.close()
            throw error
        }
        try await writer.close()
    }

    @Test(arguments: [
        (["--stream", "$system"], "Invalid stream name '$system'"),
        (["--stream", ""], "Invalid stream name ''"),
        (["--stream", "order-1", "--expected-version", "-1"], "'--expected-version -1' is not any, no-stream, exists"),
        (["--stream", "order-1", "--hard=yes"], "flag '--hard' takes no value"),
        ([], "missing required flag '--stream'"),
    ])
    func aBadNameOrFlagExitsTwoAndChangesNothing(arguments: [String], message: String) async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(["delete-stream", "--store", folder.store] + arguments, in: folder)
        #expect(result.status == 2, "\(result)")
        #expect(result.standardError.hasPrefix("eventlog: error: "), "\(result)")
        #expect(result.standardError.contains(message), "\(result)")
        #expect(result.standardOutput.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: folder.store), "a refused command must not create a store")
    }

    @Test func deleteStreamOfAMissingStoreExitsOneAndCreatesNothing() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(["delete-stream", "--store", folder.store, "--stream", "order-1"], in: folder)
        #expect(result.status == 1, "\(result)")
        #expect(result.standardError.contains("is not a usable EventLog store"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: folder.store))
    }
}
