// The operations the differential runner sends to both stores, and how each
// one is performed. Timestamps are the only thing two correct stores may
// answer differently, so they are zeroed before answers are compared.
import EventSourcing
import Foundation

/// One call made to both stores.
enum DifferentialOperation: Sendable, CustomStringConvertible {
    case append(StreamAppend)
    case appendMultiple([StreamAppend])
    case readStream(StreamName, from: StreamVersion, direction: ReadDirection, maxCount: Int)
    case readAll(from: GlobalPosition, direction: ReadDirection, maxCount: Int)
    case streamVersion(StreamName)
    case lastPosition
    /// `firstPosition(atOrAfter:)` at the two times every store answers alike.
    case firstPositionAtTheEdgesOfTime
    case deleteStream(StreamName, ExpectedVersion, hard: Bool)
    case truncateStream(StreamName, before: StreamVersion)
    case setStreamMetadata(StreamName, StreamMetadata)
    case streamMetadata(StreamName)
    case saveSnapshot(Snapshot)
    case loadSnapshot(StreamName)
    /// Everything readable: the log both ways and every stream named so far both ways.
    case readEverything([StreamName])

    /// A short name for counting operations by kind.
    var kind: String {
        switch self {
        case .append: "append"
        case .appendMultiple: "appendMultiple"
        case .readStream: "readStream"
        case .readAll: "readAll"
        case .streamVersion: "streamVersion"
        case .lastPosition: "lastPosition"
        case .firstPositionAtTheEdgesOfTime: "firstPosition"
        case .deleteStream(_, _, let hard): hard ? "hardDelete" : "softDelete"
        case .truncateStream: "truncateStream"
        case .setStreamMetadata: "setStreamMetadata"
        case .streamMetadata: "streamMetadata"
        case .saveSnapshot: "saveSnapshot"
        case .loadSnapshot: "loadSnapshot"
        case .readEverything: "readEverything"
        }
    }

    var description: String {
        switch self {
        case .append(let part): "append(\(Self.describe(part)))"
        case .appendMultiple(let parts): "append([\(parts.map(Self.describe).joined(separator: ", "))])"
        case .readStream(let stream, let from, let direction, let maxCount):
            "readStream(\(stream), from: \(from == .end ? "end" : from.description), \(direction), maxCount: \(maxCount == .max ? "max" : String(maxCount)))"
        case .readAll(let from, let direction, let maxCount):
            "readAll(from: \(from == .end ? "end" : from.description), \(direction), maxCount: \(maxCount == .max ? "max" : String(maxCount)))"
        case .streamVersion(let stream): "streamVersion(\(stream))"
        case .lastPosition: "lastPosition()"
        case .firstPositionAtTheEdgesOfTime: "firstPosition(atOrAfter: distantPast / distantFuture)"
        case .deleteStream(let stream, let expected, let hard): "deleteStream(\(stream), expectedVersion: \(expected), hard: \(hard))"
        case .truncateStream(let stream, let before): "truncateStream(\(stream), before: \(before))"
        case .setStreamMetadata(let stream, let metadata): "setStreamMetadata(\(metadata), for: \(stream))"
        case .streamMetadata(let stream): "streamMetadata(of: \(stream))"
        case .saveSnapshot(let snapshot): "saveSnapshot(\(snapshot.stream) at \(snapshot.version), \(snapshot.state.count) bytes)"
        case .loadSnapshot(let stream): "loadSnapshot(of: \(stream))"
        case .readEverything(let streams): "read everything (the log and \(streams.count) streams, both ways)"
        }
    }

    private static func describe(_ part: StreamAppend) -> String {
        let ids = part.events.map { String($0.id.uuidString.prefix(8)) }.joined(separator: ",")
        return "\(part.stream) @\(part.expectedVersion) [\(part.events.count): \(ids)]"
    }

