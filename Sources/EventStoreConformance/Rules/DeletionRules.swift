// Rules of removal: soft delete (the stream starts over at its next version),
// hard delete (a tombstone), truncation, each hiding events from every read
// at once without moving the positions of the rest.
import EventSourcing

enum DeletionRules {
    static let all: [ConformanceRule] = [softDelete, hardDelete, deleteChecksExpectedVersion, truncate]

    static let softDelete = ConformanceRule("a soft-deleted stream reads as empty and continues at its next version") { check in
        let store = try await check.freshStore()
        _ = try await store.append(Sample.events(3), to: "soft-1", expectedVersion: .noStream)
        _ = try await store.append(Sample.events(2, first: 10), to: "keep-1", expectedVersion: .noStream)
        try await store.deleteStream("soft-1", expectedVersion: .exact(3), hard: false)
        try check.expectEqual(try await store.readWholeStream("soft-1"), [], "readStream of the deleted stream")
        try check.expectEqual(try await store.readStream("soft-1", from: .end, direction: .backward, maxCount: 10), [], "a backward read of the deleted stream")
        try check.expectEqual(try await store.readWholeLog().map(\.position), [4, 5], "the positions readAll returns")
        try check.expectEqual(try await store.streamVersion("soft-1"), 3, "the deleted stream's version")
        try check.expectEqual(try await store.lastPosition(), 5, "lastPosition after the delete")
        let result = try await store.append(Sample.events(1, first: 20), to: "soft-1", expectedVersion: .exact(3))
        try check.expectEqual(result, AppendResult(nextExpectedVersion: 4, firstPosition: 6, lastPosition: 6), "the result of appending after the delete")
        try check.expectEqual(try await store.readWholeStream("soft-1").map(\.version), [4], "the versions readStream returns after appending again")
        try check.expectEqual(try await store.readWholeLog().map(\.position), [4, 5, 6], "the positions readAll returns after appending again")
    }

    static let hardDelete = ConformanceRule("a hard-deleted stream reads as empty and can never be appended to again") { check in
        let store = try await check.freshStore()
        _ = try await store.append(Sample.events(2), to: "hard-1", expectedVersion: .noStream)
        _ = try await store.append(Sample.events(1, first: 10), to: "keep-1", expectedVersion: .noStream)
        try await store.deleteStream("hard-1", expectedVersion: .any, hard: true)
        try check.expectEqual(try await store.readWholeStream("hard-1"), [], "readStream of the deleted stream")
        try check.expectEqual(try await store.readWholeLog().map(\.position), [3], "the positions readAll returns")
        let deleted = ExpectedError.exactly(.streamDeleted(stream: "hard-1"))
        for expected: ExpectedVersion in [.any, .noStream, .streamExists, .exact(2)] {
            try await check.expectError(deleted, "an append at \(expected) to the deleted stream") {
                try await store.append(Sample.events(1, first: 20), to: "hard-1", expectedVersion: expected)
            }
        }
        try await check.expectError(deleted, "a multi-stream append naming the deleted stream") {
            try await store.append([
                StreamAppend(stream: "keep-1", events: Sample.events(1, first: 30)),
                StreamAppend(stream: "hard-1", events: Sample.events(1, first: 31)),
            ])
        }
        try check.expectEqual(try await store.lastPosition(), 3, "lastPosition after the refused appends")
        try check.expectEqual(try await store.streamVersion("keep-1"), 1, "the other stream's version after the refused multi-stream append")
    }

    static let deleteChecksExpectedVersion = ConformanceRule("deleting checks the expected version and deletes nothing on a mismatch") { check in
        let store = try await check.freshStore()
        _ = try await store.append(Sample.events(2), to: "del-1", expectedVersion: .noStream)
        for hard in [false, true] {
            try await check.expectError(
                .exactly(.wrongExpectedVersion(stream: "del-1", expected: .exact(1), actual: 2)), "a \(hard ? "hard" : "soft") delete at the wrong version"
            ) { try await store.deleteStream("del-1", expectedVersion: .exact(1), hard: hard) }
        }
        try await check.expectError(
            .exactly(.wrongExpectedVersion(stream: "del-1", expected: .noStream, actual: 2)), "a delete expecting no stream"
        ) { try await store.deleteStream("del-1", expectedVersion: .noStream, hard: false) }
        try check.expectEqual(try await store.readWholeStream("del-1").count, 2, "the events left after refused deletes")
    }

    static let truncate = ConformanceRule("truncating hides a stream's events before a version and keeps the rest where they were") { check in
        let store = try await check.freshStore()
        for number in 1...5 {
            _ = try await store.append([Sample.event(number: number)], to: "trunc-1", expectedVersion: .any)
            _ = try await store.append([Sample.event(number: 10 + number)], to: "keep-1", expectedVersion: .any)
        }
        try await store.truncateStream("trunc-1", before: 3)
        try check.expectEqual(try await store.readWholeStream("trunc-1").map(\.version), [3, 4, 5], "the versions left")
        try check.expectEqual(try await store.readWholeStream("trunc-1").map(\.position), [5, 7, 9], "the positions of the versions left")
        try check.expectEqual(
            try await store.readStream("trunc-1", from: .end, direction: .backward, maxCount: .max).map(\.version), [5, 4, 3], "the versions left, backward")
        try check.expectEqual(try await store.readStream("trunc-1", from: 1, direction: .forward, maxCount: 1).map(\.version), [3], "the first version read from version 1")
        try check.expectEqual(try await store.readWholeLog().map(\.position), [2, 4, 5, 6, 7, 8, 9, 10], "the positions readAll returns")
        try check.expectEqual(try await store.streamVersion("trunc-1"), 5, "the stream's version after truncation")
        let result = try await store.append(Sample.events(1, first: 6), to: "trunc-1", expectedVersion: .exact(5))
        try check.expectEqual(result.nextExpectedVersion, 6, "the version after appending to a truncated stream")
        try await store.truncateStream("trunc-1", before: 2)
        try check.expectEqual(try await store.readWholeStream("trunc-1").map(\.version), [3, 4, 5, 6], "the versions left after truncating to an earlier version")
    }
}
