// The rules for reading a whole segment back: header, records, footer, and how a
// bad record is told apart as a torn tail or as corruption. Shared by recovery
// (which acts on the verdict) and verify (which only reports it).
import EventSourcing
import Foundation

/// The end of an unsealed segment's valid records, and what lies after them.
enum SegmentTail: Equatable {
    /// Nothing but zeros (or the file's end) after the last complete call.
    case clean
    /// Bytes after the last complete call that are not a complete call (a write the
    /// crash cut short): safe to discard, since no call in it was acknowledged.
    case torn(stopOffset: UInt64, reason: String, discardedRecords: Int)
}

/// What reading a segment found.
struct SegmentReading {
    let header: SegmentHeader
    /// The footer, when the segment is sealed.
    let footer: SegmentFooter?
    let fileSizeBytes: UInt64
    /// Where the records of complete append calls end.
    let committedEnd: UInt64
    let recordCount: UInt64
    /// Last position of a complete call (`firstPosition - 1` when none); for a sealed
    /// segment, the footer's (in a compacted one, that position may have been removed).
    let lastPosition: UInt64
    /// CRC32C over the CRC fields of the complete calls' records (the footer's checksum).
    let recordsChecksum: UInt32
    /// For unsealed segments: what follows the complete calls.
    let tail: SegmentTail
}

enum SegmentReader {
    /// Reads and checks the segment in `file`, calling `onRecord` for every record
    /// of a complete append call, in order.
    ///
    /// - Throws: ``EventStoreError/corrupted(file:offset:reason:)`` for anything
    ///   that is not a torn tail: a bad header, a bad footer, a sealed segment whose
    ///   records do not match its footer, or a bad record followed by valid ones.
    /// Where an earlier reading (an index checkpoint) left off: records before
    /// `offset` are not read again.
    struct Resume {
        let offset: UInt64
        let recordCount: UInt64
        let recordsChecksum: UInt32
    }

