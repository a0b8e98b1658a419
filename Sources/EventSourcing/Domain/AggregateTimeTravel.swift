// Reading an aggregate as it was: at a global position, or at a moment (turned
// into a position by the store's time index), by replaying exactly the events
// before that point.
import Foundation

extension Repository {
    /// The aggregate as it was right after the log reached `position`: its events
    /// at positions up to and including `position`.
    ///
    /// Replays from the stream's first visible event: snapshots record the latest
    /// state, not past ones. The version is that of the last event applied.
    /// - Throws: The store's ``EventStoreError`` from reading the stream (such as
    ///   ``EventStoreError/closed``); ``DomainError`` for an event that does not
    ///   decode as `A.Event` (see ``EventTypeRegistry/decode(_:as:)``).
    /// - Complexity: O(the stream's events up to `position`), read in batches of
    ///   ``RepositoryOptions/readBatchSize``.
    public func load(_ stream: StreamName, through position: GlobalPosition) async throws -> LoadedAggregate<A> {
        var loaded = LoadedAggregate(stream: stream, state: A(), version: .none)
        try await applyEvents(to: &loaded, through: position)
        return loaded
    }

    /// The aggregate as it was at `date`: only its events appended before `date`.
    ///
    /// The same as ``load(_:through:)`` at ``EventStore/position(before:)``.
    /// - Throws: As ``load(_:through:)``, and the store's errors from finding
    ///   the position.
    /// - Complexity: O(the stream's events before `date`), plus the store's
    ///   ``EventStore/firstPosition(atOrAfter:)``.
    public func load(_ stream: StreamName, asOf date: Date) async throws -> LoadedAggregate<A> {
        try await load(stream, through: try await store.position(before: date))
    }
}

extension EventStore {
    /// The last position appended before `date` (0 if none was): every event up
    /// to it was appended before `date`, every later one at or after it.
    /// - Throws: The ``EventStoreError`` of ``lastPosition()`` or
    ///   ``firstPosition(atOrAfter:)`` (such as ``EventStoreError/closed``).
    /// - Complexity: One ``lastPosition()`` and one ``firstPosition(atOrAfter:)``
    ///   call: whatever the store's time lookup costs.
    public func position(before date: Date) async throws -> GlobalPosition {
        // The last position first: an event appended between the two calls then
        // shows up as "at or after", never as a false "before".
        let last = try await lastPosition()
        guard let first = try await firstPosition(atOrAfter: date) else { return last }
        return GlobalPosition(first.rawValue - 1)
    }
}
