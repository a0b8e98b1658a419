// Reads through the indexes: a stream's events without scanning the log, the
// whole log forward or backward from any position, filtered by type or category
// through the index's record table, and the first position at a point in time.
// Shared by the store's readers and by the writer (stream heads, idempotency).
import EventSourcing
import Foundation
import Synchronization

/// The log state shared by the store, its writer and its readers.
final class SharedLog: Sendable {
    let state: Mutex<LogState>
    /// Subscribers waiting for the visible end to move.
    let waiters: PositionWaiters
    /// Truncation and deletion of streams, applied to every read.
    let rules: StreamRulesBook
    /// Microseconds since 1970: event timestamps and age limits (tests pass their own).
    let wallClock: @Sendable () -> Int64
    /// Append calls of this process that have not returned yet: while there are
    /// any, reads yield the processor now and then (``yieldToAppends()``).
    let appendsInFlight = Atomic<Int>(0)
    /// Times a read yielded to appends (for tests).
    let readerYields = Atomic<Int>(0)

    /// Lets a waiting appender's thread run. With more runnable threads than cores,
    /// a thread woken for an append (the writer thread after its sync, an appender's
    /// task resumed on the cooperative pool) waits until a running reader's time
    /// slice ends, up to milliseconds, whatever the threads' priorities: the `mixed`
    /// benchmark row's appenders kept 0.2x of their solo rate against eight reader
    /// threads, about 0.5x when each reader yielded after each read. A yield ends the
    /// slice; with a core free it returns at once. Called by reads every
    /// ``ReadCourtesy`` interval, only while an append is in flight.
    func yieldToAppends() {
        guard appendsInFlight.load(ordering: .relaxed) > 0 else { return }
        Clock.yieldProcessor()
        readerYields.add(1, ordering: .relaxed)
    }

    init(state: LogState, rules: StreamRulesBook, wallClock: @escaping @Sendable () -> Int64 = Clock.wallMicroseconds) {
        self.state = Mutex(state)
        waiters = PositionWaiters(visibleEnd: state.visibleEnd)
        self.rules = rules
        self.wallClock = wallClock
    }
}

/// What the log knows of a stream's end.
struct StreamHead: Equatable {
    var version: UInt64
    /// Id of the stream's last event (recognises a retried `.any` append).
    var lastEventID: UUID?
}

/// Counts a read's records and, every `recordsPerYield` of them and at the end of
/// a read of a quarter of that, gives way to this process's appends
/// (``SharedLog/yieldToAppends()``): reads are the work that can wait.
struct ReadCourtesy {
    /// Stream reads: records read one `pread` each, about a microsecond apiece.
    static let streamRecordsPerYield = 64
    /// Whole-log reads: records scanned from large reads, a few hundred nanoseconds each.
    static let scannedRecordsPerYield = 256

    let shared: SharedLog?
    let recordsPerYield: Int
    private var sinceYield = 0

    /// `shared` nil: a read that never yields (the writer's own).
    init(_ shared: SharedLog?, recordsPerYield: Int) {
        self.shared = shared
        self.recordsPerYield = recordsPerYield
    }

    mutating func recordRead() {
        sinceYield += 1
        if sinceYield >= recordsPerYield { yield() }
    }

    mutating func finish() {
        if sinceYield * 4 >= recordsPerYield { yield() }
    }

    private mutating func yield() {
        sinceYield = 0
        shared?.yieldToAppends()
    }
}

/// Read operations over the visible log. Holds the state lock only to copy what a
/// read needs; all I/O happens after it is released.
struct LogReader: Sendable {
    let shared: SharedLog
    let fileSystem: any FileSystem

    // MARK: Streams

