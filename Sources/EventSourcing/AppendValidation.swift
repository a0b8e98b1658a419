// The input checks every append call passes before any expected version is
// looked at: one implementation for every store, so all of them report the same
// error for the same bad call.
import Foundation

/// Input checks shared by every ``EventStore`` implementation.
public enum AppendValidation {
    /// Checks limits, empty parts, a stream named twice and duplicate ids.
    /// - Returns: The call's event count.
    /// - Throws: the first ``EventStoreError`` the call breaks.
    public static func validate(_ parts: [StreamAppend]) throws(EventStoreError) -> Int {
        guard !parts.isEmpty else { throw .emptyAppend }
        var eventCount = 0
        var totalBytes = 0
        for part in parts {
            guard !part.events.isEmpty else { throw .emptyAppend }
            for event in part.events {
                try event.validate()
                totalBytes += event.payloadBytes
            }
            eventCount += part.events.count
        }
        if eventCount > Limits.appendMaxEvents {
            throw .limitExceeded(.tooManyEvents(count: eventCount, limit: Limits.appendMaxEvents))
        }
        if totalBytes > Limits.appendMaxBytes {
            throw .limitExceeded(.appendTooLarge(sizeBytes: totalBytes, limitBytes: Limits.appendMaxBytes))
        }
        if parts.count > 1 {
            var streams = Set<StreamName>()
            for part in parts where !streams.insert(part.stream).inserted {
                throw .invalidArgument(
                    "stream '\(part.stream)' appears twice in one multi-stream append; merge its events into one part")
            }
        }
        if eventCount > 1 {
            var ids = Set<UUID>()
            for part in parts {
                for event in part.events where !ids.insert(event.id).inserted { throw .duplicateEventID(event.id) }
            }
        }
        return eventCount
    }

    /// Reads take a count; a negative one is a caller's mistake worth naming.
    public static func checkMaxCount(_ maxCount: Int) throws(EventStoreError) {
        if maxCount < 0 { throw .invalidArgument("maxCount is \(maxCount); pass 0 or more") }
    }
}
