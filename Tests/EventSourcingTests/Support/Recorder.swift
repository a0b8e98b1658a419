// Collects values from concurrent code and lets a test wait until a condition
// holds, woken by each new value: waiting without sleeping or polling.
import Synchronization

final class Recorder<Value: Sendable>: Sendable {
    private struct State {
        var values: [Value] = []
        var waiters: [(condition: @Sendable ([Value]) -> Bool, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    init() {}

    var values: [Value] { state.withLock { $0.values } }

    func record(_ value: Value) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.values.append(value)
            let values = state.values
            let ready = state.waiters.filter { $0.condition(values) }.map(\.continuation)
            state.waiters.removeAll { $0.condition(values) }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    /// Returns once `condition` holds for the values recorded so far.
    func wait(until condition: @escaping @Sendable ([Value]) -> Bool) async {
        await withCheckedContinuation { continuation in
            let holds = state.withLock { state -> Bool in
                if condition(state.values) { return true }
                state.waiters.append((condition, continuation))
                return false
            }
            if holds { continuation.resume() }
        }
    }
}
