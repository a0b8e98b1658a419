// The writer's memory of stream versions: a bounded cache, so expected-version
// checks on recently used streams cost a dictionary lookup, and memory does not
// grow with the number of streams ever written. A miss is answered by the indexes.
import EventSourcing

/// Stream heads the writer has seen, evicting the least recently used beyond `capacity`.
struct StreamHeads {
    private var entries: [StreamName: (head: StreamHead, lastUse: UInt64)] = [:]
    private var clock: UInt64 = 0
    let capacity: Int

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    var count: Int { entries.count }

    /// The stream's head, if cached (one hash of the name: this runs per call).
    mutating func head(of stream: StreamName) -> StreamHead? {
        clock += 1
        guard let index = entries.index(forKey: stream) else { return nil }
        entries.values[index].lastUse = clock
        return entries.values[index].head
    }

    mutating func set(_ head: StreamHead, for stream: StreamName) {
        clock += 1
        entries[stream] = (head, clock)
    }

    /// Evicts the least recently used heads down to 90% of the capacity. Called
    /// between batches only, so a head that a batch changed stays until published.
    mutating func trim() {
        guard entries.count > capacity else { return }
        let keep = capacity * 9 / 10
        let byAge = entries.sorted { $0.value.lastUse < $1.value.lastUse }
        for (stream, _) in byAge.prefix(entries.count - keep) { entries[stream] = nil }
    }
}
