import EventSourcing
import Foundation
import Synchronization
import Testing

@testable import EventLog

@Suite struct SubscriptionTests {
    /// Collects `count` events from a subscription.
    func collect(_ subscription: EventSubscription, count: Int) async throws -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        for try await event in subscription {
            events.append(event)
            if events.count == count { break }
        }
        return events
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func aSubscriberFromTheStartSeesEveryPositionOnceInOrderWhileEightAppendersRun(seed: UInt64) async throws {
        try await withStore(testOptions(segmentSizeBytes: 64 * 1024)) { store, _ in
            // Some history first, so the subscription catches up and then goes live.
            for n in 0..<100 { try await store.append([event("H", n, bytes: 200)], to: "history-1") }
            let appenders = 8
            let perAppender = 60
            let total = 100 + appenders * perAppender
            let starts: [UInt64] = [1, 50, 100, 101, UInt64(50 + seed * 7)]
            try await withThrowingTaskGroup(of: [UInt64].self) { group in
                for start in starts {
                    group.addTask {
                        try await self.collect(store.subscribeToAll(from: GlobalPosition(start)), count: total - Int(start) + 1)
                            .map(\.position.rawValue)
                    }
                }
                for appender in 0..<appenders {
                    group.addTask {
                        for n in 0..<perAppender {
                            try await store.append(
                                [event("L", n, bytes: 200)], to: StreamName("live-\(appender)"))
                        }
                        return []
                    }
                }
                var seen: [[UInt64]] = []
                for try await positions in group where !positions.isEmpty { seen.append(positions) }
                for positions in seen {
                    let first = positions[0]
                    #expect(positions == Array(first...UInt64(total)), "no gap, no duplicate, in order from \(first)")
                }
                #expect(seen.count == starts.count)
            }
        }
    }

    @Test func aSubscriptionAtTheEndGetsOnlyLiveEvents() async throws {
        try await withStore { store, _ in
            try await store.append([event(), event()], to: "s-1")
            let subscription = store.subscribeToAll(from: GlobalPosition(store.lastPosition.rawValue + 1))
            async let live = collect(subscription, count: 2)
            // The subscriber may start before or after these appends: either way it
            // sees exactly them.
            try await store.append([event("A", 1)], to: "s-1")
            try await store.append([event("B", 2)], to: "s-2")
            #expect(try await live.map(\.position.rawValue) == [3, 4])
        }
    }

    @Test func filtersAndStreamSubscriptionsDeliverOnlyTheirEvents() async throws {
        try await withStore { store, _ in
            for n in 0..<30 {
                try await store.append([event(n % 2 == 0 ? "Even" : "Odd", n)], to: StreamName(unchecked: n % 3 == 0 ? "order-\(n % 2)" : "cart-1"))
            }
            let orders = try await collect(store.subscribeToAll(filter: EventFilter(categories: ["order"])), count: 10)
            #expect(orders.allSatisfy { $0.stream.category == "order" } && orders.count == 10)
            let odd = try await collect(store.subscribeToAll(filter: EventFilter(eventTypes: ["Odd"])), count: 15)
            #expect(odd.allSatisfy { $0.type == "Odd" })
            let cart = try await collect(store.subscribe(to: "cart-1", from: 5), count: 16)
            #expect(cart.map(\.version.rawValue) == Array(5...20))
        }
    }

    @Test func cancellingTheTaskEndsAWaitingSubscriptionPromptly() async throws {
        try await withStore { store, _ in
            try await store.append([event()], to: "c-1")
            let task = Task { try await collect(store.subscribeToAll(), count: 1_000) }
            // Wait until the subscriber has read the history and parked.
            while store.shared.waiters.count == 0 { await Task.yield() }
            task.cancel()
            let delivered = try await task.value
            #expect(delivered.count == 1)
            #expect(store.shared.waiters.count == 0, "the waiter was released")
        }
    }

    @Test func closingTheStoreEndsEverySubscriptionWithClosed() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let store = try FileEventStore.open(directory: folder.path, options: testOptions())
        try await store.append([event()], to: "c-1")
        let task = Task { try await collect(store.subscribeToAll(), count: 1_000) }
        while store.shared.waiters.count == 0 { await Task.yield() }
        try await store.close()
        await #expect(throws: EventStoreError.closed) { try await task.value }
    }

    @Test func truncatedAndDeletedEventsNeverReachASubscriber() async throws {
        try await withStore { store, _ in
            try await store.append([event(), event(), event()], to: "t-1")
            try await store.append([event()], to: "gone-1")
            try await store.truncateStream("t-1", before: 3)
            try await store.deleteStream("gone-1", hard: true)
            try await store.append([event()], to: "t-1")
            let seen = try await collect(store.subscribeToAll(), count: 2)
            #expect(seen.map(\.stream) == ["t-1", "t-1"] && seen.map(\.version.rawValue) == [3, 4])
        }
    }
}

