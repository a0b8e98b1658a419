// The file store as an `EventStore`: the protocol's async surface over the
// engine's calls, plus snapshots and stream truncation and deletion.
import EventSourcing
import Foundation

extension FileEventStore: EventStore {
    /// The stream's version: its last event's, hidden ones included (0: never written).
    /// - Throws: As ``version(of:)``: ``EventStoreError/closed``,
    ///   ``EventStoreError/corrupted(file:offset:reason:)``, ``EventStoreError/io(operation:path:errno:message:)``.
    /// - Complexity: an index lookup per segment holding the stream (Bloom filters skip the others).
    public func streamVersion(_ stream: StreamName) async throws -> StreamVersion { try version(of: stream) }

    /// The last acknowledged position (0 for an empty store).
    /// - Throws: ``EventStoreError/closed``.
    public func lastPosition() async throws -> GlobalPosition {
        try checkOpen()
        return lastPosition
    }

    // MARK: Snapshots

    /// Stores `snapshot` as the latest of its stream: written to a temporary file,
    /// synced, renamed over the previous one, and the folder synced.
    /// - Throws: ``EventStoreError/closed``; ``EventStoreError/readOnly(path:)``;
    ///   ``EventStoreError/streamDeleted(stream:)`` after a hard delete;
    ///   ``EventStoreError/invalidArgument(_:)`` if the stream has no version
    ///   `snapshot.version`; ``EventStoreError/corrupted(file:offset:reason:)`` from
    ///   looking up the stream's version; ``EventStoreError/io(operation:path:errno:message:)``.
    /// - Complexity: O(size of the state) to write, plus a ``version(of:)`` lookup
    ///   and two syncs (three when the snapshots folder is created).
    public func saveSnapshot(_ snapshot: Snapshot) async throws {
        try checkWritable()
        try translatingSystemErrors {
            if shared.rules.rule(for: snapshot.stream)?.isHardDeleted == true { throw EventStoreError.streamDeleted(stream: snapshot.stream) }
            let current = try version(of: snapshot.stream).rawValue
            guard snapshot.version.rawValue >= 1, snapshot.version.rawValue <= current else {
                throw EventStoreError.invalidArgument(
                    "snapshot of '\(snapshot.stream)' at version \(snapshot.version), but the stream is at version \(current)")
            }
            let folder = directory + "/" + SnapshotFormat.folder
            let fileSystem = configuration.fileSystem
            if !fileSystem.exists(folder) {
                try fileSystem.makeDirectory(folder)
                try fileSystem.syncDirectory(directory)
            }
            try fileSystem.writeAtomically(
                SnapshotFormat.encode(snapshot), to: SnapshotFormat.path(directory: directory, stream: snapshot.stream),
                directory: folder)
        }
    }

    /// The latest snapshot of `stream`, or nil. A damaged snapshot file is counted in
    /// ``damagedSnapshotsIgnored`` and reported as nil (the caller replays events);
    /// so is one that cannot be read (an I/O error is not thrown).
    /// - Throws: ``EventStoreError/closed``.
    /// - Complexity: O(size of the snapshot file).
    public func loadSnapshot(of stream: StreamName) async throws -> Snapshot? {
        try checkOpen()
        return try translatingSystemErrors {
            let path = SnapshotFormat.path(directory: directory, stream: stream)
            guard configuration.fileSystem.exists(path) else { return nil }
            guard let snapshot = try? SnapshotFormat.decode(try configuration.fileSystem.readWholeFile(path)) else {
                damagedSnapshots.wrappingAdd(1, ordering: .relaxed)
                return nil
            }
            // Another stream with the same name hash owns the file.
            return snapshot.stream == stream ? snapshot : nil
        }
    }

    /// Snapshot files found damaged and ignored since the store opened.
    public var damagedSnapshotsIgnored: Int { damagedSnapshots.load(ordering: .relaxed) }

    // MARK: Stream lifecycle

    /// Deletes `stream` once its version satisfies `expectedVersion`. Soft: its events
    /// disappear from every read at once, and appending continues at the next version.
    /// Hard: a tombstone; appends to the name throw ``EventStoreError/streamDeleted(stream:)``.
    /// The space is reclaimed by compaction. The stream's snapshot is removed.
    /// - Throws: ``EventStoreError/closed``; ``EventStoreError/readOnly(path:)``;
    ///   ``EventStoreError/streamDeleted(stream:)`` if it was already hard-deleted;
    ///   ``EventStoreError/wrongExpectedVersion(stream:expected:actual:)`` (nothing
    ///   deleted); ``EventStoreError/corrupted(file:offset:reason:)`` from looking up
    ///   the stream's version; ``EventStoreError/io(operation:path:errno:message:)``
    ///   (if it comes from removing the snapshot, the delete has taken effect).
    /// - Complexity: A stream version lookup, plus rewriting and syncing the rules
    ///   file: O(streams with rules).
    public func deleteStream(_ stream: StreamName, expectedVersion: ExpectedVersion = .any, hard: Bool = false) async throws {
        try checkWritable()
        // The version check and the rule change, between the writer's batches: an
        // append decided before them is published first, and none is decided between.
        try await betweenWriterBatches { [self] in
            if shared.rules.rule(for: stream)?.isHardDeleted == true { throw EventStoreError.streamDeleted(stream: stream) }
            let current = try reader.streamVersion(stream)
            guard expectedVersion.isSatisfied(by: StreamVersion(current)) else {
                throw EventStoreError.wrongExpectedVersion(stream: stream, expected: expectedVersion, actual: StreamVersion(current))
            }
            try shared.rules.update(stream, directory: directory, fileSystem: configuration.fileSystem) { rule in
                if hard {
                    rule.isHardDeleted = true
                    rule.versionFloor = current
                } else {
                    rule.truncateBefore = max(rule.truncateBefore, current + 1)
                }
            }
        }
        try translatingSystemErrors { try removeSnapshots(of: [stream]) }
    }

