// The hand-written encoders and parsers behind `read`, checked against
// Foundation as the reference: timestamps against ISO8601DateFormatter and
// Calendar, compacted JSON against JSONSerialization.
import Foundation
import Testing

@testable import EventLogCLI

@Suite struct FormattingTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000000Z"),
        (1_000_000_000_123_456, "2001-09-09T01:46:40.123456Z"),
        (-1, "1969-12-31T23:59:59.999999Z"),
        (951_782_400_000_000, "2000-02-29T00:00:00.000000Z"),
        (253_402_300_799_999_999, "9999-12-31T23:59:59.999999Z"),
    ])
    func timestampsAreISO8601WithMicroseconds(microseconds: Int64, expected: String) {
        #expect(Timestamp.iso8601(microseconds: microseconds) == expected)
    }

    @Test func timestampsAgreeWithFoundationsCalendar() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            // 1900...2200, whole seconds so the Date's Double holds them exactly.
            let seconds = Int64.random(in: -2_208_988_800...7_258_118_400, using: &generator)
            let microsecond = Int64.random(in: 0..<1_000_000, using: &generator)
            let parts = calendar.dateComponents(
                [.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: Double(seconds)))
            let expected = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", parts.year!, parts.month!, parts.day!, parts.hour!,
                parts.minute!, parts.second!, Int(microsecond))
            #expect(Timestamp.iso8601(microseconds: seconds * 1_000_000 + microsecond) == expected)
        }
    }

    @Test func stringsAreEscapedPerJSONRules() throws {
        let text = "quote \" backslash \\ slash / newline \n tab \t bell \u{07} nul \u{00} é ✓ 😀"
        var bytes: [UInt8] = []
        JSONText.appendString(text, to: &bytes)
        let parsed = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        #expect(parsed as? String == text)
        #expect(!bytes.contains { $0 < 0x20 })
    }

    @Test func uuidsAndNumbersMatchFoundation() {
        let id = UUID()
        var bytes: [UInt8] = []
        JSONText.appendUUID(id, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == id.uuidString)
        for number: UInt64 in [0, 9, 10, 1_234_567, .max] {
            var digits: [UInt8] = []
            JSONText.appendNumber(number, to: &digits)
            #expect(String(decoding: digits, as: UTF8.self) == String(number))
        }
    }

    @Test(arguments: [
        ("{\n  \"a\" : [ 1, -2.5e+3, true, false, null ],\n  \"b\" : { }\n}\n", #"{"a":[1,-2.5e+3,true,false,null],"b":{}}"#),
        (" \"x y\" ", #""x y""#),
        ("[\"\\u00e9\\n\", \"é\"]", #"["\u00e9\n","é"]"#),
        ("0", "0"),
    ])
    func validJSONIsCompactedOntoOneLine(input: String, expected: String) {
        var output: [UInt8] = [UInt8(ascii: "<")]
        let accepted = Data(input.utf8).withUnsafeBytes { JSONCompactor.appendCompacted($0, to: &output) }
        #expect(accepted)
        #expect(String(decoding: output, as: UTF8.self) == "<" + expected)
    }

    @Test(arguments: [
        "", "{", "{\"a\":}", "[1,]", "01", "-", "1.", "1e", "tru", "nul", "\"unterminated", "\"tab\there\"",
        "\"bad \\x escape\"", "\"\\u12G4\"", "{\"a\" 1}", "{1:2}", "[1] [2]", "'single'", "NaN",
    ])
    func invalidJSONIsRefusedAndLeavesTheOutputAlone(input: String) {
        var output: [UInt8] = [UInt8(ascii: "<")]
        let accepted = Data(input.utf8).withUnsafeBytes { JSONCompactor.appendCompacted($0, to: &output) }
        #expect(!accepted)
        #expect(output == [UInt8(ascii: "<")])
    }

    @Test func invalidUTF8AndDeepNestingAreRefused() {
        for bytes: [UInt8] in [[0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22]] {
            var output: [UInt8] = []
            #expect(!bytes.withUnsafeBytes { JSONCompactor.appendCompacted($0, to: &output) })
        }
        let deep = Data((String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)).utf8)
        var output: [UInt8] = []
        #expect(!deep.withUnsafeBytes { JSONCompactor.appendCompacted($0, to: &output) })
    }

    @Test func compactedJSONParsesToTheSameValueAsTheInput() throws {
        let value: [String: Any] = [
            "name": "ada", "n": 42, "x": -0.125, "list": [1, "two", ["three": NSNull()]], "flag": true, "text": "a\"b\\c\n",
        ]
        let pretty = try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys])
        var output: [UInt8] = []
        #expect(pretty.withUnsafeBytes { JSONCompactor.appendCompacted($0, to: &output) })
        #expect(!output.contains(UInt8(ascii: "\n")))
        let reparsed = try JSONSerialization.jsonObject(with: Data(output))
        #expect(try JSONLines.canonical(reparsed) == JSONLines.canonical(value))
    }

    // MARK: Parsing --since and --until

    @Test(arguments: [
        ("1970-01-01", Int64(0)),
        ("2026-11-23", 1_795_392_000_000_000),
        ("2026-11-23T03:34:55Z", 1_795_404_895_000_000),
        ("2026-11-23T03:34:55.123456Z", 1_795_404_895_123_456),
        ("2026-11-23T03:34:55.1234567Z", 1_795_404_895_123_456),
        ("2026-11-23T03:34:55.5Z", 1_795_404_895_500_000),
        ("2026-11-23t03:34:55,5z", 1_795_404_895_500_000),
        ("2026-11-23T04:34:55.5+01:00", 1_795_404_895_500_000),
        ("2026-11-23T01:04:55.5-0230", 1_795_404_895_500_000),
        ("2026-11-23T03:34Z", 1_795_404_840_000_000),
        ("2024-02-29", 1_709_164_800_000_000),
        ("1969-12-31T23:59:59.999999Z", -1),
    ])
    func isoTimesParseToMicroseconds(text: String, microseconds: Int64) {
        #expect(TimestampParser.microseconds(fromISO8601: text) == microseconds)
    }

    @Test(arguments: [
        "", "yesterday", "2026-11-23T03:34:55", "2026-13-01", "2026-00-10", "2026-02-29", "2100-02-29", "2026-04-31",
        "2026-11-23T24:00:00Z", "2026-11-23T03:60:00Z", "2026-11-23T03:34:60Z", "2026-11-23T03:34:55.Z", "2026-11-23 03:34:55Z",
        "2026-11-23T03:34:55Z ", "26-11-23", "2026-11-23T03:34:55+1:00", "2026-11-23Z", "+2026-11-23",
    ])
    func textThatIsNotAnISOTimeIsRefused(text: String) {
        #expect(TimestampParser.microseconds(fromISO8601: text) == nil)
    }

    @Test func parsingReadsBackWhatReadPrints() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let microseconds = Int64.random(in: -2_208_988_800_000_000...7_258_118_400_000_000, using: &generator)
            #expect(TimestampParser.microseconds(fromISO8601: Timestamp.iso8601(microseconds: microseconds)) == microseconds)
        }
    }

    /// The library turns the Date back into microseconds by rounding up; the Date
    /// handed to it must come back as the same microsecond, not the next one.
    @Test func theSinceDateComesBackAsTheSameMicrosecond() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let microseconds = Int64.random(in: 1_700_000_000_000_000...1_900_000_000_000_000, using: &generator)
            let date = TimeWindow.date(microseconds: microseconds)
            #expect(Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.up)) == microseconds)
        }
    }
}
