// `eventlog read` output: one JSON object per event, keys in a fixed order.
// Built by hand rather than with JSONSerialization: the key order is part of the
// contract, and a large read should not allocate a dictionary per event.
import EventSourcing
import Foundation

/// Encodes recorded events as JSON lines.
///
///     {"position":1,"stream":"order-1","version":1,"id":"…","type":"OrderCreated",
///      "timestamp":"2026-11-23T03:34:55.123456Z","data":{…},"metadata":{}}
enum EventJSONLine {
    /// Appends `event` as one JSON object and a newline to `output`.
    static func append(_ event: RecordedEvent, to output: inout [UInt8]) {
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
        output.append(contentsOf: #"","data":"#.utf8)
        if event.isJSON {
            appendJSONOrBase64(event.data, to: &output)
        } else {
            appendBase64(event.data, to: &output)
        }
        output.append(contentsOf: #","metadata":"#.utf8)
        if event.metadata.isEmpty {
            output.append(contentsOf: "{}".utf8)
        } else {
            appendJSONOrBase64(event.metadata, to: &output)
        }
        output.append(contentsOf: "}\n".utf8)
    }

    /// Embeds stored JSON compacted onto one line. Bytes marked JSON that are not
    /// (a library caller may set `isJSON` on anything) fall back to base64, so the
    /// line stays valid JSON whatever the store holds.
    private static func appendJSONOrBase64(_ bytes: Data, to output: inout [UInt8]) {
        let embedded = bytes.withUnsafeBytes { JSONCompactor.appendCompacted($0, to: &output) }
        if !embedded { appendBase64(bytes, to: &output) }
    }

    private static func appendBase64(_ bytes: Data, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        output.append(contentsOf: bytes.base64EncodedString().utf8)
        output.append(UInt8(ascii: "\""))
    }
}
