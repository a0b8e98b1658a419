// The knobs of a repository, each bounded: retries and read batches have
// limits, and snapshots are an opt-in optimisation.

/// How a ``Repository`` retries, snapshots and reads.
public struct RepositoryOptions: Sendable, Hashable {
    /// Attempts per command, the first included: 1 means no retry, so a version
    /// conflict throws ``EventStoreError/wrongExpectedVersion(stream:expected:actual:)``.
    /// On a conflict the aggregate is reloaded and the command run again.
    public var maxAttempts: Int
    /// Save a snapshot whenever a save moves the stream version past a multiple
    /// of this many events; nil never snapshots.
    public var snapshotEvery: Int?
    /// Events per read while loading (bounds memory per read).
    public var readBatchSize: Int

    /// Options; the defaults never retry and never snapshot.
    public init(maxAttempts: Int = 1, snapshotEvery: Int? = nil, readBatchSize: Int = 512) {
        precondition(maxAttempts >= 1, "maxAttempts counts the first attempt, so it is at least 1")
        precondition(snapshotEvery.map { $0 >= 1 } ?? true, "snapshotEvery is at least 1")
        precondition(readBatchSize >= 1, "readBatchSize is at least 1")
        self.maxAttempts = maxAttempts
        self.snapshotEvery = snapshotEvery
        self.readBatchSize = readBatchSize
    }
}
