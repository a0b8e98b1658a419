// How much of a stream stays visible: a count limit, an age limit and a
// truncation point. Hidden events disappear from every read at once; compaction
// later reclaims their space.

/// Limits on what stays visible of a stream.
///
/// A stream's events are hidden from every read and subscription, at once, when
/// they are older than ``maxAge``, when more than ``maxCount`` newer events
/// follow them, or when their version is below ``truncateBefore``. Versions and
/// positions of the others do not change. Until compaction removes them, hidden
/// events come back if a limit is relaxed; after it, they are gone for good.
public struct StreamMetadata: Sendable, Hashable, CustomStringConvertible {
    /// Only the latest `maxCount` events are visible (nil: no limit). At least 1.
    public var maxCount: Int?
    /// Events appended longer ago than this are hidden (nil: no limit). At least a microsecond.
    public var maxAge: Duration?
    /// Events below this version are hidden (nil: none). Truncation never goes back:
    /// setting a lower version than the stream's current truncation changes nothing.
    public var truncateBefore: StreamVersion?

    /// Metadata with the given limits (all nil: every event visible).
    public init(maxCount: Int? = nil, maxAge: Duration? = nil, truncateBefore: StreamVersion? = nil) {
        self.maxCount = maxCount
        self.maxAge = maxAge
        self.truncateBefore = truncateBefore
    }

    /// Checks the limits' ranges.
    /// - Throws: ``EventStoreError/invalidArgument(_:)`` for a `maxCount` below 1 or a
    ///   `maxAge` below one microsecond.
    public func validate() throws(EventStoreError) {
        if let maxCount, maxCount < 1 {
            throw .invalidArgument("maxCount \(maxCount) would hide every event; give 1 or more, or nil for no limit")
        }
        if let maxAge, maxAge < .microseconds(1) {
            throw .invalidArgument("maxAge \(maxAge) would hide every event; give at least a microsecond, or nil for no limit")
        }
    }

    /// `maxAge` in whole microseconds (saturating), 0 when there is no age limit.
    public var maxAgeMicroseconds: Int64 {
        guard let maxAge else { return 0 }
        let (seconds, attoseconds) = maxAge.components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        return overflow ? .max : min(Int64.max - 1, product) + attoseconds / 1_000_000_000_000
    }

    /// The limits, for messages: `maxCount 10, maxAge 3600.0 seconds` or `no limits`.
    public var description: String {
        var parts: [String] = []
        if let maxCount { parts.append("maxCount \(maxCount)") }
        if let maxAge { parts.append("maxAge \(maxAge)") }
        if let truncateBefore { parts.append("truncateBefore \(truncateBefore)") }
        return parts.isEmpty ? "no limits" : parts.joined(separator: ", ")
    }
}
