// The whole state of an InMemoryEventStore: every event ever appended (hidden
// ones included, since idempotent retries compare their ids), the streams'
// visibility marks, snapshots and the subscribers waiting for new events.
// It lives in one Mutex and every method here is synchronous: no await while
// the lock is held.
import Foundation

/// One stream's bookkeeping.
struct MemoryStream {
    /// Global position of each event; version N is at index N - 1.
    var positions: [UInt64] = []
    /// Events with a version below this are truncated or soft-deleted.
    var visibleFromVersion: UInt64 = 1
    /// Hard-deleted: reads see nothing and writes throw `streamDeleted`.
    var isTombstoned = false
    /// Only the latest `maxCount` events are visible (0: no limit).
    var maxCount: UInt64 = 0
    /// Events older than this many microseconds are hidden (0: no limit).
    var maxAgeMicroseconds: Int64 = 0

    var version: UInt64 { UInt64(positions.count) }

    /// The lowest version truncation and the count limit leave visible.
    var lowestVisibleVersion: UInt64 {
        maxCount > 0 && version > maxCount ? max(visibleFromVersion, version - maxCount + 1) : visibleFromVersion
    }

    /// Whether an event written at `timestamp` is past the age limit at `now`.
    func isTooOld(_ timestamp: Int64, now: Int64) -> Bool {
        maxAgeMicroseconds > 0 && Int128(timestamp) < Int128(now) - Int128(maxAgeMicroseconds)
    }

    /// Whether the stream's event at `version`, written at `timestamp`, is visible at `now`.
    func shows(version: UInt64, timestamp: Int64, now: Int64) -> Bool {
        !isTombstoned && version >= lowestVisibleVersion && !isTooOld(timestamp, now: now)
    }
}

/// A subscriber suspended until events arrive, the store closes or it is cancelled.
struct MemoryWaiter {
    /// Wake only for appends to this stream (nil: any append).
    let stream: StreamName?
    let continuation: CheckedContinuation<Void, Never>
}

struct MemoryLog {
    /// Every event; position N is at index N - 1.
    var events: [RecordedEvent] = []
    var streams: [StreamName: MemoryStream] = [:]
    var snapshots: [StreamName: Snapshot] = [:]
    /// Positions of the events ``InMemoryEventStore/compact()`` removed: hidden
    /// already, and no longer recognised by a retry.
    var removedPositions: Set<UInt64> = []
    var waiters: [UInt64: MemoryWaiter] = [:]
    var nextWaiterID: UInt64 = 0
    var isClosed = false

    var lastPosition: UInt64 { UInt64(events.count) }

    /// Timestamps never go backwards, even when the wall clock does, so that
    /// `firstPosition(atOrAfter:)` can binary-search them.
    func nextTimestamp(now microseconds: Int64) -> Int64 {
        max(microseconds, events.last?.timestampMicroseconds ?? .min)
    }

    func checkOpen() throws(EventStoreError) {
        if isClosed { throw .closed }
    }

    /// Whether `event` may be read at `now` (microseconds since 1970).
    func isVisible(_ event: RecordedEvent, now: Int64) -> Bool {
        guard let stream = streams[event.stream] else { return true }
        return !removedPositions.contains(event.position.rawValue)
            && stream.shows(version: event.version.rawValue, timestamp: event.timestampMicroseconds, now: now)
    }

    func event(at position: UInt64) -> RecordedEvent { events[Int(position - 1)] }

    // MARK: Reading

