// The whole EventStore contract as a list of rules any implementation can be
// run against, one test case per rule:
//
//     @Test(arguments: ConformanceSuite.rules.map(\.name))
//     func ruleHolds(_ name: String) async throws {
//         try await ConformanceSuite.rule(named: name)!.check { try MyStore.openTemporary() }
//     }
import EventSourcing

/// The rules of ``EventSourcing/EventStore``, runnable against any implementation.
///
/// Each rule makes its own stores from the factory it is given, so rules are
/// independent and may run in parallel. A rule that waits for a subscription
/// fails after its time limit instead of hanging.
public enum ConformanceSuite {
    /// Every rule, grouped as the protocol's doc comment lists them.
    public static let rules: [ConformanceRule] =
        NumberingRules.all + ExpectedVersionRules.all + IdempotencyRules.all + MultiStreamRules.all + ReadRules.all
        + SubscriptionRules.all + SnapshotRules.all + DeletionRules.all + MetadataRules.all + InputRules.all

    /// The rule called `name`, or nil.
    /// - Complexity: O(rules).
    public static func rule(named name: String) -> ConformanceRule? {
        rules.first { $0.name == name }
    }

    /// Checks every rule in turn and returns the failures (empty: the store conforms).
    /// - Parameters:
    ///   - makeStore: Makes a new, empty store each time a rule asks for one.
    ///   - timeLimit: How long a step that waits for a subscription may take
    ///     before it counts as a hang.
    /// - Throws: Only errors from `makeStore` itself, which end the run.
    /// - Complexity: One run of every rule in ``rules``, one after another.
    public static func failures(
        of makeStore: @escaping EventStoreFactory, timeLimit: Duration = .seconds(10)
    ) async throws -> [ConformanceFailure] {
        var failures: [ConformanceFailure] = []
        for rule in rules {
            do {
                try await rule.check(makeStore, timeLimit: timeLimit)
            } catch let failure as ConformanceFailure {
                failures.append(failure)
            }
        }
        return failures
    }
}
