// Stored JSON is embedded in `read` output as is, but one event must stay on one
// line: pretty-printed JSON (which a library caller may store) would break the
// JSON-lines framing. So it is checked and its insignificant whitespace dropped
// in one pass, without building objects.

/// Validates JSON text (RFC 8259) and copies it without insignificant whitespace.
enum JSONCompactor {
    /// Deeper nesting is treated as invalid, so a hostile payload cannot exhaust the stack.
    static let maximumDepth = 512

    /// Appends the compact form of `json` to `output` and returns true; if `json`
    /// is not valid JSON, leaves `output` as it was and returns false.
    /// - Complexity: O(`json.count`).
    static func appendCompacted(_ json: UnsafeRawBufferPointer, to output: inout [UInt8]) -> Bool {
        let start = output.count
        var scanner = Scanner(input: json)
        scanner.skipWhitespace()
        if scanner.copyValue(to: &output, depth: 0) {
            scanner.skipWhitespace()
            if scanner.isAtEnd { return true }
        }
        output.removeSubrange(start...)
        return false
    }

    private struct Scanner {
        let input: UnsafeRawBufferPointer
        var index = 0

        var isAtEnd: Bool { index >= input.count }
        var current: UInt8? { index < input.count ? input[index] : nil }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
        }

        mutating func copyValue(to output: inout [UInt8], depth: Int) -> Bool {
            guard let byte = current else { return false }
            switch byte {
            case UInt8(ascii: "{"): return copyContainer(to: &output, depth: depth, close: UInt8(ascii: "}"), keyed: true)
            case UInt8(ascii: "["): return copyContainer(to: &output, depth: depth, close: UInt8(ascii: "]"), keyed: false)
            case UInt8(ascii: "\""): return copyString(to: &output)
            case UInt8(ascii: "t"): return copyLiteral("true", to: &output)
            case UInt8(ascii: "f"): return copyLiteral("false", to: &output)
            case UInt8(ascii: "n"): return copyLiteral("null", to: &output)
            default: return copyNumber(to: &output)
            }
        }

        /// An object (`keyed`: members are `"key": value`) or an array.
        mutating func copyContainer(to output: inout [UInt8], depth: Int, close: UInt8, keyed: Bool) -> Bool {
            guard depth < JSONCompactor.maximumDepth else { return false }
            output.append(input[index])
            index += 1
            skipWhitespace()
            if current == close {
                output.append(close)
                index += 1
                return true
            }
            while true {
                if keyed {
                    guard current == UInt8(ascii: "\""), copyString(to: &output) else { return false }
                    skipWhitespace()
                    guard current == UInt8(ascii: ":") else { return false }
                    output.append(UInt8(ascii: ":"))
                    index += 1
                    skipWhitespace()
                }
                guard copyValue(to: &output, depth: depth + 1) else { return false }
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","):
                    output.append(UInt8(ascii: ","))
                    index += 1
                    skipWhitespace()
                case close:
                    output.append(close)
                    index += 1
                    return true
                default:
                    return false
                }
            }
        }

        /// A string, copied verbatim: escapes checked, raw control characters and
        /// invalid UTF-8 refused.
        mutating func copyString(to output: inout [UInt8]) -> Bool {
            let start = index
            index += 1
            while let byte = current {
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    output.append(contentsOf: input[start..<index])
                    return true
                case UInt8(ascii: "\\"):
                    guard skipEscape() else { return false }
                case 0x00..<0x20:
                    return false
                case 0x80...:
                    guard skipUTF8Sequence() else { return false }
                default:
                    index += 1
                }
            }
            return false
        }

        mutating func skipEscape() -> Bool {
            index += 1
            guard let byte = current else { return false }
            index += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                return true
            case UInt8(ascii: "u"):
                for _ in 0..<4 {
                    guard let hex = current, hex.isHexDigit else { return false }
                    index += 1
                }
                return true
            default:
                return false
            }
        }

        /// One multi-byte UTF-8 scalar: no overlong forms, no surrogates, nothing above U+10FFFF.
        mutating func skipUTF8Sequence() -> Bool {
            let lead = input[index]
            let length: Int
            var secondRange: ClosedRange<UInt8> = 0x80...0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; secondRange = 0xA0...0xBF
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; secondRange = 0x80...0x9F
            case 0xF0: length = 4; secondRange = 0x90...0xBF
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; secondRange = 0x80...0x8F
            default: return false
            }
            guard index + length <= input.count, secondRange.contains(input[index + 1]) else { return false }
            for offset in 2..<length where !(0x80...0xBF).contains(input[index + offset]) { return false }
            index += length
            return true
        }

        mutating func copyLiteral(_ literal: StaticString, to output: inout [UInt8]) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard index + count <= input.count else { return false }
            for offset in 0..<count where input[index + offset] != literal.utf8Start[offset] { return false }
            output.append(contentsOf: input[index..<index + count])
            index += count
            return true
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        mutating func copyNumber(to output: inout [UInt8]) -> Bool {
            let start = index
            if current == UInt8(ascii: "-") { index += 1 }
            if current == UInt8(ascii: "0") {
                index += 1
            } else {
                guard skipDigits() else { return false }
            }
            if current == UInt8(ascii: ".") {
                index += 1
                guard skipDigits() else { return false }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard skipDigits() else { return false }
            }
            output.append(contentsOf: input[start..<index])
            return true
        }

        /// One or more decimal digits.
        mutating func skipDigits() -> Bool {
            let start = index
            while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { index += 1 }
            return index > start
        }
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
