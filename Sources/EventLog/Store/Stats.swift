// `stats`: what a store holds, added up from its indexes (no record is decoded
// except one per listed stream, to name it).
import EventSourcing
import Foundation

/// Figures about a store, from ``FileEventStore/stats(largestStreams:)``.
public struct StoreStats: Sendable, Hashable {
    /// Events stored: hidden ones included until compaction removes them (so after
    /// a compaction, fewer than the last global position).
    public var events: UInt64 = 0
    /// Distinct streams (by name hash).
    public var streams: Int = 0
    /// Segment files.
    public var segments: Int = 0
    /// Bytes of segment files on disk (including pre-allocated space).
    public var segmentBytes: UInt64 = 0
    /// Bytes of index files on disk.
    public var indexBytes: UInt64 = 0
    /// Events per category, largest first.
    public var categories: [CategoryCount] = []
    /// The streams with the most events, largest first.
    public var largestStreams: [StreamCount] = []

    /// One category's event count.
    public struct CategoryCount: Sendable, Hashable {
        /// The category: a stream name's part before its first `-`.
        public var category: String
        /// Events stored in streams of the category.
        public var events: UInt64
    }

    /// One stream's event count.
    public struct StreamCount: Sendable, Hashable {
        /// The stream.
        public var stream: StreamName
        /// Its events stored (hidden ones included until compaction removes them).
        public var events: UInt64
    }
}

extension FileEventStore {
    /// Adds up the store's indexes.
    /// - Parameter largestStreams: how many of the largest streams to list (0 or more).
    /// - Throws: ``EventStoreError/invalidArgument(_:)`` for a negative `largestStreams`; ``EventStoreError/closed``; ``EventStoreError/corrupted(file:offset:reason:)``
    ///   if an index cannot be read or rebuilt, or a listed stream's record is damaged;
    ///   ``EventStoreError/io(operation:path:errno:message:)``.
    /// - Complexity: O(index size): every index entry is read once; memory grows
    ///   with the number of distinct streams while it runs. Plus a sort of the
    ///   streams and one record read per listed stream.
    public func stats(largestStreams: Int = 10) throws -> StoreStats {
        try checkOpen()
        guard largestStreams >= 0 else {
            throw EventStoreError.invalidArgument("largestStreams \(largestStreams) is negative; give 0 or more")
        }
        return try translatingSystemErrors {
            let (sealed, active) = shared.state.withLock { state in
                (state.sealed, state.active.map { ($0.segment, $0.index.tally(), $0.index.recordsEnd) })
            }
            var stats = StoreStats()
            var streamCounts: [UInt64: (count: UInt64, last: IndexStreamEntry, segment: Segment, recordsEnd: UInt64)] = [:]
            var categoryCounts: [String: UInt64] = [:]
            func add(_ tally: (streams: [UInt64: (count: UInt64, last: IndexStreamEntry)], categories: [String: UInt64], indexBytes: UInt64), _ segment: Segment, _ recordsEnd: UInt64) {
                for (hash, value) in tally.streams {
                    stats.events += value.count
                    streamCounts[hash] = ((streamCounts[hash]?.count ?? 0) + value.count, value.last, segment, recordsEnd)
                }
                for (category, count) in tally.categories { categoryCounts[category, default: 0] += count }
                stats.indexBytes += tally.indexBytes
                stats.segments += 1
                stats.segmentBytes += (try? configuration.fileSystem.size(segment.file)) ?? 0
            }
            for entry in sealed { add(try entry.index.tally(), entry.segment, entry.recordsEnd) }
            if let (segment, tally, end) = active { add(tally, segment, end) }
            stats.streams = streamCounts.count
            stats.categories = categoryCounts.map { StoreStats.CategoryCount(category: $0.key, events: $0.value) }
                .sorted { ($0.events, $1.category) > ($1.events, $0.category) }
            var scanner = RecordScanner(fileSystem: configuration.fileSystem, capacity: 64 * 1024)
            for (_, value) in streamCounts.sorted(by: { $0.value.count > $1.value.count }).prefix(largestStreams) {
                let location = RecordLocation(
                    segment: value.segment, offset: UInt64(value.last.offset), recordsEnd: value.recordsEnd,
                    position: value.segment.firstPosition + UInt64(value.last.recordIndex), version: value.last.version)
                let name = try reader.read(location, scanner: &scanner) { StreamName(unchecked: $0.streamName) }
                stats.largestStreams.append(StoreStats.StreamCount(stream: name, events: value.count))
            }
            return stats
        }
    }
}
