// `eventlog append`: JSON lines on standard input, one append call per line,
// each acknowledged on standard output once it is durable.
import EventLog
import EventSourcing
import Foundation

enum AppendCommand {
    static let spec = CommandSpec(
        name: "append",
        summary: "Append events read as JSON lines from standard input to one stream.",
        usage: "eventlog append --store DIR --stream NAME [--expected-version any|no-stream|exists|N] [--segment-size BYTES]",
        details: [
            """
            Flags:
              --store DIR                the store folder (created if missing)
              --stream NAME              the stream to append to
              --expected-version V       what the stream's version must be for the first line:
                                         any (default), no-stream, exists, or a version number;
                                         each later line expects the version the line before wrote
              --segment-size BYTES       segment size for a new store (default 67108864, at least 65536)
            """,
            """
            Input: each non-empty line is one atomic append call, either one event
              {"type": "OrderCreated", "data": {...}, "id": "UUID (optional)", "metadata": {... (optional)}}
            or an array of such events. data may be any JSON value.
            """,
            """
            Output: once a line's events are durable, one line per event: STREAM VERSION POSITION.
            A line that is not valid is refused whole (exit 2, naming the line); lines before it
            stay appended. A wrong expected version exits 3 and writes nothing of that line.
            """,
        ],
        examples: [
            #"echo '{"type":"OrderCreated","data":{"customer":"ada"}}' | eventlog append --store ./events --stream order-1001 --expected-version no-stream"#
        ],
        valueFlags: ["store", "stream", "expected-version", "segment-size"],
        run: run)

    static func run(_ arguments: ParsedArguments) async throws {
        let directory = try arguments.required("store")
        // Checked before the store is opened, so a mistyped name creates nothing.
        let stream = try arguments.requiredStreamName()
        let expectedVersion = try arguments.expectedVersion()
        let store = try StoreOpening.open(directory, options: try arguments.storeOptions())
        if let torn = store.openReport.tornTail {
            printError("eventlog: note: recovered from an interrupted write: \(torn)")
        }
        if isatty(STDIN_FILENO) != 0 {
            // Someone typed the command without piping input: say why it waits.
            printError("eventlog: reading JSON lines from standard input; end with Ctrl-D")
        }
        var appendedEvents = 0
        do {
            try await appendLines(to: store, stream: stream, expectedVersion: expectedVersion, appendedEvents: &appendedEvents)
        } catch {
            // The failure is what the user needs to see; a close error after it adds nothing.
            try? await store.close()
            guard appendedEvents > 0, let failure = error as? CommandFailure else { throw error }
            throw failure.adding(
                "The lines before it (\(appendedEvents) event(s), printed above) were appended and stay; "
                    + "resend only the lines from the failing one on.")
        }
        try await store.close()
    }

    /// One append call per non-empty line of standard input; counts what was acknowledged.
    private static func appendLines(
        to store: FileEventStore, stream: StreamName, expectedVersion first: ExpectedVersion, appendedEvents: inout Int
    ) async throws {
        var expectedVersion = first
        var reader = LineReader(FileHandle.standardInput)
        var output = OutputBuffer()
        while let line = try reader.nextLine() {
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
            let events = try EventLineDecoder.decode(line, lineNumber: reader.lineNumber)
            let result: AppendResult
            do {
                result = try await store.append(events, to: stream, expectedVersion: expectedVersion)
            } catch let error as EventStoreError {
                throw CommandFailure(error, context: "line \(reader.lineNumber)")
            }
            let firstVersion = result.firstVersion(eventCount: events.count).rawValue
            for offset in 0..<UInt64(events.count) {
                output.writeLine("\(stream.rawValue) \(firstVersion + offset) \(result.firstPosition.rawValue + offset)")
            }
            // Acknowledge each call as it becomes durable, not when the input ends.
            try output.flush()
            appendedEvents += events.count
            expectedVersion = .exact(result.nextExpectedVersion)
        }
    }
}
