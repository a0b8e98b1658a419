import Dispatch

/// Runs tasks on a Dispatch thread of their own, outside Swift's cooperative pool.
/// For calls a test holds inside a file-system gate: an appender that finds the
/// writer idle writes, and so waits at the gate, on its own thread, and the pool has
/// only as many threads as cores. Two gated calls on pool threads (suites run in
/// parallel) would leave no thread for the tasks that open the gates.
final class DedicatedThreadExecutor: TaskExecutor {
    private let queue = DispatchQueue(label: "eventlog-tests.off-the-pool")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// Runs `body` on a thread outside the cooperative pool (see ``DedicatedThreadExecutor``).
func offThePool<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await Task(executorPreference: DedicatedThreadExecutor()) { try await body() }.value
}
