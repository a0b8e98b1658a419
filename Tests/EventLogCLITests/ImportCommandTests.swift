// `eventlog import`: export lines back into an empty store with the same
// streams, versions, ids, data and metadata; positions dense again; a bad line
// refused whole with exit 2, and a store that already holds events refused.
import EventLog
import EventSourcing
import Foundation
import Testing

@Suite struct ImportCommandTests {
    static let firstID = "6F1C5A2E-3B4D-4E5F-8A9B-0C1D2E3F4A5B"
    static let secondID = "0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"
    static let thirdID = "11111111-2222-4333-8444-555555555555"

    /// A valid export line of `order-1`.
    static func line(version: Int, id: String, data: String = #"{"n":1}"#) -> String {
        #"{"position":\#(version),"stream":"order-1","version":\#(version),"id":"\#(id)","type":"ItemAdded","timestamp":"2026-11-23T03:34:55.000000Z","isJSON":true,"data":\#(data)}"#
    }

    /// A few hundred events over six streams in calls of one to several events
    /// and several streams; some with metadata (objects, other JSON, not JSON),
    /// some binary, some pretty-printed, some with correlation and causation ids,
    /// and large enough to fill several 64 KiB segments.
    private func makeVariedStore(in folder: TemporaryDirectory) async throws -> Int {
        var random = SeededGenerator(seed: 42)
        let streams: [StreamName] = ["order-1", "order-2", "customer-1", "customer-2", "invoice-1", "blob-1"]
        var count = 0
        try await StoreFixture.write(in: folder) { store in
            while count < 400 {
                var parts: [StreamAppend] = []
                for stream in streams.shuffled(using: &random).prefix(Int.random(in: 1...3, using: &random)) {
                    let events = (0..<Int.random(in: 1...4, using: &random)).map { _ in
                        count += 1
                        return Self.variedEvent(count, using: &random)
                    }
                    parts.append(StreamAppend(stream: stream, expectedVersion: .any, events: events))
                }
                _ = try await store.append(parts)
            }
        }
        return count
    }

