// Schema evolution on read: stored events are never rewritten, so an event
// written with an old payload shape is turned into the current shape each time
// it is read, one version step at a time.
import Foundation

/// Turns the JSON payload of one event type from schema version `n` into `n + 1`.
///
/// Upcasters of one type form a chain, applied in version order (1 → 2, then
/// 2 → 3, …) until the payload reaches its type's current
/// ``EventPayload/schemaVersion``. Each step sees the previous step's output,
/// so an upcaster is written once, against the shape one version older than
/// its own, and never changes when later versions arrive.
public struct Upcaster: Sendable {
    /// The event type it applies to.
    public let eventType: String
    /// The schema version it reads; it produces `fromSchemaVersion + 1`.
    public let fromSchemaVersion: Int
    private let transform: @Sendable (Data) throws -> Data

    /// An upcaster over raw JSON bytes.
    /// - Parameters:
    ///   - eventType: The stored event type it applies to.
    ///   - fromSchemaVersion: The version it reads, at least 1 (trap otherwise).
    ///   - transform: The payload at `fromSchemaVersion + 1` from the payload at
    ///     `fromSchemaVersion`. An error it throws fails the read with
    ///     ``DomainError/upcastFailed(eventType:fromSchemaVersion:reason:position:)``.
    public init(eventType: String, fromSchemaVersion: Int, transform: @escaping @Sendable (Data) throws -> Data) {
        precondition(fromSchemaVersion >= 1, "schema versions start at 1")
        self.eventType = eventType
        self.fromSchemaVersion = fromSchemaVersion
        self.transform = transform
    }

    /// The payload at `fromSchemaVersion + 1`, from the payload at `fromSchemaVersion`.
    /// - Throws: Whatever the transform throws; for one made by
    ///   ``converting(_:fromSchemaVersion:_:to:_:)``, a `DecodingError`, the
    ///   conversion's own error or an `EncodingError`.
    /// - Complexity: That of the transform; O(the payload's size) for one made by
    ///   ``converting(_:fromSchemaVersion:_:to:_:)``.
    public func upcast(_ data: Data) throws -> Data { try transform(data) }

    /// An upcaster that decodes the old shape as `Old`, converts it, and encodes `New`
    /// (keys sorted).
    /// - Parameters:
    ///   - eventType: The stored event type it applies to.
    ///   - fromSchemaVersion: The version `Old` describes, at least 1 (trap otherwise).
    ///   - old: The shape at `fromSchemaVersion`.
    ///   - new: The shape at `fromSchemaVersion + 1`.
    ///   - convert: Turns one into the other. An error it throws, or a payload
    ///     that does not decode as `Old`, fails the read with
    ///     ``DomainError/upcastFailed(eventType:fromSchemaVersion:reason:position:)``.
    public static func converting<Old: Decodable & Sendable, New: Encodable & Sendable>(
        _ eventType: String, fromSchemaVersion: Int, _ old: Old.Type, to new: New.Type,
        _ convert: @escaping @Sendable (Old) throws -> New
    ) -> Upcaster {
        Upcaster(eventType: eventType, fromSchemaVersion: fromSchemaVersion) { data in
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return try encoder.encode(try convert(try JSONDecoder().decode(Old.self, from: data)))
        }
    }
}

/// The upcasters of a registry, found by event type and version.
public struct UpcasterChain: Sendable {
    private var steps: [String: [Int: Upcaster]] = [:]

    /// A chain of `upcasters`, in any order: they run by version, not by position in the list.
    /// Two upcasters for the same type and version are a programming error (trap).
    public init(_ upcasters: [Upcaster] = []) {
        for upcaster in upcasters { add(upcaster) }
    }

    /// Adds a step. A second step for the same type and version is a
    /// programming error (trap).
    public mutating func add(_ upcaster: Upcaster) {
        precondition(
            steps[upcaster.eventType]?[upcaster.fromSchemaVersion] == nil,
            "two upcasters for '\(upcaster.eventType)' from schema version \(upcaster.fromSchemaVersion)")
        steps[upcaster.eventType, default: [:]][upcaster.fromSchemaVersion] = upcaster
    }

    /// Applies every step from `schemaVersion` on, in order, stopping at `target`
    /// or where no further step exists.
    /// - Parameters:
    ///   - eventType: The stored event type.
    ///   - schemaVersion: The version `data` is stored at.
    ///   - data: The stored payload.
    ///   - target: The version to stop at: the payload type's current one.
    ///   - position: The event's position, only for the error.
    /// - Returns: The version reached and the payload at that version; the version
    ///   is below `target` when a step is missing.
    /// - Throws: ``DomainError/upcastFailed(eventType:fromSchemaVersion:reason:position:)``
    ///   naming the step that threw.
    /// - Complexity: O(steps applied); at most one per registered upcaster of the
    ///   type, each as costly as its transform.
    public func upcast(
        eventType: String, schemaVersion: Int, data: Data, target: Int, position: GlobalPosition? = nil
    ) throws(DomainError) -> (schemaVersion: Int, data: Data) {
        var version = schemaVersion
        var data = data
        guard let chain = steps[eventType] else { return (version, data) }
        while version < target, let step = chain[version] {
            do {
                data = try step.upcast(data)
            } catch {
                throw .upcastFailed(eventType: eventType, fromSchemaVersion: version, reason: "\(error)", position: position)
            }
            version += 1
        }
        return (version, data)
    }
}
