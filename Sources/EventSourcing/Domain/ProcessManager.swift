// Sagas: long-running processes that react to events by issuing commands
// (typically through a Repository), remembering how far they got in a
// checkpoint like any projection.

/// Reacts to the events matching a filter, in position order, with its
/// position checkpointed.
///
/// A reaction that throws stops the manager and leaves the checkpoint before
/// the event, so the event is handled again after a restart; and an event
/// handled just before a crash, before its checkpoint was saved, is handled
/// again too. Reactions must therefore be idempotent: the command's aggregate
/// ignores a repeat (the usual way), or the command's event ids are derived
/// from the triggering event so the store recognises the retry.
///
/// ```swift
/// let shipping = ProcessManager(name: "shipping", store: store, checkpoints: checkpoints,
///                               filter: EventFilter(eventTypes: ["OrderPaid"])) { event in
///     try await shipments.handle(shipmentStream(for: event), context: .causedBy(event)) { try $0.request() }
/// }
/// let task = Task { try await shipping.run() }
/// ```
public struct ProcessManager: Sendable {
    /// The name its checkpoint is stored under.
    public let name: String
    /// The events it reacts to.
    public let filter: EventFilter
    private let runner: ProjectionRunner
    private let react: @Sendable (RecordedEvent) async throws -> Void

    /// A process manager reacting to `filter`'s events on `store` with `react`.
    /// - Parameters:
    ///   - name: The name its checkpoint is stored under; unique per manager.
    ///   - checkpoints: Where the checkpoint is kept.
    ///   - filter: The events it reacts to (every event by default).
    ///   - react: Handles one event, usually by running a command. An error it
    ///     throws stops the manager, with the checkpoint before the event.
    public init(
        name: String, store: any EventStore, checkpoints: any CheckpointStore, filter: EventFilter = .all,
        react: @escaping @Sendable (RecordedEvent) async throws -> Void
    ) {
        self.name = name
        self.filter = filter
        self.runner = ProjectionRunner(store: store, checkpoints: checkpoints)
        self.react = react
    }

    /// Reacts to the events after the checkpoint up to and including `position`
    /// (nil: the log's end when the call starts), then returns.
    /// - Returns: The checkpoint reached.
    /// - Throws: What `react` throws, the ``EventStoreError`` of a read, or the
    ///   checkpoint store's errors; the checkpoint stays at the last event handled.
    /// - Complexity: As ``ProjectionRunner/catchUp(_:through:)``: O(events after
    ///   the checkpoint up to `position`), matching or not.
    @discardableResult
    public func catchUp(through position: GlobalPosition? = nil) async throws -> GlobalPosition {
        var reactions = Reactions(name: name, filter: filter, react: react)
        return try await runner.catchUp(&reactions, through: position)
    }

    /// Reacts to the events after the checkpoint, then to each new one, until the
    /// calling task is cancelled (then it returns).
    /// - Throws: What `react` throws, ``EventStoreError/closed`` when the store
    ///   closes (or another read error), or the checkpoint store's errors; the
    ///   checkpoint stays at the last event handled.
    /// - Complexity: O(events delivered); one checkpoint save per event.
    public func run() async throws {
        var reactions = Reactions(name: name, filter: filter, react: react)
        try await runner.run(&reactions)
    }
}

/// A process manager seen as a projection whose "read model" is its effects.
private struct Reactions: Projection {
    let name: String
    let filter: EventFilter
    let react: @Sendable (RecordedEvent) async throws -> Void

    mutating func apply(_ event: RecordedEvent) async throws { try await react(event) }
    mutating func reset() async throws {}
}
