// Subscribers that have caught up wait here until the visible end of the log
// passes the position they need; the writer wakes them after each publish. No
// polling, no sleeps: a waiter costs nothing until the log moves.
import EventSourcing
import Synchronization

/// Continuations waiting for the visible end of the log to reach a position.
final class PositionWaiters: Sendable {
    private struct Waiter {
        let position: UInt64
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var visibleEnd: UInt64
        var waiters: [UInt64: Waiter] = [:]
        var nextID: UInt64 = 0
        var isClosed = false
    }

    private let state: Mutex<State>

    init(visibleEnd: UInt64) { state = Mutex(State(visibleEnd: visibleEnd)) }

    /// Waits until the visible end is at least `position`.
    /// - Returns: true once it is; false if the task was cancelled meanwhile.
    /// - Throws: ``EventStoreError/closed`` if the store closes.
    func wait(untilVisible position: UInt64) async throws -> Bool {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        let reached = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let resumeNow: Bool? = state.withLock { state in
                    if state.isClosed || state.visibleEnd >= position { return true }
                    if Task.isCancelled { return false }
                    state.waiters[id] = Waiter(position: position, continuation: continuation)
                    return nil
                }
                if let resumeNow { continuation.resume(returning: resumeNow) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume(returning: false)
        }
        if state.withLock({ $0.isClosed }) { throw EventStoreError.closed }
        return reached
    }

    /// The visible end moved to `end`: wakes every waiter it satisfies.
    func advance(to end: UInt64) {
        let ready = state.withLock { state -> [Waiter] in
            state.visibleEnd = max(state.visibleEnd, end)
            guard !state.waiters.isEmpty else { return [] }
            let ready = state.waiters.filter { $0.value.position <= end }
            for id in ready.keys { state.waiters[id] = nil }
            return Array(ready.values)
        }
        for waiter in ready { waiter.continuation.resume(returning: true) }
    }

    /// The store closed: every waiter wakes, and later waits end at once.
    func close() {
        let all = state.withLock { state -> [Waiter] in
            state.isClosed = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in all { waiter.continuation.resume(returning: true) }
    }

    /// Waiters currently parked (for tests).
    var count: Int { state.withLock { $0.waiters.count } }
}
