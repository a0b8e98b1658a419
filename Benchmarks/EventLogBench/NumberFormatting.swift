// Numbers as people read them in the table and progress lines: grouped thousands,
// a fixed number of decimals, and "-" for a value a row does not have.
import Foundation

enum NumberFormatting {
    /// `1234567` as `1,234,567`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return value < 0 ? "-" + result : result
    }

    /// Rounded to a whole number and grouped.
    static func grouped(_ value: Double) -> String {
        value.isFinite ? grouped(Int(value.rounded())) : String(value)
    }

    /// With `decimals` digits after the point, thousands grouped.
    static func decimal(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return String(value) }
        let text = String(format: "%.\(decimals)f", value)
        guard let point = text.firstIndex(of: ".") else { return grouped(Int(text) ?? 0) }
        return grouped(Int(text[..<point]) ?? 0) + text[point...]
    }

    /// `decimal`, or "-" for nil.
    static func optional(_ value: Double?, decimals: Int) -> String {
        value.map { decimal($0, decimals: decimals) } ?? "-"
    }
}