    /// The visible events of `stream`, from `version` in `direction`, at most `maxCount`.
    /// `yieldingToAppends`: an application's read, which gives way to appends
    /// (``ReadCourtesy``); not the writer's own.
    func readStream(
        _ stream: StreamName, from version: UInt64, direction: ReadDirection, maxCount: Int, includingHidden: Bool = false,
        yieldingToAppends: Bool = false
    ) throws -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        guard maxCount > 0 else { return events }
        // Truncated and deleted events are hidden from every read, at once (the
        // writer still sees them when it recognises a retried append).
        var version = version
        var lowest: UInt64 = 1
        var ageRule: StreamRule?
        if !includingHidden, let rule = shared.rules.rule(for: stream) {
            if rule.isHardDeleted { return events }
            let streamVersion = rule.maxCount > 0 ? try streamHead(stream)?.version ?? 0 : 0
            lowest = rule.lowestVisibleVersion(streamVersion: streamVersion)
            if rule.maxAgeMicroseconds > 0 { ageRule = rule }
            if direction == .forward { version = max(version, lowest) }
        }
        let now = shared.wallClock()
        var scanner = RecordScanner(fileSystem: fileSystem, capacity: 64 * 1024)
        var courtesy = ReadCourtesy(yieldingToAppends ? shared : nil, recordsPerYield: ReadCourtesy.streamRecordsPerYield)
        defer { courtesy.finish() }
        // Every event read has the stream's name (`belongs(to:)` compares the bytes).
        var names = RecordNames(stream: stream.rawValue)
        try forEachStreamLocation(stream, from: version, direction: direction) { location in
            if location.version < lowest { return true }
            courtesy.recordRead()
            let found = try read(location, scanner: &scanner) { view -> StreamRecord in
                guard view.belongs(to: stream) else { return .otherStream }
                if let ageRule, ageRule.isTooOld(timestampMicroseconds: view.timestampMicroseconds, nowMicroseconds: now) {
                    return .hidden
                }
                return .event(view.event(names: &names))
            }
            // Timestamps never decrease with version: going backward, every older event is too old as well.
            if case .hidden = found { return direction == .forward }
            guard case .event(let event) = found else { return true }  // another stream with the same hash
            if let previous = events.last {
                let expected = direction == .forward ? previous.version.rawValue + 1 : previous.version.rawValue - 1
                guard event.version.rawValue == expected else {
                    throw EventStoreError.corrupted(
                        file: location.segment.file.path, offset: location.offset,
                        reason: "stream '\(stream)' goes from version \(previous.version) to \(event.version) in the index")
                }
            }
            events.append(event)
            return events.count < maxCount
        }
        return events
    }

    /// What a stream read finds at an index entry.
    private enum StreamRecord {
        case event(RecordedEvent)
        /// Hidden by the stream's age limit.
        case hidden
        /// Another stream whose name has the same hash.
        case otherStream
    }

    /// The stream's version: its last event's (hidden ones included), or its rule's
    /// floor when that is higher (a hard-deleted stream compacted away, an imported
    /// truncated stream).
    func streamVersion(_ stream: StreamName) throws -> UInt64 {
        let rule = shared.rules.rule(for: stream)
        // A hard-deleted stream takes no more events: its version is fixed, no lookup needed.
        if let rule, rule.isHardDeleted { return rule.versionFloor }
        return max(try streamHead(stream)?.version ?? 0, rule?.versionFloor ?? 0)
    }

    /// The stream's last version and event id (hidden events included), or nil if it has no events.
    func streamHead(_ stream: StreamName) throws -> StreamHead? {
        var head: StreamHead?
        var scanner = RecordScanner(fileSystem: fileSystem, capacity: 64 * 1024)
        try forEachStreamLocation(stream, from: .max, direction: .backward) { location in
            head = try read(location, scanner: &scanner) { view -> StreamHead? in
                view.belongs(to: stream) ? StreamHead(version: view.version, lastEventID: view.id) : nil
            }
            return head == nil
        }
        return head
    }

    /// Calls `body` with the location of each indexed event whose stream hash is the
    /// stream's, in version order (`direction`), from `version`; `body` returns false
    /// to stop. Events of other streams with the same hash are included: the caller
    /// checks the name in the record.
    private func forEachStreamLocation(
        _ stream: StreamName, from version: UInt64, direction: ReadDirection, _ body: (RecordLocation) throws -> Bool
    ) throws {
        let hash = StreamHash.of(stream.rawValue)
        let (sealed, active) = shared.state.withLock { state in
            (state.sealed, state.active.map { ($0.segment, $0.index.streamEntries(hash: hash), $0.index.recordsEnd) })
        }
        func visit(_ entries: [IndexStreamEntry], _ segment: Segment, _ recordsEnd: UInt64) throws -> Bool {
            let ordered = direction == .forward ? entries : entries.reversed()
            for entry in ordered {
                if direction == .forward ? entry.version < version : entry.version > version { continue }
                let location = RecordLocation(
                    segment: segment, offset: UInt64(entry.offset), recordsEnd: recordsEnd,
                    position: segment.firstPosition + UInt64(entry.recordIndex), version: entry.version)
                if try !body(location) { return false }
            }
            return true
        }
        switch direction {
        case .forward:
            for entry in sealed where try !visit(try entry.index.streamEntries(hash: hash), entry.segment, entry.recordsEnd) {
                return
            }
            if let (segment, entries, end) = active { _ = try visit(entries, segment, end) }
        case .backward:
            if let (segment, entries, end) = active, try !visit(entries, segment, end) { return }
            for entry in sealed.reversed() where try !visit(try entry.index.streamEntries(hash: hash), entry.segment, entry.recordsEnd) {
                return
            }
        }
    }

    /// Reads and verifies the record at `location`.
    func read<R>(_ location: RecordLocation, scanner: inout RecordScanner, _ body: (RecordView) throws -> R) throws -> R {
        let result = try scanner.readRecord(
            location.segment.file, at: location.offset, end: location.recordsEnd, position: location.position
        ) { view -> R? in
            guard location.version == 0 || view.version == location.version else { return nil }
            return try body(view)
        }
        switch result {
        case .success(let value?): return value
        case .success(nil):
            throw EventStoreError.corrupted(
                file: location.segment.file.path, offset: location.offset,
                reason: "the record at position \(location.position) is not version \(location.version) as the index says")
        case .failure(let failure):
            throw EventStoreError.corrupted(file: location.segment.file.path, offset: location.offset, reason: failure.reason)
        }
    }

    // MARK: The whole log

    /// Calls `body` with each visible record from `position` in `direction` that
    /// passes `filter`, at most `maxCount`, in the read buffer: nothing is copied or
    /// decoded that `body` does not ask for, and the view is valid only during the
    /// call; `body` returns false to stop early. Types and categories are narrowed
    /// through the index before any record is read. Gives way to appends
    /// (``ReadCourtesy``): only applications' reads come here.
    func forEachRecord(
        from position: UInt64, direction: ReadDirection, maxCount: Int, filter: EventFilter,
        _ body: (RecordView) throws -> Bool
    ) throws {
        guard maxCount > 0 else { return }
        let plan = shared.state.withLock { ReadAllPlan(state: $0, shared: shared, from: position, direction: direction) }
        var scanner = RecordScanner(fileSystem: fileSystem)
        let rules = shared.rules.isEmpty ? nil : shared.rules.all
        var delivery = WholeLogDelivery(
            reader: self, filter: filter, rules: rules, nowMicroseconds: shared.wallClock(), remaining: maxCount,
            courtesy: ReadCourtesy(shared, recordsPerYield: ReadCourtesy.scannedRecordsPerYield))
        defer { delivery.courtesy.finish() }
        for part in plan.parts {
            let candidates = try part.candidates(filter)
            switch direction {
            case .forward:
                if let candidates {
                    let wanted = candidates.filter { $0 >= part.startRecord }
                    for chunk in stride(from: 0, to: wanted.count, by: 4_096) {
                        let records = Array(wanted[chunk..<min(chunk + 4_096, wanted.count)])
                        if try !readRecords(records, of: part, scanner: &scanner, { try delivery.deliver($0, to: body) }) { return }
                    }
                } else {
                    guard let startOffset = try part.firstPresentOffset(from: part.startRecord) else { continue }
                    var failure: (any Error)?
                    let stop = try scanner.scan(
                        part.segment.file, from: UInt64(startOffset), to: part.recordsEnd, firstPosition: part.startPosition,
                        allowingGaps: part.segment.isCompacted
                    ) { view, _ in
                        do { return try delivery.deliver(view, to: body) } catch { failure = error; return false }
                    }
                    if let failure { throw failure }
                    if case .stopped = stop { return }
                    guard case .reachedEnd = stop else {
                        throw EventStoreError.corrupted(file: part.segment.file.path, offset: stop.offset, reason: SegmentReader.reason(of: stop))
                    }
                }
            case .backward:
                let wanted = Array((candidates ?? Array(0...part.startRecord)).filter { $0 <= part.startRecord }.reversed())
                // Offsets in bounded chunks, so a backward read of a large segment
                // does not hold every offset at once.
                for chunk in stride(from: 0, to: wanted.count, by: 4_096) {
                    let records = Array(wanted[chunk..<min(chunk + 4_096, wanted.count)])
                    if try !readRecords(records, of: part, scanner: &scanner, { try delivery.deliver($0, to: body) }) { return }
                }
            }
        }
    }

    /// Reads the given records of a segment in the given order; false once `deliver` asks to stop.
    private func readRecords(
        _ records: [Int], of part: ReadAllPlan.Part, scanner: inout RecordScanner, _ deliver: (RecordView) throws -> Bool
    ) throws -> Bool {
        let offsets = try part.offsets(for: records)
        for (record, offset) in zip(records, offsets) where offset != IndexRecord.removedOffset || !part.segment.isCompacted {
            let location = RecordLocation(
                segment: part.segment, offset: UInt64(offset), recordsEnd: part.recordsEnd,
                position: part.segment.firstPosition + UInt64(record), version: 0)
            if try !read(location, scanner: &scanner, deliver) { return false }
        }
        return true
    }

    /// The first visible position whose event was appended at or after `timestamp`.
    func firstPosition(atOrAfter timestamp: Int64) throws -> UInt64? {
        let plan = shared.state.withLock { ReadAllPlan(state: $0, shared: shared, from: 1, direction: .forward) }
        var scanner = RecordScanner(fileSystem: fileSystem)
        for part in plan.parts {
            if let last = try part.lastTimestamp(), last < timestamp { continue }
            let start = try part.timeSearchStart(timestamp)
            guard let offset = try part.firstPresentOffset(from: start) else { continue }
            var found: UInt64?
            _ = try scanner.scan(
                part.segment.file, from: UInt64(offset), to: part.recordsEnd,
                firstPosition: part.segment.firstPosition + UInt64(start), allowingGaps: part.segment.isCompacted
            ) { view, _ in
                if view.timestampMicroseconds >= timestamp { found = view.position }
                return found == nil
            }
            if let found { return found }
        }
        return nil
    }
}

