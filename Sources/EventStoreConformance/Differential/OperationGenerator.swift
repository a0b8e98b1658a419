// Picks the next operation from a seeded generator, steering by what the
// reference store has answered so far (stream versions, tombstones, recent
// calls to retry), so that every rule gets exercised on both its accepting
// and its refusing side. It keeps to behaviour the protocol pins down: no
// deletion of a stream without events, no truncation past a stream's next
// version, no snapshot of a version a stream does not have.
import EventSourcing
import Foundation

struct OperationGenerator {
    private var random: SeededRandomNumberGenerator
    private var streams: [StreamName] = []
    private var versions: [StreamName: UInt64] = [:]
    private var tombstoned: Set<StreamName> = []
    /// The latest calls (bounded), for retries; the newest is last.
    private var recentCalls: [[StreamAppend]] = []
    private var lastPosition: UInt64 = 0
    private var eventNumber = 0
    private static let recentCallsMax = 32
    private static let eventTypes = ["Created", "Added", "Removed", "Paid", "Shipped"]

    init(seed: UInt64) {
        random = SeededRandomNumberGenerator(seed: seed)
        for index in 0..<8 { streams.append(StreamName(unchecked: (index % 2 == 0 ? "order-" : "cart-") + String(index))) }
    }

    /// Every stream name used so far (for the final full comparison).
    var streamNames: [StreamName] { streams }

