// Loading and saving aggregates through the EventStore protocol alone: state
// from the latest usable snapshot plus the events after it, new events appended
// at exactly the version the state was built from, so a concurrent writer
// causes a conflict instead of a lost update.
import Foundation

/// Loads aggregates of type `A` from their streams and saves the events their
/// commands decide.
///
/// ```swift
/// let orders = Repository<Order>(store: store, registry: registry, options: RepositoryOptions(maxAttempts: 3, snapshotEvery: 50))
/// try await orders.handle("order-42") { order in try order.addItem(sku: "A", quantity: 1, unitPriceCents: 250) }
/// ```
public struct Repository<A: Aggregate>: Sendable {
    /// The store the events live in.
    public let store: any EventStore
    /// Maps stored events to `A.Event` and back.
    public let registry: EventTypeRegistry
    /// Retries, snapshots, read batches.
    public let options: RepositoryOptions

    /// A repository over `store`.
    public init(store: any EventStore, registry: EventTypeRegistry, options: RepositoryOptions = RepositoryOptions()) {
        self.store = store
        self.registry = registry
        self.options = options
    }

    // MARK: Loading

    /// The aggregate's current state: the latest snapshot plus the events after
    /// it, or every event when there is no snapshot, it cannot be decoded, or the
    /// events right after it are hidden.
    ///
    /// That last case matters because stores may keep a snapshot across a soft
    /// delete or a truncation past it: the snapshot then describes events that
    /// are gone, and building on it would resurrect them. (A snapshot taken at
    /// exactly the deleted version cannot be told apart from one a truncation
    /// compacted up to, so stores should drop snapshots on delete, as
    /// ``InMemoryEventStore`` does.)
    ///
    /// The returned version is the stream's version, even when its last events
    /// were truncated or soft-deleted, so the next save continues after them.
    /// - Throws: The store's ``EventStoreError`` from reading the version, the
    ///   snapshot or the events (such as ``EventStoreError/closed``); ``DomainError``
    ///   for an event that does not decode as `A.Event` (see ``EventTypeRegistry/decode(_:as:)``).
    /// - Complexity: O(events after the snapshot), read in batches of
    ///   ``RepositoryOptions/readBatchSize``; O(the stream's events) without a
    ///   usable snapshot.
    public func load(_ stream: StreamName) async throws -> LoadedAggregate<A> {
        // Read before the events: every event up to this version is then either
        // read below or hidden, so the version never runs ahead of the state.
        let streamVersion = try await store.streamVersion(stream)
        var loaded = LoadedAggregate(stream: stream, state: A(), version: .none)
        if let (snapshot, state) = try await usableSnapshot(of: stream) {
            loaded.state = state
            loaded.version = snapshot.version
            loaded.snapshotVersion = snapshot.version
        }
        let isContiguous = try await applyEvents(to: &loaded, through: nil)
        if loaded.snapshotVersion != nil && (!isContiguous || loaded.version < streamVersion) {
            loaded = LoadedAggregate(stream: stream, state: A(), version: .none)
            try await applyEvents(to: &loaded, through: nil)
        }
        loaded.version = max(loaded.version, streamVersion)
        return loaded
    }

    /// The snapshot and its decoded state, or nil when there is none or it is
    /// unusable (another schema version, or bytes that do not decode): a bad
    /// snapshot only costs a full replay.
    private func usableSnapshot(of stream: StreamName) async throws -> (Snapshot, A)? {
        guard let snapshot = try await store.loadSnapshot(of: stream), snapshot.stream == stream,
            snapshot.schemaVersion == A.snapshotSchemaVersion,
            let state = try? JSONDecoder().decode(A.self, from: snapshot.state)
        else { return nil }
        return (snapshot, state)
    }

    /// Applies the stream's events after `loaded.version`, in batches, stopping
    /// after the last event at or before `position` (nil: no bound).
    /// - Returns: Whether every event applied followed the one before (the first
    ///   one `loaded.version`): false when hidden events left a gap.
    @discardableResult
    func applyEvents(to loaded: inout LoadedAggregate<A>, through position: GlobalPosition?) async throws -> Bool {
        var next = StreamVersion(loaded.version.rawValue + 1)
        var isContiguous = true
        while true {
            let batch = try await store.readStream(loaded.stream, from: next, direction: .forward, maxCount: options.readBatchSize)
            for event in batch {
                if let position, event.position > position { return isContiguous }
                if event.version.rawValue != loaded.version.rawValue + 1 { isContiguous = false }
                loaded.state.apply(try registry.decode(event, as: A.Event.self))
                loaded.version = event.version
                loaded.eventsApplied += 1
            }
            guard batch.count == options.readBatchSize, let last = batch.last else { return isContiguous }
            next = StreamVersion(last.version.rawValue + 1)
        }
    }

