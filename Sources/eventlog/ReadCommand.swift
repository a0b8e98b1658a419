// `eventlog read`: print events as JSON lines, from the whole log or one stream.
// Opens the store read-only, so it works beside a running writer, and prints in
// pages, so a store of any size prints in constant memory.
import EventLog
import EventSourcing

enum ReadCommand {
    static let spec = CommandSpec(
        name: "read",
        summary: "Print events as JSON lines, from the whole log or from one stream.",
        usage: "eventlog read --store DIR [--stream NAME] [--from N] [--limit N]",
        details: [
            """
            Flags:
              --store DIR     the store folder (opened read-only: works while another process writes)
              --stream NAME   read only this stream (default, or $all: the whole log in position order)
              --from N        first global position, or with --stream the first stream version (default 1)
              --limit N       print at most N events (default: all)
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
        ],
        valueFlags: ["store", "stream", "from", "limit"],
        run: run)

    /// Stream reads are paged to about this many bytes, whatever the event sizes.
    static let pageTargetBytes = 8 * 1024 * 1024
    /// The most events in one stream page.
    static let pageMaxEvents = 1_000

    static func run(_ arguments: ParsedArguments) async throws {
        let directory = try arguments.required("store")
        // "$all" is the conventional name of the whole log; accept it rather than
        // reject it as a reserved stream name.
        let stream = arguments.string("stream") == "$all" ? nil : try arguments.streamName()
        let from = try arguments.number("from") ?? 1
        let limit = try arguments.number("limit").map { Int(clamping: $0) } ?? .max

        var options = StoreOptions()
        options.readOnly = true
        options.createIfMissing = false
        let store = try FileEventStore.open(directory: directory, options: options)
        var output = OutputBuffer()
        // Print what was read before a failure (e.g. corruption further on) reaches the user.
        defer { try? output.flush() }
        if let stream {
            try readStream(stream, of: store, from: StreamVersion(from), limit: limit, to: &output)
        } else {
            try store.forEachEvent(from: GlobalPosition(from), maxCount: limit) { event in
                EventJSONLine.append(event, to: &output.bytes)
                try output.flushIfFull()
            }
        }
        try output.flush()
        try await store.close()
    }

    /// Reads `stream` page by page; each page's size adapts to the events' sizes so
    /// that a page of large events stays near ``pageTargetBytes``.
    private static func readStream(
        _ stream: StreamName, of store: FileEventStore, from: StreamVersion, limit: Int, to output: inout OutputBuffer
    ) throws {
        var next = max(from, StreamVersion(1))
        var remaining = limit
        var pageSize = 1
        while remaining > 0 {
            let page = try store.readStream(stream, from: next, maxCount: min(pageSize, remaining))
            guard let last = page.last else { return }
            var pageBytes = 0
            for event in page {
                EventJSONLine.append(event, to: &output.bytes)
                try output.flushIfFull()
                pageBytes += event.data.count + event.metadata.count
            }
            remaining -= page.count
            next = StreamVersion(last.version.rawValue + 1)
            let averageBytes = max(1, pageBytes / page.count)
            pageSize = max(1, min(pageMaxEvents, pageTargetBytes / averageBytes))
        }
    }
}
