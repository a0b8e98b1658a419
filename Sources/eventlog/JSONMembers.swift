// The members of a one-line JSON object with each value left as its raw text,
// so that `import` can store an embedded value byte for byte as the line holds
// it: parsing and serializing again could change key order, spacing, escapes
// or number forms, and with them the bytes of every event.

/// The top-level members of a JSON object, in the order written.
struct JSONMembers {
    /// Why a line is not a JSON object.
    struct SyntaxError: Error {
        let reason: String
    }

    /// One member: its decoded key and its value's raw text (no surrounding whitespace).
    struct Member {
        let key: String
        let value: ArraySlice<UInt8>
    }

    let members: [Member]

    /// Splits `line` into members. Keys are decoded and checked; values are only
    /// delimited: the caller checks each one as what it expects it to be (and so
    /// every byte of a line it accepts has been checked).
    init(_ line: ArraySlice<UInt8>) throws(SyntaxError) {
        var scanner = Scanner(bytes: line)
        scanner.skipWhitespace()
        guard scanner.current == UInt8(ascii: "{") else { throw SyntaxError(reason: "it is not a JSON object") }
        scanner.index += 1
        scanner.skipWhitespace()
        var members: [Member] = []
        if scanner.current == UInt8(ascii: "}") {
            scanner.index += 1
        } else {
            while true {
                let keyStart = scanner.index
                guard scanner.current == UInt8(ascii: "\"") else { throw scanner.error("expected a key in quotes") }
                try scanner.skipString()
                guard let key = Self.decodeString(line[keyStart..<scanner.index]) else {
                    throw SyntaxError(reason: "the key at byte \(keyStart - line.startIndex) is not a valid JSON string")
                }
                scanner.skipWhitespace()
                guard scanner.current == UInt8(ascii: ":") else { throw scanner.error("expected ':' after the key \"\(key)\"") }
                scanner.index += 1
                scanner.skipWhitespace()
                let valueStart = scanner.index
                try scanner.skipValue()
                members.append(Member(key: key, value: line[valueStart..<scanner.index]))
                scanner.skipWhitespace()
                if scanner.current == UInt8(ascii: ",") {
                    scanner.index += 1
                    scanner.skipWhitespace()
                } else if scanner.current == UInt8(ascii: "}") {
                    scanner.index += 1
                    break
                } else {
                    throw scanner.error("expected ',' or '}'")
                }
            }
        }
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { throw scanner.error("the object is followed by more text") }
        self.members = members
    }

    /// The text of a JSON string (quotes included) decoded, or nil if it is not a
    /// valid JSON string: a raw control character, a bad escape, a lone surrogate
    /// or invalid UTF-8.
    static func decodeString(_ text: ArraySlice<UInt8>) -> String? {
        guard text.count >= 2, text.first == UInt8(ascii: "\""), text.last == UInt8(ascii: "\"") else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count - 2)
        var index = text.startIndex + 1
        let end = text.endIndex - 1
        func hex4(at start: Int) -> UInt32? {
            guard start + 4 <= end else { return nil }
            var value: UInt32 = 0
            for byte in text[start..<start + 4] {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
        while index < end {
            let byte = text[index]
            if byte < 0x20 || byte == UInt8(ascii: "\"") { return nil }
            guard byte == UInt8(ascii: "\\") else {
                bytes.append(byte)
                index += 1
                continue
            }
            guard index + 1 < end else { return nil }
            let escaped = text[index + 1]
            index += 2
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(escaped)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                guard var code = hex4(at: index) else { return nil }
                index += 4
                if (0xD800...0xDBFF).contains(code) {
                    // A high surrogate must be followed by an escaped low one.
                    guard index + 1 < end, text[index] == UInt8(ascii: "\\"), text[index + 1] == UInt8(ascii: "u"),
                        let low = hex4(at: index + 2), (0xDC00...0xDFFF).contains(low)
                    else { return nil }
                    index += 6
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { return nil }
                bytes.append(contentsOf: String(Character(scalar)).utf8)
            default:
                return nil
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Finds where values end. Strings are skipped whole (a bracket or comma in
    /// one is not structure); containers by counting brackets, without recursion,
    /// so no nesting depth can exhaust the stack.
    private struct Scanner {
        let bytes: ArraySlice<UInt8>
        var index: Int

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            index = bytes.startIndex
        }

        var isAtEnd: Bool { index >= bytes.endIndex }
        var current: UInt8? { index < bytes.endIndex ? bytes[index] : nil }

        func error(_ reason: String) -> SyntaxError {
            SyntaxError(reason: "\(reason) at byte \(index - bytes.startIndex)")
        }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        /// From an opening quote to just past its closing quote.
        mutating func skipString() throws(SyntaxError) {
            index += 1
            while let byte = current {
                index += byte == UInt8(ascii: "\\") ? 2 : 1
                if byte == UInt8(ascii: "\"") { return }
            }
            throw error("a string is not closed")
        }

        mutating func skipValue() throws(SyntaxError) {
            guard let first = current else { throw error("expected a value") }
            switch first {
            case UInt8(ascii: "\""):
                try skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while let byte = current {
                    switch byte {
                    case UInt8(ascii: "\""):
                        try skipString()
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            index += 1
                            return
                        }
                    default:
                        break
                    }
                    index += 1
                }
                throw error("an object or array is not closed")
            default:
                // A number or literal runs to the next delimiter.
                let start = index
                while let byte = current, byte != UInt8(ascii: ","), byte != UInt8(ascii: "}"), byte != UInt8(ascii: "]"),
                    byte != 0x20, byte != 0x09, byte != 0x0A, byte != 0x0D
                {
                    index += 1
                }
                if index == start { throw error("expected a value") }
            }
        }
    }
}
