// `eventlog inspect`: one record as it lies on disk (file, byte offset, sizes,
// checksum, flags) beside the event it holds, for a person debugging a store
// with a hex editor or checking what `verify` reported.
import EventLog
import EventSourcing

enum InspectCommand {
    static let spec = CommandSpec(
        name: "inspect",
        summary: "Show the record at a global position: its file, offset, sizes, checksum and event.",
        usage: "eventlog inspect --store DIR --position N [--json]",
        details: [
            """
            Flags:
              --store DIR    the store folder (opened read-only: works while another process writes)
              --position N   the global position of the record
              --json         print one JSON object instead of a table
            """,
            """
            Prints the segment file and the record's byte offset in it, the record's size and
            that of its header (with the optional correlation and causation ids), data and
            metadata, its CRC32C checksum (verified against the record), whether it is the last
            record of its append call (the commit flag), whether its segment is sealed or still
            active, and the event as 'eventlog read' prints it. With --json the keys are position,
            file, offset, recordBytes, headerBytes, dataBytes, metadataBytes, checksum ("0x" and
            8 hex digits), isLastOfAppendCall, isSealedSegment and event.
            A position that is not in the store exits 2.
            """,
        ],
        examples: ["eventlog inspect --store ./events --position 42"],
        valueFlags: ["store", "position"],
        switchFlags: ["json"],
        run: run)

    static func run(_ arguments: ParsedArguments) async throws {
        let directory = try arguments.required("store")
        let position = try arguments.requiredNumber("position")
        var options = StoreOptions()
        options.readOnly = true
        options.createIfMissing = false
        let store = try StoreOpening.open(directory, options: options)
        let inspection = try store.inspect(position: GlobalPosition(position))
        let last = store.lastPosition.rawValue
        try await store.close()
        guard let inspection else {
            throw CommandFailure.invalidInput(
                last == 0
                    ? "position \(position) is not in the store at \(directory): the store holds no events yet"
                    : position >= 1 && position <= last
                        ? "position \(position) is not in the store at \(directory) any more: compaction removed it "
                            + "(its stream was deleted or truncated); 'eventlog read --store \(directory) --from \(position) --limit 1' "
                            + "shows the next event"
                        : "position \(position) is not in the store at \(directory), which holds positions 1...\(last); "
                            + "pick one of those (e.g. from 'eventlog read --store \(directory)')")
        }
        printOutput(arguments.isSet("json") ? json(inspection) : table(inspection))
    }

    static func table(_ record: RecordInspection) -> String {
        var eventLine: [UInt8] = []
        EventJSONLine.append(record.event, to: &eventLine)
        let commit = record.isLastOfAppendCall
            ? "set: the last record of its append call" : "not set: more records of its append call follow"
        return """
            Record at position \(record.event.position)
              file            \(record.file)
              offset          \(record.offset)
              record bytes    \(record.lengthBytes)
              header bytes    \(record.headerBytes)
              data bytes      \(record.event.data.count)
              metadata bytes  \(record.event.metadata.count)
              checksum        \(hex(record.checksum)) (CRC32C, verified)
              commit flag     \(commit)
              segment         \(record.isSealedSegment ? "sealed" : "active (still being written)")
            Event:
            \(String(decoding: eventLine.dropLast(), as: UTF8.self))
            """
    }

    static func json(_ record: RecordInspection) -> String {
        var output: [UInt8] = []
        output.append(contentsOf: #"{"position":"#.utf8)
        JSONText.appendNumber(record.event.position.rawValue, to: &output)
        output.append(contentsOf: #","file":"#.utf8)
        JSONText.appendString(record.file, to: &output)
        output.append(contentsOf: #","offset":"#.utf8)
        JSONText.appendNumber(record.offset, to: &output)
        output.append(contentsOf: #","recordBytes":"#.utf8)
        JSONText.appendNumber(UInt64(record.lengthBytes), to: &output)
        output.append(contentsOf: #","headerBytes":"#.utf8)
        JSONText.appendNumber(UInt64(record.headerBytes), to: &output)
        output.append(contentsOf: #","dataBytes":"#.utf8)
        JSONText.appendNumber(UInt64(record.event.data.count), to: &output)
        output.append(contentsOf: #","metadataBytes":"#.utf8)
        JSONText.appendNumber(UInt64(record.event.metadata.count), to: &output)
        output.append(contentsOf: #","checksum":"#.utf8)
        JSONText.appendString(hex(record.checksum), to: &output)
        output.append(contentsOf: #","isLastOfAppendCall":"#.utf8)
        output.append(contentsOf: (record.isLastOfAppendCall ? "true" : "false").utf8)
        output.append(contentsOf: #","isSealedSegment":"#.utf8)
        output.append(contentsOf: (record.isSealedSegment ? "true" : "false").utf8)
        output.append(contentsOf: #","event":"#.utf8)
        EventJSONLine.append(record.event, to: &output)
        // The event line ends in a newline; the object goes on around it.
        output.removeLast()
        output.append(UInt8(ascii: "}"))
        return String(decoding: output, as: UTF8.self)
    }

    /// `0x` and 8 lowercase hex digits.
    static func hex(_ checksum: UInt32) -> String {
        let digits = String(checksum, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
