// Why a command stopped, and the exit status that tells a script what kind of
// failure it was. The statuses are a contract: scripts branch on them.
import EventSourcing

/// The process exit statuses of `eventlog`.
enum ExitCode: Int32 {
    /// The command did what was asked.
    case success = 0
    /// Anything not covered below (I/O failure, not a store, ...).
    case failure = 1
    /// A usage mistake or invalid input; nothing of the failing call was written.
    case usage = 2
    /// An append's expected version did not hold; nothing was written.
    case wrongExpectedVersion = 3
    /// The store is damaged.
    case corruption = 4
    /// Another process holds the store's writer lock.
    case storeLocked = 5
}

/// A failure the command reports as one message on standard error.
struct CommandFailure: Error {
    /// The status to exit with.
    let exitCode: ExitCode
    /// What happened and what to do, without the `eventlog: error: ` prefix.
    let message: String
    /// For usage mistakes: the command whose usage line to show (nil for the tool itself).
    let usageOf: CommandSpec?
    /// Whether to show the tool's command list (an unknown or missing command).
    let showsCommandList: Bool

    /// A usage mistake on `command` (nil when the command itself is unknown or missing).
    static func usage(_ message: String, command: CommandSpec?) -> CommandFailure {
        CommandFailure(exitCode: .usage, message: message, usageOf: command, showsCommandList: command == nil)
    }

    /// Invalid input (not a flag mistake): no usage line, since the flags were right.
    static func invalidInput(_ message: String) -> CommandFailure {
        CommandFailure(exitCode: .usage, message: message, usageOf: nil, showsCommandList: false)
    }

    /// A store error, optionally prefixed with where it happened (e.g. "line 3").
    init(_ error: EventStoreError, context: String? = nil) {
        exitCode = ExitCode(error)
        message = context.map { "\($0): \(error.description)" } ?? error.description
        usageOf = nil
        showsCommandList = false
    }

    /// The same failure with `note` added to its message.
    func adding(_ note: String) -> CommandFailure {
        let separator = message.hasSuffix(".") ? " " : ". "
        return CommandFailure(
            exitCode: exitCode, message: message + separator + note, usageOf: usageOf, showsCommandList: showsCommandList)
    }

    /// A failure with an explicit status and message.
    init(exitCode: ExitCode, message: String, usageOf: CommandSpec? = nil, showsCommandList: Bool = false) {
        self.exitCode = exitCode
        self.message = message
        self.usageOf = usageOf
        self.showsCommandList = showsCommandList
    }
}

extension ExitCode {
    /// The status for a store error. Idempotency conflicts, I/O and "not a store"
    /// are status 1: the contract reserves 2...5 for the cases scripts act on.
    init(_ error: EventStoreError) {
        switch error {
        case .invalidStreamName, .invalidEventType, .limitExceeded, .emptyAppend, .duplicateEventID, .invalidArgument:
            self = .usage
        case .wrongExpectedVersion:
            self = .wrongExpectedVersion
        case .corrupted:
            self = .corruption
        case .storeLocked:
            self = .storeLocked
        case .idempotencyConflict, .streamDeleted, .closed, .readOnly, .writerFailed, .io, .incompatibleStore:
            self = .failure
        }
    }
}
