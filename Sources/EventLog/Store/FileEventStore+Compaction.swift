// Compaction as the store offers it: seal the active segment, then rewrite the
// sealed segments on a thread of its own (it is long, blocking file I/O), while
// appends, reads and subscriptions go on.
import EventSourcing
import Foundation

extension FileEventStore {
    /// Reclaims the space of the events that stream rules hide: hard-deleted
    /// streams, truncated and soft-deleted events, and events past a stream's
    /// count or age limit. Surviving events keep their bytes, versions and global
    /// positions; reads skip the removed positions.
    ///
    /// The active segment is sealed first, so that everything appended before the
    /// call can be reclaimed. Each rewritten segment replaces the old one
    /// atomically (a new file, fsync, rename, fsync of the folder): a crash at any
    /// moment leaves every segment whole, old or new. Appends, reads and
    /// subscriptions continue meanwhile and see the same events throughout.
    /// A stream's last event is kept (unless it is hard-deleted), so that its
    /// version survives; it stays hidden if its rules hide it.
    ///
    /// Removal is permanent: relaxing a count or age limit later does not bring
    /// compacted events back.
    ///
    /// - Parameter progress: called as segments are read, from the compaction's thread.
    /// - Returns: what was rewritten and the bytes reclaimed.
    /// - Throws: ``EventStoreError/closed`` (also if the store closes meanwhile: the
    ///   segments rewritten so far stay rewritten), ``EventStoreError/readOnly(path:)``,
    ///   ``EventStoreError/invalidArgument(_:)`` if a compaction already runs,
    ///   ``EventStoreError/corrupted(file:offset:reason:)`` for a damaged segment
    ///   (nothing of it is changed), ``EventStoreError/writerFailed(reason:)``, I/O errors.
    /// - Complexity: O(size of the segments holding removable events); other
    ///   segments cost a Bloom filter lookup per stream with a rule.
    @discardableResult
    public func compact(progress: (@Sendable (CompactionProgress) -> Void)? = nil) async throws -> CompactionReport {
        try checkOpen()
        guard let writer else { throw EventStoreError.readOnly(path: directory) }
        try compaction.enter()
        defer { compaction.leave() }
        let started = Clock.monotonicNanoseconds()
        try await writer.sealActiveSegment()
        let compactor = Compactor(
            configuration: configuration, shared: shared, cache: cache, reader: reader,
            isCancelled: { [weak self] in self?.isClosedNow ?? true })
        var report = try await Self.onThread(named: "eventlog-compaction") {
            try translatingSystemErrors { try compactor.run(progress: progress) }
        }
        report.milliseconds = Double(Clock.monotonicNanoseconds() - started) / 1_000_000
        return report
    }

    /// Runs `body` on a new thread and returns its result: long blocking file I/O
    /// stays off the cooperative thread pool.
    static func onThread<T: Sendable>(named name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            NamedThread.start(named: name) { continuation.resume(with: Result { try body() }) }
        }
    }
}
