// `eventlog read`: the whole log or one stream, from a place, up to a limit,
// either way, narrowed by category, type and time, as JSON lines whatever the
// stored bytes are.
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

        let ascending = Array(1...count)
        for (arguments, expected) in [
            (["--stream", "clock-1"], ascending), ([], ascending),
            (["--stream", "clock-1", "--backward"], ascending.reversed()), (["--backward"], ascending.reversed()),
        ] {
            let read = try await EventLogProcess.run(["read", "--store", folder.store] + arguments, in: folder)
            #expect(read.status == 0, "\(read)")
            let events = try JSONLines.objects(read.standardOutput)
            #expect(events.map { $0["version"] as? Int } == expected, "\(arguments)")
            #expect(events.map { $0["data"] as? Int } == expected, "\(arguments)")
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

    // MARK: Backward, category, type

    /// Nine events in seven append calls over four streams of three categories;
    /// each event's data is {"n": its position}, so every printed line can be
    /// checked against what was appended.
    private func makeMixedStore(in folder: TemporaryDirectory) async throws {
        let calls: [(stream: StreamName, types: [String])] = [
            ("order-1", ["OrderCreated", "ItemAdded"]), ("customer-7", ["CustomerRegistered"]), ("order-2", ["OrderCreated"]),
            ("order-1", ["OrderPaid"]), ("customer-7", ["CustomerMoved"]), ("order-2", ["ItemAdded", "ItemAdded"]),
            ("invoice", ["InvoiceSent"]),
        ]
        try await StoreFixture.write(in: folder) { store in
            var position = 0
            for call in calls {
                let events = call.types.map { type in
                    position += 1
                    return StoreFixture.event(type, #"{"n":\#(position)}"#)
                }
                try await store.append(events, to: call.stream, expectedVersion: .any)
            }
        }
    }

    /// The positions `read` prints with `arguments`, each checked against the data appended at it.
    private func readPositions(_ arguments: [String], in folder: TemporaryDirectory) async throws -> [Int] {
        let result = try await EventLogProcess.run(["read", "--store", folder.store] + arguments, in: folder)
        try #require(result.status == 0, "\(result)")
        let events = try JSONLines.objects(result.standardOutput)
        for (line, event) in zip(result.outputLines, events) {
            #expect(JSONLines.keyOrder(of: line) == JSONLines.keys, "\(line)")
            #expect((event["data"] as? [String: Any])?["n"] as? Int == event["position"] as? Int, "\(line)")
        }
        return events.compactMap { $0["position"] as? Int }
    }

    @Test func backwardReadsTheWholeLogNewestFirst() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeMixedStore(in: folder)
        #expect(try await readPositions(["--backward"], in: folder) == Array((1...9).reversed()))
        #expect(try await readPositions(["--backward", "--limit", "2"], in: folder) == [9, 8])
        #expect(try await readPositions(["--backward", "--from", "5", "--limit", "3"], in: folder) == [5, 4, 3])
        #expect(try await readPositions(["--backward", "--from", "100"], in: folder) == Array((1...9).reversed()))
        #expect(try await readPositions(["--stream", "$all", "--backward", "--from", "1"], in: folder) == [1])
    }

    @Test func backwardWithAStreamGoesDownFromItsLastVersionOrFrom() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeMixedStore(in: folder)
        #expect(try await readPositions(["--stream", "order-1", "--backward"], in: folder) == [5, 2, 1])
        #expect(try await readPositions(["--stream", "order-1", "--backward", "--from", "2"], in: folder) == [2, 1])
        #expect(try await readPositions(["--stream", "order-1", "--backward", "--from", "9"], in: folder) == [5, 2, 1])
        #expect(try await readPositions(["--stream", "order-2", "--backward", "--limit", "2"], in: folder) == [8, 7])
        #expect(try await readPositions(["--stream", "order-9", "--backward"], in: folder) == [])
        let versions = try JSONLines.objects(
            try await EventLogProcess.run(
                ["read", "--store", folder.store, "--stream", "order-1", "--backward"], in: folder
            ).standardOutput
        ).map { $0["version"] as? Int }
        #expect(versions == [3, 2, 1])
    }

    @Test func categoryAndTypeFilterTheLogAloneOrTogetherInEitherDirection() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeMixedStore(in: folder)
        #expect(try await readPositions(["--category", "order"], in: folder) == [1, 2, 4, 5, 7, 8])
        #expect(try await readPositions(["--category", "customer", "--backward"], in: folder) == [6, 3])
        #expect(try await readPositions(["--category", "invoice"], in: folder) == [9])
        #expect(try await readPositions(["--category", "nothing"], in: folder) == [])
        #expect(try await readPositions(["--type", "ItemAdded"], in: folder) == [2, 7, 8])
        #expect(try await readPositions(["--type", "ItemAdded", "--backward", "--limit", "2"], in: folder) == [8, 7])
        #expect(try await readPositions(["--category", "order", "--type", "OrderCreated"], in: folder) == [1, 4])
        #expect(try await readPositions(["--category", "order", "--type", "ItemAdded", "--from", "3"], in: folder) == [7, 8])
        #expect(try await readPositions(["--category", "customer", "--type", "ItemAdded"], in: folder) == [])
    }

    @Test func typeFiltersAStreamReadInEitherDirection() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeMixedStore(in: folder)
        #expect(try await readPositions(["--stream", "order-2", "--type", "ItemAdded"], in: folder) == [7, 8])
        #expect(try await readPositions(["--stream", "order-2", "--type", "ItemAdded", "--backward", "--limit", "1"], in: folder) == [8])
        #expect(try await readPositions(["--stream", "order-1", "--type", "OrderPaid", "--from", "2"], in: folder) == [5])
    }

    @Test func categoryWithStreamIsAUsageMistake() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeMixedStore(in: folder)
        let result = try await EventLogProcess.run(
            ["read", "--store", folder.store, "--stream", "order-1", "--category", "order"], in: folder)
        #expect(result.status == 2, "\(result)")
        #expect(result.standardError.contains("cannot be combined with '--stream order-1'"), "\(result)")
        #expect(result.standardError.contains("eventlog read --help"), "\(result)")
        #expect(result.standardOutput.isEmpty)
    }

    // MARK: Since, until

    @Test func sinceAndUntilKeepTheEventsAppendedInTheirWindow() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeMixedStore(in: folder)
        let all = try JSONLines.objects(try await EventLogProcess.run(["read", "--store", folder.store], in: folder).standardOutput)
        try #require(all.count == 9)
        // The printed timestamps have a fixed width, so text order is time order.
        let stamps = all.compactMap { $0["timestamp"] as? String }
        try #require(stamps.count == 9)
        let since = stamps[3]
        let until = stamps[6]
        func positions(where keep: (Int) -> Bool) -> [Int] { (1...9).filter { keep($0) } }
        let inWindow = positions { stamps[$0 - 1] >= since && stamps[$0 - 1] <= until }
        try #require(Set(4...7).isSubset(of: inWindow))

        #expect(try await readPositions(["--since", since, "--until", until], in: folder) == inWindow)
        #expect(try await readPositions(["--since", since, "--until", until, "--backward"], in: folder) == inWindow.reversed())
        #expect(try await readPositions(["--since", since], in: folder) == positions { stamps[$0 - 1] >= since })
        #expect(try await readPositions(["--until", until], in: folder) == positions { stamps[$0 - 1] <= until })
        #expect(try await readPositions(["--since", since, "--limit", "2"], in: folder) == Array(positions { stamps[$0 - 1] >= since }.prefix(2)))
        #expect(
            try await readPositions(["--until", until, "--backward", "--limit", "2"], in: folder)
                == Array(positions { stamps[$0 - 1] <= until }.reversed().prefix(2)))
        let orders = [1, 2, 4, 5, 7, 8]
        #expect(
            try await readPositions(["--since", since, "--until", until, "--category", "order"], in: folder)
                == inWindow.filter(orders.contains))
        #expect(
            try await readPositions(["--stream", "order-2", "--since", since, "--until", until], in: folder)
                == inWindow.filter([4, 7, 8].contains))
        #expect(
            try await readPositions(["--stream", "order-1", "--since", since, "--backward"], in: folder)
                == [5, 2, 1].filter { stamps[$0 - 1] >= since })
    }

    @Test func aDateAloneMeansMidnightUTC() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeMixedStore(in: folder)
        #expect(try await readPositions(["--since", "2000-01-01"], in: folder) == Array(1...9))
        #expect(try await readPositions(["--until", "2000-01-01"], in: folder) == [])
        #expect(try await readPositions(["--since", "9999-12-31"], in: folder) == [])
        #expect(try await readPositions(["--since", "9999-12-31", "--backward"], in: folder) == [])
        #expect(try await readPositions(["--until", "9999-12-31T23:59:59.999999Z", "--backward"], in: folder) == Array((1...9).reversed()))
    }

    @Test(arguments: [
        ["--since", "2026-13-01"], ["--since", "2026-02-30"], ["--until", "yesterday"], ["--since", "2026-11-23T03:34:55"],
        ["--until", "2026-11-23T24:00:00Z"], ["--since", "2026-11-23 03:34:55Z"], ["--until", ""],
    ])
    func aTimeThatIsNotISO8601ExitsTwo(arguments: [String]) async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeMixedStore(in: folder)
        let result = try await EventLogProcess.run(["read", "--store", folder.store] + arguments, in: folder)
        #expect(result.status == 2, "\(result)")
        #expect(result.standardError.contains("'\(arguments[0]) \(arguments[1])' is not an ISO 8601 date or time"), "\(result)")
        #expect(result.standardError.contains("2026-11-23T03:34:55Z"), "the error should show the right form: \(result)")
        #expect(result.standardOutput.isEmpty)
    }
}
