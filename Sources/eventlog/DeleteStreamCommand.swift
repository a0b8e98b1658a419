// `eventlog delete-stream`: remove a stream from every read, softly (the name
// lives on and appending continues) or for good (a tombstone), under the same
// optimistic concurrency check as an append.
import EventLog
import EventSourcing

enum DeleteStreamCommand {
    static let spec = CommandSpec(
        name: "delete-stream",
        summary: "Delete a stream: its events disappear from reads (soft), or its name is retired (--hard).",
        usage: "eventlog delete-stream --store DIR --stream NAME [--hard] [--expected-version any|no-stream|exists|N]",
        details: [
            """
            Flags:
              --store DIR               the store folder (must exist; takes the writer lock)
              --stream NAME             the stream to delete
              --hard                    a tombstone: the name can never be appended to again
                                        (default: soft, appending continues at the next version)
              --expected-version V      what the stream's version must be: any (default),
                                        no-stream, exists, or a version number; otherwise exit 3
                                        and nothing changes
            """,
            """
            Either way the stream's events disappear from every read at once; their bytes stay
            in the log until compaction reclaims them. Exits 5 if another process writes to
            the store.
            """,
        ],
        examples: [
            "eventlog delete-stream --store ./events --stream order-1001 --expected-version 3",
            "eventlog delete-stream --store ./events --stream customer-ada --hard",
        ],
        valueFlags: ["store", "stream", "expected-version"],
        switchFlags: ["hard"],
        run: run)

    static func run(_ arguments: ParsedArguments) async throws {
        let directory = try arguments.required("store")
        // Checked before the store is opened, so a mistake takes no lock and changes nothing.
        let stream = try arguments.requiredStreamName()
        let expectedVersion = try arguments.expectedVersion()
        let hard = arguments.isSet("hard")
        let store = try StoreOpening.open(directory, options: existingStoreOptions())
        do {
            if let torn = store.openReport.tornTail {
                printError("eventlog: note: recovered from an interrupted write: \(torn)")
            }
            let version = try store.version(of: stream).rawValue
            try await store.deleteStream(stream, expectedVersion: expectedVersion, hard: hard)
            let events = version == 0 ? "it had no events" : "it was at version \(version)"
            if hard {
                printOutput(
                    "Hard-deleted stream '\(stream)' (\(events)): its events no longer appear in reads, "
                        + "and appending to this name now fails.")
            } else {
                printOutput(
                    "Soft-deleted stream '\(stream)' (\(events)): its events no longer appear in reads; "
                        + "appending continues at version \(version + 1).")
            }
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }

    /// Options for opening a store that must already exist, for writing.
    static func existingStoreOptions() -> StoreOptions {
        var options = StoreOptions()
        options.createIfMissing = false
        return options
    }
}
