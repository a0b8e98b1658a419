// The pull side of an in-memory subscription. It reads the store in batches at
// the subscriber's pace, then, once caught up, suspends on a continuation that
// the next append (or close, or cancellation) resumes. The cursor only moves
// forward past positions it has looked at, so nothing is delivered twice and
// nothing appended later can be skipped.
import Foundation

final class MemoryPuller: EventPuller {
    enum Source {
        case all(EventFilter)
        case stream(StreamName)
    }

    private let store: InMemoryEventStore
    private let source: Source
    /// The next global position (`.all`) or stream version (`.stream`) to look at.
    private var cursor: UInt64
    /// Fetched but not yet delivered; visibility is checked again on delivery, so
    /// a deletion hides buffered events too.
    private var buffer: [RecordedEvent] = []
    private var bufferIndex = 0

    init(store: InMemoryEventStore, source: Source, from cursor: UInt64) {
        self.store = store
        self.source = source
        self.cursor = cursor
    }

    func next() async throws -> RecordedEvent? {
        // Bounded: every pass either returns, or moves the cursor past at least one
        // position, or waits for an append, a close or a cancellation.
        while true {
            if Task.isCancelled { return nil }
            switch try fetch() {
            case .event(let event): return event
            case .scannedWithoutMatch: continue
            case .caughtUp: await waitForAppend()
            }
        }
    }

    private enum Step {
        case event(RecordedEvent)
        case scannedWithoutMatch
        case caughtUp
    }

    private func fetch() throws(EventStoreError) -> Step {
        let batchSize = store.subscriptionBatchSize
        let now = store.currentMicroseconds()
        return try store.log.withLock { log throws(EventStoreError) -> Step in
            try log.checkOpen()
            while bufferIndex < buffer.count {
                let event = buffer[bufferIndex]
                bufferIndex += 1
                if log.isVisible(event, now: now) { return .event(event) }
            }
            buffer.removeAll(keepingCapacity: true)
            bufferIndex = 0
            switch source {
            case .all(let filter):
                // Bound the scan as well as the batch: a filter matching nothing must
                // not hold the lock for the whole log.
                let scanSpan = UInt64(batchSize) * 16
                let scanEnd = min(log.lastPosition, cursor > UInt64.max - scanSpan ? UInt64.max : cursor + scanSpan - 1)
                guard cursor <= scanEnd else { return .caughtUp }
                while cursor <= scanEnd && buffer.count < batchSize {
                    let event = log.event(at: cursor)
                    cursor += 1
                    if log.isVisible(event, now: now) && filter.matches(event) { buffer.append(event) }
                }
            case .stream(let name):
                guard let stream = log.streams[name], !stream.isTombstoned else { return .caughtUp }
                cursor = max(cursor, stream.lowestVisibleVersion)
                guard cursor <= stream.version else { return .caughtUp }
                while cursor <= stream.version && buffer.count < batchSize {
                    buffer.append(log.event(at: stream.positions[Int(cursor - 1)]))
                    cursor += 1
                }
            }
            guard !buffer.isEmpty else { return .scannedWithoutMatch }
            bufferIndex = 1
            return .event(buffer[0])
        }
    }

    /// Suspends until an append might have brought something new, the store
    /// closes or the task is cancelled (the caller checks which).
    private func waitForAppend() async {
        let store = self.store
        let cursor = self.cursor
        let stream: StreamName?
        switch source {
        case .all: stream = nil
        case .stream(let name): stream = name
        }
        let waiterID = store.log.withLock { log in
            log.nextWaiterID += 1
            return log.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // Checked under the same lock hold that registers the waiter, so an
                // append, close or cancel in between cannot be missed: the canceller
                // sets the flag before it runs its handler, which takes this lock.
                let resumeNow = store.log.withLock { log -> Bool in
                    if log.isClosed || Task.isCancelled { return true }
                    if let stream {
                        if let entry = log.streams[stream], !entry.isTombstoned, entry.version >= cursor { return true }
                    } else if log.lastPosition >= cursor {
                        return true
                    }
                    log.waiters[waiterID] = MemoryWaiter(stream: stream, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = store.log.withLock { $0.waiters.removeValue(forKey: waiterID)?.continuation }
            continuation?.resume()
        }
    }
}
