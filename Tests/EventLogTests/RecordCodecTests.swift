import EventSourcing
import Foundation
import Testing

@testable import EventLog

@Suite struct RecordCodecTests {
    func encode(_ event: EventData, stream: StreamName = "order-1", position: UInt64 = 7, version: UInt64 = 3, last: Bool = true) -> [UInt8] {
        var buffer = ByteBuffer(capacity: 64)
        let length = RecordEncoder.append(
            event, stream: stream, position: position, version: version, timestampMicroseconds: 1_700_000_000_123_456,
            isLastOfCall: last, to: &buffer)
        return buffer.withBytes { Array($0.prefix(length)) }
    }

    func decode(_ bytes: [UInt8], expectedPosition: UInt64? = nil) -> RecordFrame {
        bytes.withUnsafeBytes { RecordDecoder.decode($0, expectedPosition: expectedPosition) }
    }

    @Test func recordRoundTripsEveryField() throws {
        let id = UUID()
        let original = EventData(id: id, type: "ItemAdded", data: Data(#"{"sku":"A"}"#.utf8), metadata: Data(#"{"by":"x"}"#.utf8))
        let bytes = encode(original, stream: "order-42", position: 9, version: 2, last: true)
        #expect(bytes.count == RecordLayout.recordSize(streamBytes: 8, typeBytes: 9, metadataBytes: 10, dataBytes: 11))
        let decoded: RecordedEvent? = bytes.withUnsafeBytes { raw in
            if case .record(let view) = RecordDecoder.decode(raw, expectedPosition: 9) {
                #expect(view.isLastOfCall)
                return view.event()
            }
            return nil
        }
        let event = try #require(decoded)
        #expect(event.position == 9)
        #expect(event.version == 2)
        #expect(event.stream == "order-42")
        #expect(event.id == id)
        #expect(event.type == "ItemAdded")
        #expect(event.data == original.data)
        #expect(event.metadata == original.metadata)
        #expect(event.isJSON)
        #expect(event.timestampMicroseconds == 1_700_000_000_123_456)
    }

    /// The encoder writes a record into memory it does not clear first (the writer's
    /// buffer, reused from batch to batch): every byte must be its own.
    @Test func aRecordEncodedOverOldBytesIsTheSameAsInFreshMemory() {
        let event = EventData(type: "ItemAdded", data: Data(#"{"sku":"A"}"#.utf8), correlationID: UUID())
        var buffer = ByteBuffer(capacity: 64)
        buffer.append(count: 4_096) { $0.initializeMemory(as: UInt8.self, repeating: 0xA5) }
        buffer.removeAll()
        let length = RecordEncoder.append(
            event, stream: "order-1", position: 7, version: 3, timestampMicroseconds: 1_700_000_000_123_456,
            isLastOfCall: true, to: &buffer)
        let bytes = buffer.withBytes { Array($0.prefix(length)) }
        #expect(bytes == encode(event))
        guard case .record = decode(bytes, expectedPosition: 7) else {
            Issue.record("the record over old bytes does not decode: \(decode(bytes))")
            return
        }
        #expect(length == RecordLayout.recordSize(of: event, in: "order-1"))
    }

    @Test func binaryDataWithoutMetadataRoundTrips() {
        let bytes = encode(EventData(type: "Blob", data: Data([0, 1, 2, 255]), isJSON: false), last: false)
        bytes.withUnsafeBytes { raw in
            guard case .record(let view) = RecordDecoder.decode(raw) else { Issue.record("not decoded"); return }
            #expect(!view.isJSON)
            #expect(!view.isLastOfCall)
            #expect(view.event().metadata.isEmpty)
            #expect(view.event().data == Data([0, 1, 2, 255]))
        }
    }

    @Test func everySingleByteFlipIsDetected() {
        let bytes = encode(event("Flip", 1))
        for index in bytes.indices {
            for bit in [0, 3, 7] {
                var damaged = bytes
                damaged[index] ^= UInt8(1 << bit)
                switch decode(damaged, expectedPosition: 7) {
                case .record: Issue.record("flip at byte \(index) bit \(bit) went undetected")
                default: break
                }
            }
        }
    }

    @Test func aRecordAtTheWrongPositionIsRejected() {
        let bytes = encode(event(), position: 7)
        guard case .invalid(let reason) = decode(bytes, expectedPosition: 8) else {
            Issue.record("misdirected record accepted")
            return
        }
        #expect(reason.contains("misdirected"))
    }

    @Test func zeroLengthMeansEndOfData() {
        guard case .endOfData = decode([UInt8](repeating: 0, count: 100)) else {
            Issue.record("zeros not read as end of data")
            return
        }
    }

    @Test func everyShortPrefixIsIncompleteNeverARecord() {
        let bytes = encode(event())
        for cut in 4..<bytes.count {
            if case .incomplete = decode(Array(bytes.prefix(cut))) { continue }
            Issue.record("prefix of \(cut) bytes not reported incomplete")
        }
    }

    @Test func absurdLengthsAreRejectedBeforeAnyRead() {
        var bytes = encode(event())
        bytes.withUnsafeMutableBytes { $0.storeLE(UInt32(RecordLayout.maxRecordBytes + 1), at: 0) }
        guard case .invalid = decode(bytes) else { Issue.record("huge length accepted"); return }
        bytes.withUnsafeMutableBytes { $0.storeLE(UInt32(10), at: 0) }
        guard case .invalid = decode(bytes) else { Issue.record("tiny length accepted"); return }
    }

    @Test func aValidChecksumOverBadStructureIsStillRejected() {
        // A record whose fields do not add up, re-checksummed: only a writer bug
        // could produce it, and it must never decode as an event.
        var bytes = encode(event())
        bytes.withUnsafeMutableBytes { raw in
            raw.storeLE(UInt16(2), at: RecordLayout.typeLengthOffset)
            raw.storeLE(RecordDecoder.checksum(ofRecord: UnsafeRawBufferPointer(raw)), at: RecordLayout.crcOffset)
        }
        guard case .invalid(let reason) = decode(bytes) else { Issue.record("bad structure accepted"); return }
        #expect(reason.contains("do not add up"))
    }
}

@Suite struct ZeroScanTests {
    /// The fast zero scan that skips a segment's pre-allocated tail must stop at the
    /// word holding the first non-zero byte, wherever it is, and never count a word
    /// that ends past `end`.
    @Test func zeroWordBytesStopsAtTheWordOfTheFirstNonZeroByte() {
        let size = 300
        for nonZero in [nil] + Array(0..<size) {
            var bytes = [UInt8](repeating: 0, count: size)
            if let nonZero { bytes[nonZero] = 0x80 }
            bytes.withUnsafeBytes { buffer in
                for start in stride(from: 0, through: 72, by: 8) {
                    for end in [start, start + 7, start + 64, start + 65, 203, size] where end >= start {
                        // The plain definition: whole zero words from `start` ending at or before `end`.
                        var expected = 0
                        while start + expected + 8 <= end, buffer[(start + expected)..<(start + expected + 8)].allSatisfy({ $0 == 0 }) {
                            expected += 8
                        }
                        #expect(
                            buffer.zeroWordBytes(from: start, to: end) == expected,
                            "non-zero at \(String(describing: nonZero)), from \(start) to \(end)")
                    }
                }
            }
        }
    }
}

@Suite struct SegmentFormatTests {
    @Test func headerFooterAndManifestRoundTrip() throws {
        let header = SegmentHeader(storeID: UUID(), segmentNumber: 3, firstPosition: 1_001)
        #expect(try header.encoded().withUnsafeBytes { try SegmentHeader.decode($0) } == header)
        let footer = SegmentFooter(lastPosition: 2_000, recordCount: 1_000, recordsEndOffset: 123_456, recordsChecksum: 0xDEAD_BEEF)
        #expect(try footer.encoded().withUnsafeBytes { try SegmentFooter.decode($0) } == footer)
        let manifest = StoreManifest(storeID: UUID(), segmentSizeBytes: 1 << 20, createdMicroseconds: 42)
        #expect(try manifest.encoded().withUnsafeBytes { try StoreManifest.decode($0) } == manifest)
    }

    @Test func everyByteFlipOfAHeaderFooterOrManifestIsDetected() {
        let encodings: [(String, [UInt8], (UnsafeRawBufferPointer) throws -> Void)] = [
            ("header", SegmentHeader(storeID: UUID(), segmentNumber: 1, firstPosition: 1).encoded(), { _ = try SegmentHeader.decode($0) }),
            ("footer", SegmentFooter(lastPosition: 5, recordCount: 5, recordsEndOffset: 400, recordsChecksum: 1).encoded(), { _ = try SegmentFooter.decode($0) }),
            ("manifest", StoreManifest(storeID: UUID(), segmentSizeBytes: 1 << 20, createdMicroseconds: 1).encoded(), { _ = try StoreManifest.decode($0) }),
        ]
        for (name, bytes, decode) in encodings {
            for index in bytes.indices {
                var damaged = bytes
                damaged[index] ^= 0x10
                #expect(throws: FormatError.self, "\(name) byte \(index)") { try damaged.withUnsafeBytes(decode) }
            }
        }
    }

    /// Version 1 (before compacted segments) and any later version are refused.
    @Test(arguments: [formatVersion - 1, formatVersion + 1])
    func anotherFormatVersionIsRefused(version: UInt32) throws {
        var bytes = SegmentHeader(storeID: UUID(), segmentNumber: 1, firstPosition: 1).encoded()
        bytes.withUnsafeMutableBytes { raw in
            raw.storeLE(version, at: 8)
            raw.storeLE(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<60])), at: 60)
        }
        let error = #expect(throws: FormatError.self) { try bytes.withUnsafeBytes { try SegmentHeader.decode($0) } }
        #expect(error?.reason.contains("version \(version)") == true)
    }

