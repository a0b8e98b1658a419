// `eventlog inspect`: a record's place and shape on disk, checked against the
// segment file's own bytes, and a clear exit 2 for a position the store lacks.
import EventLog
import EventSourcing
import Foundation
import Testing

@Suite struct InspectCommandTests {
    static let correlationID = UUID(uuidString: "6F1C5A2E-3B4D-4E5F-8A9B-0C1D2E3F4A5B")!

    /// Three events in one call (so only the third carries the commit flag), the
    /// second with metadata and a correlation id; then enough 1 KiB events to seal
    /// the first 64 KiB segment.
    private func makeStore(in folder: TemporaryDirectory) async throws {
        try await StoreFixture.write(in: folder) { store in
            try await store.append(
                [
                    StoreFixture.event("OrderCreated", #"{"customer":"ada"}"#),
                    EventData(
                        type: "ItemAdded", data: Data(#"{"sku":"TEA-01"}"#.utf8), metadata: Data(#"{"user":"clerk-7"}"#.utf8),
                        correlationID: Self.correlationID),
                    StoreFixture.event("OrderPaid", #"{"amountCents":2100}"#),
                ],
                to: "order-1", expectedVersion: .noStream)
            let padding = String(repeating: "x", count: 1_000)
            for _ in 0..<100 {
                try await store.append([StoreFixture.event("Tick", #"{"padding":"\#(padding)"}"#)], to: "clock-1", expectedVersion: .any)
            }
        }
        // The close sealed the last segment (over an eighth full): one more event
        // lies in an active segment.
        try await StoreFixture.write(in: folder) { store in
            try await store.append([StoreFixture.event("Tick", #"{"padding":"x"}"#)], to: "clock-1", expectedVersion: .any)
        }
    }

    private func inspect(_ position: Int, in folder: TemporaryDirectory) async throws -> [String: Any] {
        let result = try await EventLogProcess.run(
            ["inspect", "--store", folder.store, "--position", String(position), "--json"], in: folder)
        try #require(result.status == 0, "\(result)")
        try #require(result.outputLines.count == 1, "\(result)")
        return try #require(try JSONLines.objects(result.standardOutput).first)
    }

    /// The little-endian u32 at `offset` of the file at `path`.
    private func u32(at offset: Int, of path: String) throws -> Int {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        try #require(offset + 4 <= bytes.count)
        return (0..<4).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
    }

    @Test func theFirstRecordLiesAfterTheSegmentHeaderWithTheChecksumOnDisk() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder)
        let record = try await inspect(1, in: folder)
        let firstSegment = try #require(
            try FileManager.default.contentsOfDirectory(atPath: folder.store).filter { $0.hasSuffix(".seg") }.sorted().first)
        let file = try #require(record["file"] as? String)
        #expect(URL(fileURLWithPath: file).lastPathComponent == firstSegment)
        #expect(record["offset"] as? Int == 64)
        let checksum = try #require(record["checksum"] as? String)
        #expect(checksum.wholeMatch(of: /0x[0-9a-f]{8}/) != nil, "\(checksum)")
        #expect(Int(checksum.dropFirst(2), radix: 16) == (try u32(at: 64 + 4, of: file)))
        #expect(record["recordBytes"] as? Int == (try u32(at: 64, of: file)))
        #expect(record["headerBytes"] as? Int == 64)
        #expect(record["dataBytes"] as? Int == #"{"customer":"ada"}"#.utf8.count)
        #expect(record["metadataBytes"] as? Int == 0)
        #expect(record["isLastOfAppendCall"] as? Bool == false)
        #expect(record["isSealedSegment"] as? Bool == true)
        #expect(record["position"] as? Int == 1)
        let event = try #require(record["event"] as? [String: Any])
        #expect(event["stream"] as? String == "order-1")
        #expect(event["type"] as? String == "OrderCreated")
    }

    @Test func sizesFlagsAndTheEventMatchWhatWasAppended() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder)
        let first = try await inspect(1, in: folder)
        let second = try await inspect(2, in: folder)
        let third = try await inspect(3, in: folder)
        // Records follow one another: each starts where the one before ends.
        func end(_ record: [String: Any]) throws -> Int {
            try #require(record["offset"] as? Int) + (try #require(record["recordBytes"] as? Int))
        }
        #expect(second["offset"] as? Int == (try end(first)))
        #expect(third["offset"] as? Int == (try end(second)))
        #expect(second["headerBytes"] as? Int == 64 + 16, "a correlation id follows the fixed header")
        #expect(second["metadataBytes"] as? Int == #"{"user":"clerk-7"}"#.utf8.count)
        #expect(second["recordBytes"] as? Int == 80 + "order-1".utf8.count + "ItemAdded".utf8.count + 18 + 16)
        #expect([first, second, third].map { $0["isLastOfAppendCall"] as? Bool } == [false, false, true])

        // The event is the very object `read` prints for that position.
        let read = try await EventLogProcess.run(["read", "--store", folder.store, "--from", "2", "--limit", "1"], in: folder)
        let line = try await EventLogProcess.run(
            ["inspect", "--store", folder.store, "--position", "2", "--json"], in: folder
        ).standardOutput
        #expect(line.contains(#","event":"# + read.outputLines[0] + "}"), "\(line)")

        #expect(try await inspect(103, in: folder)["isSealedSegment"] as? Bool == true)
        let last = try await inspect(104, in: folder)
        #expect(last["isSealedSegment"] as? Bool == false)
        #expect(last["isLastOfAppendCall"] as? Bool == true)
        #expect(last["file"] as? String != first["file"] as? String, "the last record is in a later segment")
    }

    @Test func theTableNamesEveryField() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder)
        let json = try await inspect(2, in: folder)
        let file = try #require(json["file"] as? String)
        let offset = try #require(json["offset"] as? Int)
        let recordBytes = try #require(json["recordBytes"] as? Int)
        let checksum = try #require(json["checksum"] as? String)
        let result = try await EventLogProcess.run(["inspect", "--store", folder.store, "--position", "2"], in: folder)
        #expect(result.status == 0, "\(result)")
        let text = result.standardOutput
        #expect(text.hasPrefix("Record at position 2\n"), "\(text)")
        #expect(text.contains("\n  file            \(file)\n"), "\(text)")
        #expect(text.contains("\n  offset          \(offset)\n"), "\(text)")
        #expect(text.contains("\n  record bytes    \(recordBytes)\n"), "\(text)")
        #expect(text.contains("\n  header bytes    80\n"), "\(text)")
        #expect(text.contains("\n  data bytes      16\n"), "\(text)")
        #expect(text.contains("\n  metadata bytes  18\n"), "\(text)")
        #expect(text.contains("\n  checksum        \(checksum) (CRC32C, verified)\n"), "\(text)")
        #expect(text.contains("\n  commit flag     not set"), "\(text)")
        #expect(text.contains("\n  segment         sealed\n"), "\(text)")
        let eventLine = try #require(result.outputLines.last)
        let event = try #require(try JSONLines.objects(eventLine).first)
        #expect(JSONLines.keyOrder(of: eventLine) == JSONLines.keys)
        #expect(event["position"] as? Int == 2)
        #expect(event["type"] as? String == "ItemAdded")
    }

    @Test(arguments: [0, 105, 1_000_000])
    func aPositionNotInTheStoreExitsTwo(position: Int) async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeStore(in: folder)
        let result = try await EventLogProcess.run(
            ["inspect", "--store", folder.store, "--position", String(position)], in: folder)
        #expect(result.status == 2, "\(result)")
        #expect(result.standardError.contains("position \(position) is not in the store"), "\(result)")
        #expect(result.standardError.contains("holds positions 1...104"), "\(result)")
        #expect(result.standardOutput.isEmpty)
        #expect(!result.showsCrash)
    }

    @Test func anEmptyStoreSaysItHoldsNoEvents() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await StoreFixture.write(in: folder) { _ in }
        let result = try await EventLogProcess.run(["inspect", "--store", folder.store, "--position", "1"], in: folder)
        #expect(result.status == 2, "\(result)")
        #expect(result.standardError.contains("the store holds no events yet"), "\(result)")
    }
}
