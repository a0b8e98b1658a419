// A hand-written flag parser: the tool takes only `--flag value` pairs and a few
// value-less switches, so a package dependency would cost more than these lines.
import EventLog
import EventSourcing

/// The flags given to one command, checked against its ``CommandSpec``.
struct ParsedArguments: Sendable {
    /// The command the flags belong to.
    let command: CommandSpec
    /// Whether `--help` (or `-h`) was given.
    let wantsHelp: Bool
    private let values: [String: String]
    private let switches: Set<String>

    /// Parses `tokens` (the arguments after the command name).
    ///
    /// Accepts `--flag value`, `--flag=value` and value-less `--switch`; rejects
    /// positional arguments, unknown flags, repeated flags, flags without a value
    /// and switches given one.
    init(_ tokens: ArraySlice<String>, for command: CommandSpec) throws(CommandFailure) {
        self.command = command
        var values: [String: String] = [:]
        var switches: Set<String> = []
        var wantsHelp = false
        var index = tokens.startIndex
        while index < tokens.endIndex {
            let token = tokens[index]
            index += 1
            if token == "--help" || token == "-h" {
                wantsHelp = true
                continue
            }
            guard token.hasPrefix("--"), token.count > 2 else {
                throw .usage("unexpected argument '\(token)'; '\(command.name)' takes only flags", command: command)
            }
            var name = String(token.dropFirst(2))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if command.switchFlags.contains(name) {
                guard value == nil else {
                    throw .usage("flag '--\(name)' takes no value; write just '--\(name)'", command: command)
                }
                guard switches.insert(name).inserted else {
                    throw .usage("flag '--\(name)' is given twice; give it once", command: command)
                }
                continue
            }
            guard command.valueFlags.contains(name) else {
                throw .usage("unknown flag '--\(name)' for '\(command.name)'", command: command)
            }
            if value == nil {
                // A following flag is not a value: `--stream --limit 3` forgot the stream.
                guard index < tokens.endIndex, !tokens[index].hasPrefix("--") else {
                    throw .usage("flag '--\(name)' needs a value", command: command)
                }
                value = tokens[index]
                index += 1
            }
            guard values[name] == nil else {
                throw .usage("flag '--\(name)' is given twice; give it once", command: command)
            }
            values[name] = value
        }
        self.values = values
        self.switches = switches
        self.wantsHelp = wantsHelp
    }

    /// The value of `--flag`, if given.
    func string(_ flag: String) -> String? { values[flag] }

    /// Whether the value-less `--flag` was given.
    func isSet(_ flag: String) -> Bool {
        assert(command.switchFlags.contains(flag), "'--\(flag)' is not a switch of '\(command.name)'")
        return switches.contains(flag)
    }

    /// The value of `--flag`, which the command cannot run without.
    func required(_ flag: String) throws(CommandFailure) -> String {
        guard let value = values[flag] else {
            throw .usage("missing required flag '--\(flag)'", command: command)
        }
        return value
    }

    /// The value of `--flag` as a non-negative whole number, if given.
    func number(_ flag: String) throws(CommandFailure) -> UInt64? {
        guard let text = values[flag] else { return nil }
        // UInt64(_:) accepts a leading "+"; a flag value should be digits only.
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let number = UInt64(text)
        else {
            throw .usage("'--\(flag) \(text)' is not a whole number (expected digits, e.g. --\(flag) 100)", command: command)
        }
        return number
    }

    /// The value of `--flag` as a non-negative whole number, which the command cannot run without.
    func requiredNumber(_ flag: String) throws(CommandFailure) -> UInt64 {
        guard let number = try number(flag) else {
            throw .usage("missing required flag '--\(flag)'", command: command)
        }
        return number
    }

    /// The validated `--stream` name, if given.
    func streamName() throws(CommandFailure) -> StreamName? {
        guard let raw = values["stream"] else { return nil }
        return try Self.validatedStreamName(raw)
    }

    /// The validated `--stream` name, which the command cannot run without.
    func requiredStreamName() throws(CommandFailure) -> StreamName {
        try Self.validatedStreamName(required("stream"))
    }

    private static func validatedStreamName(_ raw: String) throws(CommandFailure) -> StreamName {
        do {
            return try StreamName(raw)
        } catch {
            throw CommandFailure(error)
        }
    }

    /// The `--expected-version` flag: any (also when not given), no-stream, exists or a version number.
    func expectedVersion() throws(CommandFailure) -> ExpectedVersion {
        guard let text = values["expected-version"] else { return .any }
        switch text {
        case "any": return .any
        case "no-stream": return .noStream
        case "exists": return .streamExists
        default:
            guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                let version = UInt64(text)
            else {
                throw .usage("'--expected-version \(text)' is not any, no-stream, exists or a version number", command: command)
            }
            return .exact(StreamVersion(version))
        }
    }

    /// Store options from `--segment-size`, for commands that may create a store.
    func storeOptions() throws(CommandFailure) -> StoreOptions {
        var options = StoreOptions()
        if let size = try number("segment-size") {
            let range = StoreOptions.minimumSegmentSizeBytes...StoreOptions.maximumSegmentSizeBytes
            guard size <= UInt64(range.upperBound), range.contains(Int(size)) else {
                throw .usage(
                    "'--segment-size \(size)' is outside \(range.lowerBound)...\(range.upperBound) bytes (64 KiB to 1 GiB)",
                    command: command)
            }
            options.segmentSizeBytes = Int(size)
        }
        return options
    }
}
