// Rules of optimistic concurrency: each kind of expected version accepts
// exactly its versions, and a rejection carries the stream's current version
// and writes nothing.
import EventSourcing

enum ExpectedVersionRules {
    static let all: [ConformanceRule] = [noStream, streamExists, exact, any, rejectionWritesNothing]

    static let noStream = ConformanceRule("noStream accepts only a stream without events") { check in
        let store = try await check.freshStore()
        _ = try await store.append(Sample.events(1), to: "n-1", expectedVersion: .noStream)
        try await check.expectError(
            .exactly(.wrongExpectedVersion(stream: "n-1", expected: .noStream, actual: 1)),
            "a second noStream append with new ids"
        ) { try await store.append(Sample.events(1, first: 2), to: "n-1", expectedVersion: .noStream) }
        _ = try await store.append(Sample.events(2), to: "n-2", expectedVersion: .exact(0))
        try check.expectEqual(try await store.streamVersion("n-2"), 2, "the version after appending at exact(0), the same as noStream")
    }

    static let streamExists = ConformanceRule("streamExists accepts only a stream with events") { check in
        let store = try await check.freshStore()
        try await check.expectError(
            .exactly(.wrongExpectedVersion(stream: "e-1", expected: .streamExists, actual: 0)),
            "a streamExists append to a new stream"
        ) { try await store.append(Sample.events(1), to: "e-1", expectedVersion: .streamExists) }
        _ = try await store.append(Sample.events(1), to: "e-1", expectedVersion: .any)
        let result = try await store.append(Sample.events(2, first: 2), to: "e-1", expectedVersion: .streamExists)
        try check.expectEqual(result.nextExpectedVersion, 3, "the version after a streamExists append")
    }

    static let exact = ConformanceRule("exact accepts only the current version, and the error carries it") { check in
        let store = try await check.freshStore()
        _ = try await store.append(Sample.events(1), to: "x-1", expectedVersion: .exact(0))
        _ = try await store.append(Sample.events(1, first: 2), to: "x-1", expectedVersion: .exact(1))
        try await check.expectError(
            .exactly(.wrongExpectedVersion(stream: "x-1", expected: .exact(5), actual: 2)),
            "an append expecting a version the stream has not reached"
        ) { try await store.append(Sample.events(1, first: 3), to: "x-1", expectedVersion: .exact(5)) }
        try await check.expectError(
            .exactly(.wrongExpectedVersion(stream: "x-1", expected: .exact(1), actual: 2)),
            "an append with new ids expecting a version the stream has passed"
        ) { try await store.append(Sample.events(1, first: 4), to: "x-1", expectedVersion: .exact(1)) }
        try await check.expectError(
            .exactly(.wrongExpectedVersion(stream: "x-2", expected: .exact(1), actual: 0)),
            "an append expecting version 1 of a new stream"
        ) { try await store.append(Sample.events(1), to: "x-2", expectedVersion: .exact(1)) }
        let result = try await store.append(Sample.events(1, first: 5), to: "x-1", expectedVersion: .exact(2))
        try check.expectEqual(result.nextExpectedVersion, 3, "the version after a correct exact append")
    }

    static let any = ConformanceRule("any accepts every version") { check in
        let store = try await check.freshStore()
        for number in 1...4 {
            let result = try await store.append(Sample.events(1, first: number), to: "any-1", expectedVersion: .any)
            try check.expectEqual(result.nextExpectedVersion, StreamVersion(UInt64(number)), "the version after any-append \(number)")
        }
    }

    static let rejectionWritesNothing = ConformanceRule("a rejected append writes nothing") { check in
        let store = try await check.freshStore()
        _ = try await store.append(Sample.events(3), to: "r-1", expectedVersion: .noStream)
        let before = try await store.readWholeLog()
        let attempts: [ExpectedVersion] = [.noStream, .exact(1), .exact(7)]
        for expected in attempts {
            try await check.expectError(.sameCase(as: .wrongExpectedVersion(stream: "r-1", expected: expected, actual: 0)), "an append at \(expected)") {
                try await store.append(Sample.events(2, first: 10), to: "r-1", expectedVersion: expected)
            }
        }
        try await check.expectError(.sameCase(as: .wrongExpectedVersion(stream: "r-2", expected: .streamExists, actual: 0)), "a streamExists append to a new stream") {
            try await store.append(Sample.events(2, first: 20), to: "r-2", expectedVersion: .streamExists)
        }
        try check.expectEqual(try await store.readWholeLog(), before, "the log after rejected appends")
        try check.expectEqual(try await store.lastPosition(), 3, "lastPosition after rejected appends")
        try check.expectEqual(try await store.streamVersion("r-1"), 3, "the version after rejected appends")
        try check.expectEqual(try await store.streamVersion("r-2"), 0, "the version of a stream whose only append was rejected")
    }
}
