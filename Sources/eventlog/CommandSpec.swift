// What each command is called, which flags it takes and how it explains itself:
// the parser, the dispatcher and `--help` all read this one description.

/// One `eventlog` command: its name, its flags, its help, and what it runs.
struct CommandSpec: Sendable {
    /// The word after `eventlog`.
    let name: String
    /// One line for the command list.
    let summary: String
    /// The usage line, e.g. `eventlog read --store DIR [--limit N]`.
    let usage: String
    /// The flags and behaviour, one paragraph or list per string.
    let details: [String]
    /// Example invocations, one per line.
    let examples: [String]
    /// Flags that take a value, without the leading `--`.
    let valueFlags: [String]
    /// Flags that take no value (on when given, e.g. `--json`), without the leading `--`.
    var switchFlags: [String] = []
    /// The command itself; returns once everything is printed. Throws ``CommandFailure``
    /// or ``EventStoreError`` (the dispatcher maps either to an exit status).
    let run: @Sendable (ParsedArguments) async throws -> Void

    /// The full `--help` text.
    var helpText: String {
        var text = "\(summary)\n\nUsage: \(usage)\n"
        for paragraph in details { text += "\n" + paragraph + "\n" }
        text += "\nExample:\n"
        for example in examples { text += "  " + example + "\n" }
        return text
    }
}

/// The commands of the tool, in the order `eventlog --help` lists them.
enum Commands {
    static let all: [CommandSpec] = [
        DemoCommand.spec, AppendCommand.spec, ReadCommand.spec, TailCommand.spec, StatsCommand.spec, InspectCommand.spec,
        VerifyCommand.spec, RepairCommand.spec, DeleteStreamCommand.spec, TruncateCommand.spec, CompactCommand.spec, ExportCommand.spec,
        ImportCommand.spec,
    ]

    /// The command called `name`, if there is one.
    static func named(_ name: String) -> CommandSpec? { all.first { $0.name == name } }

    /// The text of `eventlog --help`.
    static var overviewText: String {
        let width = all.map(\.name.count).max() ?? 0
        var text = """
            eventlog: append to, read, follow, inspect, check, repair, export and import an EventLog
            store (a folder of event segments), and delete or truncate its streams.

            Usage: eventlog COMMAND [FLAGS]

            Commands:

            """
        for command in all {
            text += "  " + command.name + String(repeating: " ", count: width - command.name.count + 2) + command.summary + "\n"
        }
        text += "  help" + String(repeating: " ", count: max(width - 2, 2)) + "Show the help of a command: eventlog help COMMAND\n"
        text += """

            Exit status: 0 ok, 1 other failure, 2 usage or invalid input, 3 wrong expected version,
            4 corruption found, 5 store locked by another writer.

            Example:
              eventlog demo
              eventlog append --help
              eventlog stats --store ./events
              eventlog tail --store ./events --from 1

            """
        return text
    }
}