    // MARK: Saving

    /// Appends `events` at exactly `loaded.version`, then snapshots if one is due.
    ///
    /// A failed snapshot does not fail the save (the events are written; the
    /// snapshot is only a shortcut): it is reported in the outcome.
    /// - Parameters:
    ///   - events: The command's events, in order; none writes nothing.
    ///   - loaded: The aggregate the events were decided from; its version is the
    ///     expected version of the append.
    ///   - context: The correlation and causation ids every event carries (nil: none).
    /// - Returns: The aggregate after the events, the store's result and the
    ///   snapshot's fate.
    /// - Throws: ``DomainError/unknownEventType(_:position:)`` or
    ///   ``DomainError/unencodablePayload(eventType:reason:)`` from encoding (nothing
    ///   is written); ``EventStoreError/wrongExpectedVersion(stream:expected:actual:)``
    ///   if the stream moved since `loaded` was read; the store's other append
    ///   errors, such as ``EventStoreError/streamDeleted(stream:)`` or
    ///   ``EventStoreError/limitExceeded(_:)``. Never a snapshot's error.
    /// - Complexity: O(`events.count`), plus encoding the state when a snapshot is due.
    @discardableResult
    public func save(_ events: [A.Event], to loaded: LoadedAggregate<A>, context: CommandContext? = nil) async throws -> CommandOutcome<A> {
        guard !events.isEmpty else { return CommandOutcome(aggregate: loaded, events: []) }
        var data: [EventData] = []
        data.reserveCapacity(events.count)
        for event in events { data.append(try registry.encode(event.payload, context: context)) }
        let result = try await store.append(data, to: loaded.stream, expectedVersion: .exact(loaded.version))
        var saved = loaded
        saved.state = loaded.state.applying(events)
        saved.version = result.nextExpectedVersion
        var outcome = CommandOutcome(aggregate: saved, events: events, appendResult: result)
        if let every = options.snapshotEvery, UInt64(every) > 0,
            saved.version.rawValue / UInt64(every) > loaded.version.rawValue / UInt64(every)
        {
            do {
                let state = try JSONEncoder().encode(saved.state)
                try await store.saveSnapshot(Snapshot(
                    stream: saved.stream, version: saved.version, schemaVersion: A.snapshotSchemaVersion, state: state))
                outcome.snapshotSaved = true
            } catch {
                outcome.snapshotFailure = error
            }
        }
        return outcome
    }

    // MARK: Commands

    /// Loads the aggregate, runs `command` on its state and saves the events it
    /// returns. On a version conflict, reloads and runs the command again, up to
    /// ``RepositoryOptions/maxAttempts`` in all, so `command` must decide from the
    /// state alone (it may run more than once).
    ///
    /// - Parameters:
    ///   - stream: The aggregate's stream.
    ///   - context: The correlation and causation ids the events carry (nil: none).
    ///   - command: Decides the events from the current state; an empty array
    ///     writes nothing.
    /// - Throws: The command's own error (nothing is written, no retry);
    ///   ``EventStoreError/wrongExpectedVersion(stream:expected:actual:)`` once the
    ///   attempts are used up; any other error of ``load(_:)`` or
    ///   ``save(_:to:context:)``, without a retry.
    /// - Complexity: One ``load(_:)`` and one ``save(_:to:context:)`` per attempt.
    @discardableResult
    public func handle(
        _ stream: StreamName, context: CommandContext? = nil, _ command: (A) throws -> [A.Event]
    ) async throws -> CommandOutcome<A> {
        var attempt = 1
        while true {
            let loaded = try await load(stream)
            let events = try command(loaded.state)
            do {
                var outcome = try await save(events, to: loaded, context: context)
                outcome.attempts = attempt
                return outcome
            } catch let error as EventStoreError {
                guard case .wrongExpectedVersion = error, attempt < options.maxAttempts else { throw error }
                attempt += 1
            }
        }
    }
}

/// What saving a command's events did.
public struct CommandOutcome<A: Aggregate>: Sendable {
    /// The aggregate after the events (unchanged if there were none).
    public var aggregate: LoadedAggregate<A>
    /// The events saved (empty: the command decided nothing needed to happen).
    public var events: [A.Event]
    /// The store's answer; nil when there were no events.
    public var appendResult: AppendResult?
    /// Attempts it took, the successful one included.
    public var attempts: Int = 1
    /// Whether a snapshot was saved after the events.
    public var snapshotSaved = false
    /// Why a due snapshot was not saved (the events were saved regardless).
    public var snapshotFailure: (any Error)?

    init(aggregate: LoadedAggregate<A>, events: [A.Event], appendResult: AppendResult? = nil) {
        self.aggregate = aggregate
        self.events = events
        self.appendResult = appendResult
    }
}
