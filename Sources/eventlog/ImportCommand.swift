// `eventlog import`: `eventlog export` lines on standard input into an empty
// store, keeping every event's stream, version, id, data and metadata, so that
// a store can be moved or rebuilt. Positions come out dense (1...N) in input
// order: where the exported positions had gaps, they do not survive.
import EventLog
import EventSourcing
import Foundation

enum ImportCommand {
    static let spec = CommandSpec(
        name: "import",
        summary: "Read 'export' lines from standard input into a new, empty store.",
        usage: "eventlog import --store DIR [--segment-size BYTES]",
        details: [
            """
            Flags:
              --store DIR            the store folder (created if missing; must hold no events)
              --segment-size BYTES   segment size for a new store (default 67108864, at least 65536)
            """,
            """
            Input: the JSON lines 'eventlog export' writes, one event per line (see 'eventlog export
            --help'). Each event is appended to its stream expecting the version before its own,
            so versions, ids, types, data, metadata and correlation and causation ids come out as
            they went in; positions are given anew, dense from 1 in input order, and timestamps
            are the time of the import. JSON data and metadata are stored as the exact text of
            their value in the line (not parsed and serialized again), so exported bytes are
            imported unchanged. A stream whose first event is past version 1 (it was truncated
            in the exported store) starts there, the versions below it hidden as they were. A
            stream's events must have no gaps (else exit 3, as for any wrong expected version).
            """,
            """
            Consecutive events of a stream are appended in one call (at most \(ImportBatch.maxEvents) events and
            8 MiB per call); writes are synced once, at the end. A summary (events, streams,
            seconds) goes to standard error; on a terminal, so does a progress line. A line that
            is not valid is refused whole (exit 2, naming the line); the lines before it stay
            imported, so remove the store folder before importing again.
            """,
        ],
        examples: [
            "eventlog import --store ./events-copy < events.jsonl",
            "eventlog export --store ./events | eventlog import --store ./events-copy --segment-size 268435456",
        ],
        valueFlags: ["store", "segment-size"],
        run: run)

    /// What an import did, for its summary.
    private struct Tally {
        var events = 0
        var streams = 0
    }

    static func run(_ arguments: ParsedArguments) async throws {
        let directory = try arguments.required("store")
        var options = try arguments.storeOptions()
        // No one waits on a single event here: syncing once, at close, is enough
        // (a crash mid-import leaves a store to remove and import again anyway).
        options.durability = .none
        let started = ContinuousClock.now
        let store = try StoreOpening.open(directory, options: options)
        var tally = Tally()
        do {
            guard store.lastPosition.rawValue == 0 else {
                throw CommandFailure.invalidInput(
                    "the import needs an empty store, but \(directory) already holds \(store.lastPosition.rawValue) events; "
                        + "pass a new folder with --store")
            }
            if isatty(STDIN_FILENO) != 0 {
                printError("eventlog: reading 'eventlog export' lines from standard input; end with Ctrl-D")
            }
            try await importLines(into: store, tally: &tally)
        } catch {
            // The failure is what the user needs to see; a close error after it adds nothing.
            try? await store.close()
            guard tally.events > 0, let failure = error as? CommandFailure else { throw error }
            throw failure.adding(
                "The \(tally.events) event(s) before it were imported, so the store is incomplete: "
                    + "remove \(directory) and import again once the input is fixed.")
        }
        try await store.close()
        let (seconds, attoseconds) = (ContinuousClock.now - started).components
        let elapsed = Double(seconds) + Double(attoseconds) / 1e18
        printError(
            "eventlog: imported \(tally.events) events in \(tally.streams) streams in \(String(format: "%.2f", elapsed)) s")
    }

    /// Reads standard input to its end, appending batch by batch.
    private static func importLines(into store: FileEventStore, tally: inout Tally) async throws {
        var reader = LineReader(FileHandle.standardInput)
        var batch = ImportBatch()
        // From a file the bar can show how far through it the import is; from a pipe, only a count.
        let inputBytes = standardInputFileSize()
        var bytesRead: UInt64 = 0
        var progress = ProgressBar(unit: "events")
        defer { progress.finish() }
        while let line = try reader.nextLine() {
            bytesRead += UInt64(line.count + 1)
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
            let item: ImportedEvent
            do {
                item = try ImportLineDecoder.decode(line, lineNumber: reader.lineNumber)
            } catch {
                // Keep the promise the error makes: every line before the bad one is imported.
                try await append(batch, to: store, tally: &tally)
                throw error
            }
            if !batch.canTake(item) {
                try await append(batch, to: store, tally: &tally)
                batch = ImportBatch()
            }
            batch.add(item, line: reader.lineNumber)
            progress.update(
                done: UInt64(tally.events + batch.eventCount),
                fraction: inputBytes.map { Double(bytesRead) / Double(max($0, 1)) })
        }
        try await append(batch, to: store, tally: &tally)
    }

    private static func append(_ batch: ImportBatch, to store: FileEventStore, tally: inout Tally) async throws {
        guard !batch.isEmpty else { return }
        while true {
            do {
                _ = try await store.append(batch.parts)
                break
            } catch let error as EventStoreError {
                // A stream whose first exported event is past version 1 was truncated in
                // the exported store: start it there (versions below stay hidden), then retry.
                if case .wrongExpectedVersion(let stream, .exact(let expected), let actual) = error, actual == .none,
                    expected.rawValue > 0
                {
                    try await store.startStream(stream, atVersion: StreamVersion(expected.rawValue + 1))
                    tally.streams += 1
                    continue
                }
                let failure = CommandFailure(error, context: batch.lines)
                guard case .wrongExpectedVersion = error else { throw failure }
                throw failure.adding(
                    "Import keeps every event's version, so each stream's events must run without gaps, in order; "
                        + "export the whole store (without --from) and import it into an empty folder.")
            }
        }
        tally.events += batch.eventCount
        tally.streams += batch.newStreams
    }

    /// The size of standard input if it is a regular file, else nil.
    private static func standardInputFileSize() -> UInt64? {
        var info = stat()
        guard fstat(STDIN_FILENO, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size > 0 else { return nil }
        return UInt64(info.st_size)
    }
}
