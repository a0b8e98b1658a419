// Where projections and process managers remember how far they have read, so
// a restart resumes instead of starting over. The file store brings a durable
// implementation; InMemoryCheckpointStore serves tests and prototypes.

/// Named positions in the log: "everything up to here has been handled".
public protocol CheckpointStore: Sendable {
    /// The checkpoint saved under `name`, or nil if there is none.
    /// - Throws: What the implementation's storage throws (`EventLog.FileCheckpointStore`:
    ///   ``EventStoreError``; ``InMemoryCheckpointStore``: nothing).
    func checkpoint(named name: String) async throws -> GlobalPosition?
    /// Saves `position` under `name`, replacing the previous one.
    /// - Throws: What the implementation's storage throws.
    func saveCheckpoint(_ position: GlobalPosition, named name: String) async throws
    /// Removes the checkpoint under `name` (a rebuild starts from position 1).
    /// - Throws: What the implementation's storage throws.
    func removeCheckpoint(named name: String) async throws
}
