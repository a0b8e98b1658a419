// `eventlog read`: print events as JSON lines, from the whole log or one stream,
// oldest or newest first, narrowed by category, type and time. Opens the store
// read-only, so it works beside a running writer, and prints in pages, so a
// store of any size prints in constant memory.
import EventLog
import EventSourcing

enum ReadCommand {
    static let spec = CommandSpec(
        name: "read",
        summary: "Print events as JSON lines, from the whole log or from one stream.",
        usage: """
            eventlog read --store DIR [--stream NAME] [--from N] [--limit N] [--backward]
                                 [--category C] [--type T] [--since TIME] [--until TIME]
            """,
        details: [
            """
            Flags:
              --store DIR     the store folder (opened read-only: works while another process writes)
              --stream NAME   read only this stream (default, or $all: the whole log in position order)
              --from N        first global position, or with --stream the first stream version
                              (default 1, or the last one with --backward)
              --limit N       print at most N events (default: all)
              --backward      newest first: from the last event (or --from) down
              --category C    only events of streams in category C (the name before the first '-');
                              not with --stream
              --type T        only events of type T
              --since TIME    only events appended at or after TIME, in ISO 8601: a date (its midnight
                              UTC) or a time with Z or an offset, e.g. 2026-11-23, 2026-11-23T03:34:55Z,
                              2026-11-23T04:34:55.250+01:00 (to the microsecond)
              --until TIME    only events appended at or before TIME (same forms); a forward read
                              stops at the first event after it
            """,
            """
            Output: one JSON object per event, keys in this order:
              {"position":1,"stream":"order-1","version":1,"id":"UUID","type":"OrderCreated",
               "timestamp":"2026-11-23T03:34:55.123456Z","data":{...},"metadata":{...}}
            data is the stored JSON, or a base64 string for non-JSON data; metadata is {} when empty.
            """,
        ],
        examples: [
            "eventlog read --store ./events --stream order-1001",
            "eventlog read --store ./events --from 1000 --limit 50",
            "eventlog read --store ./events --backward --limit 10 --category order --type OrderPaid",
            "eventlog read --store ./events --since 2026-11-23T03:00:00Z --until 2026-11-23T04:00:00Z",
        ],
        valueFlags: ["store", "stream", "from", "limit", "category", "type", "since", "until"],
        switchFlags: ["backward"],
        run: run)

    /// Stream reads are paged to about this many bytes, whatever the event sizes.
    static let pageTargetBytes = 8 * 1024 * 1024
    /// The most events in one stream page.
    static let pageMaxEvents = 1_000

    /// What to print, from the flags.
    private struct Query {
        var direction: ReadDirection
        var from: UInt64?
        var limit: Int
        var filter: EventFilter
        var window: TimeWindow
    }

    /// Thrown from inside a whole-log read to end it early (the library's loop has no other exit).
    private struct StopReading: Error {}

    static func run(_ arguments: ParsedArguments) async throws {
        let directory = try arguments.required("store")
        // "$all" is the conventional name of the whole log; accept it rather than
        // reject it as a reserved stream name.
        let stream = arguments.string("stream") == "$all" ? nil : try arguments.streamName()
        if let stream, let category = arguments.string("category") {
            throw CommandFailure.usage(
                "'--category \(category)' selects streams of the whole log, so it cannot be combined with "
                    + "'--stream \(stream)'; leave out one of them", command: arguments.command)
        }
        let query = Query(
            direction: arguments.isSet("backward") ? .backward : .forward,
            from: try arguments.number("from"),
            limit: try arguments.number("limit").map { Int(clamping: $0) } ?? .max,
            filter: EventFilter(
                categories: arguments.string("category").map { [$0] } ?? [],
                eventTypes: arguments.string("type").map { [$0] } ?? []),
            window: try TimeWindow(arguments))

        var options = StoreOptions()
        options.readOnly = true
        options.createIfMissing = false
        let store = try StoreOpening.open(directory, options: options)
        var output = OutputBuffer()
        // Print what was read before a failure (e.g. corruption further on) reaches the user.
        defer { try? output.flush() }
        if query.limit > 0 {
            if let stream {
                try readStream(stream, of: store, query, to: &output)
            } else {
                try readAll(of: store, query, to: &output)
            }
        }
        try output.flush()
        try await store.close()
    }

    /// The whole log through the library's filtered read; the time window is
    /// applied here, since the library filters by stream, category and type only.
    private static func readAll(of store: FileEventStore, _ query: Query, to output: inout OutputBuffer) throws {
        var start: GlobalPosition
        switch query.direction {
        case .forward:
            start = GlobalPosition(query.from ?? 1)
            guard let first = try query.window.firstPosition(in: store) else { return }
            start = max(start, first)
        case .backward:
            start = query.from.map { GlobalPosition($0) } ?? .end
        }
        var printed = 0
        do {
            // With a time window some events read are not printed, so the limit is counted here.
            let maxCount = query.window.isUnbounded ? query.limit : .max
            try store.forEachEvent(from: start, direction: query.direction, maxCount: maxCount, filter: query.filter) { event in
                switch query.window.decide(event.timestampMicroseconds, direction: query.direction) {
                case .skip: return
                case .stop: throw StopReading()
                case .print: break
                }
                EventJSONLine.append(event, to: &output.bytes)
                try output.flushIfFull()
                printed += 1
                if printed == query.limit { throw StopReading() }
            }
        } catch is StopReading {}
    }

    /// Reads `stream` page by page; each page's size adapts to the events' sizes so
    /// that a page of large events stays near ``pageTargetBytes``. The type filter
    /// and time window apply here: the library reads a stream unfiltered.
    private static func readStream(
        _ stream: StreamName, of store: FileEventStore, _ query: Query, to output: inout OutputBuffer
    ) throws {
        let filters = !query.filter.eventTypes.isEmpty || !query.window.isUnbounded
        var next = switch query.direction {
        case .forward: max(StreamVersion(query.from ?? 1), StreamVersion(1))
        case .backward: query.from.map { StreamVersion($0) } ?? .end
        }
        var remaining = query.limit
        var pageSize = 1
        while remaining > 0, next.rawValue > 0 {
            // Unfiltered, a page never reads past the limit; filtered, it cannot know how far that is.
            let page = try store.readStream(
                stream, from: next, direction: query.direction, maxCount: filters ? pageSize : min(pageSize, remaining))
            guard let last = page.last else { return }
            var pageBytes = 0
            for event in page {
                pageBytes += event.data.count + event.metadata.count
                switch query.window.decide(event.timestampMicroseconds, direction: query.direction) {
                case .skip: continue
                case .stop: return
                case .print: break
                }
                guard query.filter.matches(event) else { continue }
                EventJSONLine.append(event, to: &output.bytes)
                try output.flushIfFull()
                remaining -= 1
                if remaining == 0 { return }
            }
            next = switch query.direction {
            case .forward: StreamVersion(last.version.rawValue + 1)
            case .backward: StreamVersion(last.version.rawValue - 1)
            }
            let averageBytes = max(1, pageBytes / page.count)
            pageSize = max(1, min(pageMaxEvents, pageTargetBytes / averageBytes))
        }
    }
}
