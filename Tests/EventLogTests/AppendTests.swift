import EventSourcing
import Foundation
import Testing

@testable import EventLog

/// Opens a store in a fresh folder, runs `body`, closes and removes it.
func withStore(
    _ options: StoreOptions = testOptions(), _ body: (FileEventStore, TemporaryDirectory) async throws -> Void
) async throws {
    let folder = TemporaryDirectory()
    defer { folder.remove() }
    let store = try FileEventStore.open(directory: folder.path, options: options)
    do {
        try await body(store, folder)
    } catch {
        try? await store.close()
        throw error
    }
    try await store.close()
}

@Suite struct ExpectedVersionTests {
    @Test func versionsAndPositionsAreOneBasedAndDense() async throws {
        try await withStore { store, _ in
            let first = try await store.append([event(), event()], to: "a-1", expectedVersion: .noStream)
            #expect(first == AppendResult(nextExpectedVersion: 2, firstPosition: 1, lastPosition: 2))
            let second = try await store.append([event()], to: "b-1", expectedVersion: .noStream)
            #expect(second == AppendResult(nextExpectedVersion: 1, firstPosition: 3, lastPosition: 3))
            let third = try await store.append([event()], to: "a-1", expectedVersion: .exact(2))
            #expect(third == AppendResult(nextExpectedVersion: 3, firstPosition: 4, lastPosition: 4))
            #expect(try store.readAll().map(\.position.rawValue) == [1, 2, 3, 4])
            #expect(try store.readStream("a-1").map(\.version.rawValue) == [1, 2, 3])
            #expect(try store.version(of: "a-1") == 3)
            #expect(store.lastPosition == 4)
        }
    }

    @Test func everyExpectedVersionKindIsEnforcedAndReportsTheCurrentVersion() async throws {
        try await withStore { store, _ in
            await #expect(throws: EventStoreError.wrongExpectedVersion(stream: "s-1", expected: .streamExists, actual: 0)) {
                try await store.append([event()], to: "s-1", expectedVersion: .streamExists)
            }
            await #expect(throws: EventStoreError.wrongExpectedVersion(stream: "s-1", expected: .exact(1), actual: 0)) {
                try await store.append([event()], to: "s-1", expectedVersion: .exact(1))
            }
            try await store.append([event()], to: "s-1", expectedVersion: .exact(0))
            await #expect(throws: EventStoreError.wrongExpectedVersion(stream: "s-1", expected: .noStream, actual: 1)) {
                try await store.append([event()], to: "s-1", expectedVersion: .noStream)
            }
            await #expect(throws: EventStoreError.wrongExpectedVersion(stream: "s-1", expected: .exact(5), actual: 1)) {
                try await store.append([event()], to: "s-1", expectedVersion: .exact(5))
            }
            try await store.append([event()], to: "s-1", expectedVersion: .streamExists)
            try await store.append([event()], to: "s-1", expectedVersion: .any)
            #expect(try store.version(of: "s-1") == 3)
            #expect(store.lastPosition == 3, "failed appends wrote nothing")
        }
    }

    @Test func concurrentWritersOnOneVersionExactlyOneWins() async throws {
        try await withStore { store, _ in
            try await store.append([event()], to: "race-1", expectedVersion: .noStream)
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask { (try? await store.append([event()], to: "race-1", expectedVersion: .exact(1))) != nil }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            #expect(try store.version(of: "race-1") == 2)
        }
    }
}

@Suite struct IdempotencyTests {
    @Test func retryingTheSameCallAtTheSameExpectedVersionWritesNothing() async throws {
        try await withStore { store, _ in
            let events = [event("A", 1), event("B", 2)]
            let original = try await store.append(events, to: "i-1", expectedVersion: .noStream)
            try await store.append([event()], to: "other-1")
            let retry = try await store.append(events, to: "i-1", expectedVersion: .noStream)
            #expect(retry == original)
            #expect(store.lastPosition == 3)
            #expect(try store.readStream("i-1").map(\.id) == events.map(\.id))
        }
    }

