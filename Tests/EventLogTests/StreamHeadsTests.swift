import EventSourcing
import Foundation
import Testing

@_spi(Testing) @testable import EventLog

@Suite struct StreamHeadsTests {
    /// The cache remembers where the last looked-up stream's entry is; inserting or
    /// evicting entries moves entries, so a stale place would answer with another
    /// stream's head. Random lookups, sets and trims against a plain dictionary: a
    /// head is either the one last set for that stream or, only after a trim, gone.
    @Test func headsAreTheLastSetOrEvictedByATrim() throws {
        var random = SimulationRandom(seed: 7)
        let streams = try (0..<24).map { try StreamName("stream-\($0)") }
        var heads = StreamHeads(capacity: 8)
        var model: [StreamName: StreamHead] = [:]
        var trimmedSinceSet: Set<StreamName> = []
        var evictions = 0
        for step in 0..<20_000 {
            let stream = streams[Int(random.next() % UInt64(streams.count))]
            switch random.next() % 10 {
            case 0..<4:
                let head = StreamHead(version: UInt64(step), lastEventID: nil)
                heads.set(head, for: stream)
                model[stream] = head
                trimmedSinceSet.remove(stream)
            case 4:
                heads.trim()
                #expect(heads.count <= heads.capacity)
                trimmedSinceSet.formUnion(model.keys)
            default:
                let found = heads.head(of: stream)
                if let found {
                    #expect(found == model[stream], "step \(step): \(stream) answered another head")
                } else if model[stream] != nil {
                    #expect(trimmedSinceSet.contains(stream), "step \(step): \(stream) lost without a trim")
                    model[stream] = nil
                    evictions += 1
                }
            }
        }
        #expect(evictions > 100, "the trims evicted heads the test then looked up")
    }

    @Test func aHeadSetTwiceInARowKeepsTheSecond() throws {
        let stream: StreamName = "order-1"
        var heads = StreamHeads(capacity: 4)
        #expect(heads.head(of: stream) == nil)
        heads.set(StreamHead(version: 1, lastEventID: nil), for: stream)
        heads.set(StreamHead(version: 2, lastEventID: nil), for: stream)
        #expect(heads.head(of: stream)?.version == 2)
        #expect(heads.count == 1)
    }
}