    mutating func next(index: Int) -> DifferentialOperation {
        // The pool grows so that hard deletes do not use it up.
        if index > 0 && index % 100 == 0 { streams.append(StreamName(unchecked: "order-\(streams.count)")) }
        let roll = Int.random(in: 0..<1_000, using: &random)
        switch roll {
        case ..<330: return .append(freshPart(on: pickStreamForAppend()))
        case ..<400: return retry()
        case ..<440: return partialRetry()
        case ..<540: return multiStream()
        case ..<570: return invalid()
        case ..<700:
            let stream = Int.random(in: 0..<10, using: &random) == 0 ? StreamName(unchecked: "never-\(roll % 3)") : pickStream()
            let version = versions[stream] ?? 0
            let from = StreamVersion(start(upTo: version + 2, end: StreamVersion.end.rawValue))
            return .readStream(stream, from: from, direction: direction(), maxCount: maxCount())
        case ..<800:
            let from = GlobalPosition(start(upTo: lastPosition + 2, end: GlobalPosition.end.rawValue))
            return .readAll(from: from, direction: direction(), maxCount: maxCount())
        case ..<830: return .streamVersion(pickStream())
        case ..<840: return .streamMetadata(pickStream())
        case ..<860: return .lastPosition
        case ..<870: return .firstPositionAtTheEdgesOfTime
        case ..<910:
            let stream = pickStream()
            let version = versions[stream] ?? 0
            guard version > 0 else { return .streamVersion(stream) }
            return .deleteStream(stream, expectedVersion(current: version), hard: Int.random(in: 0..<100, using: &random) < 8)
        case ..<925:
            // Count limits only: age limits depend on each store's own clock.
            let stream = pickStream()
            let maxCount = Int.random(in: 0..<4, using: &random) == 0 ? nil : Int.random(in: 0...6, using: &random)
            return .setStreamMetadata(stream, StreamMetadata(maxCount: maxCount))
        case ..<940:
            let stream = pickStream()
            return .truncateStream(stream, before: StreamVersion(UInt64.random(in: 0...((versions[stream] ?? 0) + 1), using: &random)))
        case ..<970:
            let stream = pickStream()
            let version = versions[stream] ?? 0
            guard version > 0, !tombstoned.contains(stream) else { return .loadSnapshot(stream) }
            let state = Data((0..<Int.random(in: 0...16, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
            return .saveSnapshot(Snapshot(
                stream: stream, version: StreamVersion(UInt64.random(in: 1...version, using: &random)),
                schemaVersion: Int.random(in: 1...3, using: &random), state: state))
        default: return .loadSnapshot(pickStream())
        }
    }

    /// Learns from the reference store's answer.
    mutating func observe(_ operation: DifferentialOperation, _ outcome: DifferentialOutcome) {
        switch (operation, outcome) {
        case (.append(let part), .appended(let results)): record([part], results)
        case (.appendMultiple(let parts), .appended(let results)): record(parts, results)
        case (.deleteStream(let stream, _, true), .done): tombstoned.insert(stream)
        default: break
        }
    }

    private mutating func record(_ parts: [StreamAppend], _ results: [AppendResult]) {
        for (part, result) in zip(parts, results) {
            versions[part.stream] = max(versions[part.stream] ?? 0, result.nextExpectedVersion.rawValue)
            lastPosition = max(lastPosition, result.lastPosition.rawValue)
        }
        recentCalls.append(parts)
        if recentCalls.count > Self.recentCallsMax { recentCalls.removeFirst() }
    }

    // MARK: Choices

    private mutating func pickStream() -> StreamName { streams[Int.random(in: 0..<streams.count, using: &random)] }

    /// Mostly a stream that still takes appends: a tombstone answers every append
    /// the same way, so it needs only an occasional visit.
    private mutating func pickStreamForAppend() -> StreamName {
        let live = streams.filter { !tombstoned.contains($0) }
        guard !live.isEmpty, Int.random(in: 0..<10, using: &random) > 0 else { return pickStream() }
        return live[Int.random(in: 0..<live.count, using: &random)]
    }

    /// Where a read starts: mostly inside the range, sometimes at its edges (0, 1, the end marker).
    private mutating func start(upTo high: UInt64, end: UInt64) -> UInt64 {
        switch Int.random(in: 0..<6, using: &random) {
        case 0: 0
        case 1: 1
        case 2: end
        default: UInt64.random(in: 1...high, using: &random)
        }
    }

    private mutating func direction() -> ReadDirection { Bool.random(using: &random) ? .forward : .backward }

    private mutating func maxCount() -> Int { [0, 1, 2, 3, 5, 100, .max][Int.random(in: 0..<7, using: &random)] }

    /// Right and wrong expectations for a stream at `current`.
    private mutating func expectedVersion(current: UInt64) -> ExpectedVersion {
        switch Int.random(in: 0..<100, using: &random) {
        case ..<20: return .any
        case ..<35: return .noStream
        case ..<50: return .streamExists
        case ..<85: return .exact(StreamVersion(current))
        default:
            let wrong = current > 0 && Bool.random(using: &random)
                ? UInt64.random(in: 0..<current, using: &random) : current + UInt64.random(in: 1...3, using: &random)
            return .exact(StreamVersion(wrong))
        }
    }

    private mutating func freshEvent() -> EventData {
        eventNumber += 1
        let id = UUID(uuid: withUnsafeBytes(of: (random.next(), random.next())) { $0.load(as: uuid_t.self) })
        let type = Self.eventTypes[Int.random(in: 0..<Self.eventTypes.count, using: &random)]
        let binary = Int.random(in: 0..<10, using: &random) == 0
        let data = binary ? Data((0..<8).map { _ in UInt8.random(in: 0...255, using: &random) }) : Data(#"{"n":\#(eventNumber)}"#.utf8)
        let metadata = Bool.random(using: &random) ? Data(#"{"m":\#(eventNumber % 7)}"#.utf8) : Data()
        let correlation = Bool.random(using: &random) ? UUID(uuid: withUnsafeBytes(of: (random.next(), random.next())) { $0.load(as: uuid_t.self) }) : nil
        return EventData(id: id, type: type, data: data, metadata: metadata, isJSON: !binary, correlationID: correlation, causationID: nil)
    }

    private mutating func freshPart(on stream: StreamName) -> StreamAppend {
        let count = Int.random(in: 1...4, using: &random)
        return StreamAppend(
            stream: stream, expectedVersion: expectedVersion(current: versions[stream] ?? 0),
            events: (0..<count).map { _ in freshEvent() })
    }

    private mutating func retry() -> DifferentialOperation {
        guard !recentCalls.isEmpty else { return .append(freshPart(on: pickStream())) }
        let call = Bool.random(using: &random) ? recentCalls[recentCalls.count - 1] : recentCalls[Int.random(in: 0..<recentCalls.count, using: &random)]
        return call.count == 1 ? .append(call[0]) : .appendMultiple(call)
    }

    /// An earlier call with its ids partly changed: a conflict, or a wrong version.
    private mutating func partialRetry() -> DifferentialOperation {
        guard let call = recentCalls.randomElement(using: &random) else { return .append(freshPart(on: pickStream())) }
        var parts = call
        let partIndex = Int.random(in: 0..<parts.count, using: &random)
        var events = parts[partIndex].events
        switch Int.random(in: 0..<3, using: &random) {
        case 0: events[Int.random(in: 0..<events.count, using: &random)] = freshEvent()
        case 1: events.append(freshEvent())
        default:
            if events.count > 1 { events.removeFirst() } else { events.insert(freshEvent(), at: 0) }
        }
        parts[partIndex].events = events
        if parts.count == 1 && Bool.random(using: &random) {
            // The same call as a new part next to a fresh one.
            parts.append(freshPart(on: StreamName(unchecked: "cart-\(streams.count + 100)")))
        }
        return parts.count == 1 ? .append(parts[0]) : .appendMultiple(parts)
    }

    private mutating func multiStream() -> DifferentialOperation {
        var chosen: [StreamName] = []
        let count = Int.random(in: 2...3, using: &random)
        while chosen.count < count {
            let stream = pickStreamForAppend()
            if !chosen.contains(stream) { chosen.append(stream) }
        }
        if Int.random(in: 0..<10, using: &random) == 0 { chosen.append(chosen[0]) }  // invalidArgument
        return .appendMultiple(chosen.map { freshPart(on: $0) })
    }

    private mutating func invalid() -> DifferentialOperation {
        let stream = pickStream()
        var part = freshPart(on: stream)
        switch Int.random(in: 0..<5, using: &random) {
        case 0: part.events = []
        case 1: return .appendMultiple([])
        case 2: part.events.append(part.events[0])
        case 3: part.events[0].type = ""
        default: part.events[part.events.count - 1].type = "tab\there"
        }
        return .append(part)
    }
}
