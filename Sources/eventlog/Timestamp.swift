// ISO 8601 timestamps with microseconds, formatted by hand from the store's
// integer microseconds: DateFormatter would allocate per event and rounds
// through a Double, which can lose the last microsecond.

enum Timestamp {
    /// Appends `microseconds` since 1970-01-01 UTC as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    static func appendISO8601(microseconds: Int64, to output: inout [UInt8]) {
        let (seconds, microsecond) = floorDivision(microseconds, 1_000_000)
        let (days, secondOfDay) = floorDivision(seconds, 86_400)
        let (year, month, day) = civilDate(daysSince1970: days)
        if year < 0 { output.append(UInt8(ascii: "-")) }
        JSONText.appendDigits(UInt64(abs(year)), minimumWidth: 4, to: &output)
        output.append(UInt8(ascii: "-"))
        JSONText.appendDigits(UInt64(month), minimumWidth: 2, to: &output)
        output.append(UInt8(ascii: "-"))
        JSONText.appendDigits(UInt64(day), minimumWidth: 2, to: &output)
        output.append(UInt8(ascii: "T"))
        JSONText.appendDigits(UInt64(secondOfDay / 3600), minimumWidth: 2, to: &output)
        output.append(UInt8(ascii: ":"))
        JSONText.appendDigits(UInt64(secondOfDay / 60 % 60), minimumWidth: 2, to: &output)
        output.append(UInt8(ascii: ":"))
        JSONText.appendDigits(UInt64(secondOfDay % 60), minimumWidth: 2, to: &output)
        output.append(UInt8(ascii: "."))
        JSONText.appendDigits(UInt64(microsecond), minimumWidth: 6, to: &output)
        output.append(UInt8(ascii: "Z"))
    }

    /// The timestamp as a String (for tests and messages).
    static func iso8601(microseconds: Int64) -> String {
        var bytes: [UInt8] = []
        appendISO8601(microseconds: microseconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Quotient and remainder rounded towards negative infinity, so times before
    /// 1970 still have a remainder in 0..<divisor.
    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value / divisor
        let remainder = value % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
    /// Hinnant's `civil_from_days`: eras of 400 years, years starting in March so
    /// that the leap day comes last).
    private static func civilDate(daysSince1970 days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let daysSinceEpochOfEras = days + 719_468  // 0000-03-01 to 1970-01-01
        let era = (daysSinceEpochOfEras >= 0 ? daysSinceEpochOfEras : daysSinceEpochOfEras - 146_096) / 146_097
        let dayOfEra = daysSinceEpochOfEras - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}