@Suite struct StreamLifecycleTests {
    @Test func softDeleteHidesTheStreamAndAppendsContinueAtTheNextVersion() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        var store = try FileEventStore.open(directory: folder.path, options: testOptions())
        try await store.append([event(), event()], to: "s-1")
        try await store.append([event()], to: "other-1")
        await #expect(throws: EventStoreError.wrongExpectedVersion(stream: "s-1", expected: .exact(1), actual: 2)) {
            try await store.deleteStream("s-1", expectedVersion: .exact(1), hard: false)
        }
        try await store.deleteStream("s-1", expectedVersion: .exact(2), hard: false)
        #expect(try store.readStream("s-1").isEmpty)
        #expect(try store.readAll().map(\.stream) == ["other-1"])
        #expect(try store.version(of: "s-1") == 2, "deletion does not lower the version")
        let result = try await store.append([event()], to: "s-1", expectedVersion: .exact(2))
        #expect(result.nextExpectedVersion == 3)
        #expect(try store.readStream("s-1").map(\.version.rawValue) == [3])
        try await store.close()
        store = try FileEventStore.open(directory: folder.path, options: testOptions())
        #expect(try store.readStream("s-1").map(\.version.rawValue) == [3], "the rule survives reopening")
        try await store.close()
    }

    @Test func hardDeleteIsATombstone() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        var store = try FileEventStore.open(directory: folder.path, options: testOptions())
        try await store.append([event()], to: "h-1")
        try await store.deleteStream("h-1", hard: true)
        await #expect(throws: EventStoreError.streamDeleted(stream: "h-1")) { try await store.append([event()], to: "h-1") }
        #expect(try store.readStream("h-1").isEmpty && store.readAll().isEmpty)
        try await store.close()
        store = try FileEventStore.open(directory: folder.path, options: testOptions())
        await #expect(throws: EventStoreError.streamDeleted(stream: "h-1")) { try await store.append([event()], to: "h-1") }
        try await store.close()
    }

    @Test func truncationHidesEarlierVersionsFromEveryRead() async throws {
        try await withStore { store, _ in
            for n in 0..<10 { try await store.append([event("E", n)], to: "t-1") }
            try await store.truncateStream("t-1", before: 7)
            #expect(try store.readStream("t-1").map(\.version.rawValue) == [7, 8, 9, 10])
            #expect(try store.readStream("t-1", from: .end, direction: .backward).map(\.version.rawValue) == [10, 9, 8, 7])
            #expect(try store.readAll().map(\.version.rawValue) == [7, 8, 9, 10])
            try await store.truncateStream("t-1", before: 3)
            #expect(try store.readStream("t-1").count == 4, "truncation never moves back")
        }
    }
}