/// The segments a whole-log read visits, copied out of the state under its lock.
/// The active segment's in-memory index is not copied: it is asked under the lock
/// for just the offsets a read needs (it only grows, so what was visible stays valid).
struct ReadAllPlan {
    struct Part {
        let segment: Segment
        let recordsEnd: UInt64
        /// Where the read starts: the first position (forward) or the last (backward).
        let startPosition: UInt64
        let lastPosition: UInt64
        let source: Source

        enum Source {
            case sealed(SealedIndex)
            case active(SharedLog)
        }

        var startRecord: Int { Int(startPosition - segment.firstPosition) }
        var recordCount: Int { Int(lastPosition + 1 - segment.firstPosition) }

        /// Asks this segment's index: while the segment is active, its in-memory index
        /// under the state lock (never copied out: the writer keeps appending to it);
        /// once sealed (perhaps since the read was planned), its sealed index.
        private func ask<R>(
            _ shared: SharedLog, memory: (MemoryIndex) -> R, sealed: (SealedIndex) throws -> R
        ) throws -> R {
            let answer = shared.state.withLock { state -> (R?, SealedIndex?) in
                if let active = state.active, active.segment === segment { return (memory(active.index), nil) }
                return (nil, state.sealed.last { $0.segment === segment }?.index ?? segment.indexWhenSealed.withLock { $0 })
            }
            if let result = answer.0 { return result }
            guard let index = answer.1 else {
                throw EventStoreError.corrupted(file: segment.file.path, offset: 0, reason: "segment is no longer in the log")
            }
            return try sealed(index)
        }

