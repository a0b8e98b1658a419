// Every way an event store call can fail, typed so callers can `catch` the cases
// they handle, and described so a person knows what to do next.
import Foundation

/// A limit from ``Limits`` that a call broke.
public enum LimitViolation: Sendable, Hashable {
    /// One event's data plus metadata is larger than ``Limits/eventMaxBytes``.
    case eventTooLarge(eventID: UUID, sizeBytes: Int, limitBytes: Int)
    /// One append call's data plus metadata is larger than ``Limits/appendMaxBytes``.
    case appendTooLarge(sizeBytes: Int, limitBytes: Int)
    /// One append call has more than ``Limits/appendMaxEvents`` events.
    case tooManyEvents(count: Int, limit: Int)
}

/// The errors of an event store.
public enum EventStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stream name breaks a rule of ``StreamName``.
    case invalidStreamName(String, reason: String)
    /// The event type is empty, too long or has control characters.
    case invalidEventType(String, reason: String)
    /// An event or append call is too large.
    case limitExceeded(LimitViolation)
    /// An append call had no events.
    case emptyAppend
    /// The same event id appears twice in one append call.
    case duplicateEventID(UUID)
    /// The stream's version did not match the expected version; nothing was written.
    case wrongExpectedVersion(stream: StreamName, expected: ExpectedVersion, actual: StreamVersion)
    /// Some but not all of the call's event ids were already written at those versions,
    /// so the call is neither a new append nor a retry of an earlier one.
    case idempotencyConflict(stream: StreamName, reason: String)
    /// The stream was hard-deleted: its name can never be appended to again.
    case streamDeleted(stream: StreamName)
    /// A file failed a checksum or structural check.
    case corrupted(file: String, offset: UInt64, reason: String)
    /// Another process holds the store's writer lock.
    case storeLocked(path: String)
    /// The store was closed.
    case closed
    /// The store was opened read-only and the call writes.
    case readOnly(path: String)
    /// An earlier write or sync failed, so the writer stopped accepting appends.
    /// Nothing after the failure was acknowledged; reopen the store to recover from the log.
    case writerFailed(reason: String)
    /// A system call failed.
    case io(operation: String, path: String, errno: Int32, message: String)
    /// The folder is not an EventLog store, or was written by an incompatible format version.
    case incompatibleStore(path: String, reason: String)
    /// An argument is out of range.
    case invalidArgument(String)

    /// What went wrong and what to do about it, in one or two sentences for a person.
    public var description: String {
        switch self {
        case .invalidStreamName(let name, let reason):
            "Invalid stream name '\(name)': \(reason). Use 1...\(Limits.streamNameMaxBytes) UTF-8 bytes without control characters, not starting with '$'."
        case .invalidEventType(let type, let reason):
            "Invalid event type '\(type)': \(reason). Use 1...\(Limits.eventTypeMaxBytes) UTF-8 bytes without control characters."
        case .limitExceeded(.eventTooLarge(let id, let size, let limit)):
            "Event \(id) is \(size) bytes (data + metadata), more than the limit of \(limit) bytes. Store large payloads elsewhere and append a reference."
        case .limitExceeded(.appendTooLarge(let size, let limit)):
            "The append call carries \(size) bytes, more than the limit of \(limit) bytes per call. Split it into several calls."
        case .limitExceeded(.tooManyEvents(let count, let limit)):
            "The append call has \(count) events, more than the limit of \(limit). Split it into several calls."
        case .emptyAppend:
            "The append call has no events. Pass at least one event."
        case .duplicateEventID(let id):
            "Event id \(id) appears twice in one append call. Give every event its own id."
        case .wrongExpectedVersion(let stream, let expected, let actual):
            "Wrong expected version for stream '\(stream)': expected \(expected), but the stream is at version \(actual). Nothing was written; reload the stream and retry."
        case .idempotencyConflict(let stream, let reason):
            "Idempotency conflict on stream '\(stream)': \(reason). Nothing was written; a retry must resend exactly the events of the original call."
        case .streamDeleted(let stream):
            "Stream '\(stream)' was hard-deleted; its name can never be used again. Append to a new stream name."
        case .corrupted(let file, let offset, let reason):
            "Corruption in \(file) at byte offset \(offset): \(reason). Run 'eventlog verify --store DIR' for a full report; the store refuses writes until it is repaired."
        case .storeLocked(let path):
            "The store at \(path) is locked by another writer process. Stop that process, or open the store read-only."
        case .closed:
            "The store is closed. Open it again to continue."
        case .readOnly(let path):
            "The store at \(path) was opened read-only. Open it for writing to append."
        case .writerFailed(let reason):
            "The writer stopped after an I/O failure (\(reason)). Nothing after the failure was acknowledged; close and reopen the store to recover from the log."
        case .io(let operation, let path, let errno, let message):
            "\(operation) failed on \(path): \(message) (errno \(errno))."
        case .incompatibleStore(let path, let reason):
            "\(path) is not a usable EventLog store: \(reason)."
        case .invalidArgument(let message):
            "Invalid argument: \(message)."
        }
    }
}

extension EventStoreError: LocalizedError {
    /// The same text as ``description``, so `localizedDescription` shows it too.
    public var errorDescription: String? { description }
}
