// `eventlog demo`: the story runs end to end on a real store and leaves it
// behind for the other commands.
import Foundation
import Testing

@Suite struct DemoCommandTests {
    @Test func demoTellsTheOrderStoryAndLeavesAReadableStore() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(["demo", "--store", folder.store, "--segment-size", "65536"], in: folder)
        #expect(result.status == 0, "\(result)")
        #expect(result.standardError.isEmpty)
        let output = result.standardOutput
        #expect(output.contains(folder.store))
        let story = [
            // Commands through the repository.
            #"create     order-1001  v1  @1  OrderCreated  {"customerID":"ada@example.com","orderID":"1001"}"#,
            // The conflict between two handlers, and the retry on the new state.
            "refused: wrong expected version (expected 3, but the stream is at version 4)",
            "clerk B    order-1001  v5  @5  ItemAdded     the same command, run again on the reloaded v4: saved",
            // The upcast of an old schema.
            #"stored     order-1001  v6  @6  ItemAdded     {"sku":"BAG-02","quantity":1,"price":3.5}"#,
            #"read back  as schema 3: {"currency":"EUR","quantity":1,"sku":"BAG-02","unitPriceCents":350}"#,
            // The idempotent retry.
            "retry      order-1001  v7  @7  OrderPaid     the original result, nothing written: recorded once",
            // The saga.
            "saga       shipment-1001  v1  @8  ShippingRequested  caused by OrderPaid @7",
            "warehouse  order-1001  v8  @9  OrderShipped",
            // The projection, from no checkpoint and then from one.
            "catches up from position 1 (no checkpoint yet) to @9: 9 events read.",
            "order-1001: ada@example.com, 7 items, 22.50 EUR, shipped",
            "catches up from its checkpoint @9 to @2,031: 2,022 events read.",
            "order-1002: shop@example.com, 2,000 items, 2,190.00 EUR, cancelled",
            "order-2001 ... order-2020: 20 open",
            // Group commit and the snapshot.
            "20 appends, ",
            "(at v1,001 and v2,001); then it is cancelled (v2,002).",
            "from the snapshot at v2,001, then 1 event:",
            "replaying all 2,002 events:",
            // The replay.
            "10. Replay: the projection is reset and rebuilt from position 1 to @2,031: the same 22 summaries.",
            // Truncation up to the snapshot, and compaction.
            "11. order-1002's snapshot makes its first 2,001 events unnecessary: the stream is truncated up",
            "to it and the store compacted, online: 2,001 events removed, ",
            "order-1002 still loads to the same state (v2,002).",
            // The figures.
            "Figures: 2,031 events written by 36 acknowledged appends",
            "eventlog read --store \(folder.store) --stream order-1001",
        ]
        for line in story { #expect(output.contains(line), "missing: \(line)") }
        let figures = try #require(output.firstMatch(of: /using (\d+) fsyncs\. Loading order-1002 \(2,002 events\): ([\d.]+) ms from its snapshot, ([\d.]+) ms replaying/))
        #expect(Int(figures.1)! < 37, "concurrent appends share fsyncs")
        #expect(Double(figures.2)! < Double(figures.3)!, "the snapshot makes the load faster")
        #expect(result.outputLines.count < 50, "the demo should fit on a screen or a bit more")

        let read = try await EventLogProcess.run(["read", "--store", folder.store, "--stream", "order-1001"], in: folder)
        let events = try JSONLines.objects(read.standardOutput)
        #expect(events.map { $0["type"] as? String } == [
            "OrderCreated", "ItemAdded", "ItemAdded", "ItemRemoved", "ItemAdded", "ItemAdded", "OrderPaid", "OrderShipped",
        ])
        let verify = try await EventLogProcess.run(["verify", "--store", folder.store], in: folder)
        #expect(verify.status == 0, "\(verify)")
        let wholesale = try await EventLogProcess.run(["read", "--store", folder.store, "--stream", "order-1002"], in: folder)
        #expect(try JSONLines.objects(wholesale.standardOutput).map { $0["version"] as? Int } == [2_002], "truncated up to its snapshot")
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
