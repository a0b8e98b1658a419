// Rules of reading: both directions, a start and a count, StreamVersion.end and
// GlobalPosition.end meaning "the last", and reads that see every append that
// has returned.
import EventSourcing

enum ReadRules {
    static let all: [ConformanceRule] = [readStreamBothWays, readAllBothWays, visibleOnceAppended]

    static let readStreamBothWays = ConformanceRule("readStream reads forward and backward from a version, up to a count") { check in
        let store = try await check.freshStore()
        for number in 1...10 {
            _ = try await store.append(Sample.events(1, first: number), to: "s-1", expectedVersion: .any)
            _ = try await store.append(Sample.events(1, first: 100 + number), to: "s-2", expectedVersion: .any)
        }
        func versions(_ from: StreamVersion, _ direction: ReadDirection, _ maxCount: Int) async throws -> [UInt64] {
            try await store.readStream("s-1", from: from, direction: direction, maxCount: maxCount).map(\.version.rawValue)
        }
        try check.expectEqual(try await versions(1, .forward, .max), Array(1...10), "forward from 1")
        try check.expectEqual(try await versions(4, .forward, 3), [4, 5, 6], "forward from 4, 3 events")
        try check.expectEqual(try await versions(9, .forward, 5), [9, 10], "forward from 9, 5 events")
        try check.expectEqual(try await versions(11, .forward, 5), [], "forward from past the end")
        try check.expectEqual(try await versions(0, .forward, 2), [1, 2], "forward from 0, 2 events")
        try check.expectEqual(try await versions(.end, .backward, .max), Array((1...10).reversed()), "backward from the end")
        try check.expectEqual(try await versions(5, .backward, 2), [5, 4], "backward from 5, 2 events")
        try check.expectEqual(try await versions(2, .backward, 5), [2, 1], "backward from 2, 5 events")
        try check.expectEqual(try await versions(.end, .backward, 1), [10], "backward from the end, 1 event")
        try check.expectEqual(try await versions(3, .forward, 0), [], "a read of 0 events")
        let numbers = try await store.readStream("s-1", from: 1, direction: .forward, maxCount: 3).map(\.data)
        try check.expectEqual(numbers, Sample.events(3).map(\.data), "the payloads of the first 3 events")
        try check.expectEqual(try await store.readStream("never-1", from: 1, direction: .forward, maxCount: 10), [], "a stream never written")
        try check.expectEqual(try await store.readStream("never-1", from: .end, direction: .backward, maxCount: 10), [], "a stream never written, backward")
    }

    static let readAllBothWays = ConformanceRule("readAll reads forward and backward from a position, up to a count") { check in
        let store = try await check.freshStore()
        try check.expectEqual(try await store.readAll(from: .end, direction: .backward, maxCount: 5), [], "backward over an empty store")
        for number in 1...12 {
            _ = try await store.append(Sample.events(1, first: number), to: Sample.stream("all-\(number % 3)"), expectedVersion: .any)
        }
        func positions(_ from: GlobalPosition, _ direction: ReadDirection, _ maxCount: Int) async throws -> [UInt64] {
            try await store.readAll(from: from, direction: direction, maxCount: maxCount).map(\.position.rawValue)
        }
        try check.expectEqual(try await positions(.start, .forward, .max), Array(1...12), "forward from the start")
        try check.expectEqual(try await positions(5, .forward, 4), [5, 6, 7, 8], "forward from 5, 4 events")
        try check.expectEqual(try await positions(11, .forward, 4), [11, 12], "forward from 11, 4 events")
        try check.expectEqual(try await positions(13, .forward, 4), [], "forward from past the end")
        try check.expectEqual(try await positions(0, .forward, 1), [1], "forward from 0, 1 event")
        try check.expectEqual(try await positions(.end, .backward, .max), Array((1...12).reversed()), "backward from the end")
        try check.expectEqual(try await positions(6, .backward, 3), [6, 5, 4], "backward from 6, 3 events")
        try check.expectEqual(try await positions(2, .backward, 5), [2, 1], "backward from 2, 5 events")
        try check.expectEqual(try await positions(.end, .forward, 3), [], "forward from GlobalPosition.end")
        try check.expectEqual(try await positions(4, .backward, 0), [], "a read of 0 events")
        let forward = try await store.readWholeLog()
        let backward = try await store.readAll(from: .end, direction: .backward, maxCount: .max)
        try check.expectEqual(backward, forward.reversed(), "backward read as the reverse of the forward read")
    }

    static let visibleOnceAppended = ConformanceRule("an event is visible to every read once its append has returned") { check in
        let store = try await check.freshStore()
        for number in 1...20 {
            let stream = Sample.stream("v-\(number % 4)")
            let event = Sample.event(number: number)
            let result = try await store.append([event], to: stream, expectedVersion: .any)
            try check.expectEqual(try await store.lastPosition(), result.lastPosition, "lastPosition right after append \(number)")
            try check.expectEqual(try await store.streamVersion(stream), result.nextExpectedVersion, "streamVersion right after append \(number)")
            let lastInStream = try await store.readStream(stream, from: .end, direction: .backward, maxCount: 1)
            try check.expectEqual(lastInStream.map(\.id), [event.id], "the stream's last event right after append \(number)")
            let lastInLog = try await store.readAll(from: .end, direction: .backward, maxCount: 1)
            try check.expectEqual(lastInLog.map(\.id), [event.id], "the log's last event right after append \(number)")
        }
    }
}
