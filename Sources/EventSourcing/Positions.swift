// Domain values for the two orders an event has: its place in its stream
// (version) and its place in the whole log (global position).

/// A stream version: 1-based and dense. The first event of a stream is version 1,
/// and a stream's version is its event count; version 0 means "no events".
public struct StreamVersion: RawRepresentable, Hashable, Comparable, Sendable,
    ExpressibleByIntegerLiteral, CustomStringConvertible, Codable
{
    /// The version as a number: the count of events the stream had at that version.
    public var rawValue: UInt64
    /// Creates a version from its raw value.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// Creates a version from its raw value.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    /// Creates a version from an integer literal, such as `1` in `from: 1`.
    public init(integerLiteral value: UInt64) { self.rawValue = value }
    /// The version of a stream with no events.
    public static let none = StreamVersion(0)
    /// Whether `a` is an earlier version than `b`.
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    /// The version as a decimal number, such as `3`.
    public var description: String { String(rawValue) }
}

/// A global position: 1-based, dense at append time (the Nth event ever appended
/// has position N), never reused and never changed afterwards.
public struct GlobalPosition: RawRepresentable, Hashable, Comparable, Sendable,
    ExpressibleByIntegerLiteral, CustomStringConvertible, Codable
{
    /// The position as a number: N for the Nth event ever appended, 0 for "none yet".
    public var rawValue: UInt64
    /// Creates a position from its raw value.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// Creates a position from its raw value.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    /// Creates a position from an integer literal, such as `1` in `from: 1`.
    public init(integerLiteral value: UInt64) { self.rawValue = value }
    /// The first position of every log.
    public static let start = GlobalPosition(1)
    /// Whether `a` comes before `b` in the log.
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    /// The position as a decimal number, such as `42`.
    public var description: String { String(rawValue) }
}

/// What the caller believes about a stream's version when appending
/// (optimistic concurrency).
public enum ExpectedVersion: Hashable, Sendable, CustomStringConvertible {
    /// Append whatever the stream's version.
    case any
    /// The stream must have no events (version 0).
    case noStream
    /// The stream must have at least one event.
    case streamExists
    /// The stream's version must be exactly this (0 is the same as `noStream`).
    case exact(StreamVersion)

    /// The expectation as the CLI and error messages spell it: `any`, `no-stream`,
    /// `exists`, or the version number.
    public var description: String {
        switch self {
        case .any: "any"
        case .noStream: "no-stream"
        case .streamExists: "exists"
        case .exact(let version): String(version.rawValue)
        }
    }

    /// Whether a stream at `current` satisfies this expectation.
    public func isSatisfied(by current: StreamVersion) -> Bool {
        switch self {
        case .any: true
        case .noStream: current == .none
        case .streamExists: current > .none
        case .exact(let version): current == version
        }
    }
}
