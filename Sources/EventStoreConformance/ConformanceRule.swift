// One rule of the EventStore protocol as a runnable check, so an implementation
// can be tested rule by rule (each its own test case in the caller's runner).
import EventSourcing

/// Makes a new, empty store for each rule (and for some rules, several).
public typealias EventStoreFactory = @Sendable () async throws -> any EventStore

/// One named rule of the ``EventSourcing/EventStore`` protocol and the check that
/// exercises it.
public struct ConformanceRule: Sendable, CustomStringConvertible {
    /// A short sentence naming the rule; unique within ``ConformanceSuite/rules``.
    public let name: String
    private let body: @Sendable (ConformanceCheck) async throws -> Void

    /// Creates a rule whose `check` throws ``ConformanceFailure`` on a violation.
    public init(_ name: String, check: @escaping @Sendable (ConformanceCheck) async throws -> Void) {
        self.name = name
        self.body = check
    }

    /// Checks the rule against stores made by `makeStore`.
    ///
    /// - Parameter timeLimit: How long a step that waits for a subscription may
    ///   take before it counts as a hang (a correct store never comes near it).
    /// - Throws: ``ConformanceFailure`` on a violation, including an unexpected
    ///   error from the store; errors from `makeStore` itself pass through.
    public func check(_ makeStore: @escaping EventStoreFactory, timeLimit: Duration = .seconds(10)) async throws {
        let context = ConformanceCheck(rule: name, makeStore: makeStore, timeLimit: timeLimit)
        do {
            try await body(context)
        } catch let failure as ConformanceFailure {
            throw failure
        } catch let setup as FactoryError {
            throw setup.underlying
        } catch {
            throw ConformanceFailure(rule: name, expected: "no error", actual: "the store threw \(error)")
        }
    }

    /// The rule's name.
    public var description: String { name }
}

/// An error from the caller's factory: not the store's fault, so reported as is.
struct FactoryError: Error {
    let underlying: any Error
}
