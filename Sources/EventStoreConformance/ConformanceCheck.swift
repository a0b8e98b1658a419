// The tools a rule uses: fresh stores, comparisons that name the rule when they
// fail, typed-error expectations, and a time limit for steps that wait.
import EventSourcing
import Synchronization

/// What an error check accepts.
public enum ExpectedError: Sendable, CustomStringConvertible {
    /// Exactly this error, associated values included.
    case exactly(EventStoreError)
    /// Any error of the same case (for cases whose values carry free text).
    case sameCase(as: EventStoreError)

    func accepts(_ error: EventStoreError) -> Bool {
        switch self {
        case .exactly(let expected): error == expected
        case .sameCase(let expected): error.caseName == expected.caseName
        }
    }

    /// The accepted error, in words.
    public var description: String {
        switch self {
        case .exactly(let error): "the error \(error.caseName): \(error)"
        case .sameCase(let error): "an error of case \(error.caseName)"
        }
    }
}

/// The context a ``ConformanceRule`` runs in.
public struct ConformanceCheck: Sendable {
    /// The rule being checked.
    public let rule: String
    let makeStore: EventStoreFactory
    /// How long a waiting step may take before it counts as a hang.
    public let timeLimit: Duration

    /// A new, empty store from the suite's factory.
    /// - Throws: The factory's error, wrapped so that
    ///   ``ConformanceRule/check(_:timeLimit:)`` rethrows it as it is instead of
    ///   reporting a broken rule.
    public func freshStore() async throws -> any EventStore {
        do { return try await makeStore() } catch { throw FactoryError(underlying: error) }
    }

    /// A failure of this rule.
    /// - Parameters:
    ///   - expected: What the protocol requires, in words.
    ///   - actual: What the store did instead.
    public func failure(expected: String, actual: String) -> ConformanceFailure {
        ConformanceFailure(rule: rule, expected: expected, actual: actual)
    }

    /// Fails unless `condition` holds.
    /// - Parameters:
    ///   - expected: What the rule requires, in words (built only on failure).
    ///   - actual: What happened instead (built only on failure).
    /// - Throws: A ``ConformanceFailure`` of this rule if `condition` is false.
    public func expect(
        _ condition: Bool, _ expected: @autoclosure () -> String, actual: @autoclosure () -> String
    ) throws(ConformanceFailure) {
        if !condition { throw failure(expected: expected(), actual: actual()) }
    }

    /// Fails unless `actual == expected`; `what` names the value compared.
    /// - Throws: A ``ConformanceFailure`` of this rule naming `what` and both values.
    public func expectEqual<Value: Equatable>(_ actual: Value, _ expected: Value, _ what: String) throws(ConformanceFailure) {
        if actual != expected { throw failure(expected: "\(what) to be \(expected)", actual: "it was \(actual)") }
    }

    /// Fails unless `body` throws an ``EventStoreError`` that `expected` accepts.
    /// - Parameter what: Names the call in the failure, such as "an append at 3".
    /// - Throws: A ``ConformanceFailure`` of this rule if `body` returns, throws an
    ///   ``EventStoreError`` that `expected` does not accept, or throws any other
    ///   error; a ``ConformanceFailure`` `body` throws passes through.
    public func expectError<Value>(
        _ expected: ExpectedError, _ what: String, _ body: () async throws -> Value
    ) async throws(ConformanceFailure) {
        do {
            let value = try await body()
            throw failure(expected: "\(what) to throw \(expected)", actual: "it returned \(value)")
        } catch let failure as ConformanceFailure {
            throw failure
        } catch let error as EventStoreError {
            if !expected.accepts(error) {
                throw failure(expected: "\(what) to throw \(expected)", actual: "it threw \(error.caseName): \(error)")
            }
        } catch {
            throw failure(expected: "\(what) to throw \(expected)", actual: "it threw a \(type(of: error)): \(error)")
        }
    }

    /// Runs `body`, failing if it has not finished within ``timeLimit``.
    ///
    /// The limit is a deadline, not a synchronisation: a correct store finishes
    /// long before it, and nothing waits for it to pass. On a hang the body's
    /// task is cancelled and abandoned (a store that ignores cancellation would
    /// otherwise hang the suite).
    /// - Parameter what: Names the step in the failure, such as "the subscription
    ///   to deliver its history".
    /// - Returns: What `body` returns.
    /// - Throws: A ``ConformanceFailure`` of this rule when ``timeLimit`` passes
    ///   first; otherwise what `body` throws.
    public func withinTimeLimit<Value: Sendable>(
        _ what: String, _ body: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let limit = timeLimit
        let rule = rule
        let race = FirstResult<Value>()
        // Cancelling the caller cancels the work (a correct store then ends it
        // quickly); the timer keeps running so the deadline still holds.
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<Value, any Error>, Never>) in
                race.start(continuation)
                let work = Task {
                    let result: Result<Value, any Error>
                    do { result = .success(try await body()) } catch { result = .failure(error) }
                    race.finish(result)
                }
                let timer = Task {
                    do { try await Task.sleep(for: limit) } catch { return }  // Cancelled: the work finished first.
                    race.finish(.failure(ConformanceFailure(
                        rule: rule, expected: "\(what) within \(limit)", actual: "it had not finished (a hang or a lost event)")))
                }
                race.keep(work: work, timer: timer)
            }
        } onCancel: {
            race.cancelWork()
        }
        race.cancelAll()
        return try result.get()
    }
}

/// The first of two racing results (the work's or the deadline's); the later one is dropped.
private final class FirstResult<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Result<Value, any Error>, Never>?
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
        var isCancelled = false
    }

    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<Result<Value, any Error>, Never>) {
        state.withLock { $0.continuation = continuation }
    }

    func keep(work: Task<Void, Never>, timer: Task<Void, Never>) {
        let cancelNow = state.withLock { state in
            state.work = work
            state.timer = timer
            return state.isCancelled
        }
        if cancelNow { work.cancel() }
    }

    func finish(_ result: Result<Value, any Error>) {
        state.withLock { $0.continuation.take() }?.resume(returning: result)
    }

    func cancelWork() {
        state.withLock { state in
            state.isCancelled = true
            return state.work
        }?.cancel()
    }

    func cancelAll() {
        let (work, timer) = state.withLock { ($0.work, $0.timer) }
        work?.cancel()
        timer?.cancel()
    }
}

extension EventStoreError {
    /// The case without its values: errors are compared by case where their
    /// values carry free text that implementations word differently.
    var caseName: String {
        switch self {
        case .invalidStreamName: "invalidStreamName"
        case .invalidEventType: "invalidEventType"
        case .limitExceeded(.eventTooLarge): "limitExceeded(eventTooLarge)"
        case .limitExceeded(.appendTooLarge): "limitExceeded(appendTooLarge)"
        case .limitExceeded(.tooManyEvents): "limitExceeded(tooManyEvents)"
        case .emptyAppend: "emptyAppend"
        case .duplicateEventID: "duplicateEventID"
        case .wrongExpectedVersion: "wrongExpectedVersion"
        case .idempotencyConflict: "idempotencyConflict"
        case .streamDeleted: "streamDeleted"
        case .corrupted: "corrupted"
        case .storeLocked: "storeLocked"
        case .closed: "closed"
        case .readOnly: "readOnly"
        case .writerFailed: "writerFailed"
        case .io: "io"
        case .incompatibleStore: "incompatibleStore"
        case .invalidArgument: "invalidArgument"
        }
    }
}
