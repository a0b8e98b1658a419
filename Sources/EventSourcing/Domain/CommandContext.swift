// The request a command belongs to, carried onto every event it produces, so
// that a chain of events across aggregates and sagas can be traced back to the
// request and the event that started each step.
import Foundation

/// Correlation and causation ids for the events of one command.
public struct CommandContext: Sendable, Hashable {
    /// Shared by every event of one business transaction or request.
    public var correlationID: UUID?
    /// The event (or command) that caused the command.
    public var causationID: UUID?

    /// A context with the given ids.
    public init(correlationID: UUID? = nil, causationID: UUID? = nil) {
        self.correlationID = correlationID
        self.causationID = causationID
    }

    /// The context of a command issued in reaction to `event`: the same
    /// correlation (the event's own id if it has none), caused by the event.
    public static func causedBy(_ event: RecordedEvent) -> CommandContext {
        CommandContext(correlationID: event.correlationID ?? event.id, causationID: event.id)
    }
}
