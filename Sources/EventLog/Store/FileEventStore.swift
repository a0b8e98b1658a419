// The public face of the engine: open a store folder, append with optimistic
// concurrency, read streams and the whole log, close. Everything below this file
// is internal.
import EventSourcing
import Foundation
import Synchronization

/// A crash-safe, log-structured event store in a folder.
///
/// Appends go to one writer thread that groups concurrent calls into one write
/// and one `fdatasync`; an event is acknowledged, and visible to readers, only
/// once it is durable under the store's ``Durability``. Reads run on the
/// caller's thread and never wait for the writer.
///
/// ```swift
/// let store = try FileEventStore.open(directory: "/var/lib/app/events")
/// let result = try await store.append([event], to: "order-42", expectedVersion: .noStream)
/// let events = try store.readStream("order-42")
/// try await store.close()
/// ```
public final class FileEventStore: Sendable {
    /// The store's folder.
    public let directory: String
    /// What opening found and repaired.
    public let openReport: OpenReport
    /// The options the store was opened with (the segment size is the store's own).
    public let options: StoreOptions

    let configuration: LogConfiguration
    let shared: SharedLog
    let writer: LogWriter?
    let cache: IndexCache
    let reader: LogReader
    /// For read-only opens: follows the writer of another process.
    let follower: LogFollower?
    private let watcher = Mutex<DirectoryWatcher?>(nil)
    private let lock: Mutex<OpenFile?>
    private let isClosed = Atomic<Bool>(false)
    let damagedSnapshots = Atomic<Int>(0)
    /// One compaction at a time; `close` waits for it.
    let compaction = CompactionGate()

    private init(
        directory: String, options: StoreOptions, configuration: LogConfiguration, shared: SharedLog,
        cache: IndexCache, writer: LogWriter?, lockFile: OpenFile?, report: OpenReport
    ) {
        self.directory = directory
        self.options = options
        self.configuration = configuration
        self.shared = shared
        self.cache = cache
        self.reader = LogReader(shared: shared, fileSystem: configuration.fileSystem)
        self.follower = options.readOnly ? LogFollower(configuration: configuration, shared: shared, cache: cache) : nil
        self.writer = writer
        self.lock = Mutex(lockFile)
        self.openReport = report
    }

    deinit {
        watcher.withLock { $0?.stop() }
        shared.waiters.close()
        writer?.requestClose()
        if let file = lock.withLock({ $0 }) { try? configuration.fileSystem.close(file) }
    }

    // MARK: Opening

    /// Opens the store in `directory`, creating it if allowed and missing, and
    /// recovers from a crash: a torn tail is truncated and reported in
    /// ``openReport``, never thrown.
    ///
    /// - Throws: ``EventStoreError/storeLocked(path:)`` if another process writes
    ///   to the store; ``EventStoreError/corrupted(file:offset:reason:)`` if the
    ///   log is damaged anywhere but its torn tail; ``EventStoreError/incompatibleStore(path:reason:)``
    ///   if the folder is not a store of this format version, or holds no store and
    ///   none may be created (read-only, `createIfMissing` off, or the folder holds
    ///   other files: a store is created only in an empty or new folder);
    ///   ``EventStoreError/invalidArgument(_:)`` for a segment size out of range;
    ///   ``EventStoreError/io(operation:path:errno:message:)`` when a system call fails.
    /// - Complexity: O(segments) small reads (each segment's header and footer), the
    ///   active segment's index checkpoint, and its records after the checkpoint
    ///   (none after a clean close; the whole active segment after a crash).
    public static func open(directory: String, options: StoreOptions = StoreOptions()) throws -> FileEventStore {
        try open(directory: directory, options: options, fileSystem: PosixFileSystem())
    }

