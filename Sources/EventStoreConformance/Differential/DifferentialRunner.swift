// Drives two stores with the same seeded stream of operations and compares
// every answer, so an implementation can be checked against a trusted one
// (the in-memory store) on far more cases than hand-written tests reach.
import EventSourcing

/// Runs the same random operations on two stores and compares every answer.
///
/// Answers must be equal except for timestamps; errors are compared by case,
/// not by message. The operations cover appends with every kind of expected
/// version (right and wrong), idempotent retries and partial retries,
/// multi-stream appends, bad input, reads both ways, deletes, truncation and
/// snapshots, and the run ends by reading everything from both stores.
///
/// ```swift
/// let report = try await DifferentialRunner(seed: 42).run(
///     reference: { InMemoryEventStore() }, candidate: { try MyStore.openTemporary() })
/// ```
public struct DifferentialRunner: Sendable {
    /// Fixes the whole sequence of operations.
    public var seed: UInt64
    /// How many operations to run (the final full comparison not counted).
    public var operationCount: Int
    /// Operations between two full comparisons of everything readable.
    public var fullComparisonInterval: Int
    /// Operations between two calls of the `maintenance` closure given to ``run(reference:candidate:maintenance:)``.
    public var maintenanceInterval = 250

    /// A runner for `operationCount` operations chosen by `seed`.
    public init(seed: UInt64, operationCount: Int = 3_000, fullComparisonInterval: Int = 500) {
        precondition(operationCount >= 0 && fullComparisonInterval > 0, "counts must be positive")
        self.seed = seed
        self.operationCount = operationCount
        self.fullComparisonInterval = fullComparisonInterval
    }

    /// Runs the operations on a store from each factory, one operation at a time.
    /// - Parameter maintenance: Called on both stores every ``maintenanceInterval``
    ///   operations (e.g. compaction, which must not change any answer but may
    ///   change which retries are recognised, the same way in both stores).
    /// - Returns: What the run exercised.
    /// - Throws: ``DifferentialDivergence`` at the first answer that differs;
    ///   errors from the factories and from `maintenance` pass through.
    public func run(
        reference makeReference: EventStoreFactory, candidate makeCandidate: EventStoreFactory,
        maintenance: (@Sendable (any EventStore) async throws -> Void)? = nil
    ) async throws -> DifferentialReport {
        let reference = try await makeReference()
        let candidate = try await makeCandidate()
        var generator = OperationGenerator(seed: seed)
        var report = DifferentialReport(seed: seed)
        for index in 0...operationCount {
            if let maintenance, index > 0, index % maintenanceInterval == 0 {
                try await maintenance(reference)
                try await maintenance(candidate)
                report.maintenanceRuns += 1
            }
            let isFullComparison = index == operationCount || (index > 0 && index % fullComparisonInterval == 0)
            let operation = isFullComparison ? .readEverything(generator.streamNames) : generator.next(index: index)
            let expected = await operation.perform(on: reference)
            let actual = await operation.perform(on: candidate)
            guard expected == actual else {
                throw DifferentialDivergence(
                    seed: seed, operationIndex: index, operation: operation.description, reference: expected.description,
                    candidate: actual.description, firstDifference: expected.firstDifference(from: actual))
            }
            generator.observe(operation, expected)
            report.count(operation, expected, isFullComparison: isFullComparison)
        }
        report.eventsWritten = try await reference.lastPosition().rawValue
        return report
    }
}

/// What a differential run exercised.
public struct DifferentialReport: Sendable, CustomStringConvertible {
    /// The seed the run used.
    public var seed: UInt64
    /// Operations run, the full comparisons included.
    public var operationCount = 0
    /// Operations by kind (`append`, `readAll`, `hardDelete`, …).
    public var operationsByKind: [String: Int] = [:]
    /// Answers by kind: `appended`, `readEvents`, or the error case (`wrongExpectedVersion`, …).
    public var outcomesByKind: [String: Int] = [:]
    /// The reference store's last position at the end.
    public var eventsWritten: UInt64 = 0
    /// Times the maintenance closure ran (on both stores).
    public var maintenanceRuns = 0

    init(seed: UInt64) { self.seed = seed }

    mutating func count(_ operation: DifferentialOperation, _ outcome: DifferentialOutcome, isFullComparison: Bool) {
        operationCount += 1
        operationsByKind[operation.kind, default: 0] += 1
        if !isFullComparison { outcomesByKind[outcome.kind, default: 0] += 1 }
    }

    /// The counts, in one line.
    public var description: String {
        let operations = operationsByKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let outcomes = outcomesByKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "seed \(seed): \(operationCount) operations (\(operations)); answers: \(outcomes); \(eventsWritten) events written"
    }
}

/// The first operation two stores answered differently.
public struct DifferentialDivergence: Error, Sendable, CustomStringConvertible {
    /// The seed of the run: with ``operationIndex`` it replays the divergence.
    public var seed: UInt64
    /// The 0-based index of the operation.
    public var operationIndex: Int
    /// The operation, described.
    public var operation: String
    /// The reference store's answer.
    public var reference: String
    /// The candidate store's answer.
    public var candidate: String
    /// For event lists, the first event that differs.
    public var firstDifference: String?

    /// The divergence and how to replay it.
    public var description: String {
        "The stores diverged at operation \(operationIndex) of seed \(seed): \(operation)\n"
            + "  reference: \(reference)\n"
            + "  candidate: \(candidate)\n"
            + (firstDifference.map { "  first difference: \($0)\n" } ?? "")
            + "  replay with DifferentialRunner(seed: \(seed), operationCount: \(operationIndex + 1))"
    }
}
