// `eventlog truncate`: hide a stream's old events (e.g. those a snapshot now
// summarises) from every read, keeping the stream and its later events.
import EventLog
import EventSourcing

enum TruncateCommand {
    static let spec = CommandSpec(
        name: "truncate",
        summary: "Hide the events of a stream before a version from every read.",
        usage: "eventlog truncate --store DIR --stream NAME --before VERSION",
        details: [
            """
            Flags:
              --store DIR        the store folder (must exist; takes the writer lock)
              --stream NAME      the stream to truncate
              --before VERSION   the first version to keep: versions 1 to VERSION - 1 are hidden
            """,
            """
            The hidden events disappear from every read at once; versions are not renumbered,
            and appending continues after the stream's last version. Their bytes stay in the
            log until compaction reclaims them. Truncating never brings hidden events back: a
            lower VERSION than an earlier truncation changes nothing. Exits 5 if another process
            writes to the store.
            """,
        ],
        examples: ["eventlog truncate --store ./events --stream order-1001 --before 40"],
        valueFlags: ["store", "stream", "before"],
        run: run)

    static func run(_ arguments: ParsedArguments) async throws {
        let directory = try arguments.required("store")
        let stream = try arguments.requiredStreamName()
        let before = try arguments.requiredNumber("before")
        guard before >= 1 else {
            throw CommandFailure.usage(
                "'--before 0' is not a version (versions start at 1); give the first version to keep, e.g. --before 2",
                command: arguments.command)
        }
        let store = try StoreOpening.open(directory, options: DeleteStreamCommand.existingStoreOptions())
        do {
            if let torn = store.openReport.tornTail {
                printError("eventlog: note: recovered from an interrupted write: \(torn)")
            }
            try await store.truncateStream(stream, before: StreamVersion(before))
            let version = try store.version(of: stream).rawValue
            // An earlier truncation or deletion may hide more than this one: say what reads show now.
            let firstVisible = try store.readStream(stream, maxCount: 1).first?.version.rawValue
            printOutput(description(stream: stream, before: before, version: version, firstVisible: firstVisible))
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }

    /// What reads of the stream show after the truncation.
    private static func description(stream: StreamName, before: UInt64, version: UInt64, firstVisible: UInt64?) -> String {
        let done = before == 1
            ? "Nothing hidden by --before 1 (versions start at 1) in stream '\(stream)'"
            : "Truncated stream '\(stream)' before version \(before): versions below \(before) are hidden from reads"
        if version == 0 { return done + "; the stream has no events yet." }
        if let firstVisible {
            return done + "; reads now show versions \(firstVisible)...\(version) of \(version)."
        }
        return done + "; reads now show none of its \(version) version(s); appends show from version \(max(before, version + 1)) on."
    }
}