        func offsets(for records: [Int]) throws -> [UInt32] {
            guard let first = records.min(), let last = records.max() else { return [] }
            let fromSealed = { (index: SealedIndex) throws -> [UInt32] in
                let span = try index.offsets(first..<(last + 1))
                return records.map { span[$0 - first] }
            }
            switch source {
            case .sealed(let index): return try fromSealed(index)
            case .active(let shared):
                let offsets = try ask(shared, memory: { index in
                    records.map { $0 < index.recordCount ? index.records[$0].offset : 0 }
                }, sealed: fromSealed)
                guard !offsets.contains(0) else {
                    throw EventStoreError.corrupted(file: segment.file.path, offset: 0, reason: "record index past the segment's records")
                }
                return offsets
            }
        }

        /// The offset of the first record present at or after record index `start`
        /// (nil: none in this segment). Only a compacted segment has removed records.
        func firstPresentOffset(from start: Int) throws -> UInt32? {
            guard segment.isCompacted else { return try offsets(for: [start])[0] }
            let chunk = IndexLayout.recordBlockEntries
            for first in stride(from: start, to: recordCount, by: chunk) {
                let offsets = try offsets(for: Array(first..<min(first + chunk, recordCount)))
                if let offset = offsets.first(where: { $0 != IndexRecord.removedOffset }) { return offset }
            }
            return nil
        }

