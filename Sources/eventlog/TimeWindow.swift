// `read --since/--until`: which events fall in a time window. The writer never
// gives an event an earlier timestamp than the one before it, so timestamps rise
// with positions (and versions), and a read can stop at the window's far edge:
// the same order the library's time index, behind `firstPosition(atOrAfter:)`, relies on.
import EventLog
import EventSourcing
import Foundation

/// The time bounds of a read, in microseconds since 1970-01-01 UTC, both inclusive.
struct TimeWindow {
    var sinceMicroseconds: Int64?
    var untilMicroseconds: Int64?

    /// What a read does with one event.
    enum Decision {
        case print
        case skip
        /// Every later event in the read's direction is outside the window too.
        case stop
    }

    /// The window from `--since` and `--until`.
    init(_ arguments: ParsedArguments) throws(CommandFailure) {
        sinceMicroseconds = try Self.parse("since", arguments)
        untilMicroseconds = try Self.parse("until", arguments)
    }

    /// Whether the window lets every event through.
    var isUnbounded: Bool { sinceMicroseconds == nil && untilMicroseconds == nil }

    /// Where an event with `timestamp` stands for a read going `direction`.
    func decide(_ timestamp: Int64, direction: ReadDirection) -> Decision {
        if let since = sinceMicroseconds, timestamp < since { return direction == .forward ? .skip : .stop }
        if let until = untilMicroseconds, timestamp > until { return direction == .forward ? .stop : .skip }
        return .print
    }

    /// The first position of a forward read that starts at `--since`, or nil if
    /// no event was appended at or after it.
    func firstPosition(in store: FileEventStore) throws -> GlobalPosition? {
        guard let since = sinceMicroseconds else { return .start }
        return try store.firstPosition(atOrAfter: Self.date(microseconds: since))
    }

    /// A Date that `FileEventStore.firstPosition(atOrAfter:)` turns back into exactly
    /// `microseconds`: it rounds seconds × 10⁶ up, and a Date's Double near 2026
    /// holds a microsecond count only to about a quarter of a microsecond, so the
    /// nearest Date may round up to the next microsecond. Stepping down by the
    /// Double's smallest step fixes that within a few steps (bounded at 8).
    static func date(microseconds: Int64) -> Date {
        var date = Date(timeIntervalSince1970: Double(microseconds) / 1_000_000)
        var steps = 0
        while steps < 8, Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.up)) > microseconds {
            date = Date(timeIntervalSinceReferenceDate: date.timeIntervalSinceReferenceDate.nextDown)
            steps += 1
        }
        return date
    }

    private static func parse(_ flag: String, _ arguments: ParsedArguments) throws(CommandFailure) -> Int64? {
        guard let text = arguments.string(flag) else { return nil }
        guard let microseconds = TimestampParser.microseconds(fromISO8601: text) else {
            throw .usage(
                "'--\(flag) \(text)' is not an ISO 8601 date or time; write e.g. 2026-11-23, 2026-11-23T03:34:55Z "
                    + "or 2026-11-23T04:34:55.250+01:00 (a time needs Z or an offset)",
                command: arguments.command)
        }
        return microseconds
    }
}