    /// Up to `maxCount` visible events of `stream` from `version` in `direction`.
    /// - Complexity: O(versions scanned).
    func readStream(_ name: StreamName, from version: UInt64, direction: ReadDirection, maxCount: Int, now: Int64) -> [RecordedEvent] {
        guard let stream = streams[name], !stream.isTombstoned, maxCount > 0, stream.version > 0 else { return [] }
        let first = stream.lowestVisibleVersion
        var result: [RecordedEvent] = []
        switch direction {
        case .forward:
            var current = max(version, first)
            while current <= stream.version && result.count < maxCount {
                let candidate = event(at: stream.positions[Int(current - 1)])
                if isVisible(candidate, now: now) { result.append(candidate) }
                current += 1
            }
        case .backward:
            var current = min(version, stream.version)
            while current >= first && current >= 1 && result.count < maxCount {
                let candidate = event(at: stream.positions[Int(current - 1)])
                if isVisible(candidate, now: now) { result.append(candidate) }
                current -= 1
            }
        }
        return result
    }

    /// Up to `maxCount` visible events of the log from `position` in `direction`.
    /// - Complexity: O(positions scanned), hidden events included.
    func readAll(from position: UInt64, direction: ReadDirection, maxCount: Int, now: Int64) -> [RecordedEvent] {
        guard maxCount > 0, lastPosition > 0 else { return [] }
        var result: [RecordedEvent] = []
        switch direction {
        case .forward:
            var current = max(position, 1)
            while current <= lastPosition && result.count < maxCount {
                let candidate = event(at: current)
                if isVisible(candidate, now: now) { result.append(candidate) }
                current += 1
            }
        case .backward:
            var current = min(position, lastPosition)
            while current >= 1 && result.count < maxCount {
                let candidate = event(at: current)
                if isVisible(candidate, now: now) { result.append(candidate) }
                current -= 1
            }
        }
        return result
    }

    /// The first position appended at or after `microseconds`, hidden events
    /// included, removed ones (``compact()``) not.
    /// - Complexity: O(log events + removed events skipped): timestamps are nondecreasing with position.
    func firstPosition(atOrAfterMicroseconds microseconds: Int64) -> UInt64? {
        var low = 0
        var high = events.count
        while low < high {
            let middle = (low + high) / 2
            if events[middle].timestampMicroseconds < microseconds { low = middle + 1 } else { high = middle }
        }
        // Hidden events count (a reader starting there skips them), removed ones do not.
        while low < events.count && removedPositions.contains(UInt64(low + 1)) { low += 1 }
        return low < events.count ? UInt64(low + 1) : nil
    }

    // MARK: Compaction

    /// Removes every event hidden at `now`, except each stream's last event unless
    /// the stream is hard-deleted (it keeps the version), as the file store's
    /// compaction does.
    mutating func compact(now: Int64) {
        for stream in streams.values {
            for (index, position) in stream.positions.enumerated() {
                let version = UInt64(index + 1)
                if !stream.isTombstoned && version == stream.version { continue }
                if !stream.shows(version: version, timestamp: event(at: position).timestampMicroseconds, now: now) {
                    removedPositions.insert(position)
                }
            }
        }
    }

    // MARK: Waking subscribers

    /// Removes and returns the waiters an append to `streams` concerns; the
    /// caller resumes them after releasing the lock.
    mutating func takeWaiters(for appended: Set<StreamName>) -> [CheckedContinuation<Void, Never>] {
        var woken: [CheckedContinuation<Void, Never>] = []
        for (id, waiter) in waiters where waiter.stream.map(appended.contains) ?? true {
            woken.append(waiter.continuation)
            waiters[id] = nil
        }
        return woken
    }

    mutating func takeAllWaiters() -> [CheckedContinuation<Void, Never>] {
        defer { waiters = [:] }
        return waiters.values.map(\.continuation)
    }
}

/// Dates in the store's unit.
enum Timestamps {
    /// `date` rounded to the nearest microsecond: the store keeps no finer time,
    /// and rounding (rather than truncating) makes a timestamp read back from
    /// ``RecordedEvent/timestamp`` map to the same microsecond despite the
    /// binary fraction in `Date`.
    static func microseconds(of date: Date) -> Int64 {
        let microseconds = (date.timeIntervalSince1970 * 1_000_000).rounded()
        if microseconds >= Double(Int64.max) { return .max }
        if microseconds <= Double(Int64.min) { return .min }
        return Int64(microseconds)
    }
}
