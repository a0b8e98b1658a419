// `eventlog verify`: read every byte of a store back and say whether it is sound,
// and if not, where the damage is and what to do about it.
import EventLog
import EventSourcing

enum VerifyCommand {
    static let spec = CommandSpec(
        name: "verify",
        summary: "Check every record of a store and report any corruption.",
        usage: "eventlog verify --store DIR",
        details: [
            """
            Flags:
              --store DIR   the store folder
            """,
            """
            Reads every segment: headers, each record's checksum and position, and the
            footers of sealed segments. Changes nothing and takes no lock, so it can run
            beside a writer. Exits 0 when the store is healthy and 4 when it found
            corruption, naming each damaged file and byte offset. A torn tail (the end
            of a write cut short by a crash) is not corruption: it was never
            acknowledged, and the next writer to open the store discards it.
            On a terminal, a progress line on standard error shows the segments checked.
            """,
        ],
        examples: ["eventlog verify --store ./events"],
        valueFlags: ["store"],
        run: run)

    static func run(_ arguments: ParsedArguments) async throws {
        let directory = try arguments.required("store")
        var progress = ProgressBar(unit: "segments")
        let report: VerifyReport
        do {
            defer { progress.finish() }
            report = try FileEventStore.verify(directory: directory) { done, total in
                progress.update(done: UInt64(done), fraction: total > 0 ? Double(done) / Double(total) : nil)
            }
        }
        var text = """
            Store \(directory)
              segments       \(report.segments)
              events         \(report.events)
              record bytes   \(report.recordBytes)
              last position  \(report.lastPosition)
            """
        if let torn = report.tornTail {
            text += "\n  torn tail      \(torn.description)"
            text += "\n                 (not corruption: the next writer open discards it)"
        }
        if report.isHealthy {
            printOutput(text + "\nHealthy: every record checks out.")
            return
        }
        text += "\nCorruption found: \(report.problems.count) problem(s)"
        for problem in report.problems {
            text += "\n  \(problem.file) at byte offset \(problem.offset): \(problem.reason)"
        }
        printOutput(text)
        throw CommandFailure(
            exitCode: .corruption,
            message: """
                the store at \(directory) is corrupted (\(report.problems.count) problem(s) listed above). \
                Stop any writer and copy the folder somewhere safe before changing anything, then restore the \
                damaged segment files from a backup or replica: the store will not open until they are repaired. \
                If there is no copy, 'eventlog repair --store \(directory) --truncate-after-corruption' cuts the log \
                before the damage, losing every event from there on.
                """)
    }
}
