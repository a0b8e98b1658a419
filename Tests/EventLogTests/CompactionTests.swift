import EventSourcing
import Foundation
import Synchronization
import Testing

@testable import EventLog

/// Everything a store answers, for comparing a store before and after compaction.
struct StoreReadings: Equatable {
    var all: [RecordedEvent]
    var backward: [RecordedEvent]
    var streams: [StreamName: [RecordedEvent]]
    var streamsBackward: [StreamName: [RecordedEvent]]
    var versions: [StreamName: StreamVersion]
    var byCategory: [RecordedEvent]

    init(_ store: FileEventStore, streams names: [StreamName]) throws {
        all = try store.readAll()
        backward = try store.readAll(from: .end, direction: .backward)
        var streams: [StreamName: [RecordedEvent]] = [:]
        var streamsBackward: [StreamName: [RecordedEvent]] = [:]
        var versions: [StreamName: StreamVersion] = [:]
        for name in names {
            streams[name] = try store.readStream(name)
            streamsBackward[name] = try store.readStream(name, from: .end, direction: .backward)
            versions[name] = try store.version(of: name)
        }
        self.streams = streams
        self.streamsBackward = streamsBackward
        self.versions = versions
        byCategory = try store.readAll(filter: EventFilter(categories: ["keep"]))
    }
}

@Suite struct CompactionTests {
    /// A store with `streams` streams of `perStream` events each, interleaved, on small segments.
    func populatedStore(_ folder: TemporaryDirectory, streams: Int, perStream: Int, bytes: Int = 200) async throws
        -> (FileEventStore, [StreamName])
    {
        let store = try FileEventStore.open(directory: folder.path, options: testOptions(durability: .none))
        let names = (0..<streams).map { try! StreamName(($0 % 3 == 0 ? "keep" : "drop") + "-\($0)") }
        for round in 0..<perStream {
            for name in names {
                _ = try await store.append([event("E", round, bytes: bytes)], to: name, expectedVersion: .any)
            }
        }
        return (store, names)
    }

    @Test func compactionRemovesHiddenEventsAndKeepsEveryReadAndPosition() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let (store, names) = try await populatedStore(folder, streams: 12, perStream: 40)
        for (index, name) in names.enumerated() where name.rawValue.hasPrefix("drop") {
            switch index % 3 {
            case 1: try await store.deleteStream(name, expectedVersion: .any, hard: true)
            default: try await store.truncateStream(name, before: 30)
            }
        }
        try await store.deleteStream(names[0], expectedVersion: .any, hard: false)
        let before = try StoreReadings(store, streams: names)
        let sizeBefore = try folderSize(folder.path)

        let report = try await store.compact()
        #expect(report.segmentsRewritten > 0)
        #expect(report.eventsRemoved > 0)
        #expect(report.bytesReclaimed > 0)
        #expect(try StoreReadings(store, streams: names) == before)
        #expect(try folderSize(folder.path) < sizeBefore)

        // Appends continue after compaction, at the versions they would have had.
        let soft = try await store.append([event()], to: names[0], expectedVersion: .exact(40))
        #expect(soft.nextExpectedVersion == 41)
        try await store.close()

