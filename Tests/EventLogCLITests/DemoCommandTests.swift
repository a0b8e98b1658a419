// `eventlog demo`: the story runs end to end on a real store and leaves it
// behind for the other commands.
import Foundation
import Testing

@Suite struct DemoCommandTests {
    @Test func demoExitsZeroExplainsTheConflictAndLeavesAReadableStore() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(["demo", "--store", folder.store, "--segment-size", "65536"], in: folder)
        #expect(result.status == 0, "\(result)")
        #expect(result.standardOutput.contains(folder.store))
        #expect(result.standardOutput.contains("Conflict: wrong expected version (expected 1, but the stream is at version 3)"))
        #expect(result.standardOutput.contains("The retry returned the original result"))
        #expect(result.standardOutput.contains("fsyncs"))
        #expect(result.standardOutput.contains("eventlog read --store \(folder.store)"))
        #expect(result.outputLines.count < 45, "the demo should fit on a screen")
        #expect(result.standardError.isEmpty)

        let read = try await EventLogProcess.run(["read", "--store", folder.store, "--stream", "order-1001"], in: folder)
        let events = try JSONLines.objects(read.standardOutput)
        #expect(events.map { $0["type"] as? String } == ["OrderCreated", "ItemAdded", "ItemAdded", "OrderPaid"])
        let verify = try await EventLogProcess.run(["verify", "--store", folder.store], in: folder)
        #expect(verify.status == 0, "\(verify)")
    }

    @Test func demoRefusesAStoreThatAlreadyHoldsEvents() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let first = try await EventLogProcess.run(["demo", "--store", folder.store], in: folder)
        try #require(first.status == 0, "\(first)")
        let second = try await EventLogProcess.run(["demo", "--store", folder.store], in: folder)
        #expect(second.status == 2, "\(second)")
        #expect(second.standardError.contains("the demo needs a new store"), "\(second)")
    }

    @Test func demoWithoutAStoreUsesAFreshTemporaryFolderAndPrintsIt() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(["demo"], in: folder)
        let firstLine = try #require(result.outputLines.first)
        let path = String(try #require(firstLine.firstMatch(of: /at (\/\S+)$/)).1)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(result.status == 0, "\(result)")
        #expect(FileManager.default.fileExists(atPath: path + "/STORE"))
    }
}
