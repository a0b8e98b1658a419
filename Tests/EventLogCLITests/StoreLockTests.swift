// One writer per store: a second `eventlog append` is refused with exit status 5,
// while `eventlog read` (read-only) works beside the writer.
import EventLog
import EventSourcing
import Foundation
import Testing

@Suite struct StoreLockTests {
    @Test func aSecondWriterExitsFiveWhileReadStillWorks() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let store = try FileEventStore.open(directory: folder.store)
        do {
            try await store.append(
                [EventData(type: "OrderCreated", data: Data(#"{"customer":"ada"}"#.utf8))], to: "order-1", expectedVersion: .noStream)

            let append = try await EventLogProcess.run(
                ["append", "--store", folder.store, "--stream", "order-1"], lines: [#"{"type":"ItemAdded","data":{}}"#],
                in: folder)
            #expect(append.status == 5, "\(append)")
            #expect(append.standardError.contains("locked by another writer"), "\(append)")
            #expect(append.standardOutput.isEmpty)
            #expect(!append.showsCrash)

            let read = try await EventLogProcess.run(["read", "--store", folder.store], in: folder)
            #expect(read.status == 0, "\(read)")
            let events = try JSONLines.objects(read.standardOutput)
            #expect(events.map { $0["type"] as? String } == ["OrderCreated"])
            #expect(try store.version(of: "order-1") == 1)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }
}
