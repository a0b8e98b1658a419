// A stream name that has been validated once, so an invalid name cannot travel
// further than the call that made it.

/// The name of an event stream, e.g. `order-42`.
///
/// Rules (checked on construction): 1...``Limits/streamNameMaxBytes`` UTF-8 bytes,
/// no control characters, and not starting with `$` (reserved for system streams
/// such as `$all`). The category is the part before the first `-`.
public struct StreamName: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// The validated name.
    public let rawValue: String

    /// Validates `rawValue` as a stream name.
    /// - Throws: ``EventStoreError/invalidStreamName(_:reason:)`` naming the rule broken.
    /// - Complexity: O(*n*) in the name's length.
    public init(_ rawValue: String) throws(EventStoreError) {
        let byteCount = rawValue.utf8.count
        if byteCount == 0 {
            throw .invalidStreamName(rawValue, reason: "it is empty")
        }
        if byteCount > Limits.streamNameMaxBytes {
            throw .invalidStreamName(
                String(rawValue.prefix(40)) + "…",
                reason: "it is \(byteCount) UTF-8 bytes, more than the limit of \(Limits.streamNameMaxBytes)")
        }
        if rawValue.utf8.first == UInt8(ascii: "$") {
            throw .invalidStreamName(rawValue, reason: "names starting with '$' are reserved for system streams")
        }
        for scalar in rawValue.unicodeScalars where scalar.properties.generalCategory == .control {
            throw .invalidStreamName(
                rawValue.debugDescription,
                reason: "it contains the control character U+\(String(scalar.value, radix: 16, uppercase: true))")
        }
        self.rawValue = rawValue
    }

    /// Creates a name from bytes already validated (read back from a checksummed record).
    public init(unchecked rawValue: String) { self.rawValue = rawValue }

    /// The part before the first `-` (the whole name when it has none).
    /// - Complexity: O(*n*) in the name's length.
    public var category: String {
        // An ASCII name (nearly all) is searched byte by byte: no grapheme breaking,
        // which cost more than the rest of an append's encoding. Other names keep the
        // `Character` search, where a `-` followed by a combining mark is no dash.
        // The bytes are read in place (`withUTF8`, no copy for a native string) and
        // the prefix made with `String(decoding:)`: going through `Substring` cost
        // about 1,000 instructions per append (DESIGN.md, "Performance notes").
        var name = rawValue
        let ascii = name.withUTF8 { utf8 -> String? in
            guard let dash = utf8.firstIndex(of: UInt8(ascii: "-")) else { return rawValue }
            let next = dash + 1
            guard utf8[..<dash].allSatisfy({ $0 < 0x80 }), next == utf8.count || utf8[next] < 0x80 else { return nil }
            return String(decoding: UnsafeBufferPointer(rebasing: utf8[..<dash]), as: UTF8.self)
        }
        if let ascii { return ascii }
        if let dash = rawValue.firstIndex(of: "-") { return String(rawValue[..<dash]) }
        return rawValue
    }

    /// The name itself, such as `order-42`.
    public var description: String { rawValue }
    /// Whether `a` sorts before `b` by the names' `String` order.
    /// - Complexity: O(*n*), where *n* is the length of the shorter name.
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// Decodes a name from a single string value and validates it as
    /// ``init(_:)`` does, so a decoded name is as trustworthy as a constructed one.
    /// - Throws: A `DecodingError` if the value is not a string, or
    ///   ``EventStoreError/invalidStreamName(_:reason:)`` if the string breaks a rule.
    /// - Complexity: O(*n*) in the name's length.
    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        try self.init(raw)
    }
    /// Encodes the name as a single string value.
    /// - Throws: Whatever `encoder` throws; the name itself is always valid.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

extension StreamName: ExpressibleByStringLiteral {
    /// A literal name; traps if invalid, since a literal is the programmer's choice.
    public init(stringLiteral value: String) {
        do { try self.init(value) } catch { preconditionFailure("invalid stream name literal: \(error)") }
    }
}
