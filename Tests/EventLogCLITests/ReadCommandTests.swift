// `eventlog read`: the whole log or one stream, from a place, up to a limit, as
// JSON lines whatever the stored bytes are.
import EventLog
import EventSourcing
import Foundation
import Testing

@Suite struct ReadCommandTests {
    /// Appends `count` events to each stream, interleaved, through the CLI.
    private func appendInterleaved(_ streams: [String], count: Int, in folder: TemporaryDirectory) async throws {
        for index in 1...count {
            for stream in streams {
                let result = try await EventLogProcess.run(
                    ["append", "--store", folder.store, "--stream", stream],
                    lines: [#"{"type":"Tick","data":{"n":\#(index)}}"#], in: folder)
                try #require(result.status == 0, "\(result)")
            }
        }
    }

    @Test func readsOneStreamFromAVersionUpToALimit() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await appendInterleaved(["order-a", "order-b"], count: 4, in: folder)
        let result = try await EventLogProcess.run(
            ["read", "--store", folder.store, "--stream", "order-b", "--from", "2", "--limit", "2"], in: folder)
        #expect(result.status == 0, "\(result)")
        let events = try JSONLines.objects(result.standardOutput)
        #expect(events.map { $0["stream"] as? String } == ["order-b", "order-b"])
        #expect(events.map { $0["version"] as? Int } == [2, 3])
        #expect(events.map { $0["position"] as? Int } == [4, 6])
        #expect(events.map { ($0["data"] as? [String: Any])?["n"] as? Int } == [2, 3])
    }

    @Test func readsTheWholeLogFromAPositionUpToALimit() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await appendInterleaved(["order-a", "order-b"], count: 3, in: folder)
        let result = try await EventLogProcess.run(["read", "--store", folder.store, "--from", "3", "--limit", "3"], in: folder)
        #expect(result.status == 0, "\(result)")
        let events = try JSONLines.objects(result.standardOutput)
        #expect(events.map { $0["position"] as? Int } == [3, 4, 5])
        #expect(events.map { $0["stream"] as? String } == ["order-a", "order-b", "order-a"])

        let dollarAll = try await EventLogProcess.run(["read", "--store", folder.store, "--stream", "$all"], in: folder)
        #expect(dollarAll.outputLines.count == 6)
        let beyond = try await EventLogProcess.run(["read", "--store", folder.store, "--from", "100"], in: folder)
        #expect(beyond.status == 0 && beyond.standardOutput.isEmpty, "\(beyond)")
        let unknownStream = try await EventLogProcess.run(["read", "--store", folder.store, "--stream", "order-z"], in: folder)
        #expect(unknownStream.status == 0 && unknownStream.standardOutput.isEmpty, "\(unknownStream)")
    }

    @Test func aLongStreamReadsCompletelyAcrossPages() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let count = 2_500
        let array = "[" + (1...count).map { #"{"type":"Tick","data":\#($0)}"# }.joined(separator: ",") + "]"
        let append = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "clock-1", "--segment-size", "65536"], lines: [array], in: folder)
        try #require(append.status == 0, "\(append)")

        for arguments in [["--stream", "clock-1"], []] {
            let read = try await EventLogProcess.run(["read", "--store", folder.store] + arguments, in: folder)
            #expect(read.status == 0, "\(read)")
            let events = try JSONLines.objects(read.standardOutput)
            #expect(events.map { $0["version"] as? Int } == Array(1...count))
            #expect(events.map { $0["data"] as? Int } == Array(1...count))
        }
    }

    @Test func bytesWrittenByTheLibraryStillReadAsOneValidJSONLinePerEvent() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let store = try FileEventStore.open(directory: folder.store)
        let binary = Data([0, 1, 2, 0xFF, 0x0A])
        let pretty = Data("{\n  \"customer\" : \"ada\",\n  \"items\" : [ 1, 2 ]\n}\n".utf8)
        let notJSON = Data("not { json".utf8)
        try await store.append(
            [
                EventData(type: "Scanned", data: binary, isJSON: false),
                EventData(type: "OrderCreated", data: pretty, metadata: Data("{ \"user\" : \"ada\" }".utf8)),
                EventData(type: "Mislabelled", data: notJSON, metadata: Data("[1, 2]".utf8)),
            ],
            to: "order-1", expectedVersion: .noStream)
        try await store.close()

        let result = try await EventLogProcess.run(["read", "--store", folder.store], in: folder)
        #expect(result.status == 0, "\(result)")
        #expect(result.outputLines.count == 3)
        let events = try JSONLines.objects(result.standardOutput)
        #expect(events[0]["data"] as? String == binary.base64EncodedString())
        #expect(result.outputLines[1].contains(#""data":{"customer":"ada","items":[1,2]},"metadata":{"user":"ada"}}"#))
        #expect(events[2]["data"] as? String == notJSON.base64EncodedString())
        #expect(result.outputLines[2].hasSuffix(#""metadata":[1,2]}"#))
    }

    @Test func readingAFolderWithoutAStoreExitsOneAndCreatesNothing() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(["read", "--store", folder.store], in: folder)
        #expect(result.status == 1, "\(result)")
        #expect(result.standardError.contains("is not a usable EventLog store"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: folder.store))
    }
}
