// The read side: a projection folds the events of the whole log into a read
// model, at its own pace, remembering how far it got in a checkpoint.

/// A read model built from the log.
///
/// The ``ProjectionRunner`` calls ``apply(_:)`` with the events matching
/// ``filter``, in position order, each one once per checkpoint: never an event
/// at or below the stored checkpoint. An event applied just before a crash, and
/// before its checkpoint was saved, is applied again after the restart; a read
/// model that must see each event exactly once across crashes stores the
/// position it has applied with its own data and skips what it already has.
public protocol Projection {
    /// The name its checkpoint is stored under; unique per projection.
    var name: String { get }
    /// The events it reads (every event by default).
    var filter: EventFilter { get }
    /// Folds one event into the read model.
    /// - Throws: The read model's own errors. The runner stops and rethrows, with
    ///   the checkpoint before `event`, so the event comes again after a restart.
    mutating func apply(_ event: RecordedEvent) async throws
    /// Forgets everything, before a rebuild from position 1.
    /// - Throws: The read model's own errors; the rebuild then stops before the
    ///   checkpoint is removed.
    mutating func reset() async throws
}

extension Projection {
    /// Every event.
    public var filter: EventFilter { .all }
}
