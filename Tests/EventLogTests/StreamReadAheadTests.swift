import EventSourcing
import Foundation
import Testing

@_spi(Testing) @testable import EventLog

/// A stream read takes a run of the stream's records (a call's events, one after
/// another in the segment) from one read of 16 KiB instead of one `pread` each.
@Suite struct StreamReadAheadTests {
    private static let directory = "/store"

    private func store(_ fileSystem: SimulatedFileSystem) throws -> FileEventStore {
        fileSystem.makeDurableDirectory(Self.directory)
        var options = StoreOptions(durability: .none)
        options.segmentSizeBytes = 1 << 20
        return try FileEventStore.open(directory: Self.directory, options: options, simulatedFileSystem: fileSystem)
    }

    @Test func aRunOfAStreamsRecordsIsReadInFewReads() async throws {
        let fileSystem = SimulatedFileSystem(seed: 1)
        let store = try store(fileSystem)
        // Two calls of 200 events each: two runs of adjacent records.
        for call in 0..<2 {
            try await store.append((0..<200).map { EventData(type: "E", data: Data([UInt8(call), UInt8($0)])) }, to: "runs-1")
        }
        let readsBefore = fileSystem.callCount(.read)
        let events = try store.readStream("runs-1")
        let reads = fileSystem.callCount(.read) - readsBefore
        #expect(events.count == 400)
        #expect(events.map(\.version.rawValue) == Array(1...400))
        #expect(reads < 40, "\(reads) reads for 400 adjacent records (one each before)")

        let readsBeforeBackward = fileSystem.callCount(.read)
        let backward = try store.readStream("runs-1", from: .end, direction: .backward)
        let backwardReads = fileSystem.callCount(.read) - readsBeforeBackward
        #expect(backward.map(\.version.rawValue) == Array((1...400).reversed()))
        #expect(backwardReads < 40, "\(backwardReads) reads for 400 adjacent records backward")

        // A whole-log read backward goes record by record too, with the same read-ahead.
        let readsBeforeLog = fileSystem.callCount(.read)
        let log = try store.readAll(from: 400, direction: .backward)
        #expect(log.map(\.position.rawValue) == Array((1...400).reversed()))
        #expect(fileSystem.callCount(.read) - readsBeforeLog < 40, "whole log backward")
        try await store.close()
    }

    /// A stream whose records are far apart reads each record with one read, in both
    /// directions, as before: a read ahead is only taken after one held two records.
    @Test func aStreamSpreadOverTheLogReadsEachRecordOnce() async throws {
        let fileSystem = SimulatedFileSystem(seed: 3)
        let store = try store(fileSystem)
        for index in 0..<50 {
            try await store.append([EventData(type: "E", data: Data([UInt8(index)]))], to: "spread-1")
            try await store.append([EventData(type: "Filler", data: Data(repeating: 0, count: 20_000))], to: "filler-1")
        }
        for direction in [ReadDirection.forward, .backward] {
            let readsBefore = fileSystem.callCount(.read)
            let events = try store.readStream("spread-1", from: direction == .forward ? 1 : .end, direction: direction)
            #expect(events.map(\.data) == (0..<50).map { Data([UInt8($0)]) }.reversedIf(direction == .backward))
            #expect(fileSystem.callCount(.read) - readsBefore == 50, "\(direction)")
        }
        try await store.close()
    }

    /// Runs broken by other streams, records larger than the read-ahead and larger
    /// than what is left of it, backward and forward: every read equals what was
    /// appended, whatever was read ahead.
    @Test func readsAheadReturnExactlyTheAppendedEvents() async throws {
        let fileSystem = SimulatedFileSystem(seed: 2)
        let store = try store(fileSystem)
        var random = SimulationRandom(seed: 9)
        var model: [String: [Data]] = [:]
        for _ in 0..<60 {
            let stream = ["a-1", "b-1", "c-1"][Int(random.next() % 3)]
            let count = 1 + Int(random.next() % 40)
            var events: [EventData] = []
            for _ in 0..<count {
                // Mostly small, sometimes past 512 bytes, sometimes past 16 KiB.
                let size = random.chance(1, in: 10) ? 20_000 + Int(random.next() % 5_000)
                    : random.chance(1, in: 5) ? 600 + Int(random.next() % 3_000) : 1 + Int(random.next() % 200)
                events.append(EventData(type: "E", data: Data(random.bytes(size))))
            }
            try await store.append(events, to: StreamName(stream))
            model[stream, default: []] += events.map(\.data)
        }
        for (stream, data) in model {
            let name = try StreamName(stream)
            #expect(try store.readStream(name).map(\.data) == data, "\(stream) forward")
            #expect(try store.readStream(name, from: .end, direction: .backward).map(\.data) == data.reversed(), "\(stream) backward")
            let from = StreamVersion(UInt64(data.count / 2))
            #expect(try store.readStream(name, from: from, maxCount: 7).map(\.data) == Array(data[(data.count / 2 - 1)...].prefix(7)))
        }
        try await store.close()
    }
}

extension Array {
    fileprivate func reversedIf(_ condition: Bool) -> [Element] { condition ? reversed() : self }
}
