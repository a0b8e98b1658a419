// Rules of safe retries: the same ids at the same expected version are the
// same call (original result, nothing written); ids that only partly match
// are a conflict, never a silent second write.
import EventSourcing

enum IdempotencyRules {
    static let all: [ConformanceRule] = [retryAtExactVersion, retryWithAny, partialMatch]

    static let retryAtExactVersion = ConformanceRule("a retry at the original expected version returns the original result and writes nothing") { check in
        let store = try await check.freshStore()
        let first = Sample.events(2)
        let original = try await store.append(first, to: "i-1", expectedVersion: .noStream)
        try check.expectEqual(try await store.append(first, to: "i-1", expectedVersion: .noStream), original, "a noStream retry's result")
        let second = Sample.events(3, first: 3)
        let next = try await store.append(second, to: "i-1", expectedVersion: .exact(2))
        _ = try await store.append(Sample.events(1, first: 9), to: "other-1", expectedVersion: .any)
        let later = Sample.events(1, first: 10)
        _ = try await store.append(later, to: "i-1", expectedVersion: .exact(5))
        // The stream has moved on; the retry is still recognised by its version.
        try check.expectEqual(try await store.append(second, to: "i-1", expectedVersion: .exact(2)), next, "an exact retry's result after later appends")
        try check.expectEqual(try await store.append(first, to: "i-1", expectedVersion: .exact(0)), original, "an exact(0) retry of the first call")
        try check.expectEqual(try await store.lastPosition(), 7, "lastPosition after the retries")
        try check.expectEqual(try await store.readWholeStream("i-1").map(\.id), (first + second + later).map(\.id), "the stream's ids after the retries")
        let multi = [
            StreamAppend(stream: "m-1", expectedVersion: .noStream, events: Sample.events(1, first: 20)),
            StreamAppend(stream: "m-2", expectedVersion: .noStream, events: Sample.events(2, first: 21)),
        ]
        let multiResult = try await store.append(multi)
        try check.expectEqual(try await store.append(multi), multiResult, "a multi-stream retry's results")
        try check.expectEqual(try await store.lastPosition(), 10, "lastPosition after the multi-stream retry")
    }

    static let retryWithAny = ConformanceRule("a retry with any or streamExists of the stream's latest call returns its result") { check in
        let store = try await check.freshStore()
        _ = try await store.append(Sample.events(1), to: "a-1", expectedVersion: .any)
        let call = Sample.events(3, first: 2)
        let original = try await store.append(call, to: "a-1", expectedVersion: .any)
        try check.expectEqual(try await store.append(call, to: "a-1", expectedVersion: .any), original, "an any retry's result")
        let existsCall = Sample.events(2, first: 5)
        let existsOriginal = try await store.append(existsCall, to: "a-1", expectedVersion: .streamExists)
        try check.expectEqual(
            try await store.append(existsCall, to: "a-1", expectedVersion: .streamExists), existsOriginal, "a streamExists retry's result")
        try check.expectEqual(try await store.streamVersion("a-1"), 6, "the version after the retries")
        try check.expectEqual(try await store.lastPosition(), 6, "lastPosition after the retries")
    }

    static let partialMatch = ConformanceRule("ids that partly match an earlier call are an idempotency conflict") { check in
        let store = try await check.freshStore()
        let call = Sample.events(2)
        _ = try await store.append(call, to: "p-1", expectedVersion: .noStream)
        let conflict = EventStoreError.idempotencyConflict(stream: "p-1", reason: "")
        try await check.expectError(.sameCase(as: conflict), "a retry at exact(0) with the second id changed") {
            try await store.append([call[0], Sample.event(number: 99)], to: "p-1", expectedVersion: .exact(0))
        }
        try await check.expectError(.sameCase(as: conflict), "a retry at exact(0) with a third event added") {
            try await store.append(call + [Sample.event(number: 98)], to: "p-1", expectedVersion: .exact(0))
        }
        try await check.expectError(.sameCase(as: conflict), "an any-append whose last id is the stream's last but whose first differs") {
            try await store.append([Sample.event(number: 97), call[1]], to: "p-1", expectedVersion: .any)
        }
        let multi = [
            StreamAppend(stream: "p-1", expectedVersion: .exact(0), events: call),
            StreamAppend(stream: "p-2", expectedVersion: .noStream, events: Sample.events(1, first: 50)),
        ]
        try await check.expectError(.sameCase(as: conflict), "a multi-stream call repeating one stream's earlier call and adding a new one") {
            try await store.append(multi)
        }
        try check.expectEqual(try await store.lastPosition(), 2, "lastPosition after the conflicts")
        try check.expectEqual(try await store.streamVersion("p-2"), 0, "the new stream's version after the conflicting multi-stream call")
    }
}