    private static func variedEvent(_ number: Int, using random: inout SeededGenerator) -> EventData {
        let padding = String(repeating: "p", count: Int.random(in: 0...600, using: &random))
        var event = EventData(type: "Type\(number % 5)", data: Data(#"{"n":\#(number),"padding":"\#(padding)","path":"a/b"}"#.utf8))
        if number % 7 == 0 {
            event.data = Data((0..<Int.random(in: 0...64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
            event.isJSON = false
        } else if number % 11 == 0 {
            event.data = Data("{\n  \"n\" : \(number)\n}\n".utf8)
        } else if number % 17 == 0 {
            event.data = Data(#"[1, 2.50, "\u00e9", null]"#.utf8)
        }
        switch number % 6 {
        case 0: event.metadata = Data(#"{"user":"clerk-\#(number)"}"#.utf8)
        case 1: event.metadata = Data("not json \(number)".utf8)
        case 2: event.metadata = Data(#""a string""#.utf8)
        default: break
        }
        if number % 5 == 0 {
            event.correlationID = EventID.make()
            event.causationID = number % 10 == 0 ? EventID.make() : nil
        }
        return event
    }

    /// Every event of the store at `path`, read through the library.
    private func events(at path: String) throws -> [RecordedEvent] {
        var options = StoreOptions()
        options.readOnly = true
        options.createIfMissing = false
        let store = try FileEventStore.open(directory: path, options: options)
        return try store.readAll(from: .start, direction: .forward, maxCount: .max, filter: .all)
    }

    @Test func anExportImportedIntoAnEmptyStoreGivesTheSameStreamsVersionsIDsDataAndMetadata() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let count = try await makeVariedStore(in: folder)
        let export = try await EventLogProcess.run(["export", "--store", folder.store], in: folder)
        try #require(export.status == 0, "\(export)")
        try #require(export.outputLines.count == count)

        let copy = folder.file("copy")
        let imported = try await EventLogProcess.run(
            ["import", "--store", copy, "--segment-size", "65536"], input: Data(export.standardOutput.utf8), in: folder)
        #expect(imported.status == 0, "\(imported)")
        #expect(imported.standardOutput.isEmpty)
        #expect(imported.standardError.hasPrefix("eventlog: imported \(count) events in 6 streams in "), "\(imported)")
        let segments = try FileManager.default.contentsOfDirectory(atPath: copy).filter { $0.hasSuffix(".seg") }
        #expect(segments.count > 1, "--segment-size 65536 should give several segments")

        // Exported again, every line is the same but for its position and timestamp.
        let again = try await EventLogProcess.run(["export", "--store", copy], in: folder)
        try #require(again.status == 0, "\(again)")
        let before = try JSONLines.objects(export.standardOutput)
        let after = try JSONLines.objects(again.standardOutput)
        try #require(after.count == count)
        #expect(after.map { $0["position"] as? Int } == Array(1...count))
        for (old, new) in zip(before, after) {
            var old = old
            var new = new
            for key in ["position", "timestamp"] {
                old[key] = nil
                new[key] = nil
            }
            #expect(try JSONLines.canonical(old) == JSONLines.canonical(new))
        }
        let strip = { (line: String) in line.replacing(/"position":\d+,/, with: "").replacing(/"timestamp":"[^"]*",/, with: "") }
        #expect(export.outputLines.map(strip) == again.outputLines.map(strip), "the lines should be the same bytes")

        // And through the library, byte for byte.
        let original = try events(at: folder.store)
        let copied = try events(at: copy)
        try #require(copied.count == original.count)
        for (old, new) in zip(original, copied) {
            #expect(new.stream == old.stream && new.version == old.version && new.id == old.id && new.type == old.type)
            #expect(new.data == old.data && new.metadata == old.metadata && new.isJSON == old.isJSON)
            #expect(new.correlationID == old.correlationID && new.causationID == old.causationID)
        }
        #expect(original.contains { !$0.isJSON } && original.contains { $0.correlationID != nil })
    }

    @Test func largeRunsAreSplitIntoBoundedCallsAndKeepTheirOrder() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        // 2,500 events of order-1 in a row, then runs of order-2 and order-3 taking turns.
        var lines = (1...2_500).map { version in
            #"{"stream":"order-1","version":\#(version),"id":"\#(UUID().uuidString)","type":"Tick","isJSON":true,"data":\#(version)}"#
        }
        var versions = ["order-2": 0, "order-3": 0]
        for turn in 0..<40 {
            let stream = turn % 2 == 0 ? "order-2" : "order-3"
            for _ in 0...(turn % 4) {
                versions[stream]! += 1
                lines.append(
                    #"{"stream":"\#(stream)","version":\#(versions[stream]!),"id":"\#(UUID().uuidString)","type":"Tick","isJSON":true,"data":null}"#)
            }
            if turn == 20 { lines.append("") }
        }
        let result = try await EventLogProcess.run(["import", "--store", folder.store], lines: lines, in: folder)
        #expect(result.status == 0, "\(result)")
        let stored = try events(at: folder.store)
        let expected = lines.filter { !$0.isEmpty }
        try #require(stored.count == expected.count)
        for (event, line) in zip(stored, expected) {
            #expect(line.contains(#""stream":"\#(event.stream)","version":\#(event.version),"id":"\#(event.id.uuidString)""#))
        }
        #expect(stored.map(\.position.rawValue) == Array(1...UInt64(expected.count)))
    }

    @Test func importIntoAStoreThatHoldsEventsExitsTwoAndWritesNothing() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await StoreFixture.write(in: folder) { store in
            try await store.append([StoreFixture.event("OrderCreated", "{}")], to: "order-9", expectedVersion: .noStream)
        }
        let result = try await EventLogProcess.run(
            ["import", "--store", folder.store], lines: [Self.line(version: 1, id: Self.firstID)], in: folder)
        #expect(result.status == 2, "\(result)")
        #expect(result.standardError.contains("the import needs an empty store, but \(folder.store) already holds 1 events"), "\(result)")
        #expect(try await eventCount(in: folder) == 1)
    }

    @Test(arguments: [
        (#"{"stream":"order-1","version":2"#, "line 2 is not valid JSON"),
        (#"[1,2]"#, "line 2 is not valid JSON (it is not a JSON object"),
        (#"{"stream":"order-1","id":"\#(secondID)","type":"A","isJSON":true,"data":{}}"#, #"line 2 has no "version""#),
        (#"{"stream":"order-1","version":0,"id":"\#(secondID)","type":"A","isJSON":true,"data":{}}"#, "line 2 has version 0"),
        (#"{"stream":"order-1","version":"2","id":"\#(secondID)","type":"A","isJSON":true,"data":{}}"#, #""version" that is not a whole number"#),
        (#"{"stream":"order-1","version":2.5,"id":"\#(secondID)","type":"A","isJSON":true,"data":{}}"#, #""version" that is not a whole number"#),
        (#"{"stream":"order-1","version":2,"id":"nope","type":"A","isJSON":true,"data":{}}"#, "which is not a UUID"),
        (#"{"stream":"order-1","version":2,"id":"\#(secondID)","type":"A","isJSON":true,"data":{},"colour":1}"#, #"unknown key "colour""#),
        (#"{"stream":"order-1","version":2,"id":"\#(secondID)","type":"A","isJSON":true,"data":{},"data":{}}"#, #"the key "data" twice"#),
        (#"{"stream":"order-1","version":2,"id":"\#(secondID)","type":"A","isJSON":"yes","data":{}}"#, "not true or false"),
        (#"{"stream":"order-1","version":2,"id":"\#(secondID)","type":"A","isJSON":false,"data":{"a":1}}"#, "not a base64 string"),
        (#"{"stream":"order-1","version":2,"id":"\#(secondID)","type":"A","isJSON":true,"data":{"a":}}"#, #""data" that is not valid JSON"#),
        (#"{"stream":"order-1","version":2,"id":"\#(secondID)","type":"A","isJSON":true,"data":{},"dataBase64":""}"#, "both \"data\" and \"dataBase64\""),
        (#"{"stream":"order-1","version":2,"id":"\#(secondID)","type":"A","isJSON":true}"#, #"has no "data""#),
        (#"{"stream":"order-1","version":2,"id":"\#(secondID)","type":"A","isJSON":true,"data":1,"metadata":{,}}"#, #""metadata" that is not valid JSON"#),
        (#"{"stream":"order-1","version":2,"id":"\#(secondID)","type":"A","isJSON":true,"data":1,"correlationId":42}"#, #""correlationId" that is not a valid JSON string"#),
        (#"{"stream":"$system","version":2,"id":"\#(secondID)","type":"A","isJSON":true,"data":{}}"#, "Invalid stream name"),
        (#"{"stream":"order-1","version":2,"id":"\#(secondID)","type":"","isJSON":true,"data":{}}"#, "Invalid event type"),
        (#"{"stream":"order-1","version":2,"id":"\#(secondID)","type":"A","isJSON":true,"data":{}} trailing"#, "followed by more text"),
    ])
    func aMalformedLineExitsTwoAndWritesNothingOfIt(line: String, message: String) async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(
            ["import", "--store", folder.store],
            lines: [Self.line(version: 1, id: Self.firstID), line, Self.line(version: 3, id: Self.thirdID)], in: folder)
        #expect(result.status == 2, "\(result)")
        #expect(result.standardError.hasPrefix("eventlog: error: line 2"), "\(result)")
        #expect(result.standardError.contains(message), "\(result)")
        #expect(result.standardError.contains("The 1 event(s) before it were imported"), "\(result)")
        #expect(!result.showsCrash)
        let stored = try events(at: folder.store)
        #expect(stored.map(\.id.uuidString) == [Self.firstID])
    }

    @Test func aStreamThatStartsPastVersionOneStartsThereAndAGapExitsThree() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(
            ["import", "--store", folder.store],
            lines: [Self.line(version: 5, id: Self.firstID), Self.line(version: 6, id: Self.secondID)], in: folder)
        #expect(result.status == 0, "\(result)")
        #expect(try events(at: folder.store).map(\.version) == [5, 6])
        let append = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "order-1", "--expected-version", "6"],
            lines: [#"{"type":"Tick","data":{}}"#], in: folder)
        #expect(append.standardOutput == "order-1 7 3\n", "\(append)")

        let gap = folder.file("gap")
        let gapped = try await EventLogProcess.run(
            ["import", "--store", gap],
            lines: [Self.line(version: 1, id: Self.firstID), Self.line(version: 3, id: Self.secondID)], in: folder)
        #expect(gapped.status == 3, "\(gapped)")
        #expect(gapped.standardError.contains("line 2: Wrong expected version for stream 'order-1'"), "\(gapped)")
        #expect(gapped.standardError.contains("must run without gaps"), "\(gapped)")
        #expect(try events(at: gap).map(\.version) == [1])
    }

    @Test func anExportOfACompactedStoreImportsToTheSameStreamsAndVersions() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        _ = try await makeVariedStore(in: folder)
        try await StoreFixture.write(in: folder) { store in
            try await store.truncateStream("order-1", before: 5)
            try await store.deleteStream("invoice-1", expectedVersion: .any, hard: true)
            try await store.setStreamMetadata(StreamMetadata(maxCount: 3), for: "customer-2")
            try await store.compact()
        }
        let export = try await EventLogProcess.run(["export", "--store", folder.store], in: folder)
        try #require(export.status == 0, "\(export)")
        let copy = folder.file("copy")
        let imported = try await EventLogProcess.run(["import", "--store", copy], input: Data(export.standardOutput.utf8), in: folder)
        #expect(imported.status == 0, "\(imported)")
        let original = try events(at: folder.store)
        let copied = try events(at: copy)
        #expect(copied.map(\.stream) == original.map(\.stream))
        #expect(copied.map(\.version) == original.map(\.version))
        #expect(copied.map(\.id) == original.map(\.id))
        #expect(copied.first { $0.stream == "order-1" }?.version == 5)
        #expect(!copied.contains { $0.stream == "invoice-1" })
    }

    @Test func emptyInputImportsNothingAndSucceeds() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(["import", "--store", folder.store], lines: ["", "  "], in: folder)
        #expect(result.status == 0, "\(result)")
        #expect(result.standardError.hasPrefix("eventlog: imported 0 events in 0 streams in "), "\(result)")
    }
}

/// A reproducible source of randomness (SplitMix64), so a failing case can be rerun.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
