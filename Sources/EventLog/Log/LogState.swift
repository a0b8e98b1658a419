// What readers may see of the log, guarded by one mutex that is held only for
// lookups and for the writer's publish step, never across I/O (the one
// exception, an idempotency check reading a few ids, is documented there).
import EventSourcing
import Foundation

/// A segment as readers see it: its file, and where each visible record starts.
struct SegmentEntry {
    let segment: Segment
    /// Offset of each visible record, indexed by `position - segment.firstPosition`.
    var offsets: [UInt32]
    /// End of the visible records.
    var recordsEnd: UInt64
    var isSealed: Bool

    var lastPosition: UInt64 { segment.firstPosition + UInt64(offsets.count) - 1 }
}

/// The shared state of an open log.
///
/// Invariants (DESIGN.md, "Invariants"): `visibleEnd` only grows; every position
/// `1...visibleEnd` has an entry in exactly one segment; a stream's positions are
/// ascending, and its version is their count.
struct LogState {
    var segments: [SegmentEntry] = []
    /// The last position readers may see (0: none). Only acknowledged events are visible.
    var visibleEnd: UInt64 = 0
    /// Each stream's events. The writer appends here when it accepts a call, before
    /// the call is durable, so positions past `visibleEnd` are in flight and readers
    /// skip them.
    var streams: [StreamName: StreamEntry] = [:]

    /// Index into `segments` of the segment holding `position`.
    func segmentIndex(holding position: UInt64) -> Int? {
        var low = 0
        var high = segments.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let entry = segments[middle]
            if position < entry.segment.firstPosition {
                high = middle - 1
            } else if position > entry.lastPosition {
                low = middle + 1
            } else {
                return middle
            }
        }
        return nil
    }

    /// The segment and offset of a visible record.
    func location(of position: UInt64) -> RecordLocation? {
        guard position >= 1, position <= visibleEnd, let index = segmentIndex(holding: position) else { return nil }
        let entry = segments[index]
        let offset = UInt64(entry.offsets[Int(position - entry.segment.firstPosition)])
        return RecordLocation(segment: entry.segment, offset: offset, recordsEnd: entry.recordsEnd, position: position)
    }

    /// A stream's visible version: how many of its events are visible.
    func visibleVersion(of stream: StreamName) -> UInt64 {
        guard let positions = streams[stream]?.positions else { return 0 }
        var count = positions.count
        while count > 0 && positions[count - 1] > visibleEnd { count -= 1 }
        return UInt64(count)
    }
}

/// One stream in memory.
struct StreamEntry {
    /// Global positions of the stream's events; version N is at index N - 1.
    var positions: [UInt64] = []
    /// Id of the stream's last event: recognises a retried `.any` append of the
    /// stream's latest call without reading the log.
    var lastEventID: UUID

    var version: UInt64 { UInt64(positions.count) }
}

/// Where a record lives.
struct RecordLocation {
    let segment: Segment
    let offset: UInt64
    let recordsEnd: UInt64
    let position: UInt64
}
