// What a broken rule looks like to the person running the suite: which rule,
// what the protocol expected, and what the store did instead.

/// A store broke a rule of ``EventSourcing/EventStore``.
public struct ConformanceFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The name of the rule that failed (one of ``ConformanceSuite/rules``).
    public var rule: String
    /// What the protocol requires, in words.
    public var expected: String
    /// What the store did.
    public var actual: String

    /// Creates a failure report.
    public init(rule: String, expected: String, actual: String) {
        self.rule = rule
        self.expected = expected
        self.actual = actual
    }

    /// The rule, what it expected and what happened, in one sentence.
    public var description: String { "Rule '\(rule)' failed: expected \(expected), but \(actual)." }
}
