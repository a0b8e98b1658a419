// `eventlog repair`: the explicit way past corruption in the middle of the log.
// It throws events away, so it never runs without --truncate-after-corruption:
// without the flag it only verifies and says what the flag would do.
import EventLog
import EventSourcing
import Foundation

enum RepairCommand {
    static let spec = CommandSpec(
        name: "repair",
        summary: "Cut a corrupted log after its last sound append, keeping a backup of what is cut.",
        usage: "eventlog repair --store DIR --truncate-after-corruption",
        details: [
            """
            Flags:
              --store DIR                   the store folder (takes the writer lock)
              --truncate-after-corruption   required: cut the log at the last complete append call
                                            before the first corruption; without it, repair only
                                            verifies the store, says what it would do and exits 2
            """,
            """
            Every event from the first damaged record on is removed from the store, even the
            sound events after it: positions must stay dense. What is cut (the damaged segment's
            tail, every later segment and their index files) first goes to a new
            repair-backup-... folder inside the store folder, named in the output. On a healthy
            store nothing is done. Exits 5 if another process writes to the store: stop it first.
            Before repairing, consider restoring the damaged segment from a backup or replica
            instead: that loses nothing.
            """,
        ],
        examples: [
            "eventlog verify --store ./events",
            "eventlog repair --store ./events --truncate-after-corruption",
        ],
        valueFlags: ["store"],
        switchFlags: ["truncate-after-corruption"],
        run: run)

    static func run(_ arguments: ParsedArguments) async throws {
        let directory = try arguments.required("store")
        // Without this check the library would create a LOCK file to lock a missing or wrong folder.
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder), isFolder.boolValue else {
            throw CommandFailure(EventStoreError.incompatibleStore(path: directory, reason: "the folder does not exist"))
        }
        guard arguments.isSet("truncate-after-corruption") else {
            try explainWithoutRepairing(directory, command: arguments.command)
            return
        }
        let report = try FileEventStore.repair(directory: directory)
        guard let corruption = report.corruption else {
            printOutput(
                "Store \(directory) is healthy (last position \(report.lastPositionKept)): nothing to do, nothing changed.")
            return
        }
        let kept = report.lastPositionKept == 0 ? "none" : "1...\(report.lastPositionKept)"
        let cut = report.eventsRemoved == 0
            ? "none (0 events removed)"
            : "\(report.lastPositionKept + 1)...\(report.lastPositionCut) (\(report.eventsRemoved) events removed)"
        printOutput(
            """
            Repaired store \(directory)
              corruption       \(corruption.file) at byte offset \(corruption.offset): \(corruption.reason)
              positions kept   \(kept)
              positions cut    \(cut)
              backup           \(report.backupDirectory ?? "none")
              backup holds     \(backupContents(report))
            The store opens again; appends continue at position \(report.lastPositionKept + 1).
            The cut events are in the backup folder; delete it once you no longer need them.
            """)
    }

    /// The files in the backup folder (the damaged segment's cut bytes and the files
    /// moved whole), or the moved ones as the report names them if the folder cannot be listed.
    private static func backupContents(_ report: RepairReport) -> String {
        let names = report.backupDirectory.flatMap { try? FileManager.default.contentsOfDirectory(atPath: $0) }?.sorted()
            ?? report.filesMoved
        return names.isEmpty ? "nothing" : names.joined(separator: ", ")
    }

    /// Without the flag: verify, say what repair would do, and exit 2.
    private static func explainWithoutRepairing(_ directory: String, command: CommandSpec) throws {
        let report = try FileEventStore.verify(directory: directory)
        guard let first = report.problems.first else {
            printOutput("Store \(directory) is healthy (last position \(report.lastPosition)): repair would do nothing.")
            throw CommandFailure.usage(
                "repair changes nothing without '--truncate-after-corruption' (and this store needs no repair)",
                command: command)
        }
        var text = "Store \(directory) is corrupted: \(report.problems.count) problem(s)"
        for problem in report.problems {
            text += "\n  \(problem.file) at byte offset \(problem.offset): \(problem.reason)"
        }
        text += """

            With --truncate-after-corruption, repair would cut the log at the last complete append
            call before \(first.file) at byte offset \(first.offset), removing every event from there
            on (also the sound ones after it), after moving what it cuts to a repair-backup-... folder.
            """
        printOutput(text)
        throw CommandFailure.usage(
            "nothing was changed: repair throws events away, so it needs '--truncate-after-corruption' "
                + "to run; first try restoring the damaged segment from a backup or replica",
            command: command)
    }
}