@Suite struct SnapshotTests {
    @Test func theLatestSnapshotIsLoadedAndReplacedAtomically() async throws {
        try await withStore { store, folder in
            for n in 0..<10 { try await store.append([event("E", n)], to: "o-1") }
            #expect(try await store.loadSnapshot(of: "o-1") == nil)
            let first = Snapshot(stream: "o-1", version: 5, schemaVersion: 1, state: Data("five".utf8))
            try await store.saveSnapshot(first)
            #expect(try await store.loadSnapshot(of: "o-1") == first)
            let second = Snapshot(stream: "o-1", version: 9, schemaVersion: 2, state: Data("nine".utf8))
            try await store.saveSnapshot(second)
            #expect(try await store.loadSnapshot(of: "o-1") == second)
            #expect(try await store.loadSnapshot(of: "o-2") == nil)
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.file("snapshots"))
            #expect(files.count == 1, "replaced, not accumulated: \(files)")
        }
    }

    @Test func snapshotsMustNameAVersionTheStreamHasAndVanishWithTheStream() async throws {
        try await withStore { store, _ in
            await #expect(throws: EventStoreError.self) {
                try await store.saveSnapshot(Snapshot(stream: "o-1", version: 1, state: Data()))
            }
            try await store.append([event(), event()], to: "o-1")
            await #expect(throws: EventStoreError.self) {
                try await store.saveSnapshot(Snapshot(stream: "o-1", version: 3, state: Data()))
            }
            try await store.saveSnapshot(Snapshot(stream: "o-1", version: 2, state: Data("s".utf8)))
            try await store.deleteStream("o-1", expectedVersion: .exact(2), hard: false)
            #expect(try await store.loadSnapshot(of: "o-1") == nil, "it described events that are gone")
        }
    }

    @Test func aDamagedSnapshotIsReportedAndIgnored() async throws {
        try await withStore { store, folder in
            for n in 0..<10 { try await store.append([event("E", n)], to: "o-1") }
            try await store.saveSnapshot(Snapshot(stream: "o-1", version: 5, state: Data(repeating: 7, count: 100)))
            let file = folder.file("snapshots/" + (try FileManager.default.contentsOfDirectory(atPath: folder.file("snapshots"))[0]))
            for index in [0, 20, 60, 130] {
                var bytes = try bytes(of: file)
                bytes[min(index, bytes.count - 1)] ^= 0x20
                try write(bytes, to: file)
                #expect(try await store.loadSnapshot(of: "o-1") == nil, "byte \(index)")
                bytes[min(index, bytes.count - 1)] ^= 0x20
                try write(bytes, to: file)
            }
            #expect(store.damagedSnapshotsIgnored == 4)
            #expect(try await store.loadSnapshot(of: "o-1")?.version == 5)
        }
    }
}

@Suite struct FollowerTests {
    func readOnly() -> StoreOptions {
        var options = testOptions(segmentSizeBytes: 64 * 1024)
        options.readOnly = true
        return options
    }

    @Test func aReadOnlyStoreCatchesUpWithTheWriterButNeverPastItsPublishedPosition() async throws {
        try await withStore(testOptions(segmentSizeBytes: 64 * 1024)) { writer, folder in
            try await writer.append([event()], to: "f-1")
            let reader = try FileEventStore.open(directory: folder.path, options: readOnly())
            #expect(reader.lastPosition == 1)
            // Enough to seal several segments while the reader is open.
            for n in 0..<300 { try await writer.append([event("E", n, bytes: 500)], to: StreamName("f-\(n % 3)")) }
            #expect(reader.lastPosition == 1, "nothing new until a refresh")
            #expect(try reader.refresh() == 301)
            #expect(try reader.readAll() == writer.readAll())
            #expect(try reader.readStream("f-2") == writer.readStream("f-2"))
            // A record written but not yet published stays invisible to the reader:
            // `POSITION` set back once the writer thread's nudge (its `pwrite` of
            // `POSITION`, up to 1 ms after the call) is done and cannot undo that.
            let positionFile = folder.file("POSITION")
            let published = try bytes(of: positionFile)
            try await writer.append([event()], to: "f-9")
            let writerThread = try #require(writer.writer)
            while !writerThread.isIdle {
                try Task.checkCancellation()
                await Task.yield()
            }
            try write(published, to: positionFile)
            #expect(try reader.refresh() == 301)
            try await reader.close()
        }
    }

    @Test func aReadOnlyStoreSeesTheWritersDeletionsAndLimitsAfterARefresh() async throws {
        try await withStore(testOptions(segmentSizeBytes: 64 * 1024)) { writer, folder in
            for n in 0..<3 {
                try await writer.append([event("E", n)], to: "keep-1")
                try await writer.append([event("E", n)], to: "gone-1")
            }
            let reader = try FileEventStore.open(directory: folder.path, options: readOnly())
            #expect(try reader.readAll().count == 6)
            try await writer.deleteStream("gone-1", expectedVersion: .any, hard: true)
            try await writer.setStreamMetadata(StreamMetadata(maxCount: 1), for: "keep-1")
            try await writer.append([event("E", 3)], to: "keep-1")
            #expect(try reader.refresh() == 7)
            #expect(try reader.readAll().map(\.stream) == ["keep-1"], "hidden in this process as in the writer's")
            #expect(try reader.readStream("keep-1").map(\.version) == [4])
            try await writer.setStreamMetadata(StreamMetadata(), for: "keep-1")
            try reader.refresh()
            #expect(try reader.readStream("keep-1").count == 4, "a relaxed limit shows them again (before compaction)")
            try await reader.close()
        }
    }