    static func read(
        _ file: OpenFile, fileSystem: any FileSystem, storeID: UUID, expectedFirstPosition: UInt64,
        resume: Resume? = nil, onRecord: (PendingRecord) throws -> Void
    ) throws -> SegmentReading {
        let name = file.path
        let size = try fileSystem.size(file)
        var headerBytes = [UInt8](repeating: 0, count: SegmentHeader.size)
        let headerRead = try headerBytes.withUnsafeMutableBytes { try fileSystem.read(file, into: $0, at: 0) }
        let header: SegmentHeader
        do {
            header = try headerBytes.withUnsafeBytes { try SegmentHeader.decode(UnsafeRawBufferPointer(rebasing: $0[0..<headerRead])) }
        } catch {
            throw EventStoreError.corrupted(file: name, offset: 0, reason: String(describing: error))
        }
        guard header.storeID == storeID else {
            throw EventStoreError.corrupted(file: name, offset: 16, reason: "segment belongs to store \(header.storeID), not \(storeID)")
        }
        guard header.firstPosition == expectedFirstPosition else {
            throw EventStoreError.corrupted(
                file: name, offset: 40,
                reason: "segment starts at position \(header.firstPosition), but position \(expectedFirstPosition) comes next")
        }

        let footer = try readFooter(file, size: size, fileSystem: fileSystem)
        if header.isCompacted && footer == nil {
            throw EventStoreError.corrupted(file: name, offset: size, reason: "a compacted segment has no valid footer")
        }
        let recordsEnd = footer?.recordsEndOffset ?? size
        var scanner = RecordScanner(fileSystem: fileSystem)
        var uncommitted: [PendingRecord] = []
        var committedEnd = resume?.offset ?? UInt64(SegmentHeader.size)
        var count: UInt64 = resume?.recordCount ?? 0
        var lastPosition = header.firstPosition + count - 1
        var recordsChecksum: UInt32 = resume?.recordsChecksum ?? 0
        var committedChecksum = recordsChecksum
        var lastDecodedPosition = lastPosition
        var versionError: (UInt64, String)?
        let stop = try scanner.scan(
            file, from: committedEnd, to: recordsEnd, firstPosition: lastPosition + 1, allowingGaps: header.isCompacted
        ) { view, offset in
            lastDecodedPosition = view.position
            withUnsafeBytes(of: view.checksum.littleEndian) { recordsChecksum = CRC32C.checksum($0, seed: recordsChecksum) }
            uncommitted.append(PendingRecord(view, at: offset))
            // Compaction may have removed the last record of a call: in a compacted
            // (always sealed) segment every record stands on its own.
            if view.isLastOfCall || header.isCompacted {
                for record in uncommitted {
                    do { try onRecord(record) } catch { versionError = (record.offset, String(describing: error)); return false }
                }
                count += UInt64(uncommitted.count)
                uncommitted.removeAll(keepingCapacity: true)
                committedEnd = offset + UInt64(view.length)
                lastPosition = view.position
                committedChecksum = recordsChecksum
            }
            return true
        }
        if let (offset, reason) = versionError { throw EventStoreError.corrupted(file: name, offset: offset, reason: reason) }

        if let footer {
            // A sealed segment must hold exactly what its footer says.
            guard case .reachedEnd = stop, uncommitted.isEmpty else {
                throw EventStoreError.corrupted(file: name, offset: stop.offset, reason: reason(of: stop))
            }
            let positionsAgree = header.isCompacted ? footer.lastPosition >= lastPosition : footer.lastPosition == lastPosition
            guard footer.recordCount == count, positionsAgree, footer.recordsChecksum == committedChecksum else {
                throw EventStoreError.corrupted(
                    file: name, offset: recordsEnd,
                    reason: "footer says \(footer.recordCount) records up to position \(footer.lastPosition), the segment holds \(count) up to \(lastPosition)")
            }
            return SegmentReading(
                header: header, footer: footer, fileSizeBytes: size, committedEnd: committedEnd, recordCount: count,
                lastPosition: footer.lastPosition, recordsChecksum: committedChecksum, tail: .clean)
        }

        // Unsealed: everything after the last complete call is either a torn tail
        // (discardable) or, if any valid record follows it, corruption.
        var sawGarbage = false
        if stop.offset < size {
            let search = try scanner.findValidRecord(file, from: stop.offset + 1, to: size, afterPosition: lastDecodedPosition)
            sawGarbage = search.sawNonZeroBytes
            if let found = search.validRecordOffset {
                throw EventStoreError.corrupted(
                file: name, offset: stop.offset,
                    reason: "\(reason(of: stop)), yet a valid record follows at offset \(found): the middle of the log is damaged")
            }
        }
        var tail = SegmentTail.clean
        let cleanStop: Bool
        switch stop {
        case .endOfData, .reachedEnd: cleanStop = true
        default: cleanStop = false
        }
        if !cleanStop || !uncommitted.isEmpty {
            tail = .torn(stopOffset: stop.offset, reason: reason(of: stop), discardedRecords: uncommitted.count)
        } else if sawGarbage {
            tail = .torn(stopOffset: stop.offset, reason: "unreadable bytes after the last record", discardedRecords: 0)
        }
        return SegmentReading(
            header: header, footer: nil, fileSizeBytes: size, committedEnd: committedEnd, recordCount: count,
            lastPosition: lastPosition, recordsChecksum: committedChecksum, tail: tail)
    }

    /// The footer at the end of the file, if there is a valid one.
    static func readFooter(_ file: OpenFile, size: UInt64, fileSystem: any FileSystem) throws -> SegmentFooter? {
        guard size >= UInt64(SegmentHeader.size + SegmentFooter.size) else { return nil }
        var bytes = [UInt8](repeating: 0, count: SegmentFooter.size)
        _ = try bytes.withUnsafeMutableBytes { try fileSystem.read(file, into: $0, at: size - UInt64(SegmentFooter.size)) }
        guard let footer = try? bytes.withUnsafeBytes({ try SegmentFooter.decode($0) }),
            footer.recordsEndOffset == size - UInt64(SegmentFooter.size)
        else { return nil }
        return footer
    }

    static func reason(of stop: ScanStop) -> String {
        switch stop {
        case .reachedEnd: "records end early"
        case .endOfData: "zero bytes where a record belongs"
        case .incomplete: "a record is cut short"
        case .invalid(_, let reason): reason
        case .stopped: "scan stopped"
        }
    }
}
