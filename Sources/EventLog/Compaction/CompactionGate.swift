// One compaction at a time per store, and a store that closes only after its
// compaction has stopped: a compaction still renaming files after the writer
// lock is released could collide with the next writer.
import EventSourcing
import Synchronization

/// Admits one compaction at a time and lets `close` wait for it.
final class CompactionGate: Sendable {
    private struct State {
        var isRunning = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    /// Marks a compaction as running.
    /// - Throws: ``EventStoreError/invalidArgument(_:)`` if one already runs.
    func enter() throws {
        try state.withLock { state in
            guard !state.isRunning else {
                throw EventStoreError.invalidArgument("a compaction of this store is already running; wait for it to finish")
            }
            state.isRunning = true
        }
    }

    /// Marks the running compaction as finished and wakes whoever waits for it.
    func leave() {
        let waiters = state.withLock { state in
            state.isRunning = false
            defer { state.idleWaiters = [] }
            return state.idleWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once no compaction runs.
    func waitUntilIdle() async {
        await withCheckedContinuation { continuation in
            let isIdle = state.withLock { state in
                if !state.isRunning { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if isIdle { continuation.resume() }
        }
    }
}
