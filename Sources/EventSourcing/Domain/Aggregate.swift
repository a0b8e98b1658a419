// The write model: an aggregate's state is a fold of its events, and commands
// decide new events from the state without changing it.
import Foundation

/// A consistency boundary whose state is rebuilt from its stream's events.
///
/// The value is the state. ``apply(_:)`` must be pure and deterministic (no
/// clock, no randomness, no I/O): replaying the same events must give the same
/// state on every load, from a snapshot or from scratch. Commands are methods
/// that return new events and leave `self` alone; the ``Repository`` appends
/// them and applies them.
///
/// Aggregates are `Codable` so the repository can snapshot them.
public protocol Aggregate: Codable, Sendable {
    /// The aggregate's events.
    associatedtype Event: DomainEvent

    /// The state of a stream with no events.
    init()

    /// Folds one event into the state.
    mutating func apply(_ event: Event)

    /// The version of the Codable encoding snapshots use. Bump it when the
    /// encoding changes incompatibly: older snapshots are then ignored and the
    /// state is replayed from events.
    static var snapshotSchemaVersion: Int { get }
}

extension Aggregate {
    /// Version 1.
    public static var snapshotSchemaVersion: Int { 1 }

    /// The state after `events`, applied in order to a copy of `self`.
    /// - Complexity: O(`events.count`) calls to ``apply(_:)``.
    public func applying(_ events: [Event]) -> Self {
        var state = self
        for event in events { state.apply(event) }
        return state
    }
}

/// An aggregate as loaded from its stream: the state and the stream version it reflects.
public struct LoadedAggregate<A: Aggregate>: Sendable {
    /// The aggregate's stream.
    public let stream: StreamName
    /// The state.
    public var state: A
    /// The stream version `state` reflects: the expected version of the next save.
    public var version: StreamVersion
    /// The snapshot version the load started from; nil when it replayed every event.
    public var snapshotVersion: StreamVersion?
    /// How many events the load applied (after the snapshot, if any).
    public var eventsApplied: Int

    /// Creates a loaded aggregate.
    public init(stream: StreamName, state: A, version: StreamVersion, snapshotVersion: StreamVersion? = nil, eventsApplied: Int = 0) {
        self.stream = stream
        self.state = state
        self.version = version
        self.snapshotVersion = snapshotVersion
        self.eventsApplied = eventsApplied
    }
}