    /// Runs `body` (a stream version check and the rule change it allows) on the
    /// writer thread between two batches (``LogWriter/runBetweenBatches(_:)``),
    /// translating I/O errors.
    private func betweenWriterBatches<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        guard let writer else { throw EventStoreError.readOnly(path: directory) }
        return try await writer.runBetweenBatches { try translatingSystemErrors(body) }
    }

    /// Deletes every stream in `streams` (soft or hard, at whatever version each is),
    /// with one rewrite and sync of the rules file for all of them: for bulk work,
    /// where ``deleteStream(_:expectedVersion:hard:)`` in a loop would rewrite the
    /// file once per stream. Streams already hard-deleted are skipped. Their
    /// snapshots are removed.
    /// - Returns: How many streams were deleted now.
    /// - Throws: ``EventStoreError/closed``; ``EventStoreError/readOnly(path:)``;
    ///   ``EventStoreError/corrupted(file:offset:reason:)`` from looking up a version;
    ///   ``EventStoreError/io(operation:path:errno:message:)`` (nothing deleted if it
    ///   comes from the rules file; all deleted if from removing a snapshot);
    ///   ``EventStoreError/writerFailed(reason:)`` if the writer has stopped (nothing
    ///   deleted: the rules change on its thread).
    /// - Complexity: A version lookup per stream, one rewrite of the rules file
    ///   (O(streams with rules)), and a look at each stream's snapshot file. Appends
    ///   wait only for the rules file and a lookup per stream in the writer's cache.
    @discardableResult
    public func deleteStreams(_ streams: [StreamName], hard: Bool = false) async throws -> Int {
        try checkWritable()
        guard let writer else { throw EventStoreError.readOnly(path: directory) }
        // The versions are looked up here, off the writer thread (an index lookup
        // each), and brought up to date between the writer's batches from its cache
        // of stream heads: an append still in its sync now is published by then,
        // and its stream is in that cache unless a head was evicted since, which the
        // count of evictions tells (those streams are then looked up again). So a
        // delete never misses an append acknowledged before it takes effect, and the
        // appends wait for dictionary lookups, not index reads.
        let evictionsBefore = writer.streamHeadEvictions.load(ordering: .acquiring)
        let lookedUp = try translatingSystemErrors {
            var versions: [StreamName: UInt64] = [:]
            for stream in streams where versions[stream] == nil && shared.rules.rule(for: stream)?.isHardDeleted != true {
                versions[stream] = try reader.streamVersion(stream)
            }
            return versions
        }
        let deleted = try await betweenWriterBatches { [self] () throws -> Int in
            let cacheHoldsEveryAppended = writer.streamHeadEvictions.load(ordering: .acquiring) == evictionsBefore
            var deleted = 0
            try shared.rules.updateAll(directory: directory, fileSystem: configuration.fileSystem) { rules in
                deleted = 0
                for (stream, version) in lookedUp {
                    var rule = rules[stream] ?? StreamRule()
                    if rule.isHardDeleted { continue }
                    let current =
                        if let cached = writer.cachedStreamVersion(stream) { max(version, cached) }
                        else if cacheHoldsEveryAppended { version }
                        else { try reader.streamVersion(stream) }
                    if hard {
                        rule.isHardDeleted = true
                        rule.versionFloor = current
                    } else {
                        rule.truncateBefore = max(rule.truncateBefore, current + 1)
                    }
                    rules[stream] = rule
                    deleted += 1
                }
            }
            return deleted
        }
        try translatingSystemErrors { try removeSnapshots(of: Array(lookedUp.keys)) }
        return deleted
    }

    /// Removes the snapshots of deleted streams (they describe events that are gone),
    /// then syncs the snapshot folder once.
    private func removeSnapshots(of streams: [StreamName]) throws {
        var removed = false
        for stream in streams {
            let snapshot = SnapshotFormat.path(directory: directory, stream: stream)
            if configuration.fileSystem.exists(snapshot),
                (try? SnapshotFormat.decode(configuration.fileSystem.readWholeFile(snapshot)))?.stream ?? stream == stream
            {
                try configuration.fileSystem.remove(snapshot)
                removed = true
            }
        }
        if removed { try configuration.fileSystem.syncDirectory(directory + "/" + SnapshotFormat.folder) }
    }

    /// Hides the events of `stream` before `version` from every read, at once (a
    /// lower version than the current truncation changes nothing). The rules file is
    /// rewritten atomically before the change takes effect.
    /// - Throws: ``EventStoreError/closed``; ``EventStoreError/readOnly(path:)``;
    ///   ``EventStoreError/streamDeleted(stream:)`` after a hard delete;
    ///   ``EventStoreError/io(operation:path:errno:message:)``.
    /// - Complexity: O(streams with rules), to rewrite and sync the rules file.
    public func truncateStream(_ stream: StreamName, before version: StreamVersion) async throws {
        try checkWritable()
        try translatingSystemErrors {
            if shared.rules.rule(for: stream)?.isHardDeleted == true { throw EventStoreError.streamDeleted(stream: stream) }
            try shared.rules.update(stream, directory: directory, fileSystem: configuration.fileSystem) { rule in
                rule.truncateBefore = max(rule.truncateBefore, version.rawValue)
            }
        }
    }

    /// Sets `stream`'s count and age limits (nil removes one) and raises its
    /// truncation if `truncateBefore` is given. The rules file is rewritten
    /// atomically before the change takes effect.
    /// - Throws: ``EventStoreError/invalidArgument(_:)`` for out-of-range limits,
    ///   ``EventStoreError/streamDeleted(stream:)`` after a hard delete,
    ///   ``EventStoreError/readOnly(path:)``, ``EventStoreError/closed``,
    ///   ``EventStoreError/io(operation:path:errno:message:)``.
    /// - Complexity: O(streams with rules), to rewrite and sync the rules file.
    public func setStreamMetadata(_ metadata: StreamMetadata, for stream: StreamName) async throws {
        try checkWritable()
        try metadata.validate()
        try translatingSystemErrors {
            try shared.rules.update(stream, directory: directory, fileSystem: configuration.fileSystem) { rule in
                if rule.isHardDeleted { throw EventStoreError.streamDeleted(stream: stream) }
                rule.maxCount = UInt64(metadata.maxCount ?? 0)
                rule.maxAgeMicroseconds = UInt64(metadata.maxAgeMicroseconds)
                if let truncateBefore = metadata.truncateBefore {
                    rule.truncateBefore = max(rule.truncateBefore, truncateBefore.rawValue)
                }
            }
        }
    }

    /// The limits on `stream` (all nil when none was set; `truncateBefore` is set by
    /// truncation and soft deletion too).
    /// - Throws: ``EventStoreError/closed``.
    public func streamMetadata(of stream: StreamName) async throws -> StreamMetadata {
        try checkOpen()
        guard let rule = shared.rules.rule(for: stream) else { return StreamMetadata() }
        return StreamMetadata(
            maxCount: rule.maxCount > 0 ? Int(rule.maxCount) : nil,
            maxAge: rule.maxAgeMicroseconds > 0 ? .microseconds(Int64(rule.maxAgeMicroseconds)) : nil,
            truncateBefore: rule.truncateBefore > 1 ? StreamVersion(rule.truncateBefore) : nil)
    }

    /// Starts `stream`, which has no events, at `version`: its version becomes
    /// `version - 1`, so that its next event is `version`, and the versions below
    /// are hidden as if truncated and compacted away. For restoring a stream whose
    /// early events were truncated (what `eventlog import` does with such a stream
    /// from `eventlog export`).
    /// - Throws: ``EventStoreError/invalidArgument(_:)`` if the stream already has a
    ///   version or `version` is 0; ``EventStoreError/streamDeleted(stream:)``,
    ///   ``EventStoreError/readOnly(path:)``, ``EventStoreError/closed``, I/O errors.
    public func startStream(_ stream: StreamName, atVersion version: StreamVersion) async throws {
        try checkWritable()
        guard version.rawValue >= 1 else { throw EventStoreError.invalidArgument("versions start at 1; a stream cannot start at version 0") }
        try await betweenWriterBatches { [self] in
            let current = try reader.streamVersion(stream)
            guard current == 0 else {
                throw EventStoreError.invalidArgument(
                    "stream '\(stream)' is already at version \(current); only a stream with no events can start at a later version")
            }
            try shared.rules.update(stream, directory: directory, fileSystem: configuration.fileSystem) { rule in
                if rule.isHardDeleted { throw EventStoreError.streamDeleted(stream: stream) }
                rule.truncateBefore = max(rule.truncateBefore, version.rawValue)
                rule.versionFloor = version.rawValue - 1
            }
        }
    }

    private func checkWritable() throws {
        try checkOpen()
        if options.readOnly { throw EventStoreError.readOnly(path: directory) }
    }
}
