// The writer's memory of stream versions: a bounded cache, so expected-version
// checks on recently used streams cost a dictionary lookup, and memory does not
// grow with the number of streams ever written. A miss is answered by the indexes.
import EventSourcing

/// Stream heads the writer has seen, evicting the least recently used beyond `capacity`.
struct StreamHeads {
    private typealias Entries = [StreamName: (head: StreamHead, lastUse: UInt64)]
    private var entries: Entries = [:]
    /// The last stream looked up and where its entry is: a call reads its stream's
    /// head and sets it again, and a lone appender's next call names the same
    /// stream, so comparing the name saves hashing it (twice per call). Valid
    /// until an entry is inserted or removed (a dictionary index is not after that).
    private var recent: (stream: StreamName, index: Entries.Index)?
    private var clock: UInt64 = 0
    let capacity: Int

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    var count: Int { entries.count }

    /// The stream's head, if cached (at most one hash of the name: this runs per call).
    mutating func head(of stream: StreamName) -> StreamHead? {
        clock += 1
        guard let index = index(of: stream) else { return nil }
        entries.values[index].lastUse = clock
        return entries.values[index].head
    }

    mutating func set(_ head: StreamHead, for stream: StreamName) {
        clock += 1
        if let index = index(of: stream) {
            entries.values[index] = (head, clock)
        } else {
            entries[stream] = (head, clock)
            recent = nil
        }
    }

    private mutating func index(of stream: StreamName) -> Entries.Index? {
        if let recent, recent.stream == stream { return recent.index }
        guard let index = entries.index(forKey: stream) else { return nil }
        recent = (stream, index)
        return index
    }

    /// Evicts the least recently used heads down to 90% of the capacity; returns how
    /// many went. Called between batches only, so a head that a batch changed stays
    /// until published.
    @discardableResult
    mutating func trim() -> Int {
        guard entries.count > capacity else { return 0 }
        recent = nil
        let keep = capacity * 9 / 10
        let byAge = entries.sorted { $0.value.lastUse < $1.value.lastUse }
        let evicted = entries.count - keep
        for (stream, _) in byAge.prefix(evicted) { entries[stream] = nil }
        return evicted
    }
}
