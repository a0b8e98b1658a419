// Typed events: a Codable payload per event type, and an aggregate's event
// type (usually an enum with one case per payload) that wraps them.
import Foundation

/// The typed payload of one event type, stored as JSON.
///
/// ```swift
/// struct ItemAdded: EventPayload {
///     static let eventType = "ItemAdded"
///     static let schemaVersion = 2
///     var sku: String
///     var unitPriceCents: Int
/// }
/// ```
public protocol EventPayload: Codable, Sendable {
    /// The stored event type. It stays the same across schema versions, so type
    /// filters and projections keep matching old and new events alike.
    static var eventType: String { get }
    /// The payload's current schema version (1 unless overridden). Events stored
    /// at an older version are upcast on read (see ``Upcaster``).
    static var schemaVersion: Int { get }
}

extension EventPayload {
    /// Version 1: a payload type whose encoding never changed.
    public static var schemaVersion: Int { 1 }
}

/// An aggregate's event type: a closed set of payloads.
///
/// ```swift
/// enum OrderEvent: DomainEvent {
///     case created(OrderCreated), itemAdded(ItemAdded)
///     var payload: any EventPayload { switch self { case .created(let p): p; case .itemAdded(let p): p } }
///     init?(payload: any EventPayload) {
///         switch payload {
///         case let p as OrderCreated: self = .created(p)
///         case let p as ItemAdded: self = .itemAdded(p)
///         default: return nil
///         }
///     }
/// }
/// ```
public protocol DomainEvent: Sendable {
    /// The payload to store.
    var payload: any EventPayload { get }
    /// The event carrying `payload`, or nil if the payload is not one of this type's.
    init?(payload: any EventPayload)
}