        let reopened = try FileEventStore.open(directory: folder.path, options: testOptions())
        #expect(reopened.openReport.rebuiltIndexes.isEmpty)
        let after = try StoreReadings(reopened, streams: names)
        #expect(after.all == before.all + [try reopened.readAll(from: .end, direction: .backward, maxCount: 1)[0]])
        #expect(after.streams.filter { $0.key != names[0] } == before.streams.filter { $0.key != names[0] })
        #expect(try FileEventStore.verify(directory: folder.path).isHealthy)
        try await reopened.close()
    }

    @Test func compactingTwiceRemovesWhatBecameHiddenSinceAndNothingElse() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let (store, names) = try await populatedStore(folder, streams: 6, perStream: 30)
        try await store.truncateStream(names[1], before: 10)
        let first = try await store.compact()
        #expect(first.eventsRemoved == 9)
        try await store.truncateStream(names[1], before: 20)
        try await store.deleteStream(names[2], expectedVersion: .any, hard: true)
        let before = try StoreReadings(store, streams: names)
        let second = try await store.compact()
        #expect(second.eventsRemoved == 10 + 30)
        let afterSecond = try StoreReadings(store, streams: names)
        #expect(afterSecond.all == before.all)
        #expect(afterSecond.backward == before.backward)
        #expect(afterSecond.streams == before.streams)
        #expect(afterSecond.streamsBackward == before.streamsBackward)
        #expect(afterSecond.versions == before.versions)
        #expect(afterSecond.byCategory == before.byCategory)
        let third = try await store.compact()
        #expect(third.eventsRemoved == 0)
        #expect(third.segmentsRewritten == 0)
        try await store.close()
        #expect(try FileEventStore.verify(directory: folder.path).isHealthy)
    }

    @Test func aDamagedCompactedIndexIsRebuiltFromTheCompactedSegment() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let (store, names) = try await populatedStore(folder, streams: 6, perStream: 30)
        try await store.deleteStream(names[1], expectedVersion: .any, hard: true)
        try await store.compact()
        let before = try StoreReadings(store, streams: names)
        try await store.close()
        try removeIndexFiles(folder.path)
        let reopened = try FileEventStore.open(directory: folder.path, options: testOptions())
        #expect(!reopened.openReport.rebuiltIndexes.isEmpty)
        #expect(try StoreReadings(reopened, streams: names) == before)
        try await reopened.close()
    }

    @Test func aHardDeletedStreamsDataIsGoneFromEveryFileAfterCompaction() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let store = try FileEventStore.open(directory: folder.path, options: testOptions())
        let marker = "SECRET-\(UUID().uuidString)"
        let secret: StreamName = "customer-7"
        for index in 0..<50 {
            _ = try await store.append(
                [EventData(type: "Noted", data: Data("{\"note\":\"\(marker)-\(index)\"}".utf8))], to: secret, expectedVersion: .any)
            _ = try await store.append([event("Other", index, bytes: 300)], to: "other-1", expectedVersion: .any)
        }
        try await store.saveSnapshot(Snapshot(stream: secret, version: 50, schemaVersion: 1, state: Data("state \(marker)".utf8)))
        #expect(try filesContaining(marker, in: folder.path).count > 0)
        try await store.deleteStream(secret, expectedVersion: .any, hard: true)
        try await store.compact()
        #expect(try filesContaining(marker, in: folder.path) == [])
        try await store.close()
        #expect(try filesContaining(marker, in: folder.path) == [])
        let reopened = try FileEventStore.open(directory: folder.path, options: testOptions())
        #expect(try reopened.readStream("other-1").count == 50)
        try await reopened.close()
    }

    @Test func anAgeLimitHidesOldEventsAsTheClockMovesAndCompactionRemovesThem() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let clock = Atomic<Int64>(1_000_000_000)
        let store = try FileEventStore.open(
            directory: folder.path, options: testOptions(), fileSystem: PosixFileSystem(),
            wallClock: { clock.load(ordering: .relaxed) })
        for n in 0..<10 {
            _ = try await store.append([event("Tick", n)], to: "sensor-1", expectedVersion: .any)
            _ = try await store.append([event("Tick", n)], to: "other-1", expectedVersion: .any)
            clock.add(1_000_000, ordering: .relaxed)  // one second per round
        }
        // Now = 10 s after the first event; events are 10, 9, ..., 1 s old.
        try await store.setStreamMetadata(StreamMetadata(maxAge: .milliseconds(3_500)), for: "sensor-1")
        #expect(try store.readStream("sensor-1").map(\.version) == [8, 9, 10])
        #expect(try store.readStream("sensor-1", from: .end, direction: .backward).map(\.version) == [10, 9, 8])
        #expect(try store.readAll(filter: EventFilter(streams: ["sensor-1"])).map(\.version) == [8, 9, 10])
        clock.add(2_000_000, ordering: .relaxed)
        #expect(try store.readStream("sensor-1").map(\.version) == [10])
        let before = try StoreReadings(store, streams: ["sensor-1", "other-1"])
        let report = try await store.compact()
        #expect(report.eventsRemoved == 9)
        #expect(try StoreReadings(store, streams: ["sensor-1", "other-1"]) == before)
        clock.add(10_000_000, ordering: .relaxed)
        #expect(try store.readStream("sensor-1").isEmpty)
        #expect(try store.version(of: "sensor-1") == 10)
        try await store.close()
    }

    @Test func aCountLimitIsCompactedAndRelaxingItAfterwardsBringsNothingBack() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let (store, names) = try await populatedStore(folder, streams: 3, perStream: 50)
        try await store.setStreamMetadata(StreamMetadata(maxCount: 5), for: names[1])
        #expect(try store.readStream(names[1]).map(\.version.rawValue) == Array(46...50))
        try await store.setStreamMetadata(StreamMetadata(), for: names[1])
        #expect(try store.readStream(names[1]).count == 50, "before compaction, relaxing the limit shows everything again")
        try await store.setStreamMetadata(StreamMetadata(maxCount: 5), for: names[1])
        let report = try await store.compact()
        #expect(report.eventsRemoved == 45)
        try await store.setStreamMetadata(StreamMetadata(), for: names[1])
        #expect(try store.readStream(names[1]).map(\.version.rawValue) == Array(46...50), "after compaction the removed events are gone")
        #expect(try await store.streamMetadata(of: names[1]) == StreamMetadata())
        try await store.close()
        let reopened = try FileEventStore.open(directory: folder.path, options: testOptions())
        #expect(try reopened.readStream(names[1]).map(\.version.rawValue) == Array(46...50))
        try await reopened.close()
    }

    @Test func aCompactionOnAClosedOrReadOnlyStoreIsRefused() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let (store, _) = try await populatedStore(folder, streams: 2, perStream: 2)
        var readOnlyOptions = testOptions()
        readOnlyOptions.readOnly = true
        let reader = try FileEventStore.open(directory: folder.path, options: readOnlyOptions)
        await #expect(throws: EventStoreError.readOnly(path: folder.path)) { try await reader.compact() }
        try await store.close()
        await #expect(throws: EventStoreError.closed) { try await store.compact() }
    }
}