    @Test func retryingAfterReopenIsRecognisedFromDisk() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let events = [event("A", 1), event("B", 2)]
        var store = try FileEventStore.open(directory: folder.path, options: testOptions())
        let original = try await store.append(events, to: "i-2", expectedVersion: .exact(0))
        try await store.append([event()], to: "i-2", expectedVersion: .exact(2))
        try await store.close()
        store = try FileEventStore.open(directory: folder.path, options: testOptions())
        #expect(try await store.append(events, to: "i-2", expectedVersion: .exact(0)) == original)
        #expect(store.lastPosition == 3)
        try await store.close()
    }

    @Test func retryWithAnyIsRecognised() async throws {
        try await withStore { store, _ in
            let events = [event("A", 1), event("B", 2)]
            let original = try await store.append(events, to: "i-3", expectedVersion: .any)
            #expect(try await store.append(events, to: "i-3", expectedVersion: .any) == original)
            #expect(store.lastPosition == 2)
        }
    }

    @Test func identicalCallsInOneGroupCommitAreWrittenOnce() async throws {
        try await withStore { store, _ in
            let events = [event("A", 1)]
            let results = try await withThrowingTaskGroup(of: AppendResult.self) { group in
                for _ in 0..<8 { group.addTask { try await store.append(events, to: "i-4", expectedVersion: .noStream) } }
                return try await group.reduce(into: [AppendResult]()) { $0.append($1) }
            }
            #expect(Set(results).count == 1)
            #expect(store.lastPosition == 1)
        }
    }

    @Test func partlyMatchingIdsAreAConflict() async throws {
        try await withStore { store, _ in
            let first = event("A", 1)
            let second = event("B", 2)
            try await store.append([first, second], to: "i-5", expectedVersion: .noStream)
            await #expect {
                try await store.append([first, event("C", 3)], to: "i-5", expectedVersion: .noStream)
            } throws: { error in
                if case .idempotencyConflict(let stream, _) = error as? EventStoreError { return stream == "i-5" }
                return false
            }
            // With `.any`, a call ending in the stream's last event id must match the whole latest call.
            await #expect {
                try await store.append([event("C", 3), second], to: "i-5", expectedVersion: .any)
            } throws: { ($0 as? EventStoreError).map { if case .idempotencyConflict = $0 { true } else { false } } ?? false }
            #expect(store.lastPosition == 2)
        }
    }

    @Test func sameIdsAtAnotherVersionAreAWrongVersionNotARetry() async throws {
        try await withStore { store, _ in
            let events = [event("A", 1)]
            try await store.append([event()], to: "i-6", expectedVersion: .noStream)
            try await store.append(events, to: "i-6", expectedVersion: .exact(1))
            await #expect(throws: EventStoreError.wrongExpectedVersion(stream: "i-6", expected: .noStream, actual: 2)) {
                try await store.append(events, to: "i-6", expectedVersion: .noStream)
            }
        }
    }
}

@Suite struct ValidationTests {
    @Test func badEventsAreRejectedBeforeAnythingIsWritten() async throws {
        try await withStore { store, _ in
            let cases: [[EventData]] = [
                [],
                [event(""), ],
                [event(String(repeating: "t", count: 257))],
                [event("Bad\u{7}Type")],
                [EventData(type: "Big", data: Data(count: Limits.eventMaxBytes + 1))],
                [EventData(type: "Big", data: Data(count: Limits.eventMaxBytes - 10), metadata: Data(count: 11))],
                (0..<5).map { _ in EventData(type: "Big", data: Data(count: 14 * 1024 * 1024)) },
            ]
            for events in cases {
                await #expect(throws: EventStoreError.self) { try await store.append(events, to: "v-1") }
            }
            let id = UUID()
            await #expect(throws: EventStoreError.duplicateEventID(id)) {
                try await store.append([event(id: id), event(id: id)], to: "v-1")
            }
            await #expect(throws: EventStoreError.self) {
                try await store.append([StreamAppend(stream: "v-1", events: [event()]), StreamAppend(stream: "v-1", events: [event()])])
            }
            #expect(store.lastPosition == 0)
            #expect(store.statistics.batches == 0, "rejected calls never reach the writer")
        }
    }

    @Test func anEventAtExactlyTheLimitIsAccepted() async throws {
        try await withStore(testOptions(segmentSizeBytes: 1 << 20)) { store, folder in
            let big = EventData(type: "Big", data: Data(repeating: 7, count: Limits.eventMaxBytes - 2), metadata: Data("{}".utf8))
            try await store.append([big], to: "v-2")
            try await store.append([event()], to: "v-2")
            let events = try store.readStream("v-2")
            #expect(events.count == 2)
            #expect(events[0].data.count == Limits.eventMaxBytes - 2)
            #expect(try FileEventStore.verify(directory: folder.path).isHealthy)
        }
    }

    @Test func aClosedStoreRefusesWork() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let store = try FileEventStore.open(directory: folder.path, options: testOptions())
        try await store.close()
        try await store.close()
        await #expect(throws: EventStoreError.closed) { try await store.append([event()], to: "c-1") }
        #expect(throws: EventStoreError.closed) { try store.readAll() }
    }
}

