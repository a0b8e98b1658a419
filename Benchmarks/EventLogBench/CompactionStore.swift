// The stores the compaction rows compact: nine events in ten belong to
// hard-deleted streams, spread evenly over the log, so that every segment holds
// both kinds and compaction has to read and rewrite all of them (the costly case,
// and the one a store sees when old customers' streams are deleted for good).
import EventLog
import EventSourcing
import Foundation

/// `streamCount` streams of `eventsPerStream` events, appended round-robin over
/// the streams (event `i` in stream `i % streamCount`), then every stream but
/// one in ``keptOneIn`` hard-deleted.
struct CompactionStore: Sendable {
    /// In the kept folder's name: `eventlog-bench-compact-<label>`.
    let label: String
    let streamCount: Int
    let eventsPerStream: Int

    /// One stream in this many is kept; the others are hard-deleted.
    static let keptOneIn = 10
    /// The most streams: their names have four digits.
    static let maxStreamCount = 10_000

    /// `cmp-0000` ... `cmp-9999`: eight bytes like the append rows' `bench-00`, so
    /// every record is ``BenchmarkStreams/recordSizeBytes`` long and the raw
    /// baselines can size their reads and writes from event counts.
    static let streamNames = (0..<maxStreamCount).map { index in
        let digits = String(index)
        return BenchmarkStreams.fixedName("cmp-" + String(repeating: "0", count: 4 - digits.count) + digits)
    }

    init(label: String, streamCount: Int, eventsPerStream: Int) {
        precondition((Self.keptOneIn...Self.maxStreamCount).contains(streamCount), "stream count \(streamCount) out of range")
        precondition(streamCount % Self.keptOneIn == 0, "a whole number of kept streams")
        self.label = label
        self.streamCount = streamCount
        self.eventsPerStream = eventsPerStream
    }

    static func isDeleted(stream: Int) -> Bool { stream % keptOneIn != 0 }

    var eventCount: Int { streamCount * eventsPerStream }
    var deletedStreamCount: Int { streamCount - streamCount / Self.keptOneIn }
    var removedEventCount: Int { deletedStreamCount * eventsPerStream }
    var keptEventCount: Int { eventCount - removedEventCount }
    /// Bytes of the records in the log.
    var logBytes: Int { eventCount * BenchmarkStreams.recordSizeBytes }
    /// Bytes of the records compaction keeps.
    var keptBytes: Int { keptEventCount * BenchmarkStreams.recordSizeBytes }

    /// 1,000 events per call and four calls in flight: the order of events within
    /// a stream does not matter here, only that every segment mixes both kinds.
    var layout: StoreLayout {
        let streamCount = streamCount
        return StoreLayout(
            eventCount: eventCount, streamNames: Array(Self.streamNames.prefix(streamCount)),
            streamOfEvent: { $0 % streamCount }, maxEventsPerCall: 1_000, maxCallsInFlight: 4)
    }

    /// The store kept between runs in `parentPath`, built and then deleted from.
    func kept(in parentPath: String) -> KeptStore {
        var kept = KeptStore(parentPath: parentPath, kind: "compact", label: label, layout: layout)
        let shape = self
        kept.finishing = { directory in try await shape.deleteStreams(directory: directory, label: "compact-\(shape.label)") }
        kept.finishingMarker = "hardDeleted all but 1 in \(Self.keptOneIn) streams (\(deletedStreamCount))\n"
        return kept
    }

    /// The kept store, built and deleted from if needed, with its segments read once
    /// so that every round's compaction reads from the file cache. Returns the kept
    /// store and its note (built now, or reused).
    func preparedWarm(in parentPath: String, label: String) async throws -> (KeptStore, String) {
        let kept = kept(in: parentPath)
        let note = try await kept.prepare(label: label)
        _ = try ReadBaseline.run(try ReadAllRow.segmentExtents(directory: kept.storeDirectory, eventCount: eventCount), events: eventCount)
        return (kept, note)
    }

    /// Opens the built store and hard-deletes every stream but one in ``keptOneIn``,
    /// in one ``FileEventStore/deleteStreams(_:hard:)`` call (one rewrite of the
    /// rules file, where a `deleteStream` per stream would rewrite it thousands of times).
    private func deleteStreams(directory: String, label: String) async throws {
        let store = try FileEventStore.open(directory: directory, options: StoreOptions())
        let started = MonotonicClock.nanoseconds()
        let doomed = (0..<streamCount).filter { Self.isDeleted(stream: $0) }.map { Self.streamNames[$0] }
        let deleted: Int
        do {
            deleted = try await store.deleteStreams(doomed, hard: true)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        let seconds = MonotonicClock.seconds(from: started, to: MonotonicClock.nanoseconds())
        Progress.log("  \(label): hard-deleted \(NumberFormatting.grouped(deleted)) streams "
            + "(\(NumberFormatting.grouped(removedEventCount)) events) in \(NumberFormatting.decimal(seconds, decimals: 2)) s")
    }
}
