// One line of `eventlog import` input (the format `export` writes, described in
// ExportJSONLine.swift) to the event it carries and where it goes. Every check
// happens here, before anything is written, so a bad line is refused whole and
// its error names the line.
//
// Embedded JSON (data with isJSON, metadata) is stored as the exact text the line
// holds, copied out of the line without parsing and serializing it again: that is
// what keeps an export → import round trip byte for byte.
import EventSourcing
import Foundation

/// An event read from an import line, with the stream and version it had.
struct ImportedEvent {
    let stream: StreamName
    let version: UInt64
    let event: EventData
}

enum ImportLineDecoder {
    static let knownKeys: Set<String> = [
        "position", "stream", "version", "id", "type", "timestamp", "isJSON", "data", "dataBase64", "metadata",
        "metadataBase64", "correlationId", "causationId",
    ]

    /// The event of one line, validated against the store's limits.
    /// - Throws: ``CommandFailure`` (exit status 2) naming the line and what is wrong with it.
    static func decode(_ line: ArraySlice<UInt8>, lineNumber: Int) throws(CommandFailure) -> ImportedEvent {
        let label = "line \(lineNumber)"
        let members: [JSONMembers.Member]
        do {
            members = try JSONMembers(line).members
        } catch {
            throw .invalidInput(
                "\(label) is not valid JSON (\(error.reason)); write one JSON object per line, as 'eventlog export' does")
        }
        var fields: [String: ArraySlice<UInt8>] = [:]
        for member in members {
            guard knownKeys.contains(member.key) else {
                throw .invalidInput(
                    "\(label) has the unknown key \"\(member.key)\"; the keys are those 'eventlog export' writes: "
                        + knownKeys.sorted().joined(separator: ", "))
            }
            guard fields.updateValue(member.value, forKey: member.key) == nil else {
                throw .invalidInput("\(label) has the key \"\(member.key)\" twice; give it once")
            }
        }
        let line = Line(label: label, fields: fields)

        let streamName = try line.requiredString("stream")
        let stream: StreamName
        do {
            stream = try StreamName(streamName)
        } catch {
            throw CommandFailure(error, context: label)
        }
        let version = try line.requiredNumber("version")
        guard version >= 1 else { throw .invalidInput("\(label) has version 0; stream versions start at 1") }
        let id = try line.requiredID("id")
        let type = try line.requiredString("type")
        let isJSON = try line.requiredBool("isJSON")
        // Checked though not used: positions and timestamps are the target store's to give.
        _ = try line.number("position")
        _ = try line.string("timestamp")

        let data: Data
        switch (fields["data"], fields["dataBase64"]) {
        case (let text?, nil):
            data = isJSON ? try line.embeddedJSON("data", text) : try line.base64("data")
        case (nil, _?):
            data = try line.base64("dataBase64")
        case (nil, nil):
            throw .invalidInput("\(label) has no \"data\" (or \"dataBase64\"); every event has data, even if empty")
        case (_?, _?):
            throw .invalidInput("\(label) has both \"data\" and \"dataBase64\"; give one of them")
        }
        let metadata: Data
        switch (fields["metadata"], fields["metadataBase64"]) {
        case (let text?, nil): metadata = try line.embeddedJSON("metadata", text)
        case (nil, _?): metadata = try line.base64("metadataBase64")
        case (nil, nil): metadata = Data()
        case (_?, _?):
            throw .invalidInput("\(label) has both \"metadata\" and \"metadataBase64\"; give one of them")
        }
        let event = EventData(
            id: id, type: type, data: data, metadata: metadata, isJSON: isJSON,
            correlationID: try line.optionalID("correlationId"), causationID: try line.optionalID("causationId"))
        do {
            try event.validate()
        } catch {
            throw CommandFailure(error, context: label)
        }
        return ImportedEvent(stream: stream, version: version, event: event)
    }

    /// One line's fields as raw text, read as the type each key must have.
    private struct Line {
        let label: String
        let fields: [String: ArraySlice<UInt8>]

        func string(_ key: String) throws(CommandFailure) -> String? {
            guard let text = fields[key] else { return nil }
            guard let value = JSONMembers.decodeString(text) else {
                throw .invalidInput("\(label) has a \"\(key)\" that is not a valid JSON string")
            }
            return value
        }

        func requiredString(_ key: String) throws(CommandFailure) -> String {
            guard let value = try string(key) else { throw missing(key) }
            return value
        }

        func number(_ key: String) throws(CommandFailure) -> UInt64? {
            guard let text = fields[key] else { return nil }
            guard text.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                let value = UInt64(String(decoding: text, as: UTF8.self))
            else {
                throw .invalidInput("\(label) has a \"\(key)\" that is not a whole number")
            }
            return value
        }

        func requiredNumber(_ key: String) throws(CommandFailure) -> UInt64 {
            guard let value = try number(key) else { throw missing(key) }
            return value
        }

        func requiredBool(_ key: String) throws(CommandFailure) -> Bool {
            switch fields[key].map({ String(decoding: $0, as: UTF8.self) }) {
            case "true": return true
            case "false": return false
            case nil: throw missing(key)
            default: throw .invalidInput("\(label) has a \"\(key)\" that is not true or false")
            }
        }

        func requiredID(_ key: String) throws(CommandFailure) -> UUID {
            guard let value = try optionalID(key) else { throw missing(key) }
            return value
        }

        /// A UUID string, or nil when the key is missing or null.
        func optionalID(_ key: String) throws(CommandFailure) -> UUID? {
            if let text = fields[key], text.elementsEqual("null".utf8) { return nil }
            guard let string = try string(key) else { return nil }
            guard let id = UUID(uuidString: string) else {
                throw .invalidInput("\(label) has the \(key) \"\(string)\", which is not a UUID")
            }
            return id
        }

        func base64(_ key: String) throws(CommandFailure) -> Data {
            guard let text = fields[key], let string = JSONMembers.decodeString(text), let bytes = Data(base64Encoded: string) else {
                throw .invalidInput("\(label) has a \"\(key)\" that is not a base64 string")
            }
            return bytes
        }

        /// The value's own bytes, once checked to be valid JSON.
        func embeddedJSON(_ key: String, _ text: ArraySlice<UInt8>) throws(CommandFailure) -> Data {
            var scratch: [UInt8] = []
            guard text.withUnsafeBytes({ JSONCompactor.appendCompacted($0, to: &scratch) }) else {
                throw .invalidInput("\(label) has a \"\(key)\" that is not valid JSON")
            }
            return Data(text)
        }

        private func missing(_ key: String) -> CommandFailure {
            .invalidInput(
                "\(label) has no \"\(key)\"; every line needs stream, version, id, type, isJSON and data, "
                    + "as 'eventlog export' writes them")
        }
    }
}
