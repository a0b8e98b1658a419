// `eventlog compact`: give back the disk space of deleted and truncated events,
// keeping every other event where it is (same positions, same versions).
import EventLog
import EventSourcing
import Foundation
import Synchronization

enum CompactCommand {
    static let spec = CommandSpec(
        name: "compact",
        summary: "Reclaim the space of deleted and truncated events.",
        usage: "eventlog compact --store DIR [--json]",
        details: [
            """
            Flags:
              --store DIR   the store folder (must exist; takes the writer lock)
              --json        print one JSON object instead of a summary
            """,
            """
            Seals the active segment, then rewrites every segment that holds events hidden by
            'delete-stream' or 'truncate' (or by a stream's count or age limit) without them.
            Every other event keeps its bytes, version and global position; reads give the same
            answers before and after. Each segment is replaced atomically, so a crash or Ctrl-C
            at any moment leaves a sound store (run compact again to finish). A stream's last
            event is kept unless the stream was deleted with --hard, so appends continue at
            the right version; after a hard delete and a compaction, none of the stream's data
            is left in any file of the store. Removal is permanent.
            On a terminal, a progress line on standard error shows the megabytes read.
            Exits 5 if another process writes to the store: stop it, or call
            FileEventStore.compact() from that process (compaction runs online there).
            With --json the keys are segmentsConsidered, segmentsRewritten, eventsRemoved,
            eventsKept, bytesRead, bytesBefore, bytesAfter, bytesReclaimed, snapshotsRemoved
            and milliseconds.
            """,
        ],
        examples: ["eventlog compact --store ./events", "eventlog compact --store ./events --json | jq .bytesReclaimed"],
        valueFlags: ["store"],
        switchFlags: ["json"],
        run: run)

    static func run(_ arguments: ParsedArguments) async throws {
        let directory = try arguments.required("store")
        let store = try StoreOpening.open(directory, options: DeleteStreamCommand.existingStoreOptions())
        let report: CompactionReport
        do {
            if let torn = store.openReport.tornTail {
                printError("eventlog: note: recovered from an interrupted write: \(torn)")
            }
            let bar = Mutex(ProgressBar(unit: "MB"))
            report = try await store.compact { progress in
                bar.withLock {
                    $0.update(
                        done: progress.bytesRead / 1_000_000,
                        fraction: progress.bytesTotal > 0 ? Double(progress.bytesRead) / Double(progress.bytesTotal) : nil)
                }
            }
            bar.withLock { $0.finish() }
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        printOutput(arguments.isSet("json") ? json(report) : summary(report, directory: directory))
    }

    static func summary(_ report: CompactionReport, directory: String) -> String {
        let seconds = report.milliseconds / 1_000
        let rate = seconds > 0 ? Double(report.bytesRead) / seconds : 0
        guard report.segmentsRewritten > 0 else {
            return "Nothing to reclaim in \(directory): no deleted or truncated events in its \(report.segmentsConsidered) sealed segment(s)."
        }
        return """
            Compacted \(directory) in \(String(format: "%.2f", seconds)) s:
              segments rewritten  \(report.segmentsRewritten) of \(report.segmentsConsidered)
              events removed      \(report.eventsRemoved) (\(report.eventsKept) kept in the rewritten segments)
              bytes read          \(report.bytesRead) (\(HumanReadable.bytes(report.bytesRead)), \(HumanReadable.bytes(UInt64(rate)))/s)
              bytes reclaimed     \(report.bytesReclaimed) (\(HumanReadable.bytes(report.bytesReclaimed)))
            """ + (report.snapshotsRemoved > 0 ? "\n  snapshots removed   \(report.snapshotsRemoved)" : "")
    }

    static func json(_ report: CompactionReport) -> String {
        let fields: [(String, UInt64)] = [
            ("segmentsConsidered", UInt64(report.segmentsConsidered)), ("segmentsRewritten", UInt64(report.segmentsRewritten)),
            ("eventsRemoved", report.eventsRemoved), ("eventsKept", report.eventsKept), ("bytesRead", report.bytesRead),
            ("bytesBefore", report.bytesBefore), ("bytesAfter", report.bytesAfter), ("bytesReclaimed", report.bytesReclaimed),
            ("snapshotsRemoved", UInt64(report.snapshotsRemoved)),
        ]
        var output: [UInt8] = [UInt8(ascii: "{")]
        for (name, value) in fields {
            JSONText.appendString(name, to: &output)
            output.append(UInt8(ascii: ":"))
            JSONText.appendNumber(value, to: &output)
            output.append(UInt8(ascii: ","))
        }
        output.append(contentsOf: #""milliseconds":"#.utf8)
        output.append(contentsOf: String(format: "%.1f", report.milliseconds).utf8)
        output.append(UInt8(ascii: "}"))
        return String(decoding: output, as: UTF8.self)
    }
}
