// The input checks every append call passes before any expected version is
// looked at: one implementation for every store, so all of them report the same
// error for the same bad call.
import Foundation

/// Input checks shared by every ``EventStore`` implementation.
public enum AppendValidation {
    /// Checks limits, empty parts, a stream named twice and duplicate ids.
    /// - Parameter parts: The call's parts, as given to ``EventStore/append(_:)``.
    /// - Returns: The call's event count.
    /// - Throws: The first ``EventStoreError`` the call breaks, in this order:
    ///   ``EventStoreError/emptyAppend`` (no parts, or a part without events);
    ///   per event, ``EventStoreError/invalidEventType(_:reason:)`` or
    ///   ``EventStoreError/limitExceeded(_:)`` (``LimitViolation/eventTooLarge(eventID:sizeBytes:limitBytes:)``);
    ///   ``EventStoreError/limitExceeded(_:)`` for the whole call
    ///   (``LimitViolation/tooManyEvents(count:limit:)``, then
    ///   ``LimitViolation/appendTooLarge(sizeBytes:limitBytes:)``);
    ///   ``EventStoreError/invalidArgument(_:)`` for a stream named in two parts;
    ///   ``EventStoreError/duplicateEventID(_:)``.
    /// - Complexity: O(events + bytes of event types): each id goes into a set.
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

    /// Checks a read's `maxCount`: reads take a count, and a negative one is a
    /// caller's mistake worth naming (0 is allowed and reads nothing).
    /// - Throws: ``EventStoreError/invalidArgument(_:)`` if `maxCount` is negative.
    public static func checkMaxCount(_ maxCount: Int) throws(EventStoreError) {
        if maxCount < 0 { throw .invalidArgument("maxCount is \(maxCount); pass 0 or more") }
    }
}
