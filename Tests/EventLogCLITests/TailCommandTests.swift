// `eventlog tail`: a child process follows a store that this process writes
// through the library, and prints every acknowledged event exactly once, in
// position order, in `read`'s format, until a signal ends it with status 0.
import EventLog
import EventSourcing
import Foundation
import Testing

@Suite struct TailCommandTests {
    /// An event acknowledged by the writer: what `tail` must print.
    struct Acknowledged: Equatable, CustomStringConvertible {
        let position: Int
        let id: String
        let stream: String
        let type: String
        var description: String { "\(position) \(stream) \(type) \(id)" }
    }

    /// Opens `folder.store` for writing with 64 KiB segments, so that ~1 KB events roll segments often.
    private func openWriter(in folder: TemporaryDirectory) throws -> FileEventStore {
        var options = StoreOptions(durability: .none)
        options.segmentSizeBytes = 65_536
        return try FileEventStore.open(directory: folder.store, options: options)
    }

    /// Appends `count` events of about `paddingBytes` each, one append call per event
    /// cycling over `streams` and `types`, and returns them as acknowledged.
    private func append(
        _ count: Int, to store: FileEventStore, streams: [StreamName], types: [String] = ["Tick"], paddingBytes: Int = 1_000,
        numberedFrom first: Int = 0
    ) async throws -> [Acknowledged] {
        var acknowledged: [Acknowledged] = []
        let padding = String(repeating: "x", count: paddingBytes)
        for index in 0..<count {
            let stream = streams[index % streams.count]
            let type = types[index % types.count]
            let event = EventData(type: type, data: Data(#"{"n":\#(first + index),"pad":"\#(padding)"}"#.utf8))
            let result = try await store.append([event], to: stream)
            acknowledged.append(Acknowledged(
                position: Int(result.firstPosition.rawValue), id: event.id.uuidString, stream: stream.rawValue, type: type))
        }
        return acknowledged
    }

    /// The events of `tail` output lines, each checked to be a complete `read` line.
    private func events(_ lines: [String]) throws -> [Acknowledged] {
        try lines.map { line in
            #expect(JSONLines.keyOrder(of: line) == JSONLines.keys, "not a read line: \(line)")
            let object = try #require(try JSONLines.objects(line).first)
            return Acknowledged(
                position: try #require(object["position"] as? Int), id: try #require(object["id"] as? String),
                stream: try #require(object["stream"] as? String), type: try #require(object["type"] as? String))
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func tailFollowsAWriterInAnotherProcessAcrossSegmentsPrintingEveryEventOnceInOrder() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let writer = try openWriter(in: folder)
        do {
            var acknowledged = try await append(20, to: writer, streams: ["order-1", "order-2", "invoice-1"])
            let tail = try RunningEventLog(["tail", "--store", folder.store, "--from", "1"])
            defer { tail.kill() }
            var printed = try events(await tail.outputLines(acknowledged.count))
            #expect(printed == acknowledged, "the history")

            // Batches of different sizes, each waited for before the next: a line that
            // tail held back in a buffer would never arrive, and the time limit would fail the test.
            for (batch, size) in [1, 35, 7, 120, 60, 3].enumerated() {
                let appended = try await append(
                    size, to: writer, streams: ["order-1", "order-2", "invoice-1"], numberedFrom: acknowledged.count)
                acknowledged += appended
                let lines = await tail.outputLines(appended.count)
                printed += try events(lines)
                #expect(try events(lines) == appended, "batch \(batch)")
            }
            let segments = try FileManager.default.contentsOfDirectory(atPath: folder.store).filter { $0.hasSuffix(".seg") }
            #expect(segments.count >= 3, "the events should span several segments, not \(segments.count)")

            let (status, remaining) = await tail.stop(with: SIGINT)
            #expect(status == 0)
            #expect(remaining.isEmpty, "tail printed events twice or invented some: \(remaining)")
            #expect(printed == acknowledged)
            #expect(printed.map(\.position) == Array(1...acknowledged.count))

            // The same lines as `read`, byte for byte.
            let read = try await EventLogProcess.run(["read", "--store", folder.store], in: folder)
            #expect(read.status == 0, "\(read)")
            #expect(try events(read.outputLines) == printed)
        } catch {
            try? await writer.close()
            throw error
        }
        try await writer.close()
    }

    @Test(.timeLimit(.minutes(3)))
    func tailPrintsTheSameLinesAsRead() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let append = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "order-1"],
            lines: [
                #"{"type":"OrderCreated","data":{"customer":"ada","lines":[1,2]},"metadata":{"by":"test"}}"#,
                #"[{"type":"ItemAdded","data":"tea"},{"type":"ItemAdded","data":null}]"#,
            ],
            in: folder)
        try #require(append.status == 0, "\(append)")
        let read = try await EventLogProcess.run(["read", "--store", folder.store], in: folder)
        try #require(read.outputLines.count == 3, "\(read)")

        let tail = try RunningEventLog(["tail", "--store", folder.store, "--from", "1"])
        defer { tail.kill() }
        #expect(await tail.outputLines(3) == read.outputLines)
        let (status, remaining) = await tail.stop(with: SIGTERM)
        #expect(status == 0)
        #expect(remaining.isEmpty)
    }

    @Test(.timeLimit(.minutes(3)))
    func tailWithoutFromPrintsOnlyEventsAppendedAfterItStarted() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let writer = try openWriter(in: folder)
        do {
            _ = try await append(5, to: writer, streams: ["order-1"], paddingBytes: 10)
            let tail = try RunningEventLog(["tail", "--store", folder.store])
            defer { tail.kill() }
            // The note says where it starts; only then is "new" well defined.
            let note = await tail.nextErrorLine()
            #expect(note == "eventlog: following \(folder.store) from position 6; stop with Ctrl-C")

            let appended = try await append(3, to: writer, streams: ["order-2"], paddingBytes: 10, numberedFrom: 5)
            #expect(try events(await tail.outputLines(3)) == appended)
            let (status, remaining) = await tail.stop()
            #expect(status == 0)
            #expect(remaining.isEmpty)
        } catch {
            try? await writer.close()
            throw error
        }
        try await writer.close()
    }

