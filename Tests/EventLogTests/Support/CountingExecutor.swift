// An executor for actors in tests that counts the jobs it runs: how often a task
// came back to the actor, which shows whether a call hopped off it.
import Dispatch
import Synchronization

/// A serial executor that counts the jobs it runs: each time a task comes back to
/// an actor running on it is one.
final class CountingExecutor: SerialExecutor, @unchecked Sendable {
    let jobs = Atomic<Int>(0)
    private let queue = DispatchQueue(label: "counting-executor")

    func enqueue(_ job: consuming ExecutorJob) {
        jobs.add(1, ordering: .relaxed)
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedSerialExecutor()) }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(ordinary: self) }
}