        /// Record indexes below `recordCount` that may pass `filter`, or nil for all.
        func candidates(_ filter: EventFilter) throws -> [Int]? {
            let matches: [Int]?
            switch source {
            case .sealed(let index): matches = try index.recordIndexes(matching: filter, from: 0)
            case .active(let shared):
                matches = try ask(
                    shared, memory: { $0.recordIndexes(matching: filter, from: 0) },
                    sealed: { try $0.recordIndexes(matching: filter, from: 0) })
            }
            return matches?.filter { $0 < recordCount }
        }

        func timeSearchStart(_ timestamp: Int64) throws -> Int {
            switch source {
            case .sealed(let index): try index.timeSearchStart(atOrAfter: timestamp)
            case .active(let shared):
                try ask(
                    shared, memory: { $0.timeSearchStart(atOrAfter: timestamp) },
                    sealed: { try $0.timeSearchStart(atOrAfter: timestamp) })
            }
        }

        /// A sealed segment's last record's timestamp (the active segment's is not looked up).
        func lastTimestamp() throws -> Int64? {
            if case .sealed(let index) = source { return try index.lastTimestamp() }
            return nil
        }
    }

    var parts: [Part] = []

    init(state: LogState, shared: SharedLog, from position: UInt64, direction: ReadDirection) {
        let end = state.visibleEnd
        guard end >= 1, !(direction == .forward && position > end) else { return }
        let start = max(1, min(position, end))
        var all = state.sealed.map { entry in
            (entry.segment, entry.recordsEnd, entry.lastPosition, Part.Source.sealed(entry.index))
        }
        if let active = state.active, active.index.recordCount > 0 {
            all.append((active.segment, active.index.recordsEnd, active.index.lastPosition, .active(shared)))
        }
        switch direction {
        case .forward:
            parts = all.filter { $0.2 >= start }.map { segment, end, last, source in
                Part(segment: segment, recordsEnd: end, startPosition: max(start, segment.firstPosition), lastPosition: last, source: source)
            }
        case .backward:
            parts = all.filter { $0.0.firstPosition <= start }.reversed().map { segment, end, last, source in
                Part(segment: segment, recordsEnd: end, startPosition: min(start, last), lastPosition: last, source: source)
            }
        }
    }
}

/// What a whole-log read does with each record it meets: the filter, the streams'
/// rules (hidden events), the count, and giving way to appends. A struct with a
/// mutating method rather than a local function over local variables: those
/// variables, captured by the closures a read passes down, cost Swift's run-time
/// exclusivity checks on every access (three per event).
private struct WholeLogDelivery {
    let reader: LogReader
    let filter: EventFilter
    let rules: [StreamName: StreamRule]?
    let nowMicroseconds: Int64
    var remaining: Int
    var courtesy: ReadCourtesy
    /// Stream versions for count limits, looked up once per stream and read.
    private var streamVersions: [StreamName: UInt64] = [:]
    /// Names are decoded only when a filter or a stream rule needs them.
    private let needsNames: Bool

    init(
        reader: LogReader, filter: EventFilter, rules: [StreamName: StreamRule]?, nowMicroseconds: Int64, remaining: Int,
        courtesy: ReadCourtesy
    ) {
        self.reader = reader
        self.filter = filter
        self.rules = rules
        self.nowMicroseconds = nowMicroseconds
        self.remaining = remaining
        self.courtesy = courtesy
        needsNames = rules != nil || filter != .all
    }

    /// Hands `view` to `body` unless the filter or a rule hides it; false once the
    /// read is to stop (`body` said so, or `maxCount` events were delivered).
    mutating func deliver(_ view: RecordView, to body: (RecordView) throws -> Bool) throws -> Bool {
        if needsNames {
            let stream = StreamName(unchecked: view.streamName)
            if !filter.streams.isEmpty && !filter.streams.contains(stream) { return true }
            if !filter.categories.isEmpty && !filter.categories.contains(stream.category) { return true }
            if !filter.eventTypes.isEmpty && !filter.eventTypes.contains(view.type) { return true }
            if let rules, let rule = rules[stream] {
                var streamVersion: UInt64 = 0
                if rule.maxCount > 0 {
                    if let known = streamVersions[stream] {
                        streamVersion = known
                    } else {
                        streamVersion = try reader.streamHead(stream)?.version ?? 0
                        streamVersions[stream] = streamVersion
                    }
                }
                if rule.hides(
                    version: view.version, timestampMicroseconds: view.timestampMicroseconds, streamVersion: streamVersion,
                    nowMicroseconds: nowMicroseconds)
                {
                    return true
                }
            }
        }
        remaining -= 1
        courtesy.recordRead()
        return try body(view) && remaining > 0
    }
}