    /// Opens the store as ``open(directory:options:)`` does, calling `progress`
    /// after each segment file (on the calling thread): for showing how far a long
    /// open has got, such as one that rebuilds damaged or missing index files.
    /// - Throws: What ``open(directory:options:)`` throws.
    /// - Complexity: As ``open(directory:options:)``.
    public static func open(
        directory: String, options: StoreOptions = StoreOptions(), progress: @escaping (OpenProgress) -> Void
    ) throws -> FileEventStore {
        try open(directory: directory, options: options, fileSystem: PosixFileSystem(), progress: progress)
    }

    /// - Parameter wallClock: Microseconds since 1970, for event timestamps and age
    ///   limits (tests pass a clock they control).
    static func open(
        directory: String, options: StoreOptions, fileSystem: any FileSystem,
        wallClock: @escaping @Sendable () -> Int64 = Clock.wallMicroseconds, progress: ((OpenProgress) -> Void)? = nil
    ) throws -> FileEventStore {
        let started = Clock.monotonicNanoseconds()
        guard (StoreOptions.minimumSegmentSizeBytes...StoreOptions.maximumSegmentSizeBytes).contains(options.segmentSizeBytes) else {
            throw EventStoreError.invalidArgument(
                "segment size \(options.segmentSizeBytes) bytes is outside \(StoreOptions.minimumSegmentSizeBytes)...\(StoreOptions.maximumSegmentSizeBytes)")
        }
        return try translatingSystemErrors {
            let manifestPath = directory + "/" + StoreManifest.fileName
            if !options.readOnly && options.createIfMissing { try fileSystem.makeDirectories(directory) }
            if !options.readOnly, fileSystem.exists(directory) {
                // The folder's own entry may be what a killed process created and
                // never synced: make it durable before acknowledging anything in it.
                let parent = (directory as NSString).deletingLastPathComponent
                try fileSystem.syncDirectory(parent.isEmpty ? "." : parent)
            }
            guard fileSystem.exists(directory) else {
                throw EventStoreError.incompatibleStore(path: directory, reason: "the folder does not exist")
            }
            if !options.readOnly && options.createIfMissing && !fileSystem.exists(manifestPath) {
                try refuseFolderOfOtherFiles(directory, fileSystem: fileSystem)
            }
            var lockFile: OpenFile?
            if !options.readOnly {
                let file = try fileSystem.open(directory + "/LOCK", mode: .createOrOpen)
                guard try lockWithGrace(file, fileSystem: fileSystem) else {
                    try? fileSystem.close(file)
                    throw EventStoreError.storeLocked(path: directory)
                }
                lockFile = file
            }
            do {
                let manifest = try loadOrCreateManifest(
                    path: manifestPath, directory: directory, options: options, fileSystem: fileSystem)
                var configuration = LogConfiguration(
                    directory: directory, storeID: manifest.storeID, segmentSizeBytes: manifest.segmentSizeBytes,
                    preallocate: options.preallocateSegments, durability: options.durability,
                    loneAppenderWrites: options.loneAppenderWritesOnItsThread || options.durability == .none, fileSystem: fileSystem)
                configuration.positionNudgeDelayNanoseconds = UInt64(max(options.positionNudgeDelay.nanoseconds, 0))
                let cache = IndexCache(budgetBytes: options.indexCacheBytes)
                var recovered = try Recovery.recover(
                    configuration: configuration, cache: cache, readOnly: options.readOnly, progress: progress)
                recovered.report.openMilliseconds = Double(Clock.monotonicNanoseconds() - started) / 1_000_000
                let shared = SharedLog(
                    state: recovered.state, rules: try StreamRulesBook.load(directory: directory, fileSystem: fileSystem),
                    wallClock: wallClock)
                var writer: LogWriter?
                if let active = recovered.active {
                    writer = LogWriter(
                        configuration: configuration, shared: shared, cache: cache, active: active,
                        nextPosition: recovered.nextPosition, lastTimestamp: recovered.lastTimestampMicroseconds,
                        streamCacheCapacity: options.streamCacheCapacity)
                    writer!.start()
                }
                var effective = options
                effective.segmentSizeBytes = Int(manifest.segmentSizeBytes)
                return FileEventStore(
                    directory: directory, options: effective, configuration: configuration, shared: shared, cache: cache,
                    writer: writer, lockFile: lockFile, report: recovered.report)
            } catch {
                if let lockFile { try? fileSystem.close(lockFile) }
                throw error
            }
        }
    }