/// Compaction while appenders, readers and a subscriber run (also run under
/// ThreadSanitizer in CI, which selects suites named "Stress").
@Suite struct CompactionStressTests {
    @Test func appendsReadsAndASubscriptionRunningDuringCompactionSeeEveryReachableEventOnce() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let (store, names) = try await CompactionTests().populatedStore(folder, streams: 9, perStream: 60)
        for name in names where name.rawValue.hasPrefix("drop") {
            try await store.deleteStream(name, expectedVersion: .any, hard: true)
        }
        let history = try store.readAll()
        let historyEnd = try await store.lastPosition()
        let appenders = 3
        let perAppender = 80
        let total = history.count + appenders * perAppender
        let delivered = try await withThrowingTaskGroup(of: [RecordedEvent].self) { group in
            group.addTask {
                var events: [RecordedEvent] = []
                for try await event in store.subscribeToAll(from: .start, filter: .all) {
                    events.append(event)
                    if events.count == total { break }
                }
                return events
            }
            for appender in 0..<appenders {
                group.addTask {
                    for n in 0..<perAppender {
                        _ = try await store.append([event("Live", n, bytes: 200)], to: StreamName("live-\(appender)"))
                    }
                    return []
                }
            }
            group.addTask {
                // Readers see the history unchanged at every moment of the compactions.
                for round in 0..<30 {
                    let all = try store.readAll(maxCount: history.count)
                    #expect(all == history, "read \(round)")
                    #expect(try store.readStream(names[0]) == history.filter { $0.stream == names[0] })
                    let backward = try store.readAll(from: historyEnd, direction: .backward)
                    #expect(backward == history.reversed(), "backward read \(round)")
                    await Task.yield()
                }
                return []
            }
            group.addTask {
                for _ in 0..<3 { try await store.compact() }
                return []
            }
            var delivered: [RecordedEvent] = []
            for try await events in group where !events.isEmpty { delivered = events }
            return delivered
        }
        #expect(delivered == (try store.readAll()), "every visible event once, in order")
        #expect(delivered.count == total)
        try await store.close()
    }
}

/// Total bytes of the files in a folder and its subfolders.
func folderSize(_ path: String) throws -> UInt64 {
    var total: UInt64 = 0
    let enumerator = FileManager.default.enumerator(atPath: path)
    while let name = enumerator?.nextObject() as? String {
        let attributes = try FileManager.default.attributesOfItem(atPath: path + "/" + name)
        if attributes[.type] as? FileAttributeType == .typeRegular { total += (attributes[.size] as? UInt64) ?? 0 }
    }
    return total
}

