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
    private let lock: Mutex<OpenFile?>
    private let isClosed = Atomic<Bool>(false)

    private init(
        directory: String, options: StoreOptions, configuration: LogConfiguration, shared: SharedLog,
        writer: LogWriter?, lockFile: OpenFile?, report: OpenReport
    ) {
        self.directory = directory
        self.options = options
        self.configuration = configuration
        self.shared = shared
        self.writer = writer
        self.lock = Mutex(lockFile)
        self.openReport = report
    }

    deinit {
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
    ///   if the folder is not a store of this format version.
    /// - Complexity: O(size of the log) until the persisted indexes arrive: every
    ///   segment is read back to rebuild the in-memory index.
    public static func open(directory: String, options: StoreOptions = StoreOptions()) throws -> FileEventStore {
        try open(directory: directory, options: options, fileSystem: PosixFileSystem())
    }

    static func open(directory: String, options: StoreOptions, fileSystem: any FileSystem) throws -> FileEventStore {
        let started = Clock.monotonicNanoseconds()
        guard (StoreOptions.minimumSegmentSizeBytes...StoreOptions.maximumSegmentSizeBytes).contains(options.segmentSizeBytes) else {
            throw EventStoreError.invalidArgument(
                "segment size \(options.segmentSizeBytes) bytes is outside \(StoreOptions.minimumSegmentSizeBytes)...\(StoreOptions.maximumSegmentSizeBytes)")
        }
        return try translatingSystemErrors {
            let manifestPath = directory + "/" + StoreManifest.fileName
            if !options.readOnly && options.createIfMissing { try fileSystem.makeDirectories(directory) }
            guard fileSystem.exists(directory) else {
                throw EventStoreError.incompatibleStore(path: directory, reason: "the folder does not exist")
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
                let configuration = LogConfiguration(
                    directory: directory, storeID: manifest.storeID, segmentSizeBytes: manifest.segmentSizeBytes,
                    preallocate: options.preallocateSegments, durability: options.durability, fileSystem: fileSystem)
                var recovered = try Recovery.recover(configuration: configuration, readOnly: options.readOnly)
                recovered.report.openMilliseconds = Double(Clock.monotonicNanoseconds() - started) / 1_000_000
                let shared = SharedLog(state: recovered.state)
                var writer: LogWriter?
                if let active = recovered.active {
                    writer = LogWriter(
                        configuration: configuration, shared: shared, active: active, nextPosition: recovered.nextPosition)
                    writer!.start()
                }
                var effective = options
                effective.segmentSizeBytes = Int(manifest.segmentSizeBytes)
                return FileEventStore(
                    directory: directory, options: effective, configuration: configuration, shared: shared,
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
    /// written with (or, with `.any`, shortly after) writes nothing and returns the
    /// original result, so a call can be retried safely after a timeout.
    ///
    /// - Throws: ``EventStoreError/wrongExpectedVersion(stream:expected:actual:)``,
    ///   ``EventStoreError/idempotencyConflict(stream:reason:)``, validation errors
    ///   (nothing written), ``EventStoreError/writerFailed(reason:)`` after an I/O
    ///   failure, ``EventStoreError/closed``.
    /// - Complexity: O(events); the call waits for one group commit.
    @discardableResult
    public func append(
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
    public func append(_ parts: [StreamAppend]) async throws -> [AppendResult] {
        guard let writer else { throw EventStoreError.readOnly(path: directory) }
        let eventCount = try Self.validate(parts)
        if isClosed.load(ordering: .relaxed) { throw EventStoreError.closed }
        return try await withUnsafeThrowingContinuation { continuation in
            writer.submit(PendingAppend(parts: parts, eventCount: eventCount, continuation: continuation))
        }
    }

    /// Checks every limit before the call reaches the writer; returns the event count.
    static func validate(_ parts: [StreamAppend]) throws(EventStoreError) -> Int {
        guard !parts.isEmpty else { throw .emptyAppend }
        var eventCount = 0
        var totalBytes = 0
        for part in parts {
            guard !part.events.isEmpty else { throw .emptyAppend }
            for event in part.events {
                try event.validate()
                totalBytes += event.payloadBytes
            }
            eventCount += part.events.count
        }
        if eventCount > Limits.appendMaxEvents {
            throw .limitExceeded(.tooManyEvents(count: eventCount, limit: Limits.appendMaxEvents))
        }
        if totalBytes > Limits.appendMaxBytes {
            throw .limitExceeded(.appendTooLarge(sizeBytes: totalBytes, limitBytes: Limits.appendMaxBytes))
        }
        if parts.count > 1 {
            var streams = Set<StreamName>()
            for part in parts where !streams.insert(part.stream).inserted {
                throw .invalidArgument("stream '\(part.stream)' appears twice in one multi-stream append; merge its events into one part")
            }
        }
        if eventCount > 1 {
            var ids = Set<UUID>()
            for part in parts {
                for event in part.events where !ids.insert(event.id).inserted { throw .duplicateEventID(event.id) }
            }
        }
        return eventCount
    }

    // MARK: Reading

    /// The last acknowledged global position (0 when the store is empty).
    public var lastPosition: GlobalPosition { GlobalPosition(shared.state.withLock { $0.visibleEnd }) }

    /// The stream's version as readers see it (0 when it has no events).
    public func version(of stream: StreamName) -> StreamVersion {
        StreamVersion(shared.state.withLock { $0.visibleVersion(of: stream) })
    }

    /// Counters of the writer's work.
    public var statistics: WriterStatistics { writer?.currentStatistics ?? WriterStatistics() }

    /// Reads up to `maxCount` events of the whole log in position order, starting
    /// at `position`. Every record's checksum is verified.
    ///
    /// - Throws: ``EventStoreError/corrupted(file:offset:reason:)``, ``EventStoreError/closed``.
    /// - Complexity: O(log segments + events read).
    public func readAll(from position: GlobalPosition = .start, maxCount: Int = .max) throws -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        try forEachEvent(from: position, maxCount: maxCount) { events.append($0) }
        return events
    }

    /// Calls `body` with each event of the whole log from `position`, in order,
    /// without collecting them: for reading a large log in constant memory.
    public func forEachEvent(
        from position: GlobalPosition = .start, maxCount: Int = .max, _ body: (RecordedEvent) throws -> Void
    ) throws {
        try checkOpen()
        guard maxCount > 0 else { return }
        let start = max(position.rawValue, 1)
        let plan = shared.state.withLock { state -> [ReadPlan] in
            guard start <= state.visibleEnd, var index = state.segmentIndex(holding: start) else { return [] }
            var plan: [ReadPlan] = []
            while index < state.segments.count, !state.segments[index].offsets.isEmpty {
                let entry = state.segments[index]
                let first = max(start, entry.segment.firstPosition)
                let offset = UInt64(entry.offsets[Int(first - entry.segment.firstPosition)])
                plan.append(ReadPlan(segment: entry.segment, start: offset, end: entry.recordsEnd, firstPosition: first))
                index += 1
            }
            return plan
        }
        var remaining = maxCount
        var scanner = RecordScanner(fileSystem: configuration.fileSystem)
        try translatingSystemErrors {
            for part in plan {
                var failure: (any Error)?
                let stop = try scanner.scan(part.segment.file, from: part.start, to: part.end, firstPosition: part.firstPosition) {
                    view, _ in
                    do { try body(view.event()) } catch { failure = error; return false }
                    remaining -= 1
                    return remaining > 0
                }
                if let failure { throw failure }
                if remaining == 0 { return }
                guard case .reachedEnd = stop else {
                    throw EventStoreError.corrupted(file: part.segment.file.path, offset: stop.offset, reason: SegmentReader.reason(of: stop))
                }
            }
        }
    }

    /// Reads up to `maxCount` events of `stream` from version `from`, in version
    /// order. A stream with no events reads as empty.
    ///
    /// - Throws: ``EventStoreError/corrupted(file:offset:reason:)``, ``EventStoreError/closed``.
    /// - Complexity: O(log segments + events read); no log scan.
    public func readStream(_ stream: StreamName, from version: StreamVersion = 1, maxCount: Int = .max) throws -> [RecordedEvent] {
        try checkOpen()
        let firstIndex = Int(max(version.rawValue, 1) - 1)
        let locations = shared.state.withLock { state -> [RecordLocation] in
            guard let positions = state.streams[stream]?.positions, firstIndex < positions.count, maxCount > 0 else { return [] }
            var locations: [RecordLocation] = []
            let lastIndex = min(positions.count, firstIndex.addingReportingOverflow(maxCount).overflow ? .max : firstIndex + maxCount)
            locations.reserveCapacity(lastIndex - firstIndex)
            for index in firstIndex..<lastIndex {
                guard let location = state.location(of: positions[index]) else { break }
                locations.append(location)
            }
            return locations
        }
        var scanner = RecordScanner(fileSystem: configuration.fileSystem, capacity: 64 * 1024)
        var events: [RecordedEvent] = []
        events.reserveCapacity(locations.count)
        try translatingSystemErrors {
            for (index, location) in locations.enumerated() {
                let expectedVersion = UInt64(firstIndex + index + 1)
                let result = try scanner.readRecord(
                    location.segment.file, at: location.offset, end: location.recordsEnd, position: location.position
                ) { view -> RecordedEvent? in
                    guard view.version == expectedVersion, view.belongs(to: stream) else { return nil }
                    return view.event()
                }
                switch result {
                case .success(let event?): events.append(event)
                case .success(nil):
                    throw EventStoreError.corrupted(
                        file: location.segment.file.path, offset: location.offset,
                        reason: "the record at position \(location.position) is not version \(expectedVersion) of stream '\(stream)'")
                case .failure(let failure):
                    throw EventStoreError.corrupted(file: location.segment.file.path, offset: location.offset, reason: failure.reason)
                }
            }
        }
        return events
    }

    // MARK: Closing

    /// Finishes the queued appends, syncs, and releases the writer lock. Later calls
    /// throw ``EventStoreError/closed``. Closing twice is harmless.
    ///
    /// - Throws: ``EventStoreError/writerFailed(reason:)`` if the writer had failed
    ///   (the store still closes; reopen it to recover from the log).
    public func close() async throws {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if let writer {
            await writer.close()
            if let file = lock.withLock({ file -> OpenFile? in defer { file = nil }; return file }) {
                try? configuration.fileSystem.close(file)
            }
            if let failure = writer.failureReason { throw failure }
        }
    }

    private func checkOpen() throws {
        if isClosed.load(ordering: .relaxed) { throw EventStoreError.closed }
    }
}

/// The log state shared by the store and its writer.
final class SharedLog: Sendable {
    let state: Mutex<LogState>
    init(state: LogState) { self.state = Mutex(state) }
}

/// One segment's part of a sequential read.
struct ReadPlan {
    let segment: Segment
    let start: UInt64
    let end: UInt64
    let firstPosition: UInt64
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
    /// Creates `path` and any missing parent folders.
    func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if !exists(prefix) { try makeDirectory(prefix) }
        }
    }
}
