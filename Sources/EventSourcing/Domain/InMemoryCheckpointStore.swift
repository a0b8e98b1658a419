// Checkpoints in memory, for tests and prototypes: lost when the process ends.
import Synchronization

/// A ``CheckpointStore`` held in memory.
public final class InMemoryCheckpointStore: CheckpointStore {
    private let positions = Mutex<[String: GlobalPosition]>([:])

    /// An empty checkpoint store.
    public init() {}

    /// The checkpoint saved under `name`, or nil.
    /// - Throws: Nothing; the protocol requirement throws for stores that can fail.
    public func checkpoint(named name: String) async throws -> GlobalPosition? {
        positions.withLock { $0[name] }
    }

    /// Saves `position` under `name`.
    /// - Throws: Nothing; the protocol requirement throws for stores that can fail.
    public func saveCheckpoint(_ position: GlobalPosition, named name: String) async throws {
        positions.withLock { $0[name] = position }
    }

    /// Removes the checkpoint under `name`.
    /// - Throws: Nothing; the protocol requirement throws for stores that can fail.
    public func removeCheckpoint(named name: String) async throws {
        positions.withLock { $0[name] = nil }
    }
}
