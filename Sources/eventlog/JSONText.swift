// The small pieces of hand-built JSON: strings escaped per RFC 8259, numbers and
// UUIDs written as digits without going through String.
import Foundation

enum JSONText {
    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Appends `text` as a JSON string, quotes included.
    static func appendString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): output.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): output.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): output.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): output.append(contentsOf: #"\t"#.utf8)
            case 0x00..<0x20:
                // Every other control character must be escaped; \u00XX covers them all.
                output.append(contentsOf: #"\u00"#.utf8)
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Appends the decimal digits of `number`.
    static func appendNumber(_ number: UInt64, to output: inout [UInt8]) {
        appendDigits(number, minimumWidth: 1, to: &output)
    }

    /// Appends the decimal digits of `number`, zero-padded to `minimumWidth`.
    static func appendDigits(_ number: UInt64, minimumWidth: Int, to output: inout [UInt8]) {
        var digitCount = 1
        var scale = number
        while scale >= 10 {
            scale /= 10
            digitCount += 1
        }
        let width = max(digitCount, minimumWidth)
        let start = output.count
        output.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width))
        // Fill from the last digit back; the zeros already there are the padding.
        var rest = number
        var index = start + width - 1
        while rest > 0 {
            output[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            index -= 1
        }
    }

    /// Appends `id` in Foundation's `uuidString` form (uppercase, 8-4-4-4-12).
    static func appendUUID(_ id: UUID, to output: inout [UInt8]) {
        withUnsafeBytes(of: id.uuid) { bytes in
            for (index, byte) in bytes.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { output.append(UInt8(ascii: "-")) }
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            }
        }
    }
}
