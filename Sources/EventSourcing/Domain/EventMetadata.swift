// Where the domain layer keeps an event's schema version: a JSON object in the
// event's metadata, `{"schemaVersion":2}`.
//
// Why metadata and not the type name (`ItemAdded.v2`): the type name is the
// event's identity, used by filters, projections and the CLI, and it should not
// change when a field does. Events without metadata, or with metadata that is
// not a JSON object with that key, are version 1 (written before versioning).
import Foundation

enum EventMetadata {
    private struct Header: Codable {
        var schemaVersion: Int?
    }

    /// The metadata bytes for a payload at `schemaVersion`.
    static func encode(schemaVersion: Int) -> Data {
        Data(#"{"schemaVersion":\#(schemaVersion)}"#.utf8)
    }

    /// The schema version recorded in `metadata`, 1 if none is.
    static func schemaVersion(in metadata: Data) -> Int {
        guard metadata.first == UInt8(ascii: "{") else { return 1 }
        return (try? JSONDecoder().decode(Header.self, from: metadata))?.schemaVersion ?? 1
    }
}
