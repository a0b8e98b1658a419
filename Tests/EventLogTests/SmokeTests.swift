import EventSourcing
import Foundation
import Testing

@testable import EventLog

@Suite struct SmokeTests {
    @Test func appendThenReadBack() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let store = try FileEventStore.open(directory: folder.path)
        let result = try await store.append(
            [EventData(type: "OrderCreated", data: Data(#"{"id":1}"#.utf8))], to: "order-1", expectedVersion: .noStream)
        #expect(result.nextExpectedVersion == 1)
        #expect(result.firstPosition == 1)
        let events = try store.readAll()
        #expect(events.count == 1)
        #expect(events[0].type == "OrderCreated")
        try await store.close()
        let reopened = try FileEventStore.open(directory: folder.path)
        #expect(try reopened.readStream("order-1").count == 1)
        try await reopened.close()
    }
}
