// Concurrency stress, sized for ThreadSanitizer (`swift test --sanitize=thread
// --filter Stress`): appenders, readers and subscribers at once, on the real
// disk and on the simulated one, all agreeing on one dense log.
import EventSourcing
import Foundation
import Synchronization
import Testing

@_spi(Testing) @testable import EventLog

@Suite struct WriterStressTests {
    static let appenders = 8
    static let callsPerAppender = 100

    /// Runs appenders (each on its own stream with exact versions, plus a shared
    /// stream with `.any` and an occasional two-stream call), readers and
    /// subscribers against `store` until every call is acknowledged, then checks
    /// the log. Returns the number of events written.
    static func stress(_ store: FileEventStore) async throws -> Int {
        let done = DoneFlag()
        // Every call writes one event to its own stream and, every fifth call, one to the shared stream too.
        let sharedCalls = (0..<callsPerAppender).filter { $0 % 5 == 0 }.count
        let total = appenders * (callsPerAppender + sharedCalls)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for subscriber in 0..<2 {
                group.addTask {
                    // Subscribers see every event once, in position order, with no gap.
                    var expected: UInt64 = 1
                    let filter: EventFilter = .all
                    for try await event in store.subscribeToAll(from: .start, filter: filter) {
                        #expect(event.position.rawValue == expected, "subscriber \(subscriber)")
                        expected += 1
                        if expected > UInt64(total) { break }
                    }
                }
            }
            for reader in 0..<2 {
                group.addTask {
                    var random = SimulationRandom(seed: UInt64(reader))
                    var reads = 0
                    while !done.isSet || reads < 5 {
                        reads += 1
                        let last = store.lastPosition.rawValue
                        let from = UInt64.random(in: 1...max(last, 1), using: &random)
                        let events = try store.readAll(from: GlobalPosition(from), maxCount: 64)
                        #expect(events.enumerated().allSatisfy { $0.element.position.rawValue == from + UInt64($0.offset) })
                        if last >= from { #expect(events.first?.position.rawValue == from, "visible positions stay readable") }
                        let backward = try store.readAll(from: GlobalPosition(UInt64.max), direction: .backward, maxCount: 16)
                        #expect(zip(backward, backward.dropFirst()).allSatisfy { $0.position.rawValue == $1.position.rawValue + 1 })
                        let stream = StreamName(unchecked: "stress-\(Int.random(in: 0..<appenders, using: &random))")
                        let versions = try store.readStream(stream).map(\.version.rawValue)
                        #expect(versions == Array(0..<UInt64(versions.count)).map { $0 + 1 })
                        #expect(try store.version(of: stream).rawValue >= UInt64(versions.count))
                        await Task.yield()
                    }
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { appending in
                for appender in 0..<appenders {
                    appending.addTask {
                        let own = StreamName(unchecked: "stress-\(appender)")
                        for call in 0..<callsPerAppender {
                            let event = EventData(type: "Stressed", data: Data(repeating: UInt8(call & 0xFF), count: 200 + call * 13))
                            if call % 5 == 0 {
                                let shared = EventData(type: "Shared", data: Data("{\"appender\":\(appender)}".utf8))
                                let results = try await store.append([
                                    StreamAppend(stream: own, expectedVersion: .exact(StreamVersion(UInt64(call))), events: [event]),
                                    StreamAppend(stream: "stress-shared", expectedVersion: .any, events: [shared]),
                                ])
                                #expect(results[0].nextExpectedVersion.rawValue == UInt64(call + 1))
                            } else {
                                let result = try await store.append([event], to: own, expectedVersion: .exact(StreamVersion(UInt64(call))))
                                #expect(result.nextExpectedVersion.rawValue == UInt64(call + 1))
                            }
                        }
                    }
                }
                try await appending.waitForAll()
            }
            done.set()
            try await group.waitForAll()
        }
        let events = try store.readAll()
        #expect(events.map(\.position.rawValue) == Array(1...UInt64(total)))
        #expect(try store.readStream("stress-shared").count == appenders * sharedCalls)
        return events.count
    }

    /// With `loneAppenderWritesOnItsThread`, the write turn passes between callers and
    /// the writer thread too (an appender's task whose call follows its own).
    @Test(.timeLimit(.minutes(4)), arguments: [false, true])
    func appendersReadersAndSubscribersAgreeOnTheRealDisk(loneAppenderWrites: Bool) async throws {
        let folder = TemporaryDirectory("eventlog-stress")
        defer { folder.remove() }
        var options = testOptions(segmentSizeBytes: 64 * 1024, durability: .batched(maxDelay: .milliseconds(1)))
        options.streamCacheCapacity = 3  // heads fall out of the cache and come back from the indexes
        options.loneAppenderWritesOnItsThread = loneAppenderWrites
        let store = try FileEventStore.open(directory: folder.path, options: options)
        let written = try await Self.stress(store)
        try await store.close()
        let reopened = try FileEventStore.open(directory: folder.path, options: testOptions())
        #expect(try reopened.readAll().count == written)
        try await reopened.close()
    }

    @Test(.timeLimit(.minutes(4)))
    func appendersReadersAndSubscribersAgreeOnTheSimulatedDisk() async throws {
        let fileSystem = SimulatedFileSystem(seed: 9)
        fileSystem.makeDurableDirectory("/stress")
        var options = StoreOptions()
        options.segmentSizeBytes = StoreOptions.minimumSegmentSizeBytes
        let store = try FileEventStore.open(directory: "/stress", options: options, simulatedFileSystem: fileSystem)
        let written = try await Self.stress(store)
        try await store.close()
        fileSystem.crash()
        let reopened = try FileEventStore.open(directory: "/stress", options: options, simulatedFileSystem: fileSystem)
        #expect(try reopened.readAll().count == written, "every acknowledged event survives a power loss after close")
        try await reopened.close()
        #expect(fileSystem.misuses.isEmpty)
    }

    @Test(.timeLimit(.minutes(4)))
    func crashTestIterationsRunCleanUnderConcurrency() async {
        let summary = await CrashTest.run(iterations: 40, seed: 77)
        #expect(summary.failure == nil, "\(summary.failure.map(String.init(describing:)) ?? "")")
    }
}

/// Tells the readers that the appenders have finished.
final class DoneFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}
