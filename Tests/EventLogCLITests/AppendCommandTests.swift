// `eventlog append`: one call per line, acknowledged as `STREAM VERSION POSITION`;
// a bad line is refused whole with exit status 2, and lines before it stay.
import Foundation
import Testing

@Suite struct AppendCommandTests {
    static let orderID = "6F1C5A2E-3B4D-4E5F-8A9B-0C1D2E3F4A5B"

    @Test func appendPrintsStreamVersionPositionAndReadReturnsTheSameEvents() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let data: [Any] = [
            ["customer": "ada", "totalCents": 1250, "share": 12.5, "tags": ["tea", "mug"], "paid": false, "note": NSNull()],
            ["sku": "TEA-01", "quantity": 2],
            "a string with \"quotes\", a / slash, a tab\t, a newline\n and é ✓",
        ]
        let lines = [
            #"{"type":"OrderCreated","id":"\#(Self.orderID)","data":\#(try JSONLines.canonical(data[0])),"metadata":{"user":"clerk-7"}}"#,
            #"{"type":"ItemAdded","data":\#(try JSONLines.canonical(data[1]))}"#,
            "",
            #"  {"type":"NoteAdded","data":\#(try JSONLines.canonical(data[2]))}  "#,
        ]
        let startedMicroseconds = Int64(Date().timeIntervalSince1970 * 1_000_000)
        let append = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "order-1001"], lines: lines, in: folder)
        #expect(append.status == 0, "\(append)")
        #expect(append.outputLines == ["order-1001 1 1", "order-1001 2 2", "order-1001 3 3"])

        let read = try await EventLogProcess.run(["read", "--store", folder.store], in: folder)
        #expect(read.status == 0, "\(read)")
        let events = try JSONLines.objects(read.standardOutput)
        try #require(events.count == 3)
        for line in read.outputLines { #expect(JSONLines.keyOrder(of: line) == JSONLines.keys, "\(line)") }
        for (index, event) in events.enumerated() {
            #expect(Set(event.keys) == Set(JSONLines.keys))
            #expect(event["position"] as? Int == index + 1)
            #expect(event["version"] as? Int == index + 1)
            #expect(event["stream"] as? String == "order-1001")
            #expect(try JSONLines.canonical(try #require(event["data"])) == JSONLines.canonical(data[index]))
            let id = try #require(event["id"] as? String)
            #expect(UUID(uuidString: id) != nil && id == id.uppercased())
            let timestamp = try #require(event["timestamp"] as? String)
            #expect(timestamp.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z/) != nil, "\(timestamp)")
            let date = try #require(ISO8601DateFormatter.withFractionalSeconds.date(from: timestamp))
            #expect(abs(date.timeIntervalSince1970 - Double(startedMicroseconds) / 1e6) < 600)
        }
        #expect(events.map { $0["type"] as? String } == ["OrderCreated", "ItemAdded", "NoteAdded"])
        #expect(events[0]["id"] as? String == Self.orderID)
        #expect(try JSONLines.canonical(try #require(events[0]["metadata"])) == #"{"user":"clerk-7"}"#)
        #expect(try JSONLines.canonical(try #require(events[1]["metadata"])) == "{}")
    }

    @Test func anArrayLineIsOneAtomicCall() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let arguments = ["append", "--store", folder.store, "--stream", "order-7"]
        let first = try await EventLogProcess.run(
            arguments,
            lines: [#"[{"type":"OrderCreated","data":{}},{"type":"ItemAdded","data":{"n":1}},{"type":"ItemAdded","data":{"n":2}}]"#],
            in: folder)
        #expect(first.status == 0, "\(first)")
        #expect(first.outputLines == ["order-7 1 1", "order-7 2 2", "order-7 3 3"])

        // The second event of the array is invalid, so the first must not be written either.
        let second = try await EventLogProcess.run(
            arguments, lines: [#"[{"type":"ItemAdded","data":{"n":3}},{"data":{"n":4}}]"#], in: folder)
        #expect(second.status == 2, "\(second)")
        #expect(second.standardError.contains("line 1, event 2"), "\(second)")
        #expect(second.standardOutput.isEmpty)
        #expect(try await eventCount(in: folder) == 3)
    }

    @Test func laterLinesFollowOnFromTheVersionJustWritten() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let event = #"{"type":"ItemAdded","data":{}}"#
        let first = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "order-9", "--expected-version", "no-stream"],
            lines: [event, event], in: folder)
        #expect(first.status == 0, "\(first)")
        #expect(first.outputLines == ["order-9 1 1", "order-9 2 2"])

        let second = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "order-9", "--expected-version", "2"],
            lines: [event, #"[\#(event),\#(event)]"#], in: folder)
        #expect(second.status == 0, "\(second)")
        #expect(second.outputLines == ["order-9 3 3", "order-9 4 4", "order-9 5 5"])

        let exists = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "order-9", "--expected-version", "exists"],
            lines: [event], in: folder)
        #expect(exists.outputLines == ["order-9 6 6"])
    }

    @Test func expectedVersionNoStreamOnAnExistingStreamExitsThreeAndWritesNothing() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let arguments = ["append", "--store", folder.store, "--stream", "order-1"]
        let created = try await EventLogProcess.run(arguments, lines: [#"{"type":"OrderCreated","data":{}}"#], in: folder)
        #expect(created.status == 0, "\(created)")

        let conflict = try await EventLogProcess.run(
            arguments + ["--expected-version", "no-stream"], lines: [#"{"type":"OrderCreated","data":{}}"#], in: folder)
        #expect(conflict.status == 3, "\(conflict)")
        #expect(conflict.standardError.hasPrefix("eventlog: error: line 1: Wrong expected version"), "\(conflict)")
        #expect(conflict.standardError.contains("is at version 1"))
        #expect(conflict.standardOutput.isEmpty)
        #expect(!conflict.showsCrash)
        #expect(try await eventCount(in: folder) == 1)

        let stale = try await EventLogProcess.run(
            arguments + ["--expected-version", "5"], lines: [#"{"type":"ItemAdded","data":{}}"#], in: folder)
        #expect(stale.status == 3, "\(stale)")
        #expect(try await eventCount(in: folder) == 1)
    }

    @Test func retryingTheSameEventIDsReturnsTheOriginalResult() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let arguments = ["append", "--store", folder.store, "--stream", "order-1", "--expected-version", "no-stream"]
        let line = #"{"type":"OrderPaid","id":"\#(Self.orderID)","data":{"amountCents":2100}}"#
        let first = try await EventLogProcess.run(arguments, lines: [line], in: folder)
        let retry = try await EventLogProcess.run(arguments, lines: [line], in: folder)
        #expect(first.status == 0 && retry.status == 0, "\(first)\n\(retry)")
        #expect(retry.outputLines == ["order-1 1 1"])
        #expect(try await eventCount(in: folder) == 1)
    }

    @Test func aMalformedLineExitsTwoAndKeepsTheLinesBeforeIt() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "order-1"],
            lines: [#"{"type":"OrderCreated","data":{}}"#, #"{"type":"ItemAdded","data":"#, #"{"type":"ItemAdded","data":{}}"#],
            in: folder)
        #expect(result.status == 2, "\(result)")
        #expect(result.standardError.contains("line 2 is not valid JSON"), "\(result)")
        #expect(result.standardError.contains("resend only the lines from the failing one on"), "\(result)")
        #expect(result.outputLines == ["order-1 1 1"])
        #expect(!result.showsCrash)
        #expect(try await eventCount(in: folder) == 1)
    }

    @Test(arguments: [
        (#"{"data":{}}"#, "no \"type\""),
        (#"{"type":"","data":{}}"#, "no \"type\""),
        (#"{"type":42,"data":{}}"#, "no \"type\""),
        (#"{"type":"OrderCreated"}"#, "no \"data\""),
        (#"{"type":"OrderCreated","data":{},"id":"not-a-uuid"}"#, "not a UUID"),
        (#"{"type":"OrderCreated","data":{},"id":7}"#, "\"id\" that is not a string"),
        (#"{"type":"OrderCreated","data":{},"metadata":[1,2]}"#, "\"metadata\" that is not a JSON object"),
        (#"{"type":"OrderCreated","data":{},"metdata":{}}"#, "unknown key \"metdata\""),
        (#"{"type":"Order\u0007Created","data":{}}"#, "control character"),
        (#"42"#, "not a JSON object"),
        (#"[]"#, "empty array"),
        (#"[{"type":"A","data":1},7]"#, "event 2 is not a JSON object"),
        (#"{"type":"OrderCreated","data":{}} trailing"#, "not valid JSON"),
    ])
    func anInvalidEventIsRefusedWithExitTwo(line: String, message: String) async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "order-1"], lines: [line], in: folder)
        #expect(result.status == 2, "\(result)")
        #expect(result.standardError.hasPrefix("eventlog: error: line 1"), "\(result)")
        #expect(result.standardError.contains(message), "\(result)")
        #expect(!result.showsCrash)
        #expect(try await eventCount(in: folder) == 0)
    }

    @Test func duplicateIDsInOneArrayAreRefused() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let event = #"{"type":"ItemAdded","id":"\#(Self.orderID)","data":{}}"#
        let result = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "order-1"], lines: ["[\(event),\(event)]"], in: folder)
        #expect(result.status == 2, "\(result)")
        #expect(result.standardError.contains("appears twice"), "\(result)")
        #expect(try await eventCount(in: folder) == 0)
    }

    @Test(arguments: ["", "$system", "order\n1"])
    func anInvalidStreamNameExitsTwoAndCreatesNoStore(stream: String) async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream=\(stream)"], lines: [#"{"type":"OrderCreated","data":{}}"#],
            in: folder)
        #expect(result.status == 2, "\(result)")
        #expect(result.standardError.contains("Invalid stream name"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: folder.store))
    }

    @Test func anEventOverSixteenMebibytesExitsTwoAndWritesNothingOfItsLine() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let large = String(repeating: "x", count: 16 * 1024 * 1024)
        let result = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "order-1", "--segment-size", "65536"],
            lines: [#"{"type":"OrderCreated","data":{}}"#, #"{"type":"Attachment","data":"\#(large)"}"#], in: folder)
        #expect(result.status == 2, "\(result.status) \(result.standardError)")
        #expect(result.standardError.contains("line 2: Event"), "\(result.standardError)")
        #expect(result.standardError.contains("more than the limit of 16777216 bytes"))
        #expect(result.outputLines == ["order-1 1 1"])
        #expect(try await eventCount(in: folder) == 1)
    }

    /// A producer may wait for each acknowledgement before sending the next line,
    /// keeping the pipe open meanwhile: the line must be acknowledged anyway.
    @Test func aLineIsAcknowledgedWhileTheInputStaysOpen() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let executable = try #require(EventLogProcess.executable, "the eventlog binary was not found beside the test bundle")
        let input = Pipe()
        let output = Pipe()
        let process = Process()
        process.executableURL = executable
        process.arguments = ["append", "--store", folder.store, "--stream", "order-1"]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let exited = AsyncStream<Int32> { continuation in
            process.terminationHandler = { continuation.yield($0.terminationStatus) }
        }
        try process.run()
        try input.fileHandleForWriting.write(contentsOf: Data((#"{"type":"OrderCreated","data":{}}"# + "\n").utf8))

        // Read on a thread of its own: a blocking read must not hold a task's thread.
        let descriptor = output.fileHandleForReading.fileDescriptor
        let acknowledgement: String = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: Self.firstLine(of: descriptor, waitingAtMostMilliseconds: 30_000)) }.start()
        }
        #expect(acknowledgement == "order-1 1 1", "no acknowledgement while the input stayed open")
        // Ends the child either way (without the acknowledgement, it then appends and exits).
        try input.fileHandleForWriting.close()
        for await status in exited {
            #expect(status == 0)
            break
        }
    }

    /// The first line `descriptor` delivers, or what arrived of it before it stayed
    /// silent for `milliseconds` (a bound, so that a missing line fails the test
    /// instead of hanging it).
    private static func firstLine(of descriptor: Int32, waitingAtMostMilliseconds milliseconds: Int32) -> String {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        var waiting = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&waiting, 1, milliseconds)
            if ready < 0, errno == EINTR { continue }
            guard ready == 1, read(descriptor, &byte, 1) == 1, byte != UInt8(ascii: "\n") else { break }
            line.append(byte)
        }
        return String(decoding: line, as: UTF8.self)
    }

    @Test func emptyInputAppendsNothingAndSucceeds() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "order-1"], lines: ["", "   "], in: folder)
        #expect(result.status == 0, "\(result)")
        #expect(result.standardOutput.isEmpty)
        #expect(try await eventCount(in: folder) == 0)
    }
}

/// How many events `eventlog read` prints for the test's store.
func eventCount(in folder: TemporaryDirectory) async throws -> Int {
    let read = try await EventLogProcess.run(["read", "--store", folder.store], in: folder)
    try #require(read.status == 0, "\(read)")
    return read.outputLines.count
}

extension ISO8601DateFormatter {
    /// Parses the `read` timestamps (tests only: the CLI formats them by hand).
    static var withFractionalSeconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
