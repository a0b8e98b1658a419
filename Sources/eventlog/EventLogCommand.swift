// The dispatcher: picks the command, turns every way it can fail into one
// message on standard error and an exit status, and never shows a stack trace
// for a user's mistake.
import EventSourcing

enum EventLogCommand {
    /// Runs the tool on `arguments` (without the program name) and returns the exit status.
    static func run(_ arguments: [String]) async -> ExitCode {
        do {
            try await dispatch(arguments)
            return .success
        } catch let failure as CommandFailure {
            report(failure)
            return failure.exitCode
        } catch let error as EventStoreError {
            report(CommandFailure(error))
            return ExitCode(error)
        } catch {
            report(CommandFailure(exitCode: .failure, message: "\(error)"))
            return .failure
        }
    }

    private static func dispatch(_ arguments: [String]) async throws {
        guard let name = arguments.first else {
            throw CommandFailure.usage("no command given", command: nil)
        }
        switch name {
        case "--help", "-h":
            printOutput(Commands.overviewText, terminator: "")
            return
        case "help":
            try showHelp(of: arguments.dropFirst())
            return
        default:
            break
        }
        guard let command = Commands.named(name) else {
            throw CommandFailure.usage("unknown command '\(name)'", command: nil)
        }
        let parsed = try ParsedArguments(arguments.dropFirst(), for: command)
        if parsed.wantsHelp {
            printOutput(command.helpText, terminator: "")
            return
        }
        try await command.run(parsed)
    }

    /// `eventlog help [COMMAND]`.
    private static func showHelp(of rest: ArraySlice<String>) throws(CommandFailure) {
        guard let name = rest.first, name != "--help", name != "-h" else {
            printOutput(Commands.overviewText, terminator: "")
            return
        }
        guard rest.count == 1, let command = Commands.named(name) else {
            throw .usage("unknown command '\(rest.joined(separator: " "))' for help", command: nil)
        }
        printOutput(command.helpText, terminator: "")
    }

    private static func report(_ failure: CommandFailure) {
        var text = "eventlog: error: " + failure.message
        if let command = failure.usageOf {
            text += "\nUsage: \(command.usage)\nRun 'eventlog \(command.name) --help' for details and an example."
        } else if failure.showsCommandList {
            let names = Commands.all.map(\.name).joined(separator: ", ")
            text += "\nCommands: \(names), help.\nRun 'eventlog --help' for details."
        }
        printError(text)
    }
}
