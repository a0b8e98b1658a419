// Feeds projections from the log: a bounded catch-up that reads in batches
// and stops at a position, a live run that follows a subscription until its
// task is cancelled, a rebuild from position 1, and a checkpoint-free replay
// for looking at the read model as it was.
import Foundation

/// Runs ``Projection``s over a store, keeping their checkpoints.
///
/// The checkpoint is saved after every event applied, and an event at or below
/// the checkpoint is never applied, so a restarted projection resumes exactly
/// where it stopped.
public struct ProjectionRunner: Sendable {
    /// The store read.
    public let store: any EventStore
    /// Where checkpoints are kept.
    public let checkpoints: any CheckpointStore
    /// Events per read during a catch-up.
    public let batchSize: Int

    /// A runner over `store`, keeping checkpoints in `checkpoints`.
    /// - Parameter batchSize: Events per read during a catch-up, at least 1 (trap
    ///   otherwise): bounds the memory a catch-up holds.
    public init(store: any EventStore, checkpoints: any CheckpointStore, batchSize: Int = 512) {
        precondition(batchSize >= 1, "a batch holds at least one event")
        self.store = store
        self.checkpoints = checkpoints
        self.batchSize = batchSize
    }

    /// Applies the events after the projection's checkpoint, up to and including
    /// `position` (nil: the log's end when the call starts), then returns.
    /// - Returns: The checkpoint reached.
    /// - Throws: The ``EventStoreError`` of a read (such as ``EventStoreError/closed``),
    ///   the checkpoint store's errors, or what the projection's
    ///   ``Projection/apply(_:)`` throws; the checkpoint stays at the last event
    ///   applied.
    /// - Complexity: O(events after the checkpoint up to `position`), matching the
    ///   filter or not, read in batches of ``batchSize``; one checkpoint save per
    ///   event applied.
    @discardableResult
    public func catchUp<P: Projection>(_ projection: inout P, through position: GlobalPosition? = nil) async throws -> GlobalPosition {
        let name = projection.name
        let start = try await checkpoints.checkpoint(named: name) ?? GlobalPosition(0)
        let target: GlobalPosition
        if let position { target = position } else { target = try await store.lastPosition() }
        var saved = start
        let reached = try await forEachEvent(after: start, through: target) { event in
            guard projection.filter.matches(event) else { return }
            try await projection.apply(event)
            try await checkpoints.saveCheckpoint(event.position, named: name)
            saved = event.position
        }
        // Events passed over by the filter are checkpointed once at the end, not one save each.
        if reached > saved { try await checkpoints.saveCheckpoint(reached, named: name) }
        return reached
    }

    /// Applies the events after the checkpoint, then every new one as it is
    /// appended, until the calling task is cancelled (then it returns).
    /// - Throws: Errors of the store (``EventStoreError/closed``), the checkpoint
    ///   store or the projection; the checkpoint stays at the last event applied.
    /// - Complexity: O(events delivered); one checkpoint save per event applied.
    public func run<P: Projection>(_ projection: inout P) async throws {
        let name = projection.name
        var checkpoint = try await checkpoints.checkpoint(named: name) ?? GlobalPosition(0)
        let subscription = store.subscribeToAll(from: GlobalPosition(checkpoint.rawValue + 1), filter: projection.filter)
        for try await event in subscription {
            guard event.position > checkpoint else { continue }  // Never again at or below the checkpoint.
            try await projection.apply(event)
            checkpoint = event.position
            try await checkpoints.saveCheckpoint(checkpoint, named: name)
        }
    }

    /// Resets the projection, removes its checkpoint and catches up from position 1
    /// to `position` (nil: the log's end when the call starts).
    /// - Returns: The checkpoint reached.
    /// - Throws: What ``Projection/reset()`` throws (the checkpoint is then kept),
    ///   the checkpoint store's errors, or any error of ``catchUp(_:through:)``.
    /// - Complexity: As ``catchUp(_:through:)`` from position 1.
    @discardableResult
    public func rebuild<P: Projection>(_ projection: inout P, through position: GlobalPosition? = nil) async throws -> GlobalPosition {
        try await projection.reset()
        try await checkpoints.removeCheckpoint(named: projection.name)
        return try await catchUp(&projection, through: position)
    }

    // MARK: Time travel

    /// Applies the matching events from position 1 up to and including `position`
    /// to `projection`, without reading or saving a checkpoint: the read model as
    /// it was then.
    /// - Throws: The ``EventStoreError`` of a read, or what the projection's
    ///   ``Projection/apply(_:)`` throws.
    /// - Complexity: O(events up to `position`), matching the filter or not, read
    ///   in batches of ``batchSize``.
    public func replay<P: Projection>(_ projection: inout P, through position: GlobalPosition) async throws {
        try await forEachEvent(after: 0, through: position) { event in
            if projection.filter.matches(event) { try await projection.apply(event) }
        }
    }

    /// The read model as it was at `date`: only events appended before it.
    /// - Throws: As ``replay(_:through:)``, and the store's errors from finding
    ///   the position (``EventStore/position(before:)``).
    /// - Complexity: As ``replay(_:through:)``, plus the store's
    ///   ``EventStore/firstPosition(atOrAfter:)``.
    public func replay<P: Projection>(_ projection: inout P, asOf date: Date) async throws {
        try await replay(&projection, through: try await store.position(before: date))
    }

    /// Calls `body` with each visible event after `start` up to `end`, in order.
    /// - Returns: The position of the last event passed to `body` (`start` if none).
    @discardableResult
    private func forEachEvent(
        after start: GlobalPosition, through end: GlobalPosition, _ body: (RecordedEvent) async throws -> Void
    ) async throws -> GlobalPosition {
        var last = start
        while last < end {
            let batch = try await store.readAll(from: GlobalPosition(last.rawValue + 1), direction: .forward, maxCount: batchSize)
            for event in batch {
                if event.position > end { return last }
                guard event.position > last else { continue }  // Never again at or below the checkpoint.
                try await body(event)
                last = event.position
            }
            if batch.count < batchSize { return last }
        }
        return last
    }
}
