// Resuming a batch's appenders, off the writer thread. Each resumption enqueues the
// appender's task on its executor and, while the cooperative pool's threads sleep,
// wakes one: microseconds each, in series. Done by the writer thread, they kept the
// disk idle between one batch's sync and the next batch's write (5-25% of the cycle
// with 16-256 appenders, DESIGN.md "Writer and group commit"); done here, they run
// while the writer thread writes and syncs the next batch.

import EventSourcing

/// The thread that tells a written batch's appenders their outcomes.
///
/// Outcomes are delivered in the order the writer handed them over. A call is
/// handed over only once it is durable under the store's mode (or has failed), so
/// this thread never decides anything: it only resumes.
final class AppendAcknowledger: @unchecked Sendable {
    typealias Acknowledgement = (
        continuation: UnsafeContinuation<[AppendResult], any Error>, outcome: Result<[AppendResult], EventStoreError>
    )

    // Guarded by `queue` (every stored `var` is, hence `@exclusivity(unchecked)`).
    private let queue = ConditionLock()
    @exclusivity(unchecked) private var queued: [Acknowledgement] = []
    /// Whether the thread is resuming what it took from `queued`.
    @exclusivity(unchecked) private var isResuming = false
    @exclusivity(unchecked) private var isStopping = false
    @exclusivity(unchecked) private var hasExited = false

    /// Starts the thread.
    func start() {
        NamedThread.start(named: "eventlog-acks") { [self] in self.run() }
    }

    /// Resumes `acknowledgements`' appenders, and leaves the array empty (its storage
    /// comes back for the next batch): on the acknowledging thread when `handingOver`,
    /// else on the calling thread, unless earlier ones still wait to be resumed there
    /// (outcomes are never reordered).
    func deliver(_ acknowledgements: inout [Acknowledgement], handingOver: Bool) {
        guard !acknowledgements.isEmpty else { return }
        queue.lock()
        if !handingOver, queued.isEmpty, !isResuming {
            queue.unlock()
            for acknowledgement in acknowledgements { Self.resume(acknowledgement) }
            acknowledgements.removeAll(keepingCapacity: true)
            return
        }
        if queued.isEmpty {
            swap(&queued, &acknowledgements)
            if !isResuming { queue.signal() }
        } else {
            queued.append(contentsOf: acknowledgements)
            acknowledgements.removeAll(keepingCapacity: true)
        }
        queue.unlock()
    }

    /// Resumes everything delivered so far, then stops the thread; returns once it
    /// has (the writer thread calls this as it exits, so that every appender has
    /// heard back before `close()` returns).
    func stop() {
        queue.lock()
        isStopping = true
        queue.broadcast()
        while !hasExited { queue.wait() }
        queue.unlock()
    }

    private func run() {
        var taken: [Acknowledgement] = []
        queue.lock()
        while true {
            isResuming = false
            while queued.isEmpty && !isStopping { queue.wait() }
            if queued.isEmpty { break }
            isResuming = true
            swap(&taken, &queued)
            queue.unlock()
            for acknowledgement in taken { Self.resume(acknowledgement) }
            taken.removeAll(keepingCapacity: true)
            queue.lock()
        }
        hasExited = true
        queue.broadcast()
        queue.unlock()
    }

    private static func resume(_ acknowledgement: Acknowledgement) {
        switch acknowledgement.outcome {
        case .success(let results): acknowledgement.continuation.resume(returning: results)
        case .failure(let error): acknowledgement.continuation.resume(throwing: error)
        }
    }
}
