// Rules of bad input: each mistake has its own typed error, and a rejected call
// writes nothing.
import EventSourcing
import Foundation

enum InputRules {
    static let all: [ConformanceRule] = [streamNames, eventTypes, eventSize, emptyAppends, duplicateIDs]

    static let streamNames = ConformanceRule("an invalid stream name is refused by StreamName before any store sees it") { check in
        let tooLong = String(repeating: "x", count: Limits.streamNameMaxBytes + 1)
        for raw in ["", "$all", "tab\tname", tooLong] {
            let shown = String(raw.debugDescription.prefix(20))
            let outcome = Result { () throws(EventStoreError) in try StreamName(raw) }
            switch outcome {
            case .success(let name):
                throw check.failure(expected: "StreamName(\(shown)) to throw invalidStreamName", actual: "it made \(name)")
            case .failure(let error):
                try check.expectEqual(error.caseName, "invalidStreamName", "the error case for \(shown)")
            }
        }
    }

    static let eventTypes = ConformanceRule("an invalid event type is refused with invalidEventType") { check in
        let store = try await check.freshStore()
        let tooLong = String(repeating: "t", count: Limits.eventTypeMaxBytes + 1)
        for type in ["", "bad\u{7}type", tooLong] {
            try await check.expectError(.sameCase(as: .invalidEventType("", reason: "")), "an append of an event typed \(type.debugDescription.prefix(20))") {
                try await store.append([Sample.event(number: 1), Sample.event(type, number: 2)], to: "types-1", expectedVersion: .any)
            }
        }
        let longest = String(repeating: "t", count: Limits.eventTypeMaxBytes)
        _ = try await store.append([Sample.event(longest, number: 3)], to: "types-1", expectedVersion: .noStream)
        try check.expectEqual(try await store.readWholeStream("types-1").map(\.type), [longest], "the only event written")
    }

    static let eventSize = ConformanceRule("an event over 16 MiB of data and metadata is refused with limitExceeded") { check in
        let store = try await check.freshStore()
        let limit = Limits.eventMaxBytes
        try check.expectEqual(limit, 16 * 1024 * 1024, "Limits.eventMaxBytes")
        let over = EventData(type: "Big", data: Data(count: limit - 10), metadata: Data(count: 11))
        try await check.expectError(
            .exactly(.limitExceeded(.eventTooLarge(eventID: over.id, sizeBytes: limit + 1, limitBytes: limit))), "an append of an event of 16 MiB + 1 byte"
        ) { try await store.append([over], to: "big-1", expectedVersion: .any) }
        try check.expectEqual(try await store.lastPosition(), 0, "lastPosition after the refused append")
        let atLimit = EventData(type: "Big", data: Data(count: limit - 10), metadata: Data(count: 10))
        _ = try await store.append([atLimit], to: "big-1", expectedVersion: .noStream)
        let read = try await store.readWholeStream("big-1")
        try check.expectEqual(read.map { $0.data.count + $0.metadata.count }, [limit], "the size of the event of exactly 16 MiB read back")
    }

    static let emptyAppends = ConformanceRule("an append without events is refused with emptyAppend") { check in
        let store = try await check.freshStore()
        try await check.expectError(.exactly(.emptyAppend), "an append of no events") { try await store.append([], to: "empty-1", expectedVersion: .any) }
        try await check.expectError(.exactly(.emptyAppend), "a multi-stream append of no parts") { try await store.append([]) }
        try await check.expectError(.exactly(.emptyAppend), "a multi-stream append with an empty part") {
            try await store.append([
                StreamAppend(stream: "empty-1", events: Sample.events(1)), StreamAppend(stream: "empty-2", events: []),
            ])
        }
        try check.expectEqual(try await store.lastPosition(), 0, "lastPosition after the refused appends")
    }

    static let duplicateIDs = ConformanceRule("an event id twice in one append is refused with duplicateEventID") { check in
        let store = try await check.freshStore()
        let event = Sample.event(number: 1)
        try await check.expectError(.exactly(.duplicateEventID(event.id)), "an append naming one id twice") {
            try await store.append([event, Sample.event(number: 2), event], to: "dup-1", expectedVersion: .any)
        }
        try await check.expectError(.exactly(.duplicateEventID(event.id)), "a multi-stream append naming one id in two parts") {
            try await store.append([
                StreamAppend(stream: "dup-1", events: [event]), StreamAppend(stream: "dup-2", events: [event]),
            ])
        }
        try check.expectEqual(try await store.lastPosition(), 0, "lastPosition after the refused appends")
    }
}
