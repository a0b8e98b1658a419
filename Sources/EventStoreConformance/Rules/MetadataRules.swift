// Rules of stream limits: a count limit hides all but a stream's latest events
// from every read at once (and shows them again when relaxed, until compaction),
// metadata reads back as set, out-of-range limits are refused, and truncating to
// the latest snapshot is one call.
import EventSourcing
import Foundation

enum MetadataRules {
    static let all: [ConformanceRule] = [maxCount, metadataRoundTrip, invalidMetadata, truncateToSnapshot]

    static let truncateToSnapshot = ConformanceRule("truncating to the latest snapshot hides the events it summarises, and keeps it") { check in
        let store = try await check.freshStore()
        _ = try await store.append(Sample.events(6), to: "snap-1", expectedVersion: .noStream)
        try check.expectEqual(try await store.truncateToLatestSnapshot(of: "snap-1"), nil, "truncating a stream without a snapshot")
        try check.expectEqual(try await store.readWholeStream("snap-1").count, 6, "the events left when there is no snapshot")
        let snapshot = Snapshot(stream: "snap-1", version: 4, schemaVersion: 1, state: Data(#"{"total":4}"#.utf8))
        try await store.saveSnapshot(snapshot)
        try check.expectEqual(try await store.truncateToLatestSnapshot(of: "snap-1"), 4, "the version truncated to")
        try check.expectEqual(try await store.readWholeStream("snap-1").map(\.version), [5, 6], "the versions after the snapshot")
        try check.expectEqual(try await store.loadSnapshot(of: "snap-1"), snapshot, "the snapshot after truncating to it")
    }

    static let maxCount = ConformanceRule("a count limit shows only a stream's latest events, everywhere, at once") { check in
        let store = try await check.freshStore()
        for number in 1...6 {
            _ = try await store.append([Sample.event(number: number)], to: "capped-1", expectedVersion: .any)
            _ = try await store.append([Sample.event(number: 10 + number)], to: "keep-1", expectedVersion: .any)
        }
        try await store.setStreamMetadata(StreamMetadata(maxCount: 2), for: "capped-1")
        try check.expectEqual(try await store.readWholeStream("capped-1").map(\.version), [5, 6], "the versions a count limit of 2 leaves")
        try check.expectEqual(
            try await store.readStream("capped-1", from: .end, direction: .backward, maxCount: .max).map(\.version), [6, 5],
            "the versions left, backward")
        try check.expectEqual(try await store.readWholeLog().map(\.position), [2, 4, 6, 8, 9, 10, 11, 12], "the positions readAll returns")
        try check.expectEqual(try await store.streamVersion("capped-1"), 6, "the stream's version under a count limit")
        _ = try await store.append([Sample.event(number: 7)], to: "capped-1", expectedVersion: .exact(6))
        try check.expectEqual(try await store.readWholeStream("capped-1").map(\.version), [6, 7], "the versions left after one more append")
        var seen: [StreamVersion] = []
        for try await event in store.subscribe(to: "capped-1", from: 1) {
            seen.append(event.version)
            if event.version == 7 { break }
        }
        try check.expectEqual(seen, [6, 7], "the versions a stream subscription delivers")
        try await store.setStreamMetadata(StreamMetadata(), for: "capped-1")
        try check.expectEqual(try await store.readWholeStream("capped-1").count, 7, "the events visible once the limit is removed")
    }

    static let metadataRoundTrip = ConformanceRule("stream metadata reads back as set; truncation shows in it and never goes back") { check in
        let store = try await check.freshStore()
        _ = try await store.append(Sample.events(5), to: "meta-1", expectedVersion: .noStream)
        try check.expectEqual(try await store.streamMetadata(of: "meta-1"), StreamMetadata(), "the metadata of a stream without limits")
        let limits = StreamMetadata(maxCount: 100, maxAge: .seconds(86_400), truncateBefore: 3)
        try await store.setStreamMetadata(limits, for: "meta-1")
        try check.expectEqual(try await store.streamMetadata(of: "meta-1"), limits, "the metadata as set")
        try await store.setStreamMetadata(StreamMetadata(truncateBefore: 2), for: "meta-1")
        try check.expectEqual(
            try await store.streamMetadata(of: "meta-1"), StreamMetadata(truncateBefore: 3), "the metadata after clearing the limits with a lower truncation")
        try check.expectEqual(try await store.readWholeStream("meta-1").map(\.version), [3, 4, 5], "the versions a day-long age limit and truncation leave")
        try check.expectEqual(try await store.streamMetadata(of: "never-written-1"), StreamMetadata(), "the metadata of a stream never written")
    }

    static let invalidMetadata = ConformanceRule("out-of-range limits and a hard-deleted stream's metadata are refused") { check in
        let store = try await check.freshStore()
        _ = try await store.append(Sample.events(2), to: "meta-2", expectedVersion: .noStream)
        for metadata in [StreamMetadata(maxCount: 0), StreamMetadata(maxCount: -1), StreamMetadata(maxAge: .zero)] {
            try await check.expectError(.sameCase(as: .invalidArgument("")), "setting \(metadata)") {
                try await store.setStreamMetadata(metadata, for: "meta-2")
            }
        }
        try await store.deleteStream("meta-2", expectedVersion: .any, hard: true)
        try await check.expectError(.exactly(.streamDeleted(stream: "meta-2")), "setting limits on a hard-deleted stream") {
            try await store.setStreamMetadata(StreamMetadata(maxCount: 3), for: "meta-2")
        }
        try check.expectEqual(try await store.readWholeLog().count, 0, "events visible after the refused changes")
    }
}
