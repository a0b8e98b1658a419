// `eventlog truncate`: a stream's events before a version disappear from every
// read; the later ones, other streams and the next append are untouched.
import EventLog
import EventSourcing
import Foundation
import Testing

@Suite struct TruncateCommandTests {
    /// Appends five events to `order-1` and one to `order-2` through the CLI.
    private func makeStore(in folder: TemporaryDirectory) async throws {
        let lines = (1...5).map { #"{"type":"Tick","data":{"n":\#($0)}}"# }
        let first = try await EventLogProcess.run(["append", "--store", folder.store, "--stream", "order-1"], lines: lines, in: folder)
        try #require(first.status == 0, "\(first)")
        let second = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "order-2"], lines: [#"{"type":"Tick","data":{}}"#], in: folder)
        try #require(second.status == 0, "\(second)")
    }

    @Test func readShowsOnlyTheVersionsFromTheCutOn() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder)
        let truncate = try await EventLogProcess.run(
            ["truncate", "--store", folder.store, "--stream", "order-1", "--before", "3"], in: folder)
        #expect(truncate.status == 0, "\(truncate)")
        #expect(
            truncate.standardOutput
                == "Truncated stream 'order-1' before version 3: versions below 3 are hidden from reads; reads now show versions 3...5 of 5.\n",
            "\(truncate)")

        let stream = try await EventLogProcess.run(["read", "--store", folder.store, "--stream", "order-1"], in: folder)
        #expect(try JSONLines.objects(stream.standardOutput).map { $0["version"] as? Int } == [3, 4, 5])
        let backward = try await EventLogProcess.run(["read", "--store", folder.store, "--stream", "order-1", "--backward"], in: folder)
        #expect(try JSONLines.objects(backward.standardOutput).map { $0["version"] as? Int } == [5, 4, 3])
        let whole = try await EventLogProcess.run(["read", "--store", folder.store], in: folder)
        #expect(try JSONLines.objects(whole.standardOutput).map { $0["position"] as? Int } == [3, 4, 5, 6])

        let append = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "order-1", "--expected-version", "5"],
            lines: [#"{"type":"Tick","data":{}}"#], in: folder)
        #expect(append.standardOutput == "order-1 6 7\n", "\(append)")
    }

    @Test func aLowerVersionThanAnEarlierTruncationBringsNothingBack() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder)
        for before in ["4", "2"] {
            let truncate = try await EventLogProcess.run(
                ["truncate", "--store", folder.store, "--stream", "order-1", "--before", before], in: folder)
            #expect(truncate.status == 0, "\(truncate)")
            #expect(truncate.standardOutput.contains("reads now show versions 4...5 of 5"), "\(truncate)")
        }
        let past = try await EventLogProcess.run(
            ["truncate", "--store", folder.store, "--stream", "order-1", "--before", "9"], in: folder)
        #expect(past.standardOutput.contains("reads now show none of its 5 version(s); appends show from version 9 on"), "\(past)")
        let stream = try await EventLogProcess.run(["read", "--store", folder.store, "--stream", "order-1"], in: folder)
        #expect(stream.status == 0 && stream.standardOutput.isEmpty, "\(stream)")
    }

    @Test func truncateOnAStoreAnotherProcessWritesExitsFive() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder)
        let writer = try FileEventStore.open(directory: folder.store)
        do {
            let truncate = try await EventLogProcess.run(
                ["truncate", "--store", folder.store, "--stream", "order-1", "--before", "3"], in: folder)
            #expect(truncate.status == 5, "\(truncate)")
            #expect(truncate.standardError.contains("locked by another writer"), "\(truncate)")
            #expect(try writer.readStream("order-1").count == 5)
        } catch {
            try? await writer.close()
            throw error
        }
        try await writer.close()
    }

    @Test(arguments: [
        (["--stream", "order-1", "--before", "0"], "'--before 0' is not a version"),
        (["--stream", "order-1", "--before", "three"], "'--before three' is not a whole number"),
        (["--stream", "order-1"], "missing required flag '--before'"),
        (["--stream", "$all", "--before", "2"], "Invalid stream name '$all'"),
    ])
    func aBadVersionOrNameExitsTwoAndChangesNothing(arguments: [String], message: String) async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder)
        let result = try await EventLogProcess.run(["truncate", "--store", folder.store] + arguments, in: folder)
        #expect(result.status == 2, "\(result)")
        #expect(result.standardError.hasPrefix("eventlog: error: "), "\(result)")
        #expect(result.standardError.contains(message), "\(result)")
        let stream = try await EventLogProcess.run(["read", "--store", folder.store, "--stream", "order-1"], in: folder)
        #expect(stream.outputLines.count == 5)
    }
}