    @Test func theCompactedFlagRoundTripsAndUnknownFlagsAreRefused() throws {
        let header = SegmentHeader(storeID: UUID(), segmentNumber: 4, firstPosition: 77, isCompacted: true)
        #expect(try header.encoded().withUnsafeBytes { try SegmentHeader.decode($0) } == header)
        var bytes = header.encoded()
        bytes.withUnsafeMutableBytes { raw in
            raw.storeLE(UInt32(2), at: 48)
            raw.storeLE(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<60])), at: 60)
        }
        #expect(throws: FormatError.self) { try bytes.withUnsafeBytes { try SegmentHeader.decode($0) } }
    }

    @Test func segmentFileNamesSortInLogOrder() {
        #expect(SegmentFileName.name(firstPosition: 1) == "00000000000000000001.seg")
        #expect(SegmentFileName.firstPosition(of: "00000000000000001001.seg") == 1_001)
        #expect(SegmentFileName.firstPosition(of: "STORE") == nil)
        #expect(SegmentFileName.firstPosition(of: "0001.seg") == nil)
        let names = [5, 10_000, 999, 1].map { SegmentFileName.name(firstPosition: UInt64($0)) }
        #expect(names.sorted().map { SegmentFileName.firstPosition(of: $0)! } == [1, 5, 999, 10_000])
    }

    @Test func fileNamesAreWrittenAsTwentyDigitsAndParsedBackFromPaths() {
        #expect(SegmentFileName.name(firstPosition: 0) == "00000000000000000000.seg")
        #expect(SegmentFileName.name(firstPosition: 1_234_567_890) == "00000000001234567890.seg")
        #expect(SegmentFileName.name(firstPosition: UInt64.max) == "18446744073709551615.seg")
        #expect(IndexFileName.name(firstPosition: 362_001) == "00000000000000362001.idx")
        #expect(IndexFileName.path(directory: "/s", firstPosition: 1) == "/s/00000000000000000001.idx")
        #expect(FilePaths.joined("/tmp/a store", "STORE") == "/tmp/a store/STORE")
        #expect(FilePaths.joined("/tmp/é", "x") == "/tmp/é/x")
        #expect(FilePaths.joined("", "x") == "/x")
        #expect(SegmentFileName.firstPosition(of: "00000000000000362001.seg") == 362_001)
        #expect(SegmentFileName.firstPosition(of: "00000000000000362001.idx") == nil)
        #expect(SegmentFileName.firstPosition(of: "x0000000000000362001.seg") == nil)
        #expect(SegmentFileName.firstPosition(of: "00000000000000362001.seg~") == nil)
        #expect(SegmentFileName.firstPosition(of: "0000000000000036200/.seg") == nil)  // "/" is the byte below "0"
        #expect(SegmentFileName.firstPosition(of: "0000000000000036200:.seg") == nil)  // ":" the byte above "9"
        // A name from bytes that are not a native string's (bridged or built) parses the same.
        #expect(SegmentFileName.firstPosition(of: String(decoding: Array("00000000000000000042.seg".utf8), as: UTF8.self)) == 42)
    }

    @Test func segmentFileNamesAreTwentyDigitsAndTheSuffixExactly() {
        #expect(SegmentFileName.firstPosition(of: "18446744073709551615.seg") == UInt64.max)
        #expect(SegmentFileName.firstPosition(of: "18446744073709551616.seg") == nil)  // past UInt64.max
        #expect(SegmentFileName.firstPosition(of: "+0000000000000000001.seg") == nil)
        #expect(SegmentFileName.firstPosition(of: "0000000000000000000a.seg") == nil)
        #expect(SegmentFileName.firstPosition(of: "00000000000000000001.idx") == nil)
        #expect(SegmentFileName.firstPosition(of: "00000000000000000001.seg.tmp") == nil)
        #expect(SegmentFileName.firstPosition(of: "٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠١.seg") == nil)  // Arabic-Indic digits
    }
}