    /// Takes the writer lock, retrying for a short while: a child process that this
    /// application is spawning holds a copy of every descriptor (and so of the lock)
    /// between its fork and its exec, so a store closed and reopened at that moment
    /// would otherwise look locked. A real second writer still fails after the grace.
    private static func lockWithGrace(_ file: OpenFile, fileSystem: any FileSystem) throws -> Bool {
        let deadline = Clock.monotonicNanoseconds() + 500_000_000
        while true {
            if try fileSystem.tryLockExclusive(file) { return true }
            if Clock.monotonicNanoseconds() >= deadline { return false }
            Clock.sleep(nanoseconds: 2_000_000)
        }
    }

    /// A new store is made only in a folder of its own: a writer's open removes
    /// `*.tmp` files and a store lists and rewrites what it finds, so a folder that
    /// already holds other files (a mistyped path, an application's data folder) is
    /// refused before anything is created in it. What a creation cut short leaves
    /// (`LOCK`, the manifest's `STORE.tmp`) does not count; segment files without a
    /// manifest are the manifest's loss, reported as such by `loadOrCreateManifest`.
    private static func refuseFolderOfOtherFiles(_ directory: String, fileSystem: any FileSystem) throws {
        let leftovers: Set<String> = ["LOCK", StoreManifest.fileName + ".tmp"]
        let entries = try fileSystem.listDirectory(directory).filter { !leftovers.contains($0) }.sorted()
        guard !entries.isEmpty, !entries.contains(where: { SegmentFileName.firstPosition(of: $0) != nil }) else { return }
        let shown = entries.prefix(3).map { "'\($0)'" }.joined(separator: ", ") + (entries.count > 3 ? ", …" : "")
        throw EventStoreError.incompatibleStore(
            path: directory,
            reason: "the folder holds other files (\(shown)) and no \(StoreManifest.fileName) manifest; "
                + "a new store is made only in an empty or new folder")
    }

    private static func loadOrCreateManifest(
        path: String, directory: String, options: StoreOptions, fileSystem: any FileSystem
    ) throws -> StoreManifest {
        if fileSystem.exists(path) {
            let bytes = try fileSystem.readWholeFile(path)
            do {
                return try bytes.withUnsafeBytes { try StoreManifest.decode($0) }
            } catch {
                throw EventStoreError.incompatibleStore(path: directory, reason: "\(StoreManifest.fileName): \(error)")
            }
        }
        let hasSegments = try fileSystem.listDirectory(directory).contains { SegmentFileName.firstPosition(of: $0) != nil }
        if hasSegments {
            throw EventStoreError.incompatibleStore(
                path: directory, reason: "segment files exist but the \(StoreManifest.fileName) manifest is missing")
        }
        if options.readOnly || !options.createIfMissing {
            throw EventStoreError.incompatibleStore(path: directory, reason: "there is no store here (no \(StoreManifest.fileName) file)")
        }
        let manifest = StoreManifest(
            storeID: UUID(), segmentSizeBytes: UInt64(options.segmentSizeBytes), createdMicroseconds: Clock.wallMicroseconds())
        try fileSystem.writeAtomically(manifest.encoded(), to: path, directory: directory)
        return manifest
    }

    // MARK: Appending

