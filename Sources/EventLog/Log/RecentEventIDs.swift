// A bounded memory of recently written event ids, so that a retried append with
// `.any` or `.streamExists` (which names no version to compare at) is recognised
// and answered with its original result instead of being written twice.
import EventSourcing
import Foundation

/// The ids of the last `capacity` events written, with where they went.
struct RecentEventIDs {
    /// How many recent ids are remembered: retries of calls older than this many
    /// events with `.any` are appended again (retries with an exact expected version
    /// are always recognised).
    static let defaultCapacity = 32_768

    struct Entry: Equatable {
        let stream: StreamName
        let version: UInt64
        let position: UInt64
    }

    private var entries: [UUID: Entry] = [:]
    private var ring: [(id: UUID, position: UInt64)]
    private var next = 0
    private let capacity: Int

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        ring = []
        ring.reserveCapacity(capacity)
        entries.reserveCapacity(capacity)
    }

    func lookup(_ id: UUID) -> Entry? { entries[id] }

    mutating func insert(_ id: UUID, _ entry: Entry) {
        if ring.count < capacity {
            ring.append((id, entry.position))
        } else {
            let evicted = ring[next]
            // Only forget the entry this slot remembered, not a newer one for the same id.
            if entries[evicted.id]?.position == evicted.position { entries[evicted.id] = nil }
            ring[next] = (id, entry.position)
            next = (next + 1) % capacity
        }
        entries[id] = entry
    }
}
