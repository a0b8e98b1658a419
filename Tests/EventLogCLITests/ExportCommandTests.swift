// `eventlog export`: one line per event holding everything `import` needs, with
// stored bytes embedded verbatim when they survive a line unchanged and in
// base64 when they would not.
import EventLog
import EventSourcing
import Foundation
import Testing

@Suite struct ExportCommandTests {
    static let keys = [
        "position", "stream", "version", "id", "type", "timestamp", "isJSON", "data", "dataBase64", "metadata", "metadataBase64",
        "correlationId", "causationId",
    ]
    static let correlationID = UUID(uuidString: "6F1C5A2E-3B4D-4E5F-8A9B-0C1D2E3F4A5B")!
    static let causationID = UUID(uuidString: "0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D")!
    static let binary = Data([0, 1, 2, 0xFF, 0x0A, 0x0D])
    static let pretty = Data("{\n  \"a\" : 1\n}".utf8)

    private func makeStore(in folder: TemporaryDirectory) async throws {
        try await StoreFixture.write(in: folder) { store in
            try await store.append(
                [
                    EventData(
                        type: "OrderCreated", data: Data(#"{"customer":"ada"}"#.utf8), metadata: Data(#"{"user":"clerk-7"}"#.utf8),
                        correlationID: Self.correlationID, causationID: Self.causationID),
                    EventData(type: "Pretty", data: Self.pretty, metadata: Data("not json".utf8)),
                    EventData(type: "Spaced", data: Data(#"{"a": [1, 2]}"#.utf8), metadata: Data("[1,2]".utf8)),
                ],
                to: "order-1", expectedVersion: .noStream)
            try await store.append([EventData(type: "Scanned", data: Self.binary, isJSON: false)], to: "blob-1", expectedVersion: .noStream)
        }
    }

    @Test func everyLineHoldsAllAnEventHas() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder)
        let result = try await EventLogProcess.run(["export", "--store", folder.store], in: folder)
        #expect(result.status == 0, "\(result)")
        #expect(result.standardError.isEmpty)
        let lines = result.outputLines
        try #require(lines.count == 4)
        let events = try JSONLines.objects(result.standardOutput)
        let read = try JSONLines.objects(try await EventLogProcess.run(["read", "--store", folder.store], in: folder).standardOutput)

        #expect(JSONLines.keyOrder(of: lines[0], keys: Self.keys) == [
            "position", "stream", "version", "id", "type", "timestamp", "isJSON", "data", "metadata", "correlationId", "causationId",
        ])
        #expect(lines[0].contains(#""isJSON":true,"data":{"customer":"ada"},"metadata":{"user":"clerk-7"},"#), "\(lines[0])")
        #expect(events[0]["correlationId"] as? String == Self.correlationID.uuidString)
        #expect(events[0]["causationId"] as? String == Self.causationID.uuidString)
        for (index, event) in events.enumerated() {
            #expect(event["position"] as? Int == index + 1)
            for key in ["stream", "version", "id", "type", "timestamp"] {
                let exported = try JSONLines.canonical(try #require(event[key]))
                #expect(exported == (try JSONLines.canonical(try #require(read[index][key]))), "\(key) of line \(index + 1)")
            }
        }

        // Pretty-printed JSON would not stay the same bytes on one line; text that is not JSON cannot be embedded.
        #expect(events[1]["data"] == nil && events[1]["metadata"] == nil)
        #expect(events[1]["dataBase64"] as? String == Self.pretty.base64EncodedString())
        #expect(events[1]["metadataBase64"] as? String == Data("not json".utf8).base64EncodedString())
        #expect(events[1]["isJSON"] as? Bool == true)
        #expect(events[1]["correlationId"] == nil && events[1]["causationId"] == nil)

        // JSON on one line is embedded as stored, spaces and all; metadata may be any JSON value.
        #expect(lines[2].contains(#""data":{"a": [1, 2]},"metadata":[1,2]}"#), "\(lines[2])")

        #expect(JSONLines.keyOrder(of: lines[3], keys: Self.keys) == [
            "position", "stream", "version", "id", "type", "timestamp", "isJSON", "data",
        ])
        #expect(events[3]["isJSON"] as? Bool == false)
        #expect(events[3]["data"] as? String == Self.binary.base64EncodedString())
    }

    @Test func fromStartsAtThatPosition() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder)
        let result = try await EventLogProcess.run(["export", "--store", folder.store, "--from", "3"], in: folder)
        #expect(result.status == 0, "\(result)")
        #expect(try JSONLines.objects(result.standardOutput).map { $0["position"] as? Int } == [3, 4])
        let beyond = try await EventLogProcess.run(["export", "--store", folder.store, "--from", "5"], in: folder)
        #expect(beyond.status == 0 && beyond.standardOutput.isEmpty, "\(beyond)")
    }

    @Test func anEmptyStoreExportsNothing() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await StoreFixture.write(in: folder) { _ in }
        let result = try await EventLogProcess.run(["export", "--store", folder.store], in: folder)
        #expect(result.status == 0, "\(result)")
        #expect(result.standardOutput.isEmpty && result.standardError.isEmpty)
    }

    @Test func exportOfAFolderWithoutAStoreExitsOneAndCreatesNothing() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(["export", "--store", folder.store], in: folder)
        #expect(result.status == 1, "\(result)")
        #expect(result.standardError.contains("is not a usable EventLog store"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: folder.store))
    }
}
