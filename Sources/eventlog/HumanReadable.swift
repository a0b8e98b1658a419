// Numbers for people: byte sizes in binary units, large counts and rates
// shortened, durations as a clock. Raw figures stay beside them wherever a
// script might read them (`stats` prints both; `--json` prints raw ones only).
import Foundation

enum HumanReadable {
    /// `512 B`, `4.0 KiB`, `64.0 MiB`, `1.5 GiB`.
    static func bytes(_ count: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1_024, unit < units.count - 1 {
            value /= 1_024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f", value) + " " + units[unit]
    }

    /// `950`, `85.2k`, `1.3M`: for rates, where three digits are all a person reads.
    static func count(_ value: Double) -> String {
        switch value {
        case ..<1_000: String(format: "%.0f", value)
        case ..<1_000_000: String(format: "%.1fk", value / 1_000)
        case ..<1_000_000_000: String(format: "%.1fM", value / 1_000_000)
        default: String(format: "%.1fG", value / 1_000_000_000)
        }
    }

    /// `0:07`, `12:30`, `1:02:03` (rounded up to the second, so that a little
    /// remaining work never reads as none).
    static func duration(seconds: Double) -> String {
        guard seconds.isFinite, seconds > 0 else { return "0:00" }
        let total = Int(min(seconds.rounded(.up), 359_999))
        let (hours, minutes, secs) = (total / 3_600, total / 60 % 60, total % 60)
        return hours > 0
            ? String(format: "%d:%02d:%02d", hours, minutes, secs)
            : String(format: "%d:%02d", minutes, secs)
    }
}
