// What readers may see of the log, guarded by one mutex that is held only for
// lookups and for the writer's publish step, never across I/O.
import EventSourcing
import Foundation

/// A sealed segment: immutable records and their index (file or memory).
struct SealedEntry {
    let segment: Segment
    let lastPosition: UInt64
    let recordsEnd: UInt64
    var index: SealedIndex

    var recordCount: Int { Int(lastPosition + 1 - segment.firstPosition) }
}

/// The segment being appended to, as readers see it: only acknowledged records.
struct ActiveEntry {
    let segment: Segment
    var index: MemoryIndex
}

/// The shared state of an open log.
///
/// Invariants (DESIGN.md, "Invariants"): `visibleEnd` only grows; positions
/// `1...visibleEnd` are each in exactly one segment, sealed segments in position
/// order before the active one; only acknowledged records are indexed here.
struct LogState {
    var sealed: [SealedEntry] = []
    var active: ActiveEntry?
    /// The last position readers may see (0: none).
    var visibleEnd: UInt64 = 0

    /// Index into `sealed` of the segment holding `position`, if a sealed one does.
    func sealedIndex(holding position: UInt64) -> Int? {
        var low = 0
        var high = sealed.count - 1
        while low <= high {
            let middle = (low + high) / 2
            if position < sealed[middle].segment.firstPosition {
                high = middle - 1
            } else if position > sealed[middle].lastPosition {
                low = middle + 1
            } else {
                return middle
            }
        }
        return nil
    }

    var segmentCount: Int { sealed.count + (active == nil ? 0 : 1) }
}

/// Where a record lives, and what it must say about itself.
struct RecordLocation {
    let segment: Segment
    let offset: UInt64
    let recordsEnd: UInt64
    let position: UInt64
    /// The stream version the record must carry (0: not checked).
    let version: UInt64
}
