// The bodies of the fuzz targets: one plain function per decoder of on-disk
// bytes. libFuzzer drives them from Fuzz/ (a nested package), and a unit test
// replays the committed corpus through them, so `swift test` guards regressions.
import EventSourcing
import Foundation

/// Entry points for fuzzing the decoders. Each must return normally for any input:
/// a crash, trap or failed invariant is a bug.
@_spi(Fuzzing)
public enum FuzzTargets {
    /// The targets by name, as `Fuzz/run.sh TARGET` and the corpus folders name them.
    public static let all: [String: @Sendable (UnsafeRawBufferPointer) -> Void] = [
        "record": record,
        "segment-header": segmentHeader,
        "segment-footer": segmentFooter,
        "manifest": manifest,
        "index": index,
        "snapshot": snapshot,
        "stream-rules": streamRules,
    ]

    /// Decodes a record as read from disk, and again with its checksum fixed up so
    /// the fuzzer reaches the structural checks behind the CRC. A record that
    /// decodes must re-encode to the same bytes.
    public static func record(_ bytes: UnsafeRawBufferPointer) {
        checkRecord(bytes)
        guard bytes.count >= RecordLayout.headerSize else { return }
        let length = Int(bytes.loadLE(UInt32.self, at: 0))
        guard length >= RecordLayout.minRecordBytes, length <= bytes.count else { return }
        var fixed = [UInt8](bytes)
        fixed.withUnsafeMutableBytes { raw in
            let record = UnsafeRawBufferPointer(rebasing: raw[0..<length])
            raw.storeLE(RecordDecoder.checksum(ofRecord: record), at: RecordLayout.crcOffset)
        }
        fixed.withUnsafeBytes { checkRecord($0) }
    }

    private static func checkRecord(_ bytes: UnsafeRawBufferPointer) {
        guard case .record(let view) = RecordDecoder.decode(bytes) else { return }
        let event = view.event()
        precondition(view.length <= bytes.count && view.length <= RecordLayout.maxRecordBytes)
        // Round trip: what decodes is exactly what the encoder writes for it.
        let data = EventData(
            id: event.id, type: event.type, data: event.data, metadata: event.metadata, isJSON: event.isJSON,
            correlationID: event.correlationID, causationID: event.causationID)
        var buffer = ByteBuffer(capacity: view.length)
        let length = RecordEncoder.append(
            data, stream: event.stream, position: view.position, version: view.version,
            timestampMicroseconds: view.timestampMicroseconds, isLastOfCall: view.isLastOfCall, to: &buffer)
        precondition(length == view.length, "re-encoded length differs")
        buffer.withBytes { precondition($0.elementsEqual(view.bytes), "re-encoded bytes differ") }
    }

    /// Decodes a segment header; a decoded header must re-encode to the same bytes.
    public static func segmentHeader(_ bytes: UnsafeRawBufferPointer) {
        guard let header = try? SegmentHeader.decode(bytes) else { return }
        precondition(header.encoded().elementsEqual(bytes.prefix(SegmentHeader.size)))
    }

    /// Decodes a segment footer; a decoded footer must re-encode to the same bytes.
    public static func segmentFooter(_ bytes: UnsafeRawBufferPointer) {
        guard let footer = try? SegmentFooter.decode(bytes) else { return }
        precondition(footer.encoded().elementsEqual(bytes.prefix(SegmentFooter.size)))
    }

    /// Decodes a store manifest; a decoded manifest must re-encode to the same bytes.
    public static func manifest(_ bytes: UnsafeRawBufferPointer) {
        guard let manifest = try? StoreManifest.decode(bytes) else { return }
        precondition(manifest.encoded().elementsEqual(bytes))
    }

    /// Decodes an index file (header, directory, every block); a decoded index must
    /// hold what its header promises, and encode to an index that decodes the same.
    public static func index(_ bytes: UnsafeRawBufferPointer) {
        checkIndex(bytes)
        // Again with every checksum made to match, so the fuzzer gets past them to
        // the structural checks.
        var fixed = [UInt8](bytes)
        fixIndexChecksums(&fixed)
        fixed.withUnsafeBytes { checkIndex($0) }
    }

