// Rules of snapshots: the latest one per stream, replaced by the next save.
import EventSourcing
import Foundation

enum SnapshotRules {
    static let all: [ConformanceRule] = [saveLoadReplace]

    static let saveLoadReplace = ConformanceRule("a saved snapshot loads back, and a later save replaces it") { check in
        let store = try await check.freshStore()
        try check.expectEqual(try await store.loadSnapshot(of: "snap-1"), nil, "the snapshot of a stream never snapshotted")
        _ = try await store.append(Sample.events(5), to: "snap-1", expectedVersion: .noStream)
        _ = try await store.append(Sample.events(2), to: "snap-2", expectedVersion: .noStream)
        let first = Snapshot(stream: "snap-1", version: 2, schemaVersion: 1, state: Data(#"{"count":2}"#.utf8))
        try await store.saveSnapshot(first)
        try check.expectEqual(try await store.loadSnapshot(of: "snap-1"), first, "the snapshot loaded after one save")
        let second = Snapshot(stream: "snap-1", version: 5, schemaVersion: 2, state: Data([1, 2, 3]))
        try await store.saveSnapshot(second)
        try check.expectEqual(try await store.loadSnapshot(of: "snap-1"), second, "the snapshot loaded after a second save")
        try check.expectEqual(try await store.loadSnapshot(of: "snap-2"), nil, "another stream's snapshot")
        let other = Snapshot(stream: "snap-2", version: 1, state: Data())
        try await store.saveSnapshot(other)
        try check.expectEqual(try await store.loadSnapshot(of: "snap-2"), other, "another stream's snapshot after its own save")
        try check.expectEqual(try await store.loadSnapshot(of: "snap-1"), second, "the first stream's snapshot after another stream's save")
        try check.expectEqual(try await store.readWholeStream("snap-1").count, 5, "the events of a snapshotted stream (snapshots are not events)")
    }
}