    /// Under `.none` a lone appender publishes `POSITION` through its mapping, which
    /// inotify does not see: the writer thread's nudge must wake the subscription.
    @Test(.timeLimit(.minutes(3)), arguments: [Durability.fsync, .none])
    func aReadOnlySubscriptionFollowsLiveAppendsOfAnotherWriter(durability: Durability) async throws {
        try await withStore(testOptions(segmentSizeBytes: 64 * 1024, durability: durability)) { writer, folder in
            try await writer.append([event()], to: "l-1")
            let reader = try FileEventStore.open(directory: folder.path, options: readOnly())
            let total = 200
            async let seen: [UInt64] = {
                var positions: [UInt64] = []
                for try await event in reader.subscribeToAll() {
                    positions.append(event.position.rawValue)
                    if positions.count == total { break }
                }
                return positions
            }()
            for n in 1..<total { try await writer.append([event("E", n, bytes: 600)], to: "l-1") }
            #expect(try await seen == Array(1...UInt64(total)))
            if durability == .none { #expect(writer.statistics.callsWrittenByCaller > 0) }
            try await reader.close()
        }
    }

    /// Each call waits until the follower's subscription has caught up, and so
    /// (mostly) sleeps on its inotify watch: only the writer thread's `POSITION`
    /// nudge wakes it, since the call published `POSITION` through the mapping.
    @Test(.timeLimit(.minutes(3)))
    func aFollowersSubscriptionIsWokenAfterALoneAppendersUnsyncedCall() async throws {
        try await withStore(testOptions(segmentSizeBytes: 64 * 1024, durability: .none)) { writer, folder in
            try await writer.append([event()], to: "w-1")
            let reader = try FileEventStore.open(directory: folder.path, options: readOnly())
            let total = 50
            let seenCount = Atomic<Int>(0)
            async let seen: [UInt64] = {
                var positions: [UInt64] = []
                for try await event in reader.subscribeToAll() {
                    positions.append(event.position.rawValue)
                    seenCount.store(positions.count, ordering: .releasing)
                    if positions.count == total { break }
                }
                return positions
            }()
            let idle = try #require(writer.writer)
            for n in 2...total {
                while seenCount.load(ordering: .acquiring) < n - 1 || !idle.isIdle {
                    try Task.checkCancellation()
                    await Task.yield()
                }
                try await writer.append([event("E", n)], to: "w-1")
            }
            #expect(try await seen == Array(1...UInt64(total)))
            #expect(writer.statistics.callsWrittenByCaller == UInt64(total - 1))
            try await reader.close()
        }
    }

    @Test func aLoneAppendersUnsyncedCallIsVisibleToAFollowersNextRefreshAtOnce() async throws {
        try await withStore(testOptions(segmentSizeBytes: 64 * 1024, durability: .none)) { writer, folder in
            try await writer.append([event()], to: "m-1")
            let reader = try FileEventStore.open(directory: folder.path, options: readOnly())
            let idle = try #require(writer.writer)
            for n in 2...50 {
                while !idle.isIdle { await Task.yield() }
                let result = try await writer.append([event("E", n)], to: "m-1")
                // Before any nudge: `POSITION` was written through its mapping.
                #expect(try reader.refresh() == result.lastPosition)
            }
            #expect(writer.statistics.callsWrittenByCaller == 49)
            #expect(try reader.readStream("m-1") == writer.readStream("m-1"))
            try await reader.close()
        }
    }
}

@Suite struct FileCheckpointStoreTests {
    @Test func checkpointsSurviveReopeningAndDamageReadsAsNone() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        var checkpoints = try FileCheckpointStore(directory: folder.file("checkpoints"))
        #expect(try await checkpoints.checkpoint(named: "orders") == nil)
        try await checkpoints.saveCheckpoint(41, named: "orders")
        try await checkpoints.saveCheckpoint(42, named: "orders")
        try await checkpoints.saveCheckpoint(7, named: "shipping")
        checkpoints = try FileCheckpointStore(directory: folder.file("checkpoints"))
        #expect(try await checkpoints.checkpoint(named: "orders") == 42)
        #expect(try await checkpoints.checkpoint(named: "shipping") == 7)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.file("checkpoints"))
        #expect(files.count == 2, "replaced in place, no temporary files left: \(files)")
        for file in files {
            var content = try bytes(of: folder.file("checkpoints/" + file))
            content[17] ^= 1
            try write(content, to: folder.file("checkpoints/" + file))
        }
        #expect(try await checkpoints.checkpoint(named: "orders") == nil)
        try await checkpoints.removeCheckpoint(named: "shipping")
        #expect(try await checkpoints.checkpoint(named: "shipping") == nil)
    }

