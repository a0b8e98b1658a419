// Rules about where events land: dense 1-based versions and positions, append
// results that describe the write, fields kept as given, and timestamps.
import EventSourcing
import Foundation

enum NumberingRules {
    static let all: [ConformanceRule] = [densePositionsAndVersions, resultsDescribeTheWrite, fieldsRoundTrip, timestamps, firstPositionByTime]

    static let densePositionsAndVersions = ConformanceRule("versions and positions are 1-based and dense") { check in
        let store = try await check.freshStore()
        try check.expectEqual(try await store.lastPosition(), 0, "lastPosition of an empty store")
        try check.expectEqual(try await store.streamVersion("a-1"), 0, "streamVersion of a stream never written")
        try check.expectEqual(try await store.readWholeLog().count, 0, "readAll of an empty store (event count)")
        // Interleave three streams with calls of different sizes.
        let plan: [(String, Int)] = [("a-1", 1), ("b-1", 3), ("a-1", 2), ("c-1", 1), ("b-1", 1), ("a-1", 4)]
        var versions: [String: UInt64] = [:]
        for (name, count) in plan {
            _ = try await store.append(Sample.events(count), to: Sample.stream(name), expectedVersion: .any)
            versions[name, default: 0] += UInt64(count)
        }
        let total = UInt64(plan.reduce(0) { $0 + $1.1 })
        let all = try await store.readWholeLog()
        try check.expectEqual(all.map(\.position.rawValue), Array(1...total), "readAll positions")
        try check.expectEqual(try await store.lastPosition(), GlobalPosition(total), "lastPosition")
        for (name, version) in versions {
            let stream = Sample.stream(name)
            let events = try await store.readWholeStream(stream)
            try check.expectEqual(events.map(\.version.rawValue), Array(1...version), "versions of \(name)")
            try check.expectEqual(try await store.streamVersion(stream), StreamVersion(version), "streamVersion of \(name)")
            let positionsInLog = all.filter { $0.stream == stream }.map(\.position)
            try check.expectEqual(events.map(\.position), positionsInLog, "positions of \(name) in readStream and readAll")
        }
    }

    static let resultsDescribeTheWrite = ConformanceRule("append results give the new version and the positions written") { check in
        let store = try await check.freshStore()
        _ = try await store.append(Sample.events(2), to: "x-1", expectedVersion: .noStream)
        let result = try await store.append(Sample.events(3), to: "y-1", expectedVersion: .noStream)
        try check.expectEqual(result, AppendResult(nextExpectedVersion: 3, firstPosition: 3, lastPosition: 5), "the result of appending 3 events to a new stream after 2 others")
        try check.expectEqual(result.firstVersion(eventCount: 3), 1, "firstVersion of that result")
        let next = try await store.append(Sample.events(2), to: "x-1", expectedVersion: .exact(2))
        try check.expectEqual(next, AppendResult(nextExpectedVersion: 4, firstPosition: 6, lastPosition: 7), "the result of appending 2 more to the first stream")
    }

    static let fieldsRoundTrip = ConformanceRule("events read back with the id, type, payload, metadata and ids they were given") { check in
        let store = try await check.freshStore()
        let correlation = EventID.make()
        let given = [
            EventData(type: "Créé ✓", data: Data(#"{"name":"ß"}"#.utf8), metadata: Data(#"{"user":"u1"}"#.utf8), isJSON: true,
                      correlationID: correlation, causationID: EventID.make()),
            EventData(type: "Binary", data: Data([0, 255, 10, 13]), metadata: Data(), isJSON: false),
            EventData(type: "Empty", data: Data(), correlationID: correlation),
        ]
        _ = try await store.append(given, to: "round-trip", expectedVersion: .noStream)
        let read = try await store.readWholeStream("round-trip")
        try check.expectEqual(read.count, given.count, "the number of events read back")
        for (event, original) in zip(read, given) {
            let what = "event \(event.version)"
            try check.expectEqual(event.id, original.id, "\(what) id")
            try check.expectEqual(event.type, original.type, "\(what) type")
            try check.expectEqual(event.data, original.data, "\(what) data")
            try check.expectEqual(event.metadata, original.metadata, "\(what) metadata")
            try check.expectEqual(event.isJSON, original.isJSON, "\(what) isJSON")
            try check.expectEqual(event.correlationID, original.correlationID, "\(what) correlationID")
            try check.expectEqual(event.causationID, original.causationID, "\(what) causationID")
            try check.expectEqual(event.stream, "round-trip", "\(what) stream")
        }
        try check.expectEqual(try await store.readWholeLog(), read, "readAll and readStream of the only stream")
    }

    static let timestamps = ConformanceRule("timestamps are wall-clock microseconds that never decrease with position") { check in
        let store = try await check.freshStore()
        // A second of slack either side: the rule is about the unit and the order,
        // not about how the store samples the clock.
        let before = Int64(Date().timeIntervalSince1970 * 1_000_000) - 1_000_000
        for index in 0..<20 {
            _ = try await store.append(Sample.events(index % 3 + 1), to: Sample.stream("t-\(index % 4)"), expectedVersion: .any)
        }
        let after = Int64(Date().timeIntervalSince1970 * 1_000_000) + 1_000_000
        let events = try await store.readWholeLog()
        for event in events {
            try check.expect(
                (before...after).contains(event.timestampMicroseconds),
                "the timestamp of position \(event.position) to be microseconds since 1970 within the test's run",
                actual: "it was \(event.timestampMicroseconds)")
        }
        for (earlier, later) in zip(events, events.dropFirst()) {
            try check.expect(
                earlier.timestampMicroseconds <= later.timestampMicroseconds,
                "timestamps to be nondecreasing with position",
                actual: "position \(later.position) has \(later.timestampMicroseconds) < \(earlier.timestampMicroseconds) at \(earlier.position)")
        }
    }

    static let firstPositionByTime = ConformanceRule("firstPosition(atOrAfter:) finds the first event appended at or after a time") { check in
        let store = try await check.freshStore()
        try check.expectEqual(try await store.firstPosition(atOrAfter: .distantPast), nil, "firstPosition in an empty store")
        for index in 0..<12 {
            _ = try await store.append(Sample.events(index % 2 + 1), to: Sample.stream("time-\(index % 3)"), expectedVersion: .any)
        }
        let events = try await store.readWholeLog()
        try check.expectEqual(try await store.firstPosition(atOrAfter: .distantPast), 1, "firstPosition(atOrAfter: distantPast)")
        try check.expectEqual(try await store.firstPosition(atOrAfter: .distantFuture), nil, "firstPosition(atOrAfter: distantFuture)")
        for event in events {
            let found = try await store.firstPosition(atOrAfter: event.timestamp)
            // The first event whose timestamp is not earlier than this one's.
            let expected = events.first { $0.timestampMicroseconds >= event.timestampMicroseconds }?.position
            try check.expectEqual(found, expected, "firstPosition(atOrAfter:) the timestamp of position \(event.position)")
        }
        let last = events[events.count - 1]
        let justAfter = Date(timeIntervalSince1970: Double(last.timestampMicroseconds + 1) / 1_000_000)
        try check.expectEqual(try await store.firstPosition(atOrAfter: justAfter), nil, "firstPosition one microsecond after the last event")
    }
}
