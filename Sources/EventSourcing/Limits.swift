// The hard limits every EventStore enforces before anything is written.
// Named here once so the engine, the in-memory store and the CLI agree.

/// The size limits of events, streams and append calls.
///
/// Why limits at all: an unbounded event lets one caller stall the writer and
/// every other appender behind it, and an unbounded name makes index entries
/// unbounded. Each limit is checked before any byte is written.
public enum Limits {
    /// Longest stream name, in UTF-8 bytes.
    public static let streamNameMaxBytes = 1_024
    /// Longest event type, in UTF-8 bytes.
    public static let eventTypeMaxBytes = 256
    /// Largest single event: data plus metadata, in bytes.
    public static let eventMaxBytes = 16 * 1024 * 1024
    /// Largest single append call: the data plus metadata of all its events, in bytes.
    public static let appendMaxBytes = 64 * 1024 * 1024
    /// Most events in one append call (bounds the writer's per-call work).
    public static let appendMaxEvents = 1_000_000
}
