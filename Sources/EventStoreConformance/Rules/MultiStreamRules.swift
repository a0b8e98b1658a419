// Rules of appends that span streams: one unit, checked part by part before
// anything is written, answered part by part in the caller's order.
import EventSourcing

enum MultiStreamRules {
    static let all: [ConformanceRule] = [writesEveryPartInOrder, failingPartWritesNothing, streamNamedTwice]

    static let writesEveryPartInOrder = ConformanceRule("a multi-stream append writes every part, in order, with one result per part") { check in
        let store = try await check.freshStore()
        let earlier = Sample.events(2)
        _ = try await store.append(earlier, to: "m-2", expectedVersion: .noStream)
        let parts = [
            StreamAppend(stream: "m-1", expectedVersion: .noStream, events: Sample.events(2, first: 10)),
            StreamAppend(stream: "m-2", expectedVersion: .exact(2), events: Sample.events(1, first: 20)),
            StreamAppend(stream: "m-3", expectedVersion: .any, events: Sample.events(3, first: 30)),
        ]
        let results = try await store.append(parts)
        try check.expectEqual(results, [
            AppendResult(nextExpectedVersion: 2, firstPosition: 3, lastPosition: 4),
            AppendResult(nextExpectedVersion: 3, firstPosition: 5, lastPosition: 5),
            AppendResult(nextExpectedVersion: 3, firstPosition: 6, lastPosition: 8),
        ], "the results of a three-part append")
        let log = try await store.readWholeLog()
        try check.expectEqual(log.map(\.id), (earlier + parts.flatMap(\.events)).map(\.id), "the ids in the log, in order")
        try check.expectEqual(log.map(\.stream), ["m-2", "m-2", "m-1", "m-1", "m-2", "m-3", "m-3", "m-3"], "the streams in the log, in order")
    }

    static let failingPartWritesNothing = ConformanceRule("a multi-stream append with a failing part writes nothing anywhere") { check in
        let store = try await check.freshStore()
        _ = try await store.append(Sample.events(1), to: "f-2", expectedVersion: .noStream)
        let before = try await store.readWholeLog()
        let wrongVersion = [
            StreamAppend(stream: "f-1", expectedVersion: .noStream, events: Sample.events(2, first: 10)),
            StreamAppend(stream: "f-2", expectedVersion: .exact(4), events: Sample.events(1, first: 20)),
        ]
        try await check.expectError(
            .exactly(.wrongExpectedVersion(stream: "f-2", expected: .exact(4), actual: 1)), "a multi-stream append whose second part expects the wrong version"
        ) { try await store.append(wrongVersion) }
        let invalidType = [
            StreamAppend(stream: "f-1", expectedVersion: .noStream, events: Sample.events(2, first: 30)),
            StreamAppend(stream: "f-3", expectedVersion: .any, events: [Sample.event("", number: 40)]),
        ]
        try await check.expectError(.sameCase(as: .invalidEventType("", reason: "")), "a multi-stream append whose second part has an empty event type") {
            try await store.append(invalidType)
        }
        try check.expectEqual(try await store.readWholeLog(), before, "the log after failed multi-stream appends")
        try check.expectEqual(try await store.streamVersion("f-1"), 0, "the first part's stream version")
        try check.expectEqual(try await store.lastPosition(), 1, "lastPosition after failed multi-stream appends")
    }

    static let streamNamedTwice = ConformanceRule("a stream named twice in one multi-stream append is an invalid argument") { check in
        let store = try await check.freshStore()
        let parts = [
            StreamAppend(stream: "d-1", events: Sample.events(1)),
            StreamAppend(stream: "d-2", events: Sample.events(1, first: 2)),
            StreamAppend(stream: "d-1", events: Sample.events(1, first: 3)),
        ]
        try await check.expectError(.sameCase(as: .invalidArgument("")), "a multi-stream append naming d-1 twice") { try await store.append(parts) }
        try check.expectEqual(try await store.lastPosition(), 0, "lastPosition after the rejected call")
    }
}
