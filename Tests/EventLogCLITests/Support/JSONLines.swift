// Reading `eventlog read` output back the way a consumer would: each line parsed
// on its own with JSONSerialization.
import Foundation
import Testing

enum JSONLines {
    /// The keys of a `read` line, in the contract's order.
    static let keys = ["position", "stream", "version", "id", "type", "timestamp", "data", "metadata"]

    /// Each line of `text` parsed as a JSON object.
    static func objects(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { line in
            let parsed = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
            return try #require(parsed as? [String: Any], "not a JSON object: \(line)")
        }
    }

    /// `value` as canonical JSON text (sorted keys), for comparing parsed values.
    static func canonical(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]), as: UTF8.self)
    }

    /// The top-level keys of a `read` line in the order they appear in its text.
    /// Finds each key's first occurrence, which is the top-level one as long as the
    /// stream name and type do not contain key names (the tests' do not).
    static func keyOrder(of line: String, keys: [String] = keys) -> [String] {
        keys.compactMap { key in line.range(of: "\"\(key)\":").map { (key, $0.lowerBound) } }
            .sorted { $0.1 < $1.1 }
            .map(\.0)
    }
}
