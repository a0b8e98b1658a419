// How `import` groups events into append calls. One call per event would cost a
// round trip to the writer each; one call for everything would hold the whole
// input in memory. So consecutive events of a stream share one part, parts of
// different streams share a call, and a call is bounded in events and bytes.
import EventSourcing

/// The events of one append call of an import, in input order.
struct ImportBatch {
    /// The most events in one call.
    static let maxEvents = 1_000
    /// The most data plus metadata bytes in one call (one larger event goes alone).
    static let maxPayloadBytes = 8 * 1024 * 1024

    /// One part per run of consecutive events of a stream; each expects the
    /// version before its first event, so versions come out as they went in.
    private(set) var parts: [StreamAppend] = []
    private(set) var eventCount = 0
    /// Streams whose first event (version 1) is in the batch.
    private(set) var newStreams = 0
    private var streams: Set<StreamName> = []
    private var payloadBytes = 0
    private var lastVersion: UInt64 = 0
    private var firstLine = 0
    private var lastLine = 0

    var isEmpty: Bool { eventCount == 0 }

    /// "line 7" or "lines 3...9": where the batch's events came from, for errors.
    var lines: String { firstLine == lastLine ? "line \(firstLine)" : "lines \(firstLine)...\(lastLine)" }

    /// Whether `item` can join this call. A stream may appear only once per call,
    /// so a stream seen earlier in it, or a gap in a stream's versions, needs a new call.
    func canTake(_ item: ImportedEvent) -> Bool {
        if isEmpty { return true }
        guard eventCount < Self.maxEvents, payloadBytes + item.event.payloadBytes <= Self.maxPayloadBytes else { return false }
        if let last = parts.last, last.stream == item.stream { return item.version == lastVersion + 1 }
        return !streams.contains(item.stream)
    }

    mutating func add(_ item: ImportedEvent, line: Int) {
        precondition(canTake(item), "an import batch was given an event it cannot take")
        if let last = parts.last, last.stream == item.stream {
            parts[parts.count - 1].events.append(item.event)
        } else {
            parts.append(StreamAppend(
                stream: item.stream, expectedVersion: .exact(StreamVersion(item.version - 1)), events: [item.event]))
            streams.insert(item.stream)
        }
        if isEmpty { firstLine = line }
        lastLine = line
        lastVersion = item.version
        eventCount += 1
        payloadBytes += item.event.payloadBytes
        if item.version == 1 { newStreams += 1 }
    }
}