/// The files under `path` whose bytes contain `marker`.
func filesContaining(_ marker: String, in path: String) throws -> [String] {
    let needle = Array(marker.utf8)
    var found: [String] = []
    let enumerator = FileManager.default.enumerator(atPath: path)
    while let name = enumerator?.nextObject() as? String {
        let full = path + "/" + name
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: full, isDirectory: &isFolder), !isFolder.boolValue else { continue }
        let bytes = try bytes(of: full)
        if bytes.count >= needle.count, (0...(bytes.count - needle.count)).contains(where: { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }) {
            found.append(name)
        }
    }
    return found
}

@Suite struct SnapshotFallbackTests {
    @Test func aDamagedSnapshotOnDiskIsIgnoredAndTheRepositoryReplaysEveryEvent() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let store = try FileEventStore.open(directory: folder.path, options: testOptions())
        var registry = EventTypeRegistry()
        registry.register(OrderCreated.self)
        registry.register(ItemAdded.self)
        let orders = Repository<Order>(store: store, registry: registry, options: RepositoryOptions(snapshotEvery: 5))
        try await orders.handle("order-7") { try $0.create(customer: "ada") }
        for n in 0..<12 { try await orders.handle("order-7") { try $0.addItem(sku: "SKU-\(n % 3)", quantity: 1) } }
        let fromSnapshot = try await orders.load("order-7")
        #expect(fromSnapshot.snapshotVersion == 10 && fromSnapshot.eventsApplied == 3)

        let snapshots = folder.path + "/snapshots"
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: snapshots).first)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: snapshots + "/" + file)))
        bytes[bytes.count / 2] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: snapshots + "/" + file))

        let replayed = try await orders.load("order-7")
        #expect(replayed.snapshotVersion == nil, "a damaged snapshot is never trusted")
        #expect(replayed.eventsApplied == 13, "every event replayed")
        #expect(replayed.state.items == fromSnapshot.state.items && replayed.version == fromSnapshot.version)
        #expect(store.damagedSnapshotsIgnored == 1)
        try await store.close()
    }
}

@Suite struct OpenProgressTests {
    @Test func openReportsEachSegmentAndTheIndexesItRebuilt() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let (store, _) = try await CompactionTests().populatedStore(folder, streams: 4, perStream: 200)
        try await store.close()
        try removeIndexFiles(folder.path)
        var reports: [OpenProgress] = []
        let reopened = try FileEventStore.open(directory: folder.path, options: testOptions()) { reports.append($0) }
        let report = reopened.openReport
        #expect(report.segmentCount > 2)
        #expect(reports.map(\.segmentsOpened) == Array(1...report.segmentCount))
        #expect(reports.allSatisfy { $0.segmentCount == report.segmentCount })
        #expect(reports.last?.indexesRebuilt == report.rebuiltIndexes.count && report.rebuiltIndexes.count > 0)
        try await reopened.close()
    }
}

@Suite struct StartStreamTests {
    @Test func aStreamStartedAtALaterVersionTakesAppendsFromThereAcrossReopens() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let store = try FileEventStore.open(directory: folder.path, options: testOptions())
        try await store.startStream("imported-1", atVersion: 40)
        #expect(try store.version(of: "imported-1") == 39)
        await #expect(throws: EventStoreError.self) {
            try await store.append([event()], to: "imported-1", expectedVersion: .noStream)
        }
        let result = try await store.append([event()], to: "imported-1", expectedVersion: .exact(39))
        #expect(result.nextExpectedVersion == 40)
        _ = try await store.append([event()], to: "other-1", expectedVersion: .noStream)
        await #expect(throws: EventStoreError.invalidArgument("stream 'other-1' is already at version 1; only a stream with no events can start at a later version")) {
            try await store.startStream("other-1", atVersion: 5)
        }
        await #expect(throws: EventStoreError.self) { try await store.startStream("new-1", atVersion: 0) }
        try await store.compact()
        try await store.close()
        let reopened = try FileEventStore.open(directory: folder.path, options: testOptions())
        #expect(try reopened.readStream("imported-1").map(\.version) == [40])
        let next = try await reopened.append([event()], to: "imported-1", expectedVersion: .exact(40))
        #expect(next.nextExpectedVersion == 41)
        try await reopened.close()
    }
}
