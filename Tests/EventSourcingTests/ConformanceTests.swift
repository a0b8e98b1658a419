// The whole conformance suite against InMemoryEventStore, one test case per rule.
import EventSourcing
import EventStoreConformance
import Testing

@Suite struct InMemoryConformanceTests {
    @Test(arguments: ConformanceSuite.rules.map(\.name))
    func inMemoryStoreKeepsRule(_ name: String) async throws {
        let rule = try #require(ConformanceSuite.rule(named: name))
        try await rule.check { InMemoryEventStore() }
    }

    @Test func ruleNamesAreUnique() {
        let names = ConformanceSuite.rules.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(names.count >= 30)
    }
}
