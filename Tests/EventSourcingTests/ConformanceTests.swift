// The whole conformance suite against InMemoryEventStore, one test case per rule.
import EventSourcing
import EventStoreConformance
import Testing

@Suite struct InMemoryConformanceTests {
    @Test(arguments: ConformanceSuite.rules.map(\.name))
    func inMemoryStoreKeepsRule(_ name: String) async throws {
        let rule = try #require(ConformanceSuite.rule(named: name))
        // A rule's limit only catches a hang: the package's suite runs its crash
        // tests beside this one on two cores, where the default 10 s can run out.
        try await rule.check({ InMemoryEventStore() }, timeLimit: .seconds(60))
    }

    @Test func ruleNamesAreUnique() {
        let names = ConformanceSuite.rules.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(names.count >= 30)
    }
}
