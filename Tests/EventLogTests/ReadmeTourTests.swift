import EventLog
import EventSourcing
import Foundation
import Testing

/// The README's API tour, as code that must compile and run.
@Suite struct ReadmeTourTests {
    @Test func theFourStepTourRunsAsWritten() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }

        // 1. Open (or create) a store in a folder.
        let store = try FileEventStore.open(directory: folder.path + "/shop/events")

        // 2. Append with optimistic concurrency.
        let created = EventData(type: "OrderCreated", data: Data(#"{"customer":"ada"}"#.utf8))
        let result = try await store.append([created], to: "order-1001", expectedVersion: .noStream)
        #expect(result.nextExpectedVersion == 1)

        // 3. Read a stream, or the whole log in global order.
        let order = try store.readStream("order-1001")
        let everything = try store.readAll(from: 1, maxCount: 1_000)
        #expect(order.map(\.id) == [created.id] && everything.count == 1)

        // 4. Handle conflicts by type, and close.
        var conflictVersion: StreamVersion?
        do {
            try await store.append([created], to: "order-1001", expectedVersion: .exact(5))
        } catch EventStoreError.wrongExpectedVersion(_, _, let actual) {
            conflictVersion = actual
        }
        #expect(conflictVersion == 1)
        try await store.close()
    }
}
