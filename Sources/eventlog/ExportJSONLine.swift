// `eventlog export` output: one JSON object per event carrying everything
// `import` needs to write the same event again. Unlike `read`, it must lose
// nothing, so stored bytes are embedded verbatim or not at all:
//
//     {"position":1,"stream":"order-1","version":1,"id":"…","type":"OrderCreated",
//      "timestamp":"2026-11-23T03:34:55.123456Z","isJSON":true,"data":{…},
//      "metadata":{…},"correlationId":"…","causationId":"…"}
//
// - data: with isJSON, the stored bytes themselves when they are one JSON value
//   that fits on a line unchanged (no line breaks, no surrounding whitespace);
//   otherwise "dataBase64" replaces "data". Without isJSON, a base64 string.
// - metadata: likewise, or "metadataBase64"; left out when the event has none.
// - correlationId, causationId: left out when the event has none.
// `import` copies an embedded value's text from the line byte for byte, so the
// bytes stored again are the bytes exported.
import EventSourcing
import Foundation

/// Encodes recorded events as export lines.
enum ExportJSONLine {
    /// Appends `event` as one JSON object and a newline to `output`. `scratch` is
    /// working space, reused between calls so that checks do not allocate.
    static func append(_ event: RecordedEvent, to output: inout [UInt8], scratch: inout [UInt8]) {
        output.append(contentsOf: #"{"position":"#.utf8)
        JSONText.appendNumber(event.position.rawValue, to: &output)
        output.append(contentsOf: #","stream":"#.utf8)
        JSONText.appendString(event.stream.rawValue, to: &output)
        output.append(contentsOf: #","version":"#.utf8)
        JSONText.appendNumber(event.version.rawValue, to: &output)
        output.append(contentsOf: #","id":""#.utf8)
        JSONText.appendUUID(event.id, to: &output)
        output.append(contentsOf: #"","type":"#.utf8)
        JSONText.appendString(event.type, to: &output)
        output.append(contentsOf: #","timestamp":""#.utf8)
        Timestamp.appendISO8601(microseconds: event.timestampMicroseconds, to: &output)
        output.append(contentsOf: event.isJSON ? #"","isJSON":true"#.utf8 : #"","isJSON":false"#.utf8)
        if !event.isJSON {
            appendBase64(key: "data", event.data, to: &output)
        } else if !appendVerbatim(key: "data", event.data, to: &output, scratch: &scratch) {
            appendBase64(key: "dataBase64", event.data, to: &output)
        }
        if !event.metadata.isEmpty, !appendVerbatim(key: "metadata", event.metadata, to: &output, scratch: &scratch) {
            appendBase64(key: "metadataBase64", event.metadata, to: &output)
        }
        if let correlation = event.correlationID { appendID(key: "correlationId", correlation, to: &output) }
        if let causation = event.causationID { appendID(key: "causationId", causation, to: &output) }
        output.append(contentsOf: "}\n".utf8)
    }

    /// Appends `,"key":` and `bytes` unchanged if they are one valid JSON value that
    /// survives the trip through a line exactly; returns false and appends nothing otherwise.
    private static func appendVerbatim(key: String, _ bytes: Data, to output: inout [UInt8], scratch: inout [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            guard let first = raw.first, let last = raw.last, !isWhitespace(first), !isWhitespace(last),
                !raw.contains(UInt8(ascii: "\n")), !raw.contains(UInt8(ascii: "\r"))
            else { return false }
            // Valid JSON holds a raw control character only as whitespace between
            // tokens (a string cannot hold one), so without line breaks it stays one line.
            scratch.removeAll(keepingCapacity: true)
            guard JSONCompactor.appendCompacted(raw, to: &scratch) else { return false }
            appendKey(key, to: &output)
            output.append(contentsOf: raw)
            return true
        }
    }

    private static func appendBase64(key: String, _ bytes: Data, to output: inout [UInt8]) {
        appendKey(key, to: &output)
        output.append(UInt8(ascii: "\""))
        output.append(contentsOf: bytes.base64EncodedString().utf8)
        output.append(UInt8(ascii: "\""))
    }

    private static func appendID(key: String, _ id: UUID, to output: inout [UInt8]) {
        appendKey(key, to: &output)
        output.append(UInt8(ascii: "\""))
        JSONText.appendUUID(id, to: &output)
        output.append(UInt8(ascii: "\""))
    }

    private static func appendKey(_ key: String, to output: inout [UInt8]) {
        output.append(contentsOf: ",\"".utf8)
        output.append(contentsOf: key.utf8)
        output.append(contentsOf: "\":".utf8)
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