    @Test func aProjectionResumesFromItsFileCheckpointAfterARestart() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        var store = try FileEventStore.open(directory: folder.path, options: testOptions())
        for n in 0..<10 { try await store.append([event("E", n)], to: "p-1") }
        var checkpoints = try FileCheckpointStore(store: store)
        var seen: [UInt64] = []
        for try await event in store.subscribeToAll(from: 1) {
            seen.append(event.position.rawValue)
            try await checkpoints.saveCheckpoint(event.position, named: "counter")
            if seen.count == 6 { break }
        }
        try await store.close()
        store = try FileEventStore.open(directory: folder.path, options: testOptions())
        checkpoints = try FileCheckpointStore(store: store)
        let resume = (try await checkpoints.checkpoint(named: "counter")?.rawValue ?? 0) + 1
        for try await event in store.subscribeToAll(from: GlobalPosition(resume)) {
            seen.append(event.position.rawValue)
            if event.position == 10 { break }
        }
        #expect(seen == Array(1...10), "each event processed exactly once across the restart")
        try await store.close()
    }
}

@Suite struct SubscriptionInterleavingTests {
    /// Many small random schedules: history of random length (across segment
    /// boundaries), a subscription starting anywhere from 1 to just past the end
    /// (the durable position exactly included), and 1 to 4 appenders running while it
    /// reads. Each subscriber must see exactly positions start...end, in order.
    @Test func everyRandomInterleavingDeliversExactlyTheRangeOnce() async throws {
        var random = SeededGenerator(seed: 2026)
        var iterations = 0
        for _ in 0..<40 {
            let folder = TemporaryDirectory()
            defer { folder.remove() }
            // Small segments and ~1 KB events: boundaries every few dozen events.
            let store = try FileEventStore.open(
                directory: folder.path, options: testOptions(segmentSizeBytes: 64 * 1024, durability: .none))
            var total = 0
            for _ in 0..<25 {
                let history = Int.random(in: 0...30, using: &random)
                for n in 0..<history { try await store.append([event("H", n, bytes: 1_000)], to: "h-1") }
                total += history
                let end = UInt64(total)
                let start = [1, end, end + 1, UInt64.random(in: 1...(end + 1), using: &random)][Int.random(in: 0..<4, using: &random)]
                let appenders = Int.random(in: 1...4, using: &random)
                let perAppender = Int.random(in: 1...20, using: &random)
                total += appenders * perAppender
                let last = UInt64(total)
                let expected = start <= last ? Array(max(start, 1)...last) : []
                try await withThrowingTaskGroup(of: [UInt64].self) { group in
                    group.addTask {
                        guard !expected.isEmpty else { return [] }
                        var seen: [UInt64] = []
                        for try await event in store.subscribeToAll(from: GlobalPosition(start)) {
                            seen.append(event.position.rawValue)
                            if event.position.rawValue >= last { break }
                        }
                        return seen
                    }
                    for appender in 0..<appenders {
                        group.addTask {
                            for n in 0..<perAppender { try await store.append([event("L", n, bytes: 1_000)], to: StreamName(unchecked: "l-\(appender)")) }
                            return [UInt64.max]
                        }
                    }
                    for try await seen in group where seen != [UInt64.max] {
                        #expect(seen == expected, "start \(start), history end \(end), last \(last)")
                    }
                }
                iterations += 1
            }
            try await store.close()
        }
        #expect(iterations == 1_000)
    }

    @Test func aSlowSubscriberHoldsAtMostOneBatchWhateverTheWriterDoes() async throws {
        try await withStore(testOptions(segmentSizeBytes: 64 * 1024, durability: .none)) { store, _ in
            try await store.append([event()], to: "s-1")
            let puller = AllEventsPuller(store: store, from: 1, filter: .all)
            _ = try await puller.next()
            // The writer runs far ahead; nothing is queued for the subscriber.
            for n in 0..<5_000 { try await store.append([event("E", n, bytes: 100)], to: "s-1") }
            #expect(store.shared.waiters.count == 0)
            var delivered = 1
            var largestBuffer = 0
            while delivered < 5_001 {
                _ = try await puller.next()
                delivered += 1
                largestBuffer = max(largestBuffer, puller.bufferedCount)
            }
            #expect(largestBuffer < 2_048, "the subscriber reads the log in batches, it is not fed a queue")
        }
    }
}
