// `eventlog stats`: what a store holds, at a glance or as one JSON object for
// scripts. Added up from the indexes, so it is quick on a store of any size,
// and read-only, so it works beside a writer.
import EventLog
import EventSourcing

enum StatsCommand {
    static let spec = CommandSpec(
        name: "stats",
        summary: "Show how many events, streams and bytes a store holds, by category and stream.",
        usage: "eventlog stats --store DIR [--json]",
        details: [
            """
            Flags:
              --store DIR   the store folder (opened read-only: works while another process writes)
              --json        print one JSON object instead of a table
            """,
            """
            Prints the events, streams, segment files and their bytes on disk (segments are
            pre-allocated, so a new segment takes its full size), the bytes of the sealed
            segments' index files, the events of each category (the part of a stream name
            before the first '-') and the \(largestStreamCount) largest streams. With --json the keys are
            events, streams, segments, segmentBytes, indexBytes, categories
            ([{"category","events"}]) and largestStreams ([{"stream","events"}]).
            """,
        ],
        examples: ["eventlog stats --store ./events", "eventlog stats --store ./events --json"],
        valueFlags: ["store"],
        switchFlags: ["json"],
        run: run)

    /// How many of the largest streams are listed.
    static let largestStreamCount = 10
    /// Longer names are not padded to: one long name should not push every count off screen.
    static let nameColumnMaxWidth = 40

    static func run(_ arguments: ParsedArguments) async throws {
        let directory = try arguments.required("store")
        var options = StoreOptions()
        options.readOnly = true
        options.createIfMissing = false
        let store = try StoreOpening.open(directory, options: options)
        var stats = try store.stats(largestStreams: largestStreamCount)
        try await store.close()
        // Streams of equal size come in hash order; by name they read the same every run.
        stats.largestStreams.sort { ($0.events, $1.stream) > ($1.events, $0.stream) }
        printOutput(arguments.isSet("json") ? json(stats) : table(stats, directory: directory))
    }

    static func table(_ stats: StoreStats, directory: String) -> String {
        var text = """
            Store \(directory)
              events         \(stats.events)
              streams        \(stats.streams)
              segments       \(stats.segments)
              segment bytes  \(stats.segmentBytes) (\(HumanReadable.bytes(stats.segmentBytes)))
              index bytes    \(stats.indexBytes) (\(HumanReadable.bytes(stats.indexBytes)))

            Events per category:
            """
        text += rows(stats.categories.map { ($0.category, $0.events) })
        text += "\n\nLargest streams (top \(largestStreamCount)):"
        text += rows(stats.largestStreams.map { ($0.stream.rawValue, $0.events) })
        return text
    }

    /// Names left-aligned, counts right-aligned, one row per line.
    private static func rows(_ rows: [(name: String, events: UInt64)]) -> String {
        guard !rows.isEmpty else { return "\n  (none)" }
        let nameWidth = min(nameColumnMaxWidth, rows.map(\.name.count).max() ?? 0)
        let countWidth = rows.map { String($0.events).count }.max() ?? 0
        var text = ""
        for row in rows {
            let count = String(row.events)
            text += "\n  " + row.name + String(repeating: " ", count: max(0, nameWidth - row.name.count) + 2)
            text += String(repeating: " ", count: countWidth - count.count) + count
        }
        return text
    }

    static func json(_ stats: StoreStats) -> String {
        var output: [UInt8] = []
        output.append(contentsOf: #"{"events":"#.utf8)
        JSONText.appendNumber(stats.events, to: &output)
        output.append(contentsOf: #","streams":"#.utf8)
        JSONText.appendNumber(UInt64(stats.streams), to: &output)
        output.append(contentsOf: #","segments":"#.utf8)
        JSONText.appendNumber(UInt64(stats.segments), to: &output)
        output.append(contentsOf: #","segmentBytes":"#.utf8)
        JSONText.appendNumber(stats.segmentBytes, to: &output)
        output.append(contentsOf: #","indexBytes":"#.utf8)
        JSONText.appendNumber(stats.indexBytes, to: &output)
        output.append(contentsOf: #","categories":["#.utf8)
        for (index, category) in stats.categories.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            output.append(contentsOf: #"{"category":"#.utf8)
            JSONText.appendString(category.category, to: &output)
            output.append(contentsOf: #","events":"#.utf8)
            JSONText.appendNumber(category.events, to: &output)
            output.append(UInt8(ascii: "}"))
        }
        output.append(contentsOf: #"],"largestStreams":["#.utf8)
        for (index, stream) in stats.largestStreams.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            output.append(contentsOf: #"{"stream":"#.utf8)
            JSONText.appendString(stream.stream.rawValue, to: &output)
            output.append(contentsOf: #","events":"#.utf8)
            JSONText.appendNumber(stream.events, to: &output)
            output.append(UInt8(ascii: "}"))
        }
        output.append(contentsOf: "]}".utf8)
        return String(decoding: output, as: UTF8.self)
    }
}