    /// Recomputes every block, directory and header checksum of an index file in place.
    static func fixIndexChecksums(_ bytes: inout [UInt8]) {
        guard bytes.count >= IndexLayout.headerSize else { return }
        bytes.withUnsafeMutableBytes { raw in
            let view = UnsafeRawBufferPointer(raw)
            let recordCount = Int(view.loadLE(UInt64.self, at: 40) & 0xFFFF_FFFF)
            let entryCount = Int(view.loadLE(UInt32.self, at: 76))
            let bloomBytes = Int(view.loadLE(UInt32.self, at: 80))
            let namesBytes = Int(view.loadLE(UInt32.self, at: 84))
            let streamBlocks = IndexLayout.blockCount(entryCount, per: IndexLayout.streamBlockEntries)
            let recordBlocks = IndexLayout.blockCount(recordCount, per: IndexLayout.recordBlockEntries)
            let directoryBytes = bloomBytes + streamBlocks * IndexLayout.streamDirectoryEntrySize
                + recordBlocks * IndexLayout.recordDirectoryEntrySize + namesBytes
            let streamsStart = IndexLayout.headerSize + directoryBytes
            let recordsStart = streamsStart + entryCount * IndexLayout.streamEntrySize
            guard directoryBytes >= 0, recordsStart + recordCount * IndexLayout.recordEntrySize == raw.count else { return }
            for block in 0..<streamBlocks {
                let start = streamsStart + block * IndexLayout.streamBlockEntries * IndexLayout.streamEntrySize
                let end = min(start + IndexLayout.streamBlockEntries * IndexLayout.streamEntrySize, recordsStart)
                let slot = IndexLayout.headerSize + bloomBytes + block * IndexLayout.streamDirectoryEntrySize + 16
                raw.storeLE(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: view[start..<end])), at: slot)
            }
            for block in 0..<recordBlocks {
                let start = recordsStart + block * IndexLayout.recordBlockEntries * IndexLayout.recordEntrySize
                let end = min(start + IndexLayout.recordBlockEntries * IndexLayout.recordEntrySize, raw.count)
                let slot = IndexLayout.headerSize + bloomBytes + streamBlocks * IndexLayout.streamDirectoryEntrySize
                    + block * IndexLayout.recordDirectoryEntrySize + 8
                raw.storeLE(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: view[start..<end])), at: slot)
            }
            raw.storeLE(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: view[IndexLayout.headerSize..<streamsStart])), at: 88)
            raw.storeLE(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: view[0..<124])), at: 124)
        }
    }

    private static func checkIndex(_ bytes: UnsafeRawBufferPointer) {
        guard let (decoded, header) = try? MemoryIndex.decode(bytes) else { return }
        precondition(decoded.recordCount == Int(header.recordCount))
        precondition(decoded.streamEntryCount == decoded.presentCount)
        precondition(decoded.presentCount == Int(header.streamEntryCount))
        precondition(decoded.isCompacted || decoded.presentCount == decoded.recordCount)
        let again = decoded.encoded(storeID: header.storeID, isPartial: header.isPartial)
        guard let (redecoded, _) = try? again.withUnsafeBytes({ try MemoryIndex.decode($0) }) else {
            preconditionFailure("a decoded index must encode to a valid index")
        }
        precondition(redecoded.records == decoded.records)
    }

    /// Decodes a snapshot file; a decoded snapshot must re-encode to the same bytes.
    public static func snapshot(_ bytes: UnsafeRawBufferPointer) {
        for candidate in [[UInt8](bytes), withTrailingChecksum(bytes)] {
            guard let snapshot = try? SnapshotFormat.decode(candidate) else { continue }
            precondition(SnapshotFormat.encode(snapshot) == candidate, "re-encoded snapshot differs")
        }
    }

    /// Decodes a stream rules file; decoded rules must re-encode to the same bytes.
    public static func streamRules(_ bytes: UnsafeRawBufferPointer) {
        for candidate in [[UInt8](bytes), withTrailingChecksum(bytes)] {
            guard let rules = try? StreamRulesFormat.decode(candidate) else { continue }
            precondition(StreamRulesFormat.encode(rules) == candidate, "re-encoded stream rules differ")
        }
    }

    /// The bytes with their last four replaced by the CRC32C of the rest, so the
    /// fuzzer reaches the checks behind the checksum.
    private static func withTrailingChecksum(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var fixed = [UInt8](bytes)
        guard fixed.count >= 4 else { return fixed }
        let crc = CRC32C.checksum(Array(fixed.dropLast(4)))
        withUnsafeBytes(of: crc.littleEndian) { fixed.replaceSubrange((fixed.count - 4)..., with: $0) }
        return fixed
    }

    /// Valid encodings to start each target's corpus from.
    public static func seeds() -> [String: [[UInt8]]] {
        func record(_ event: EventData, stream: StreamName, last: Bool) -> [UInt8] {
            var buffer = ByteBuffer(capacity: 256)
            let length = RecordEncoder.append(
                event, stream: stream, position: 42, version: 7, timestampMicroseconds: 1_700_000_000_000_000,
                isLastOfCall: last, to: &buffer)
            return buffer.withBytes { Array($0.prefix(length)) }
        }
        let id = UUID(uuidString: "6F9619FF-8B86-D011-B42D-00C04FC964FF")!
        return [
            "record": [
                record(EventData(id: id, type: "OrderCreated", data: Data(#"{"order":42}"#.utf8), metadata: Data(#"{"user":"ann"}"#.utf8)), stream: "order-42", last: true),
                record(EventData(id: id, type: "B", data: Data([0, 1, 2]), isJSON: false), stream: "x", last: false),
                record(EventData(id: id, type: "Caused", data: Data("{}".utf8), correlationID: id, causationID: id), stream: "saga-1", last: true),
            ],
            "segment-header": [
                SegmentHeader(storeID: id, segmentNumber: 2, firstPosition: 1_001).encoded(),
                SegmentHeader(storeID: id, segmentNumber: 3, firstPosition: 2_001, isCompacted: true).encoded(),
            ],
            "segment-footer": [SegmentFooter(lastPosition: 2_000, recordCount: 1_000, recordsEndOffset: 150_064, recordsChecksum: 0x1234_5678).encoded()],
            "manifest": [StoreManifest(storeID: id, segmentSizeBytes: 64 << 20, createdMicroseconds: 1_700_000_000_000_000).encoded()],
            "index": [
                seedIndex(records: 5, streams: 2), seedIndex(records: 600, streams: 3),
                seedIndex(records: 600, streams: 3, keepingEvery: 4),
            ],
            "snapshot": [SnapshotFormat.encode(Snapshot(stream: "order-42", version: 9, schemaVersion: 2, state: Data(#"{"items":2}"#.utf8)))],
            "stream-rules": [StreamRulesFormat.encode([
                "order-1": StreamRule(truncateBefore: 5, isHardDeleted: false), "gone-2": StreamRule(truncateBefore: 1, isHardDeleted: true),
                "sensor-3": StreamRule(maxCount: 100, maxAgeMicroseconds: 86_400_000_000),
                "gone-4": StreamRule(isHardDeleted: true, versionFloor: 17),
            ])],
        ]
    }

    /// An index of `records` records over `streams` streams; with `keepingEvery` n,
    /// a compacted segment's index that kept every n-th record.
    private static func seedIndex(records: Int, streams: Int, keepingEvery: Int? = nil) -> [UInt8] {
        var index = MemoryIndex(firstPosition: 11, isCompacted: keepingEvery != nil)
        var versions = [UInt64](repeating: 0, count: streams)
        for record in 0..<records {
            versions[record % streams] += 1
            if let keepingEvery, record % keepingEvery != 0 { continue }
            index.append(PendingRecord(
                offset: 64 + UInt64(record) * 90, length: 90, checksum: UInt32(record), position: 11 + UInt64(record),
                streamHash: StreamHash.of("s-\(record % streams)"), version: versions[record % streams],
                type: record % 2 == 0 ? "A" : "B", category: "s", timestampMicroseconds: Int64(record) * 1_000))
        }
        if keepingEvery != nil { index.markRemoved(before: 11 + UInt64(records), timestampMicroseconds: Int64(records) * 1_000) }
        return index.encoded(storeID: UUID(uuidString: "6F9619FF-8B86-D011-B42D-00C04FC964FF")!, isPartial: false)
    }
}
