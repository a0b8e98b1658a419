import EventSourcing
import Foundation
import Testing

@Suite struct StreamNameTests {
    // Through a String variable: `StreamName("literal")` is a literal, which traps when invalid.
    func name(_ raw: String) throws(EventStoreError) -> StreamName { try StreamName(raw) }

    @Test func validNamesKeepTheirTextAndCategory() throws {
        #expect(try name("order-42").rawValue == "order-42")
        #expect(try name("order-42").category == "order")
        #expect(try name("order-42-line-7").category == "order")
        #expect(try name("plain").category == "plain")
        #expect(try name("-leading").category == "")
        #expect(try name("名前-1").category == "名前")
        #expect(try name("a-\u{301}b-c").category == "a-\u{301}b", "a dash with a combining mark is no dash")
        #expect(try name("-").category == "")
        #expect(try name("order-").category == "order")
    }

    @Test func everyRuleHasItsOwnReason() {
        let cases: [(String, String)] = [
            ("", "empty"),
            (String(repeating: "x", count: Limits.streamNameMaxBytes + 1), "1025 UTF-8 bytes"),
            ("$all", "reserved"),
            ("tab\there", "U+9"),
            ("nul\u{0}", "U+0"),
        ]
        for (raw, reasonFragment) in cases {
            #expect {
                try name(raw)
            } throws: { error in
                guard case .invalidStreamName(_, let reason) = error as? EventStoreError else { return false }
                return reason.contains(reasonFragment)
            }
        }
    }

    @Test func theLimitCountsUTF8BytesNotCharacters() {
        #expect(throws: Never.self) { try name(String(repeating: "é", count: 512)) }
        #expect(throws: EventStoreError.self) { try name(String(repeating: "é", count: 513)) }
    }

    @Test func namesRoundTripThroughCodableAndValidateOnDecode() throws {
        let encoded = try JSONEncoder().encode([try name("a-1")])
        #expect(String(decoding: encoded, as: UTF8.self) == #"["a-1"]"#)
        #expect(try JSONDecoder().decode([StreamName].self, from: encoded) == [try name("a-1")])
        #expect(throws: EventStoreError.self) { try JSONDecoder().decode([StreamName].self, from: Data(#"["$x"]"#.utf8)) }
    }
}

@Suite struct ExpectedVersionRuleTests {
    @Test func eachKindAcceptsExactlyItsVersions() {
        #expect(ExpectedVersion.any.isSatisfied(by: 0) && ExpectedVersion.any.isSatisfied(by: 9))
        #expect(ExpectedVersion.noStream.isSatisfied(by: 0) && !ExpectedVersion.noStream.isSatisfied(by: 1))
        #expect(!ExpectedVersion.streamExists.isSatisfied(by: 0) && ExpectedVersion.streamExists.isSatisfied(by: 1))
        #expect(ExpectedVersion.exact(3).isSatisfied(by: 3) && !ExpectedVersion.exact(3).isSatisfied(by: 4))
        #expect(ExpectedVersion.exact(0).isSatisfied(by: 0))
    }

    @Test func descriptionsMatchTheCLISpelling() {
        #expect([ExpectedVersion.any, .noStream, .streamExists, .exact(12)].map(\.description) == ["any", "no-stream", "exists", "12"])
    }
}

@Suite struct EventValidationTests {
    @Test func limitsAreCheckedOnDataPlusMetadata() {
        let atLimit = EventData(type: "T", data: Data(count: Limits.eventMaxBytes - 1), metadata: Data(count: 1))
        #expect(throws: Never.self) { try atLimit.validate() }
        let over = EventData(type: "T", data: Data(count: Limits.eventMaxBytes), metadata: Data(count: 1))
        #expect(throws: EventStoreError.self) { try over.validate() }
    }

    @Test func errorDescriptionsSayWhatToDo() {
        let error = EventStoreError.wrongExpectedVersion(stream: "order-1", expected: .exact(2), actual: 5)
        #expect(error.description.contains("order-1") && error.description.contains("version 5") && error.description.contains("retry"))
        let corrupted = EventStoreError.corrupted(file: "/s/1.seg", offset: 640, reason: "checksum mismatch")
        #expect(corrupted.description.contains("/s/1.seg") && corrupted.description.contains("640") && corrupted.description.contains("verify"))
    }
}
