// How the in-memory store decides an append call: tombstones, expected versions
// and idempotent retries, by the same rules as the file engine (DESIGN.md,
// "Idempotency"), so the two can be checked against each other operation by
// operation.
import Foundation

extension MemoryLog {
    /// What one part of a call turns out to be.
    private enum PartCheck {
        case append
        case retry(AppendResult)
        case failed(EventStoreError)
    }

    /// Decides and, if accepted, writes a validated call: every part is checked
    /// before anything is written, so a failing part writes nothing anywhere.
    mutating func append(_ parts: [StreamAppend], timestampMicroseconds: Int64) throws(EventStoreError) -> [AppendResult] {
        try checkOpen()
        var checks: [PartCheck] = []
        checks.reserveCapacity(parts.count)
        for part in parts { checks.append(check(part)) }
        for check in checks { if case .failed(let error) = check { throw error } }
        let retries = checks.compactMap { check -> AppendResult? in
            if case .retry(let result) = check { return result }
            return nil
        }
        if retries.count == parts.count { return retries }
        if !retries.isEmpty {
            throw .idempotencyConflict(
                stream: parts[0].stream,
                reason: "some streams of this multi-stream call were already written by an earlier call with the same event ids, others were not")
        }

        var results: [AppendResult] = []
        results.reserveCapacity(parts.count)
        for part in parts {
            var stream = streams[part.stream] ?? MemoryStream()
            let firstPosition = lastPosition + 1
            for event in part.events {
                let position = lastPosition + 1
                stream.positions.append(position)
                events.append(RecordedEvent(
                    position: GlobalPosition(position), stream: part.stream, version: StreamVersion(stream.version),
                    id: event.id, type: event.type, data: event.data, metadata: event.metadata, isJSON: event.isJSON,
                    timestampMicroseconds: timestampMicroseconds, correlationID: event.correlationID,
                    causationID: event.causationID))
            }
            streams[part.stream] = stream
            results.append(AppendResult(
                nextExpectedVersion: StreamVersion(stream.version), firstPosition: GlobalPosition(firstPosition),
                lastPosition: GlobalPosition(lastPosition)))
        }
        return results
    }

    private func check(_ part: StreamAppend) -> PartCheck {
        let stream = streams[part.stream] ?? MemoryStream()
        if stream.isTombstoned { return .failed(.streamDeleted(stream: part.stream)) }
        let current = stream.version
        let callCount = UInt64(part.events.count)
        let expectedBase: UInt64
        switch part.expectedVersion {
        case .exact(let version): expectedBase = version.rawValue
        case .noStream: expectedBase = 0
        case .any, .streamExists:
            // No version to compare at: a retry is recognised while its call is
            // still the stream's latest, by the id of its last event.
            if current >= callCount, let lastEventPosition = stream.positions.last,
                event(at: lastEventPosition).id == part.events[part.events.count - 1].id
            {
                return compareIDs(part, after: current - callCount, in: stream)
                    ?? .failed(.idempotencyConflict(
                        stream: part.stream,
                        reason: "the last event id matches the stream's last event, but the events before it differ"))
            }
            if case .streamExists = part.expectedVersion, current == 0 {
                return .failed(.wrongExpectedVersion(stream: part.stream, expected: part.expectedVersion, actual: .none))
            }
            return .append
        }
        if current == expectedBase { return .append }
        let wrong = PartCheck.failed(.wrongExpectedVersion(
            stream: part.stream, expected: part.expectedVersion, actual: StreamVersion(current)))
        guard current > expectedBase else { return wrong }
        // The stream moved past the expected version: is this a retry of the call
        // that moved it? Compare the ids written at the versions after it.
        return compareIDs(part, after: expectedBase, in: stream) ?? wrong
    }

    /// Compares the call's ids with the stream's events after version `base`
    /// (hidden ones too: truncation does not make a retry new): all equal is a
    /// retry, some equal a conflict, none equal nil.
    private func compareIDs(_ part: StreamAppend, after base: UInt64, in stream: MemoryStream) -> PartCheck? {
        // Compaction removes a prefix of a stream: once the event after `base` is
        // gone, nothing of a call that wrote it can be recognised.
        if removedPositions.contains(stream.positions[Int(base)]) { return nil }
        let count = min(part.events.count, Int(stream.version - base))
        var matches = 0
        for index in 0..<count where event(at: stream.positions[Int(base) + index]).id == part.events[index].id {
            matches += 1
        }
        if matches == part.events.count {
            return .retry(AppendResult(
                nextExpectedVersion: StreamVersion(base + UInt64(part.events.count)),
                firstPosition: GlobalPosition(stream.positions[Int(base)]),
                lastPosition: GlobalPosition(stream.positions[Int(base) + part.events.count - 1])))
        }
        if matches > 0 {
            return .failed(.idempotencyConflict(
                stream: part.stream,
                reason: "\(matches) of the \(part.events.count) event ids were already written after version \(base), but not all of them"))
        }
        return nil
    }
}
