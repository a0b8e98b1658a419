// Stream readers for the mixed row, each on its own thread: `readStream` is a
// synchronous call that does blocking preads, and eight of them looping on the
// cooperative pool (two threads on two cores) would starve the appenders'
// continuations, measuring the pool's queue instead of the store.
import EventLog
import EventSourcing
import Foundation
import Synchronization

/// `count` threads, each reading random streams whole until told to stop.
final class ReaderThreads: Sendable {
    /// What one reader did.
    struct Outcome: Sendable {
        var reads = 0
        var seconds = 0.0
        /// One sample per whole-stream read.
        var latency = LatencyHistogram()
        var failure: String?

        var readsPerSecond: Double { seconds > 0 ? Double(reads) / seconds : 0 }
    }

    private struct State {
        var outcomes: [Outcome] = []
        var waiting: CheckedContinuation<[Outcome], Never>?
    }

    private let count: Int
    private let shouldStop = Atomic<Bool>(false)
    private let state = Mutex(State())

    /// Starts `count` threads reading streams of `streams` picked at random, each
    /// expected to hold `eventsPerStream` events.
    init(count: Int, store: FileEventStore, streams: [StreamName], eventsPerStream: Int) {
        precondition(count > 0 && !streams.isEmpty, "readers need threads and streams")
        self.count = count
        for reader in 0..<count {
            let thread = Thread { [self] in
                // Named from inside: Linux names the running thread (for perf and top).
                Thread.current.name = "bench-reader-\(reader)"
                finish(read(reader: reader, store: store, streams: streams, eventsPerStream: eventsPerStream))
            }
            thread.start()
        }
    }

    /// Tells every reader to stop after its current read, and returns their
    /// outcomes once all have stopped.
    func stop() async -> [Outcome] {
        shouldStop.store(true, ordering: .relaxed)
        return await withCheckedContinuation { continuation in
            let ready: [Outcome]? = state.withLock { state in
                if state.outcomes.count == count { return state.outcomes }
                state.waiting = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// One reader's loop: the only work between the clock readings is the read.
    private func read(reader: Int, store: FileEventStore, streams: [StreamName], eventsPerStream: Int) -> Outcome {
        var random = SplitMix64(seed: 0x5EED_0000 &+ UInt64(reader))
        var outcome = Outcome()
        let started = MonotonicClock.nanoseconds()
        while !shouldStop.load(ordering: .relaxed) {
            let stream = streams[Int(random.next() % UInt64(streams.count))]
            let readStarted = MonotonicClock.nanoseconds()
            let eventCount: Int
            do {
                eventCount = try store.readStream(stream).count
            } catch {
                outcome.failure = "reader \(reader): readStream(\(stream)) threw \(error)"
                break
            }
            outcome.latency.record(nanoseconds: MonotonicClock.nanoseconds() - readStarted)
            guard eventCount == eventsPerStream else {
                outcome.failure = "reader \(reader): read \(eventCount) events of \(stream), expected \(eventsPerStream)"
                break
            }
            outcome.reads += 1
        }
        outcome.seconds = MonotonicClock.seconds(from: started, to: MonotonicClock.nanoseconds())
        return outcome
    }

    /// Records a reader's outcome; the last one resumes a waiting ``stop()``.
    private func finish(_ outcome: Outcome) {
        let waiting: (CheckedContinuation<[Outcome], Never>, [Outcome])? = state.withLock { state in
            state.outcomes.append(outcome)
            guard state.outcomes.count == count, let waiting = state.waiting else { return nil }
            state.waiting = nil
            return (waiting, state.outcomes)
        }
        if let (continuation, outcomes) = waiting { continuation.resume(returning: outcomes) }
    }
}
