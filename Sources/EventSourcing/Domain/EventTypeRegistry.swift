// The map between stored event type names and Swift payload types, with the
// upcasters that bring old payloads up to date: the one place where bytes in
// the store become typed events and back.
import Foundation

/// Maps event type names to ``EventPayload`` types, encodes payloads to
/// ``EventData`` (JSON, schema version in the metadata) and decodes
/// ``RecordedEvent``s back, upcasting old schema versions on the way.
///
/// ```swift
/// var registry = EventTypeRegistry()
/// registry.register(OrderCreated.self)
/// registry.register(ItemAdded.self)
/// registry.add(Upcaster.converting("ItemAdded", fromSchemaVersion: 1, ItemAddedV1.self, to: ItemAdded.self) { ... })
/// let data = try registry.encode(ItemAdded(sku: "A", unitPriceCents: 250))
/// let payload = try registry.decode(recorded)  // any EventPayload
/// ```
public struct EventTypeRegistry: Sendable {
    private var types: [String: any EventPayload.Type] = [:]
    /// The upcasters applied on decode.
    public private(set) var upcasters: UpcasterChain

    /// A registry with no payload types.
    /// - Parameter upcasters: The upcasters to start with, in any order (see
    ///   ``UpcasterChain/init(_:)``); two for one type and version trap.
    public init(upcasters: [Upcaster] = []) {
        self.upcasters = UpcasterChain(upcasters)
    }

    /// Registers `type` under its ``EventPayload/eventType``. Registering two
    /// types under one name is a programming error (trap).
    public mutating func register(_ type: any EventPayload.Type) {
        if let existing = types[type.eventType] {
            precondition(existing == type, "event type '\(type.eventType)' is registered for both \(existing) and \(type)")
        }
        types[type.eventType] = type
    }

    /// Adds an upcaster to the chain. A second upcaster for the same type and
    /// version is a programming error (trap).
    public mutating func add(_ upcaster: Upcaster) {
        upcasters.add(upcaster)
    }

    /// The payload type registered under `eventType`, or nil if none is.
    public func payloadType(named eventType: String) -> (any EventPayload.Type)? { types[eventType] }

    /// Every registered event type name, sorted.
    /// - Complexity: O(*n* log *n*) in the number of registered types.
    public var eventTypes: [String] { types.keys.sorted() }

    // MARK: Encoding

    /// An event to append carrying `payload` as JSON at its current schema version.
    /// - Parameters:
    ///   - payload: The payload; its type must be registered.
    ///   - id: The event's id. A fresh one by default; derive it from the
    ///     triggering event to make a retried reaction idempotent.
    ///   - context: The correlation and causation ids to carry (nil: none).
    /// - Throws: ``DomainError/unknownEventType(_:position:)`` if the payload's type is
    ///   not registered (it could not be read back), or
    ///   ``DomainError/unencodablePayload(eventType:reason:)`` if encoding it throws.
    /// - Complexity: O(the payload's JSON size).
    public func encode(_ payload: any EventPayload, id: UUID = EventID.make(), context: CommandContext? = nil) throws(DomainError) -> EventData {
        let payloadType = type(of: payload)
        guard let registered = types[payloadType.eventType], registered == payloadType else {
            throw .unknownEventType(payloadType.eventType, position: nil)
        }
        let data: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            data = try encoder.encode(payload)
        } catch {
            throw .unencodablePayload(eventType: payloadType.eventType, reason: "\(error)")
        }
        return EventData(
            id: id, type: payloadType.eventType, data: data, metadata: EventMetadata.encode(schemaVersion: payloadType.schemaVersion),
            isJSON: true, correlationID: context?.correlationID, causationID: context?.causationID)
    }

    // MARK: Decoding

    /// The payload of `event`, upcast to its type's current schema version.
    /// - Throws: ``DomainError``, naming the event's type and position:
    ///   ``DomainError/unknownEventType(_:position:)`` if no payload type is
    ///   registered for it, ``DomainError/upcastFailed(eventType:fromSchemaVersion:reason:position:)``
    ///   if an upcaster throws,
    ///   ``DomainError/unsupportedSchemaVersion(eventType:stored:current:position:)``
    ///   if no upcasters lead from the stored version to the current one (or the
    ///   stored one is newer), and
    ///   ``DomainError/undecodablePayload(eventType:reason:position:)`` if the
    ///   JSON does not decode as the payload type.
    /// - Complexity: O(the payload's size) per upcast step and for the decode.
    public func decode(_ event: RecordedEvent) throws(DomainError) -> any EventPayload {
        guard let payloadType = types[event.type] else { throw .unknownEventType(event.type, position: event.position) }
        let stored = EventMetadata.schemaVersion(in: event.metadata)
        let current = payloadType.schemaVersion
        let (version, data) = try upcasters.upcast(
            eventType: event.type, schemaVersion: stored, data: event.data, target: current, position: event.position)
        guard version == current else {
            throw .unsupportedSchemaVersion(eventType: event.type, stored: stored, current: current, position: event.position)
        }
        do {
            return try Self.decodePayload(payloadType, from: data)
        } catch {
            throw .undecodablePayload(eventType: event.type, reason: "\(error)", position: event.position)
        }
    }

    /// `event` as an aggregate's event type.
    /// - Parameter eventType: The aggregate's event type, such as `Order.Event.self`.
    /// - Throws: As ``decode(_:)``, and ``DomainError/eventNotHandled(eventType:aggregate:position:)``
    ///   if `eventType` has no case for the payload.
    /// - Complexity: As ``decode(_:)``.
    public func decode<Event: DomainEvent>(_ event: RecordedEvent, as eventType: Event.Type) throws(DomainError) -> Event {
        let payload = try decode(event)
        guard let typed = Event(payload: payload) else {
            throw .eventNotHandled(eventType: event.type, aggregate: String(describing: Event.self), position: event.position)
        }
        return typed
    }

    private static func decodePayload<Payload: EventPayload>(_ type: Payload.Type, from data: Data) throws -> any EventPayload {
        try JSONDecoder().decode(Payload.self, from: data)
    }
}
