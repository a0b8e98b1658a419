// `eventlog stats`: the totals, categories and largest streams of a store, as a
// table for people and as one JSON object for scripts, checked against what was
// appended and what lies in the folder.
import EventLog
import EventSourcing
import Foundation
import Testing

@Suite struct StatsCommandTests {
    /// 12 streams in three categories; `order-1` is the largest. Events of about
    /// 1 KiB in 64 KiB segments, so the store has several segments.
    private func makeStore(in folder: TemporaryDirectory) async throws -> (events: Int, categories: [String: Int]) {
        let padding = String(repeating: "x", count: 1_000)
        var counts: [String: Int] = [:]
        var total = 0
        try await StoreFixture.write(in: folder) { store in
            for (stream, count) in [("order-1", 60), ("order-2", 40), ("customer-1", 30)] + (1...9).map({ ("invoice-\($0)", $0) }) {
                let events = (0..<count).map { _ in StoreFixture.event("Tick", #"{"padding":"\#(padding)"}"#) }
                try await store.append(events, to: try StreamName(stream), expectedVersion: .noStream)
                counts[try StreamName(stream).category, default: 0] += count
                total += count
            }
        }
        return (total, counts)
    }

    /// Sum of the sizes of the store's files ending in `suffix`, and their count;
    /// `sealedOnly` leaves out the last (active) segment's file, if it has one.
    private func files(endingIn suffix: String, in folder: TemporaryDirectory, sealedOnly: Bool = false) throws -> (count: Int, bytes: Int) {
        let listing = try FileManager.default.contentsOfDirectory(atPath: folder.store)
        var names = listing.filter { $0.hasSuffix(suffix) }.sorted()
        if sealedOnly, let active = listing.filter({ $0.hasSuffix(".seg") }).max() {
            names.removeAll { $0.dropLast(suffix.count) == active.dropLast(".seg".count) }
        }
        let bytes = try names.reduce(0) { sum, name in
            sum + ((try FileManager.default.attributesOfItem(atPath: folder.store + "/" + name)[.size] as? Int) ?? 0)
        }
        return (names.count, bytes)
    }

    @Test func jsonHoldsTheTotalsCategoriesAndLargestStreams() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let (events, categories) = try await makeStore(in: folder)
        let result = try await EventLogProcess.run(["stats", "--store", folder.store, "--json"], in: folder)
        #expect(result.status == 0, "\(result)")
        #expect(result.outputLines.count == 1)
        let stats = try #require(try JSONLines.objects(result.standardOutput).first)
        #expect(
            JSONLines.keyOrder(of: result.standardOutput, keys: [
                "events", "streams", "segments", "segmentBytes", "indexBytes", "categories", "largestStreams",
            ]) == ["events", "streams", "segments", "segmentBytes", "indexBytes", "categories", "largestStreams"])
        #expect(stats["events"] as? Int == events)
        #expect(stats["streams"] as? Int == 12)
        let segments = try files(endingIn: ".seg", in: folder)
        #expect(segments.count > 1, "the test wants several segments")
        #expect(stats["segments"] as? Int == segments.count)
        #expect(stats["segmentBytes"] as? Int == segments.bytes)
        // The library counts the index files of sealed segments, not the active one's checkpoint.
        #expect(stats["indexBytes"] as? Int == (try files(endingIn: ".idx", in: folder, sealedOnly: true)).bytes)
        let categoryRows = try #require(stats["categories"] as? [[String: Any]])
        #expect(categoryRows.map { $0["category"] as? String } == ["order", "invoice", "customer"])
        #expect(categoryRows.map { $0["events"] as? Int } == [categories["order"], categories["invoice"], categories["customer"]])
        let streamRows = try #require(stats["largestStreams"] as? [[String: Any]])
        #expect(streamRows.count == 10)
        #expect(streamRows.prefix(4).map { $0["stream"] as? String } == ["order-1", "order-2", "customer-1", "invoice-9"])
        #expect(streamRows.map { $0["events"] as? Int } == [60, 40, 30, 9, 8, 7, 6, 5, 4, 3])
        #expect(result.standardError.isEmpty)
    }

    @Test func theTableShowsTheSameFiguresForPeople() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let (events, categories) = try await makeStore(in: folder)
        try #require(categories == ["order": 100, "invoice": 45, "customer": 30])
        let result = try await EventLogProcess.run(["stats", "--store", folder.store], in: folder)
        #expect(result.status == 0, "\(result)")
        let text = result.standardOutput
        let segments = try files(endingIn: ".seg", in: folder)
        #expect(text.hasPrefix("Store \(folder.store)\n"), "\(text)")
        #expect(text.contains("\n  events         \(events)\n"), "\(text)")
        #expect(text.contains("\n  streams        12\n"), "\(text)")
        #expect(text.contains("\n  segments       \(segments.count)\n"), "\(text)")
        #expect(text.contains("\n  segment bytes  \(segments.bytes) ("), "\(text)")
        #expect(text.contains("\n  index bytes    "), "\(text)")
        #expect(text.contains("Events per category:\n  order     100\n  invoice    45\n  customer   30\n"), "\(text)")
        #expect(text.contains("Largest streams (top 10):\n  order-1     60\n  order-2     40\n  customer-1  30\n  invoice-9    9\n"), "\(text)")
        // Six figures, a heading and three categories, a heading and ten streams.
        let rows: Int = 6 + 1 + 3 + 1 + 10
        #expect(result.outputLines.count == rows)
    }

    @Test func anEmptyStoreHasNoRows() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await StoreFixture.write(in: folder) { _ in }
        let table = try await EventLogProcess.run(["stats", "--store", folder.store], in: folder)
        #expect(table.status == 0, "\(table)")
        #expect(table.standardOutput.contains("  events         0\n"))
        #expect(table.standardOutput.contains("Events per category:\n  (none)\n"), "\(table)")
        let json = try await EventLogProcess.run(["stats", "--store", folder.store, "--json"], in: folder)
        let stats = try #require(try JSONLines.objects(json.standardOutput).first)
        #expect(stats["events"] as? Int == 0)
        #expect((stats["categories"] as? [Any])?.isEmpty == true)
        #expect((stats["largestStreams"] as? [Any])?.isEmpty == true)
    }

    @Test func statsOpensReadOnlyBesideAWriter() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let store = try FileEventStore.open(directory: folder.store)
        do {
            try await store.append([StoreFixture.event("OrderCreated", "{}")], to: "order-1", expectedVersion: .noStream)
            let result = try await EventLogProcess.run(["stats", "--store", folder.store, "--json"], in: folder)
            #expect(result.status == 0, "\(result)")
            #expect(try JSONLines.objects(result.standardOutput).first?["events"] as? Int == 1)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }

    @Test func statsOfAFolderWithoutAStoreExitsOneAndCreatesNothing() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(["stats", "--store", folder.store], in: folder)
        #expect(result.status == 1, "\(result)")
        #expect(result.standardError.contains("is not a usable EventLog store"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: folder.store))
    }
}
