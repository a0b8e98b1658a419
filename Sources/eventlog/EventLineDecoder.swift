// One line of `eventlog append` input to the events of one append call. Every
// check happens here, before anything is written, so a bad line is refused
// whole and its error names the line.
import EventSourcing
import Foundation

/// Decodes `{"type": T, "data": ANY, "id": UUID?, "metadata": OBJECT?}` or an array of those.
enum EventLineDecoder {
    static let allowedKeys: Set<String> = ["type", "data", "id", "metadata"]

    /// The events of one line, each validated against the store's limits.
    /// - Throws: ``CommandFailure`` (exit status 2) naming the line and what is wrong with it.
    static func decode(_ line: ArraySlice<UInt8>, lineNumber: Int) throws(CommandFailure) -> [EventData] {
        let label = "line \(lineNumber)"
        let parsed: Any
        do {
            // Fragments allowed so that `42` is reported as "not an object", not as broken JSON.
            parsed = try JSONSerialization.jsonObject(with: Data(line), options: [.fragmentsAllowed])
        } catch {
            throw .invalidInput("\(label) is not valid JSON (\(describe(error))); write one JSON object or array of objects per line")
        }
        let objects: [Any]
        if let array = parsed as? [Any] {
            guard !array.isEmpty else {
                throw .invalidInput("\(label) is an empty array; an append call needs at least one event")
            }
            objects = array
        } else {
            objects = [parsed]
        }
        var events: [EventData] = []
        events.reserveCapacity(objects.count)
        for (index, object) in objects.enumerated() {
            let place = objects.count == 1 && !(parsed is [Any]) ? label : "\(label), event \(index + 1)"
            events.append(try decodeEvent(object, place: place))
        }
        return events
    }

    private static func decodeEvent(_ object: Any, place: String) throws(CommandFailure) -> EventData {
        guard let fields = object as? [String: Any] else {
            throw .invalidInput("\(place) is not a JSON object; write {\"type\": \"...\", \"data\": ...}")
        }
        if let unknown = fields.keys.sorted().first(where: { !allowedKeys.contains($0) }) {
            throw .invalidInput("\(place) has the unknown key \"\(unknown)\"; the keys are type, data, id and metadata")
        }
        guard let type = fields["type"] as? String, !type.isEmpty else {
            throw .invalidInput("\(place) has no \"type\" string; give each event a type such as \"OrderCreated\"")
        }
        guard let dataValue = fields["data"] else {
            throw .invalidInput("\(place) has no \"data\"; give each event a JSON value as data (null or {} if it has none)")
        }
        var id = EventID.make()
        switch fields["id"] {
        case nil, is NSNull:
            break
        case let text as String:
            guard let parsed = UUID(uuidString: text) else {
                throw .invalidInput("\(place) has the id \"\(text)\", which is not a UUID (e.g. \"\(UUID().uuidString)\")")
            }
            id = parsed
        default:
            throw .invalidInput("\(place) has an \"id\" that is not a string; write it as a UUID string")
        }
        var metadata = Data()
        switch fields["metadata"] {
        case nil, is NSNull:
            break
        case let object as [String: Any]:
            metadata = try serialize(object, place: place, field: "metadata")
        default:
            throw .invalidInput("\(place) has \"metadata\" that is not a JSON object; write an object such as {\"user\": \"ada\"}")
        }
        let event = EventData(
            id: id, type: type, data: try serialize(dataValue, place: place, field: "data"), metadata: metadata, isJSON: true)
        do {
            try event.validate()
        } catch {
            throw CommandFailure(error, context: place)
        }
        return event
    }

    /// The compact JSON bytes of a parsed value (what is stored and read back).
    private static func serialize(_ value: Any, place: String, field: String) throws(CommandFailure) -> Data {
        do {
            // Sorted keys: the same event always stores the same bytes (the parsed
            // dictionary has lost the input's key order anyway).
            return try JSONSerialization.data(
                withJSONObject: value, options: [.fragmentsAllowed, .withoutEscapingSlashes, .sortedKeys])
        } catch {
            throw .invalidInput("\(place): its \(field) cannot be written back as JSON (\(describe(error)))")
        }
    }

    /// Foundation's error text without its framing, for a one-line message.
    private static func describe(_ error: any Error) -> String {
        let nsError = error as NSError
        return (nsError.userInfo[NSDebugDescriptionErrorKey] as? String) ?? nsError.localizedDescription
    }
}
