// The JSON file: an array of rows with fixed field names and nulls for what a row
// lacks. Written by hand because JSONEncoder leaves nil fields out, and the
// contract asks for them as null.
import Foundation

enum ResultsJSON {
    /// The rows as a JSON array, one row per line.
    static func render(_ rows: [RowResult]) -> String {
        let objects = rows.map { row in
            let fields: [(String, String)] = [
                ("name", string(row.name)),
                ("events", String(row.events)),
                ("seconds", number(row.seconds)),
                ("eventsPerSecond", number(row.eventsPerSecond)),
                ("p50Microseconds", number(row.p50Microseconds)),
                ("p99Microseconds", number(row.p99Microseconds)),
                ("p999Microseconds", number(row.p999Microseconds)),
                ("baselineEventsPerSecond", number(row.baselineEventsPerSecond)),
                ("ratioToBaseline", number(row.ratioToBaseline)),
                ("eventsPerSync", number(row.eventsPerSync)),
                ("residentMemoryBytes", row.residentMemoryBytes.map { String($0) } ?? "null"),
                ("note", row.note.map(string) ?? "null"),
            ]
            return "  {" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
        }
        return "[\n" + objects.joined(separator: ",\n") + "\n]\n"
    }

    /// Writes the rows to `path`.
    static func write(_ rows: [RowResult], to path: String) throws {
        try Data(render(rows).utf8).write(to: URL(fileURLWithPath: path))
    }

    /// A JSON number, or null for nil and for values JSON cannot hold (inf, nan).
    private static func number(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "null" }
        return String(value)
    }

    /// A JSON string, quoted and escaped (names are plain ASCII; notes hold µs).
    private static func string(_ value: String) -> String {
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