    /// Appends `events` to `stream` as one atomic unit, once the stream's version
    /// satisfies `expectedVersion`.
    ///
    /// Appending the same event ids again at the expected version they were first
    /// written with (or, with `.any` or `.streamExists`, while that call is still the
    /// stream's latest) writes nothing and returns the original result, so a call
    /// can be retried safely after a timeout.
    ///
    /// The call runs on its caller's actor (`nonisolated(nonsending)`): it checks
    /// the input there and hands the call to the writer thread, and its task resumes
    /// there when the call is durable, without a hop to the cooperative pool and
    /// back; a call that needs no sync (``Durability/none``, a lone appender) is
    /// written right there, a copy into the page cache (`AppendIsolationTests`; the
    /// first such call after an open also pre-allocates the active segment again,
    /// an `fallocate` and an `fsync`).
    ///
    /// - Throws: ``EventStoreError/readOnly(path:)`` on a store opened read-only;
    ///   the input errors of ``AppendValidation/validate(_:)``;
    ///   ``EventStoreError/closed``; ``EventStoreError/streamDeleted(stream:)``,
    ///   ``EventStoreError/wrongExpectedVersion(stream:expected:actual:)``,
    ///   ``EventStoreError/idempotencyConflict(stream:reason:)`` (none of these
    ///   writes anything); ``EventStoreError/corrupted(file:offset:reason:)`` if
    ///   telling a retry apart reads a damaged record;
    ///   ``EventStoreError/writerFailed(reason:)`` once a write or sync has failed.
    /// - Complexity: O(events); the call waits for one group commit.
    @discardableResult
    nonisolated(nonsending) public func append(
        _ events: [EventData], to stream: StreamName, expectedVersion: ExpectedVersion = .any
    ) async throws -> AppendResult {
        try await append([StreamAppend(stream: stream, expectedVersion: expectedVersion, events: events)])[0]
    }

    /// Appends to several streams as one atomic unit: every part's expected version
    /// must hold, and then all events are written, or none.
    ///
    /// - Returns: One result per part, in order.
    /// - Throws: As ``append(_:to:expectedVersion:)``; a stream named twice is
    ///   ``EventStoreError/invalidArgument(_:)``.
    @discardableResult
    nonisolated(nonsending) public func append(_ parts: [StreamAppend]) async throws -> [AppendResult] {
        guard let writer else { throw EventStoreError.readOnly(path: directory) }
        let eventCount = try Self.validate(parts)
        if isClosed.load(ordering: .relaxed) { throw EventStoreError.closed }
        // Reads give way while this call is in flight (`SharedLog.yieldToAppends`).
        shared.appendsInFlight.add(1, ordering: .relaxed)
        defer { shared.appendsInFlight.subtract(1, ordering: .relaxed) }
        if let results = try writer.appendOnCallingThread(parts) { return results }
        return try await withUnsafeThrowingContinuation { continuation in
            writer.submit(PendingAppend(parts: parts, eventCount: eventCount, continuation: continuation))
        }
    }

    /// Checks every limit before the call reaches the writer; returns the event count.
    static func validate(_ parts: [StreamAppend]) throws(EventStoreError) -> Int {
        try AppendValidation.validate(parts)
    }

    // MARK: Reading

    /// The last acknowledged global position (0 when the store is empty).
    public var lastPosition: GlobalPosition { GlobalPosition(shared.state.withLock { $0.visibleEnd }) }

    /// The stream's current version: its last acknowledged event's, hidden
    /// (truncated or deleted) events included; 0 if it never had one.
    /// - Throws: ``EventStoreError/closed``, ``EventStoreError/corrupted(file:offset:reason:)``,
    ///   ``EventStoreError/io(operation:path:errno:message:)``.
    /// - Complexity: O(segments) index lookups, newest first until one holds the
    ///   stream (a Bloom filter skips most); none for a hard-deleted stream.
    public func version(of stream: StreamName) throws -> StreamVersion {
        try checkOpen()
        return try translatingSystemErrors { StreamVersion(try reader.streamVersion(stream)) }
    }

    /// Counters of the writer's work.
    public var statistics: WriterStatistics { writer?.currentStatistics ?? WriterStatistics() }

