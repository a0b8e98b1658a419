// The choices a caller makes when opening a store.

/// When an append is acknowledged, and what a crash can take away.
public enum Durability: Sendable, Hashable, CustomStringConvertible {
    /// Acknowledged once written and `fdatasync`ed: an acknowledged event survives
    /// a process crash and a power loss. The default.
    case fsync
    /// Acknowledged once written to the operating system; `fdatasync` runs at least
    /// every `maxDelay`. Survives a process crash; a power loss can take the events
    /// acknowledged in the last `maxDelay`.
    case batched(maxDelay: Duration)
    /// Acknowledged once written to the operating system, synced only on close and
    /// segment roll. Survives a process crash; a power loss can take any events
    /// acknowledged since the last sync.
    case none

    /// The mode for messages: `fsync`, `batched(0.005 seconds)` or `none`.
    public var description: String {
        switch self {
        case .fsync: "fsync"
        case .batched(let delay): "batched(\(delay))"
        case .none: "none"
        }
    }
}

/// Options for ``FileEventStore/open(directory:options:)``.
public struct StoreOptions: Sendable {
    /// When appends are acknowledged. Default ``Durability/fsync``.
    public var durability: Durability = .fsync
    /// Size at which the active segment is sealed and a new one started, for a new
    /// store (an existing store keeps the size it was created with). Default 64 MiB;
    /// at least 64 KiB, at most 1 GiB.
    public var segmentSizeBytes: Int = 64 * 1024 * 1024
    /// Reserve each new segment's full size on disk when it is created, so that
    /// appends do not grow the file (fewer metadata updates per `fdatasync`).
    public var preallocateSegments = true
    /// Open without taking the writer lock and without repairing anything:
    /// reads only, alongside a writer in another process.
    public var readOnly = false
    /// Create the folder and an empty store if there is none. Default true. A store
    /// is created only in an empty or new folder: one that holds other files is
    /// refused (``EventStoreError/incompatibleStore(path:reason:)``).
    public var createIfMissing = true
    /// Streams whose version the writer keeps in memory; others are looked up in
    /// the indexes. Memory grows with this, not with the number of streams.
    public var streamCacheCapacity = 100_000
    /// Lets a lone appender write (and under ``Durability/fsync``, `fdatasync`) its
    /// own call on its own thread, when the writer thread is idle: a task whose
    /// previous call was the store's last one. That saves two thread hand-offs, the
    /// writer thread's wake-up and the appender's resumption (on this project's
    /// machine 15-20 µs of a ~110 µs durable call, and most of a call without sync).
    /// Off by default, because the call then blocks its thread for the write and
    /// sync: on a thread of Swift's cooperative pool, other tasks wait for it, and
    /// appenders that cannot run meanwhile miss the group commit and pay a sync
    /// each; and since `append` runs on its caller's actor (`nonisolated(nonsending)`),
    /// an appender on the main actor would sync on the main thread. Turn it on where
    /// the appender has a thread of its own (a task with a `TaskExecutor` preference
    /// for a dedicated thread) or the process appends one call at a time (an
    /// importer, a single-writer tool).
    ///
    /// Under ``Durability/none`` a lone appender always writes its own call, whatever
    /// this says: there is no sync to wait for or to share, only a write to the page
    /// cache of a few microseconds, which the hand-offs would multiply several times.
    /// In every mode, a call that fills the active segment goes to the writer thread,
    /// which seals it (a sync, a new file): the write turn never creates files.
    public var loneAppenderWritesOnItsThread = false
    /// Memory for the loaded parts of index files (Bloom filters, block
    /// directories, names), least recently used evicted first.
    public var indexCacheBytes = 64 * 1024 * 1024

    /// How soon the writer thread rewrites `POSITION` after a batch published it
    /// through its mapping (tests lengthen it to make the timing deterministic).
    var positionNudgeDelay: Duration = .milliseconds(1)

    /// Default options.
    public init() {}

    /// Options with the given durability.
    public init(durability: Durability) { self.durability = durability }

    /// The largest segment size accepted.
    public static let maximumSegmentSizeBytes = 1 << 30
    /// The smallest segment size accepted.
    public static let minimumSegmentSizeBytes = 64 * 1024
}
