// The entry point: everything happens in EventLogCommand; this file only turns
// its result into the process exit status.
import Foundation

let exitCode = await EventLogCommand.run(Array(CommandLine.arguments.dropFirst()))
exit(exitCode.rawValue)