@Suite struct RecordOptionalFieldTests {
    @Test func correlationAndCausationIdsRoundTripInEveryCombination() {
        let correlation = UUID()
        let causation = UUID()
        for (c, k) in [(nil, nil), (correlation, nil), (nil, causation), (correlation, causation)] as [(UUID?, UUID?)] {
            let original = EventData(type: "T", data: Data("{}".utf8), metadata: Data("m".utf8), correlationID: c, causationID: k)
            var buffer = ByteBuffer(capacity: 64)
            let length = RecordEncoder.append(
                original, stream: "s-1", position: 1, version: 1, timestampMicroseconds: 5, isLastOfCall: true, to: &buffer)
            #expect(length == RecordLayout.recordSize(of: original, in: "s-1"))
            buffer.withBytes { raw in
                guard case .record(let view) = RecordDecoder.decode(UnsafeRawBufferPointer(rebasing: raw[0..<length])) else {
                    Issue.record("not decoded")
                    return
                }
                let event = view.event()
                #expect(event.correlationID == c && event.causationID == k)
                #expect(event.stream == "s-1" && event.type == "T" && event.metadata == Data("m".utf8))
            }
        }
    }
}

@Suite struct EventIDTests {
    @Test func idsAreVersion7UniqueAndTimeOrdered() {
        let ids = (0..<10_000).map { _ in EventID.make() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(id.uuid.6 >> 4 == 7, "version 7")
            #expect(id.uuid.8 >> 6 == 0b10, "RFC 9562 variant")
        }
        let later = EventID.make()
        let millisecondsOf = { (id: UUID) -> UInt64 in
            withUnsafeBytes(of: id.uuid) { raw in raw.prefix(6).reduce(0) { $0 << 8 | UInt64($1) } }
        }
        #expect(millisecondsOf(later) >= millisecondsOf(ids[0]))
    }
}