    /// Reads up to `maxCount` events of the whole log from `position`, going
    /// `direction`, that pass `filter`. Every record's checksum is verified; event
    /// types and categories are narrowed through the indexes before records are read.
    ///
    /// - Parameter position: where to start; with `.backward`, ``GlobalPosition/end`` starts at the last event.
    /// - Throws: ``EventStoreError/invalidArgument(_:)`` for a negative `maxCount`,
    ///   ``EventStoreError/corrupted(file:offset:reason:)``, ``EventStoreError/closed``,
    ///   ``EventStoreError/io(operation:path:errno:message:)``.
    /// - Complexity: O(log segments + events read), plus the index's record table
    ///   of each visited segment when filtering by type or category.
    public func readAll(
        from position: GlobalPosition = .start, direction: ReadDirection = .forward, maxCount: Int = .max,
        filter: EventFilter
    ) throws -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        var names = RecordNames()
        try forEachRecord(from: position, direction: direction, maxCount: maxCount, filter: filter) { record in
            events.append(record.event(names: &names))  // built in place: no copy of a borrowed event
            return true
        }
        return events
    }

    /// Reads up to `maxCount` events of the whole log from `position`, going `direction`.
    /// - Throws: ``EventStoreError/invalidArgument(_:)`` for a negative `maxCount`,
    ///   ``EventStoreError/corrupted(file:offset:reason:)``, ``EventStoreError/closed``,
    ///   ``EventStoreError/io(operation:path:errno:message:)``.
    /// - Complexity: O(log segments + events read).
    public func readAll(
        from position: GlobalPosition = .start, direction: ReadDirection = .forward, maxCount: Int = .max
    ) throws -> [RecordedEvent] {
        try readAll(from: position, direction: direction, maxCount: maxCount, filter: .all)
    }

    /// Calls `body` with each event of the whole log from `position`, without
    /// collecting them: for reading a large log in constant memory.
    /// - Throws: As ``readAll(from:direction:maxCount:filter:)``, or what `body` throws
    ///   (which ends the read).
    /// - Complexity: As ``readAll(from:direction:maxCount:filter:)``.
    public func forEachEvent(
        from position: GlobalPosition = .start, direction: ReadDirection = .forward, maxCount: Int = .max,
        filter: EventFilter = .all, _ body: (RecordedEvent) throws -> Void
    ) throws {
        var names = RecordNames()
        try forEachRecord(from: position, direction: direction, maxCount: maxCount, filter: filter) { record in
            try body(record.event(names: &names))
            return true
        }
    }

    /// The checks and error translation every whole-log read shares, around the
    /// reader's record loop: `body` sees each record in the read buffer and returns
    /// false to stop.
    func forEachRecord(
        from position: GlobalPosition, direction: ReadDirection, maxCount: Int, filter: EventFilter,
        _ body: (RecordView) throws -> Bool
    ) throws {
        try checkOpen()
        try Self.checkMaxCount(maxCount)
        // Backward from position 0 is before the first event: nothing.
        if direction == .backward && position.rawValue == 0 { return }
        try translatingSystemErrors {
            try reader.forEachRecord(from: position.rawValue, direction: direction, maxCount: maxCount, filter: filter, body)
        }
    }

    /// Reads up to `maxCount` events of `stream` from version `from`, going
    /// `direction`. A stream with no events reads as empty (not an error).
    ///
    /// - Parameter version: where to start; with `.backward`, ``StreamVersion/end`` starts at the last event.
    /// - Throws: ``EventStoreError/invalidArgument(_:)`` for a negative `maxCount`,
    ///   ``EventStoreError/corrupted(file:offset:reason:)``, ``EventStoreError/closed``,
    ///   ``EventStoreError/io(operation:path:errno:message:)``.
    /// - Complexity: O(segments × log(index entries) + events read), plus the
    ///   stream's index entries in each segment visited; through the indexes,
    ///   never a log scan.
    public func readStream(
        _ stream: StreamName, from version: StreamVersion = 1, direction: ReadDirection = .forward, maxCount: Int = .max
    ) throws -> [RecordedEvent] {
        try checkOpen()
        try Self.checkMaxCount(maxCount)
        if direction == .backward && version.rawValue == 0 { return [] }
        return try translatingSystemErrors {
            try reader.readStream(stream, from: version.rawValue, direction: direction, maxCount: maxCount, yieldingToAppends: true)
        }
    }

    /// A negative count is a caller's mistake worth naming.
    private static func checkMaxCount(_ maxCount: Int) throws {
        try AppendValidation.checkMaxCount(maxCount)
    }

    /// The first position whose event was appended at or after `timestamp`, or nil.
    /// Hidden events count; events compaction removed do not.
    /// - Throws: ``EventStoreError/closed``, ``EventStoreError/corrupted(file:offset:reason:)``,
    ///   ``EventStoreError/io(operation:path:errno:message:)``.
    /// - Complexity: O(segments + one block of records), through the sparse time index.
    public func firstPosition(atOrAfter timestamp: Date) throws -> GlobalPosition? {
        try checkOpen()
        let microseconds = Int64((timestamp.timeIntervalSince1970 * 1_000_000).rounded())
        return try translatingSystemErrors { try reader.firstPosition(atOrAfter: microseconds).map { GlobalPosition($0) } }
    }

    // MARK: Following another process

    /// For a read-only store: reads what the writer (in another process) has
    /// acknowledged since the store opened or last refreshed, never past the
    /// position it published. For a writer: the last position.
    /// - Returns: the last position now visible.
    /// - Throws: ``EventStoreError/closed``; for a read-only store,
    ///   ``EventStoreError/io(operation:path:errno:message:)`` when reading the
    ///   writer's files fails. A damaged record is not reported: refresh stops
    ///   before it, as before a record still being written.
    /// - Complexity: O(records the writer appended since the last refresh): each is
    ///   read, checked and indexed once. O(1) for a writer.
    @discardableResult
    public func refresh() throws -> GlobalPosition {
        try checkOpen()
        guard let follower else { return lastPosition }
        return GlobalPosition(try translatingSystemErrors { try follower.refresh() })
    }

    /// For a read-only store with subscribers: starts watching the folder, so
    /// subscriptions wake when the writer publishes a new position.
    func startFollowing() {
        guard let follower else { return }
        watcher.withLock { watcher in
            guard watcher == nil, !isClosed.load(ordering: .relaxed) else { return }
            watcher = DirectoryWatcher(directory: directory) { _ = try? follower.refresh() }
        }
    }

    // MARK: Closing

    /// Finishes the queued appends, syncs, and releases the writer lock. Later calls
    /// throw ``EventStoreError/closed``. Closing twice is harmless.
    ///
    /// - Throws: ``EventStoreError/writerFailed(reason:)`` if the writer had failed
    ///   (the store still closes; reopen it to recover from the log).
    public func close() async throws {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        watcher.withLock { watcher in
            watcher?.stop()
            watcher = nil
        }
        shared.waiters.close()
        // A compaction stops at its next segment; the lock must outlive it.
        await compaction.waitUntilIdle()
        if let writer {
            await writer.close()
            if let file = lock.withLock({ file -> OpenFile? in defer { file = nil }; return file }) {
                try? configuration.fileSystem.close(file)
            }
            if let failure = writer.failureReason { throw failure }
        }
    }

    func checkOpen() throws {
        if isClosedNow { throw EventStoreError.closed }
    }

    /// Whether ``close()`` has been called.
    var isClosedNow: Bool { isClosed.load(ordering: .relaxed) }
}

/// Runs `body`, turning a ``SystemError`` into ``EventStoreError/io(operation:path:errno:message:)``.
func translatingSystemErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as SystemError {
        throw EventStoreError.io(operation: error.operation, path: error.path, errno: error.errno, message: error.message)
    }
}

extension FileSystem {
    /// Creates `path` and any missing parent folders, each made durable in its
    /// parent (a folder's own entry is data too: without it the store could vanish).
    func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            let parent = prefix.isEmpty ? "/" : prefix
            prefix += "/" + component
            if !exists(prefix) {
                try makeDirectory(prefix)
                try syncDirectory(parent)
            }
        }
    }
}