    /// Performs the operation and reduces the answer to what must agree.
    func perform(on store: any EventStore) async -> DifferentialOutcome {
        do {
            switch self {
            case .append(let part):
                return .appended([try await store.append(part.events, to: part.stream, expectedVersion: part.expectedVersion)])
            case .appendMultiple(let parts):
                return .appended(try await store.append(parts))
            case .readStream(let stream, let from, let direction, let maxCount):
                return .events(try await store.readStream(stream, from: from, direction: direction, maxCount: maxCount).map(Self.timeless))
            case .readAll(let from, let direction, let maxCount):
                return .events(try await store.readAll(from: from, direction: direction, maxCount: maxCount).map(Self.timeless))
            case .streamVersion(let stream):
                return .version(try await store.streamVersion(stream))
            case .lastPosition:
                return .position(try await store.lastPosition())
            case .firstPositionAtTheEdgesOfTime:
                return .positions([
                    try await store.firstPosition(atOrAfter: .distantPast),
                    try await store.firstPosition(atOrAfter: .distantFuture),
                ])
            case .deleteStream(let stream, let expected, let hard):
                try await store.deleteStream(stream, expectedVersion: expected, hard: hard)
                return .done
            case .truncateStream(let stream, let before):
                try await store.truncateStream(stream, before: before)
                return .done
            case .setStreamMetadata(let stream, let metadata):
                try await store.setStreamMetadata(metadata, for: stream)
                return .done
            case .streamMetadata(let stream):
                return .metadata(try await store.streamMetadata(of: stream))
            case .saveSnapshot(let snapshot):
                try await store.saveSnapshot(snapshot)
                return .done
            case .loadSnapshot(let stream):
                return .snapshot(try await store.loadSnapshot(of: stream))
            case .readEverything(let streams):
                var events = try await store.readWholeLog().map(Self.timeless)
                events += try await store.readAll(from: .end, direction: .backward, maxCount: .max).map(Self.timeless)
                for stream in streams {
                    events += try await store.readWholeStream(stream).map(Self.timeless)
                    events += try await store.readStream(stream, from: .end, direction: .backward, maxCount: .max).map(Self.timeless)
                }
                return .events(events)
            }
        } catch let error as EventStoreError {
            return .failed(caseName: error.caseName, message: error.description)
        } catch {
            return .failed(caseName: String(describing: type(of: error)), message: String(describing: error))
        }
    }

    private static func timeless(_ event: RecordedEvent) -> RecordedEvent {
        var event = event
        event.timestampMicroseconds = 0
        return event
    }
}

/// A store's answer to one operation.
enum DifferentialOutcome: Equatable, CustomStringConvertible {
    case appended([AppendResult])
    case events([RecordedEvent])
    case version(StreamVersion)
    case position(GlobalPosition)
    case positions([GlobalPosition?])
    case snapshot(Snapshot?)
    case metadata(StreamMetadata)
    case done
    /// Errors agree when their cases do; messages are each store's own wording.
    case failed(caseName: String, message: String)

    static func == (a: Self, b: Self) -> Bool {
        switch (a, b) {
        case (.appended(let x), .appended(let y)): x == y
        case (.events(let x), .events(let y)): x == y
        case (.version(let x), .version(let y)): x == y
        case (.position(let x), .position(let y)): x == y
        case (.positions(let x), .positions(let y)): x == y
        case (.snapshot(let x), .snapshot(let y)): x == y
        case (.metadata(let x), .metadata(let y)): x == y
        case (.done, .done): true
        case (.failed(let x, _), .failed(let y, _)): x == y
        default: false
        }
    }

    /// The outcome's kind, for counting what a run exercised.
    var kind: String {
        switch self {
        case .failed(let caseName, _): caseName
        case .appended(let results): results.count == 1 ? "appended" : "appendedMultiple"
        case .events(let events): events.isEmpty ? "readNothing" : "readEvents"
        default: "answered"
        }
    }

    var description: String {
        switch self {
        case .appended(let results):
            "appended " + results.map { "v\($0.nextExpectedVersion) @\($0.firstPosition)...\($0.lastPosition)" }.joined(separator: ", ")
        case .events(let events):
            "\(events.count) events" + (events.isEmpty ? "" : ": " + events.prefix(6).map(Self.describe).joined(separator: ", ") + (events.count > 6 ? ", …" : ""))
        case .version(let version): "version \(version)"
        case .position(let position): "position \(position)"
        case .positions(let positions): "positions \(positions.map { $0?.description ?? "nil" })"
        case .snapshot(let snapshot): snapshot.map { "snapshot at \($0.version), schema \($0.schemaVersion), \($0.state.count) bytes" } ?? "no snapshot"
        case .metadata(let metadata): "metadata: \(metadata)"
        case .done: "done"
        case .failed(let caseName, let message): "\(caseName) error: \(message)"
        }
    }

    /// Where `self` and `other` first differ, when both are event lists.
    func firstDifference(from other: Self) -> String? {
        guard case .events(let mine) = self, case .events(let theirs) = other else { return nil }
        for index in 0..<max(mine.count, theirs.count) {
            let a = index < mine.count ? Self.describe(mine[index]) : "nothing"
            let b = index < theirs.count ? Self.describe(theirs[index]) : "nothing"
            if index >= mine.count || index >= theirs.count || mine[index] != theirs[index] {
                return "event #\(index): \(a) vs \(b)"
            }
        }
        return nil
    }

    private static func describe(_ event: RecordedEvent) -> String {
        "\(event.position)=\(event.stream):\(event.version) \(event.type) \(event.id.uuidString.prefix(8))"
    }
}
