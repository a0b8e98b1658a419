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
            "segment-header": [SegmentHeader(storeID: id, segmentNumber: 2, firstPosition: 1_001).encoded()],
            "segment-footer": [SegmentFooter(lastPosition: 2_000, recordCount: 1_000, recordsEndOffset: 150_064, recordsChecksum: 0x1234_5678).encoded()],
            "manifest": [StoreManifest(storeID: id, segmentSizeBytes: 64 << 20, createdMicroseconds: 1_700_000_000_000_000).encoded()],
        ]
    }
}