@Suite struct MultiStreamAppendTests {
    @Test func allPartsAreWrittenOrNone() async throws {
        try await withStore { store, _ in
            try await store.append([event()], to: "m-2", expectedVersion: .noStream)
            await #expect(throws: EventStoreError.wrongExpectedVersion(stream: "m-2", expected: .noStream, actual: 1)) {
                try await store.append([
                    StreamAppend(stream: "m-1", expectedVersion: .noStream, events: [event()]),
                    StreamAppend(stream: "m-2", expectedVersion: .noStream, events: [event()]),
                ])
            }
            #expect(try store.version(of: "m-1") == 0)
            let results = try await store.append([
                StreamAppend(stream: "m-1", expectedVersion: .noStream, events: [event(), event()]),
                StreamAppend(stream: "m-2", expectedVersion: .exact(1), events: [event()]),
            ])
            #expect(results == [
                AppendResult(nextExpectedVersion: 2, firstPosition: 2, lastPosition: 3),
                AppendResult(nextExpectedVersion: 2, firstPosition: 4, lastPosition: 4),
            ])
        }
    }
}

@Suite struct ReadTests {
    @Test func readsRespectFromAndMaxCountAcrossSegments() async throws {
        try await withStore(testOptions(segmentSizeBytes: 64 * 1024)) { store, folder in
            for n in 0..<600 { try await store.append([event("E", n, bytes: 300)], to: StreamName("r-\(n % 3)")) }
            #expect(try segmentFiles(folder.path).count > 2, "the workload rolls segments")
            #expect(try store.readAll().map(\.position.rawValue) == Array(1...600))
            #expect(try store.readAll(from: 250, maxCount: 100).map(\.position.rawValue) == Array(250..<350))
            #expect(try store.readAll(from: 601).isEmpty)
            #expect(try store.readAll(from: 0, maxCount: 0).isEmpty)
            let stream = try store.readStream("r-1", from: 10, maxCount: 5)
            #expect(stream.map(\.version.rawValue) == [10, 11, 12, 13, 14])
            #expect(stream.allSatisfy { $0.stream == "r-1" })
            #expect(try store.readStream("r-1", from: 200).map(\.version.rawValue) == [200])
            #expect(try store.readStream("missing-1").isEmpty)
            var visited = 0
            try store.forEachEvent(from: 599) { _ in visited += 1 }
            #expect(visited == 2)
        }
    }

    /// Events `forEachEvent` hands out one at a time, kept whole or just their data,
    /// keep their own bytes, whatever the sizes of the events read after them.
    @Test func eventsKeptFromForEachEventKeepTheirPayloads() async throws {
        try await withStore { store, _ in
            let sizes = [100, 3, 0, 2_000, 14, 15, 100, 1, 64_000, 7]
            for (n, size) in sizes.enumerated() {
                let data = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ n) })
                let metadata = n.isMultiple(of: 3) ? Data() : Data("m\(n)".utf8)
                try await store.append([EventData(type: "E", data: data, metadata: metadata, isJSON: false)], to: "p-1")
            }
            let expected = try store.readAll()
            var kept: [RecordedEvent] = []
            var keptData: [Data] = []
            var dataSeenInTurn: [Data] = []
            try store.forEachEvent { event in
                dataSeenInTurn.append(Data(event.data))  // a copy made while the event is current
                if event.position.rawValue.isMultiple(of: 2) { kept.append(event) } else { keptData.append(event.data) }
            }
            #expect(dataSeenInTurn == expected.map(\.data))
            #expect(kept == expected.filter { $0.position.rawValue.isMultiple(of: 2) })
            #expect(keptData == expected.filter { !$0.position.rawValue.isMultiple(of: 2) }.map(\.data))
            var letGo = 0
            try store.forEachEvent { event in
                #expect(event == expected[letGo])
                letGo += 1
            }
            #expect(letGo == sizes.count)
        }
    }
}
