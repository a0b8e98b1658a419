// `eventlog export`: the whole log (or its tail) as JSON lines that `eventlog
// import` turns back into the same streams, versions, ids, data and metadata:
// for moving a store to a new format version or another machine, or for a backup
// that any tool can read. Read-only, so it works beside a writer.
import EventLog
import EventSourcing

enum ExportCommand {
    static let spec = CommandSpec(
        name: "export",
        summary: "Write every event, with all it holds, as JSON lines that 'import' reads back.",
        usage: "eventlog export --store DIR [--from N]",
        details: [
            """
            Flags:
              --store DIR   the store folder (opened read-only: works while another process writes)
              --from N      first global position (default 1); 'import' needs every stream from
                            its first version, so leave it out to move a whole store
            """,
            """
            Output: one JSON object per event, in position order:
              {"position":1,"stream":"order-1","version":1,"id":"UUID","type":"OrderCreated",
               "timestamp":"2026-11-23T03:34:55.123456Z","isJSON":true,"data":{...},
               "metadata":{...},"correlationId":"UUID","causationId":"UUID"}
            data is the stored JSON exactly as stored, or for non-JSON data a base64 string.
            Stored bytes that are marked JSON but would not stay the same bytes on one line
            (not JSON, or with line breaks or surrounding whitespace) are written as
            "dataBase64" instead. metadata likewise, or "metadataBase64"; it is left out when
            the event has none, as are correlationId and causationId.
            On a terminal, a progress line on standard error shows events done, rate and time left.
            """,
        ],
        examples: [
            "eventlog export --store ./events > events.jsonl",
            "eventlog export --store ./events | eventlog import --store ./events-copy",
        ],
        valueFlags: ["store", "from"],
        run: run)

    static func run(_ arguments: ParsedArguments) async throws {
        let directory = try arguments.required("store")
        let from = max(1, try arguments.number("from") ?? 1)
        var options = StoreOptions()
        options.readOnly = true
        options.createIfMissing = false
        let store = try StoreOpening.open(directory, options: options)
        // The bar's total: what the store held when it was opened.
        let last = store.lastPosition.rawValue
        let total = last >= from ? last - from + 1 : 0
        var progress = ProgressBar(unit: "events")
        var output = OutputBuffer()
        var scratch: [UInt8] = []
        var exported: UInt64 = 0
        do {
            defer {
                progress.finish()
                try? output.flush()
            }
            try store.forEachEvent(from: GlobalPosition(from)) { event in
                ExportJSONLine.append(event, to: &output.bytes, scratch: &scratch)
                try output.flushIfFull()
                exported += 1
                progress.update(done: exported, fraction: total > 0 ? Double(exported) / Double(total) : nil)
            }
            try output.flush()
        }
        try await store.close()
    }
}
