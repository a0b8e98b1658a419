import EventSourcing
import Foundation
import Testing

@testable import EventLog

@Suite struct RecordNamesTests {
    /// Names repeat, alternate and outnumber what is kept (2 streams, 4 types):
    /// every answer is the string the bytes make, whatever the cache held.
    @Test func everyNameIsTheStringItsBytesMake() {
        var random = SystemRandomNumberGenerator()
        let streams = ["order-1", "order-2", "a-stream-name-longer-than-fifteen-bytes", "é-unicode-stream", "order-1x"]
        let types = ["Created", "Paid", "Shipped", "Cancelled", "Refunded", "Created2", "ÜberType"]
        var names = RecordNames()
        for _ in 0..<5_000 {
            let stream = streams.randomElement(using: &random)!
            let type = types.randomElement(using: &random)!
            #expect(Array(stream.utf8).withUnsafeBytes { names.string(for: $0, of: .stream) } == stream)
            #expect(Array(type.utf8).withUnsafeBytes { names.string(for: $0, of: .type) } == type)
        }
    }

    /// A name that is a prefix of a kept one, or the kept one of the other kind, is not taken for it.
    @Test func aPrefixOrTheOtherKindIsNotAHit() {
        var names = RecordNames(stream: "order-10")
        #expect(Array("order-1".utf8).withUnsafeBytes { names.string(for: $0, of: .stream) } == "order-1")
        #expect(Array("order-10".utf8).withUnsafeBytes { names.string(for: $0, of: .type) } == "order-10")
        #expect(Array("order-10".utf8).withUnsafeBytes { names.string(for: $0, of: .stream) } == "order-10")
        #expect([UInt8]().withUnsafeBytes { names.string(for: $0, of: .type) } == "")
    }

    /// A whole-log read and a stream read hand out the names the events were appended with.
    @Test func readsReturnTheAppendedNames() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        do {
            let store = try FileEventStore.open(directory: directory.path)
            let streams = try ["order-1", "customer-with-a-long-name-42", "order-2"].map { try StreamName($0) }
            let types = ["Created", "Paid", "Shipped", "Cancelled", "Refunded", "Noted"]
            var appended: [(stream: StreamName, type: String)] = []
            for index in 0..<60 {
                let stream = streams[index % 3], type = types[(index / 2) % types.count]
                try await store.append([EventData(type: type, data: Data([UInt8(index)]))], to: stream)
                appended.append((stream, type))
            }
            let read = try store.readAll()
            #expect(read.map(\.stream) == appended.map(\.stream))
            #expect(read.map(\.type) == appended.map(\.type))
            for stream in streams {
                let events = try store.readStream(stream)
                #expect(events.allSatisfy { $0.stream == stream })
                #expect(events.map(\.type) == appended.filter { $0.stream == stream }.map(\.type))
            }
            try await store.close()
        }
    }
}
