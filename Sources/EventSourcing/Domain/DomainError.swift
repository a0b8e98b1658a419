// The ways turning stored events into typed ones (and back) can fail, typed so
// callers can tell a missing registration from a damaged payload.
import Foundation

/// The errors of the domain layer (registry, upcasters, repository).
public enum DomainError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No payload type is registered under the stored event type.
    case unknownEventType(String, position: GlobalPosition?)
    /// The stored schema version has no upcaster path to the payload's current one.
    case unsupportedSchemaVersion(eventType: String, stored: Int, current: Int, position: GlobalPosition?)
    /// An upcaster threw.
    case upcastFailed(eventType: String, fromSchemaVersion: Int, reason: String, position: GlobalPosition?)
    /// The (upcast) payload does not decode as its registered type.
    case undecodablePayload(eventType: String, reason: String, position: GlobalPosition?)
    /// A payload failed to encode.
    case unencodablePayload(eventType: String, reason: String)
    /// The payload decoded, but the aggregate's event type has no case for it.
    case eventNotHandled(eventType: String, aggregate: String, position: GlobalPosition?)

    /// What went wrong and what to do about it.
    public var description: String {
        switch self {
        case .unknownEventType(let type, let position):
            "No payload type is registered for event type '\(type)'\(Self.at(position)). Register it with EventTypeRegistry.register(_:)."
        case .unsupportedSchemaVersion(let type, let stored, let current, let position):
            "Event type '\(type)'\(Self.at(position)) is stored at schema version \(stored), but the payload type is at \(current) and no upcasters lead from one to the other. Add the missing upcasters."
        case .upcastFailed(let type, let from, let reason, let position):
            "Upcasting '\(type)'\(Self.at(position)) from schema version \(from) failed: \(reason)."
        case .undecodablePayload(let type, let reason, let position):
            "The payload of '\(type)'\(Self.at(position)) does not decode: \(reason). Check its Codable type against the stored JSON, or add an upcaster."
        case .unencodablePayload(let type, let reason):
            "The payload of '\(type)' does not encode as JSON: \(reason)."
        case .eventNotHandled(let type, let aggregate, let position):
            "\(aggregate).Event has no case for '\(type)'\(Self.at(position)). Add one to its init(payload:)."
        }
    }

    private static func at(_ position: GlobalPosition?) -> String { position.map { " at position \($0)" } ?? "" }
}

extension DomainError: LocalizedError {
    /// The ``description``, for `localizedDescription`.
    public var errorDescription: String? { description }
}
