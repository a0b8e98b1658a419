// ISO 8601 dates and times typed by a person (`--since`, `--until`), parsed by
// hand to integer microseconds: the store compares integer microseconds, and a
// detour through Date's Double could move a bound by one microsecond.

enum TimestampParser {
    /// Microseconds since 1970-01-01 UTC of `text`, or nil if it is not one of:
    /// `YYYY-MM-DD` (midnight UTC at the start of that day),
    /// `YYYY-MM-DDTHH:MM[:SS[.fraction]]` followed by `Z` or an offset `±HH:MM`.
    /// Digits of the fraction beyond microseconds are dropped.
    static func microseconds(fromISO8601 text: String) -> Int64? {
        var scanner = Scanner(bytes: Array(text.utf8))
        guard let year = scanner.digits(4), scanner.skip("-"), let month = scanner.digits(2), scanner.skip("-"),
            let day = scanner.digits(2), (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day)
        else { return nil }
        let midnight = daysSince1970(year: year, month: month, day: day) * 86_400 * 1_000_000
        if scanner.isAtEnd { return midnight }
        guard scanner.skip("T") || scanner.skip("t"), let hour = scanner.digits(2), hour < 24, scanner.skip(":"),
            let minute = scanner.digits(2), minute < 60
        else { return nil }
        var second: Int64 = 0
        var microsecond: Int64 = 0
        if scanner.skip(":") {
            guard let parsed = scanner.digits(2), parsed < 60 else { return nil }
            second = parsed
            if scanner.skip(".") || scanner.skip(",") {
                guard let fraction = scanner.fractionMicroseconds() else { return nil }
                microsecond = fraction
            }
        }
        guard let offsetSeconds = scanner.zoneOffsetSeconds(), scanner.isAtEnd else { return nil }
        let secondOfDay = hour * 3_600 + minute * 60 + second - offsetSeconds
        return midnight + secondOfDay * 1_000_000 + microsecond
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        var isAtEnd: Bool { index == bytes.count }

        mutating func skip(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        /// Exactly `count` decimal digits as a number.
        mutating func digits(_ count: Int) -> Int64? {
            guard index + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<index + count] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }

        /// One or more digits after the decimal point, as microseconds (truncated).
        mutating func fractionMicroseconds() -> Int64? {
            var value: Int64 = 0
            var count = 0
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                if count < 6 { value = value * 10 + Int64(bytes[index] - UInt8(ascii: "0")) }
                count += 1
                index += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<max(count, 6) { value *= 10 }
            return value
        }

        /// `Z` (UTC) or `±HH:MM` / `±HHMM`, as seconds east of UTC.
        mutating func zoneOffsetSeconds() -> Int64? {
            if skip("Z") || skip("z") { return 0 }
            let sign: Int64
            if skip("+") { sign = 1 } else if skip("-") { sign = -1 } else { return nil }
            guard let hours = digits(2), hours < 24 else { return nil }
            _ = skip(":")
            guard let minutes = digits(2), minutes < 60 else { return nil }
            return sign * (hours * 3_600 + minutes * 60)
        }
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
    /// `days_from_civil`, the inverse of ``Timestamp``'s `civilDate`).
    private static func daysSince1970(year: Int64, month: Int64, day: Int64) -> Int64 {
        let marchYear = month <= 2 ? year - 1 : year
        let era = (marchYear >= 0 ? marchYear : marchYear - 399) / 400
        let yearOfEra = marchYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