    @Test(.timeLimit(.minutes(3)))
    func tailFromAPositionPrintsTheHistoryFromThereOnly() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let writer = try openWriter(in: folder)
        let acknowledged = try await append(6, to: writer, streams: ["order-1", "order-2"], paddingBytes: 10)
        try await writer.close()

        let tail = try RunningEventLog(["tail", "--store", folder.store, "--from", "4"])
        defer { tail.kill() }
        #expect(await tail.nextErrorLine() == "eventlog: following \(folder.store) from position 4; stop with Ctrl-C")
        #expect(try events(await tail.outputLines(3)) == Array(acknowledged[3...]))
        let (status, remaining) = await tail.stop()
        #expect(status == 0)
        #expect(remaining.isEmpty, "events before --from or twice: \(remaining)")
    }

    @Test(
        .timeLimit(.minutes(3)),
        arguments: [
            (["--stream", "order-1"], "stream order-1"),
            (["--category", "order"], "category order"),
            (["--type", "Paid"], "type Paid"),
            (["--category", "order", "--type", "Paid"], "category order, type Paid"),
            (["--stream", "$all", "--type", "Shipped"], "type Shipped"),
        ])
    func tailPrintsOnlyTheEventsItsFiltersSelect(filter: [String], label: String) async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let matches: (Acknowledged) -> Bool = { event in
            switch label {
            case "stream order-1": event.stream == "order-1"
            case "category order": event.stream.hasPrefix("order-")
            case "type Paid": event.type == "Paid"
            case "category order, type Paid": event.stream.hasPrefix("order-") && event.type == "Paid"
            default: event.type == "Shipped"
            }
        }
        let streams: [StreamName] = ["order-1", "order-2", "invoice-1", "order-1", "invoice-2"]
        let types = ["Created", "Paid", "Shipped", "Paid"]
        let writer = try openWriter(in: folder)
        do {
            let history = try await append(20, to: writer, streams: streams, types: types, paddingBytes: 10)
            let tail = try RunningEventLog(["tail", "--store", folder.store, "--from", "1"] + filter)
            defer { tail.kill() }
            let expectedHistory = history.filter(matches)
            try #require(!expectedHistory.isEmpty)
            #expect(try events(await tail.outputLines(expectedHistory.count)) == expectedHistory, "history")

            let live = try await append(20, to: writer, streams: Array(streams.reversed()), types: types, paddingBytes: 10, numberedFrom: 20)
            let expectedLive = live.filter(matches)
            try #require(!expectedLive.isEmpty)
            #expect(try events(await tail.outputLines(expectedLive.count)) == expectedLive, "live")

            let (status, remaining) = await tail.stop()
            #expect(status == 0)
            #expect(remaining.isEmpty, "\(label) let through: \(remaining)")
        } catch {
            try? await writer.close()
            throw error
        }
        try await writer.close()
    }

    @Test(arguments: [
        (["tail"], "missing required flag '--store'"),
        (["tail", "--store", "x", "--stream", "order-1", "--category", "order"], "cannot be combined with '--stream order-1'"),
        (["tail", "--store", "x", "--from", "first"], "'--from first' is not a whole number"),
        (["tail", "--store", "x", "--stream", "$bad"], "Invalid stream name '$bad'"),
        (["tail", "--store", "x", "--limit", "3"], "unknown flag '--limit'"),
    ])
    func tailUsageMistakesExitTwoBeforeFollowingAnything(arguments: [String], message: String) async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(arguments, in: folder)
        #expect(result.status == 2, "\(result)")
        #expect(result.standardError.hasPrefix("eventlog: error: "), "\(result)")
        #expect(result.standardError.contains(message), "\(result)")
        #expect(result.standardOutput.isEmpty)
        #expect(!result.showsCrash)
    }

    @Test func tailOfAFolderWithoutAStoreExitsOneAndCreatesNothing() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(["tail", "--store", folder.store], in: folder)
        #expect(result.status == 1, "\(result)")
        #expect(result.standardError.contains("is not a usable EventLog store"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: folder.store))
    }
}
