// A segment file and the record scanner that walks it. Scanning is shared by
// recovery, verify and sequential reads, so that all three apply the same rules.
import Synchronization

/// An open segment file. The descriptor closes when the last user lets go, so a
/// reader that still holds a segment can finish its read after the store closed.
final class Segment: @unchecked Sendable {
    let file: OpenFile
    let number: UInt64
    let firstPosition: UInt64
    /// Rewritten by compaction: record positions may skip (``SegmentHeader/isCompacted``).
    let isCompacted: Bool
    /// The index the writer gave this segment when it sealed it. A read planned while
    /// the segment was active asks it, even after compaction replaced the segment
    /// in the log (the read still holds this file, so it needs this file's index).
    let indexWhenSealed = Mutex<SealedIndex?>(nil)
    private let fileSystem: any FileSystem

    init(file: OpenFile, number: UInt64, firstPosition: UInt64, isCompacted: Bool = false, fileSystem: any FileSystem) {
        self.file = file
        self.number = number
        self.firstPosition = firstPosition
        self.isCompacted = isCompacted
        self.fileSystem = fileSystem
    }

    deinit {
        // Read errors on close are not actionable, and the writer has already
        // synced everything it acknowledged before it let go of the segment.
        try? fileSystem.close(file)
    }

    var fileName: String { SegmentFileName.name(firstPosition: firstPosition) }
}

/// Where and why a scan stopped.
enum ScanStop: Equatable {
    /// Reached the end bound exactly.
    case reachedEnd(offset: UInt64)
    /// Found a zero length: the never-written area.
    case endOfData(offset: UInt64)
    /// The bytes end inside a record (a short tail).
    case incomplete(offset: UInt64)
    /// A record failed its checksum, structure or position check.
    case invalid(offset: UInt64, reason: String)
    /// The body asked to stop; `offset` is where the next record starts.
    case stopped(offset: UInt64)

    var offset: UInt64 {
        switch self {
        case .reachedEnd(let offset), .endOfData(let offset), .incomplete(let offset), .stopped(let offset): offset
        case .invalid(let offset, _): offset
        }
    }
}

/// Reads records sequentially through a reusable buffer, verifying each one.
struct RecordScanner: ~Copyable {
    static let chunkBytes = 1 << 20
    private var buffer: UnsafeMutableRawBufferPointer
    private let fileSystem: any FileSystem
    /// What ``readRecord(_:at:end:position:_:)`` last read into the buffer, so that a
    /// record already in it (the next of a run of one stream's records, appended by
    /// one call) is decoded without another `pread`. Any other read of the buffer
    /// forgets it. A scanner lives for one read, which holds its segments open, so
    /// a descriptor cannot be reused for another file while it is remembered.
    private var held: (file: OpenFile, start: UInt64, count: Int)?
    /// Records found in `held` without a read since it was read.
    private var heldHits = 0
    /// How much `readRecord` reads for one record: most records fit.
    static let recordReadBytes = 512
    /// How much `readRecord` reads when the last read served more than one record.
    static let readAheadBytes = 16 * 1024

    init(fileSystem: any FileSystem, capacity: Int = RecordScanner.chunkBytes) {
        self.fileSystem = fileSystem
        buffer = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Calls `body` with each valid record in `[start, end)` of `file`, in order,
    /// and its offset; `body` returns false to stop. When `firstPosition` is given,
    /// records must carry consecutive positions from it, or, `allowingGaps` (a
    /// compacted segment), increasing positions from it.
    mutating func scan(
        _ file: OpenFile, from start: UInt64, to end: UInt64, firstPosition: UInt64?, allowingGaps: Bool = false,
        _ body: (RecordView, UInt64) throws -> Bool
    ) throws -> ScanStop {
        var offset = start
        var expected = firstPosition
        var bufferStart = start
        var bufferCount = 0
        while offset < end {
            var local = Int(offset - bufferStart)
            if bufferCount - local < RecordLayout.headerSize, bufferStart + UInt64(bufferCount) < end {
                bufferCount = try fill(file, at: offset, end: end, minimum: RecordLayout.headerSize)
                bufferStart = offset
                local = 0
            }
            let available = UnsafeRawBufferPointer(rebasing: buffer[local..<bufferCount])
            switch RecordDecoder.decode(available, expectedPosition: allowingGaps ? nil : expected) {
            case .record(let view):
                if allowingGaps, let position = expected, view.position < position {
                    return .invalid(offset: offset, reason: "record at position \(view.position), expected one after \(position - 1)")
                }
                let next = offset + UInt64(view.length)
                if try !body(view, offset) { return .stopped(offset: next) }
                offset = next
                if expected != nil { expected = view.position + 1 }
            case .endOfData:
                return .endOfData(offset: offset)
            case .invalid(let reason):
                return .invalid(offset: offset, reason: reason)
            case .incomplete(let needed):
                if available.count < 4 {
                    // Fewer bytes than a length field before the end bound.
                    return available.allSatisfy({ $0 == 0 }) ? .endOfData(offset: offset) : .incomplete(offset: offset)
                }
                guard offset + UInt64(needed) <= end else { return .incomplete(offset: offset) }
                bufferCount = try fill(file, at: offset, end: end, minimum: needed)
                bufferStart = offset
                if bufferCount < needed { return .incomplete(offset: offset) }
            }
        }
        return .reachedEnd(offset: offset)
    }

    /// Reads from `offset` up to the buffer's size (growing it to `minimum`), bounded by `end`.
    private mutating func fill(
        _ file: OpenFile, at offset: UInt64, end: UInt64, minimum: Int, exactly: Bool = false
    ) throws -> Int {
        held = nil
        if minimum > buffer.count {
            buffer.deallocate()
            buffer = .allocate(byteCount: max(minimum, RecordScanner.chunkBytes), alignment: 16)
        }
        let wanted = Int(min(UInt64(exactly ? minimum : buffer.count), end - offset))
        return try fileSystem.read(file, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]), at: offset)
    }

    /// Looks for any valid record in `[start, end)` at any byte offset: evidence
    /// that a failure before `start` is corruption in the middle of the log rather
    /// than a torn tail. Only records claiming a position after `afterPosition` count.
    mutating func findValidRecord(
        _ file: OpenFile, from start: UInt64, to end: UInt64, afterPosition: UInt64
    ) throws -> (validRecordOffset: UInt64?, sawNonZeroBytes: Bool) {
        var sawNonZero = false
        var chunkStart = start
        let overlap = RecordLayout.headerSize
        while chunkStart < end {
            let count = try fill(file, at: chunkStart, end: end, minimum: 0)
            if count == 0 { return (nil, sawNonZero) }
            let bytes = UnsafeRawBufferPointer(buffer)
            var index = 0
            let limit = count
            while index + RecordLayout.headerSize <= limit {
                // Skip zeros fast: the pre-allocated area is all zeros (tens of
                // megabytes after a clean close; most of an open's time when it was
                // skipped a word at a time).
                if index & 7 == 0 {
                    let zeros = bytes.zeroWordBytes(from: index, to: limit)
                    if zeros > 0 {
                        index += zeros
                        continue
                    }
                }
                if bytes[index] != 0 { sawNonZero = true }
                // Unverified fields are used only to skip candidates, never trusted.
                let length = Int(bytes.loadLE(UInt32.self, at: index))
                if length >= RecordLayout.minRecordBytes, length <= RecordLayout.maxRecordBytes,
                    bytes[index + RecordLayout.kindOffset] == RecordLayout.kindEvent,
                    bytes.loadLE(UInt64.self, at: index + RecordLayout.positionOffset) > afterPosition
                {
                    let candidateOffset = chunkStart + UInt64(index)
                    if candidateOffset + UInt64(length) <= end {
                        var probe = RecordScanner(fileSystem: fileSystem, capacity: length)
                        let probeCount = try probe.fill(file, at: candidateOffset, end: end, minimum: length)
                        if case .record = RecordDecoder.decode(UnsafeRawBufferPointer(rebasing: probe.buffer[0..<probeCount])) {
                            return (candidateOffset, true)
                        }
                    }
                }
                index += 1
            }
            // The last few bytes, too short for a header, may still be garbage.
            if !sawNonZero, bytes[index..<count].contains(where: { $0 != 0 }) { sawNonZero = true }
            if count < buffer.count { return (nil, sawNonZero) }
            chunkStart += UInt64(max(count - overlap, 1))
        }
        return (nil, sawNonZero)
    }

    /// Reads and verifies the single record at `offset`, expected to carry `position`.
    mutating func readRecord<R>(
        _ file: OpenFile, at offset: UInt64, end: UInt64, position: UInt64, _ body: (RecordView) throws -> R
    ) throws -> Result<R, RecordReadFailure> {
        // One small read covers most records; a larger one follows only when the
        // record says it is larger. (Filling the whole buffer per record would copy
        // tens of kilobytes per event.) When the last read held more than one of the
        // records asked for, they come in runs (a call's events, one after another),
        // and the next read takes the next 16 KiB (the 16 KiB before, going backward).
        var needed = min(Self.recordReadBytes, Int(end - offset))
        var mayUseHeld = true
        while true {
            let bytes: UnsafeRawBufferPointer
            let isHeld: Bool
            if mayUseHeld, let held, held.file == file, offset >= held.start, offset < held.start + UInt64(held.count) {
                bytes = UnsafeRawBufferPointer(rebasing: buffer[Int(offset - held.start)..<held.count])
                isHeld = true
            } else {
                // A run read backward: this record ends where the last read began,
                // so the read takes the 16 KiB before it, this record at their end.
                var start = offset
                var wanted = needed
                if let held, held.file == file, offset < held.start,
                    heldHits > 0 || held.start - offset <= UInt64(Self.recordReadBytes)
                {
                    start = offset - min(offset, UInt64(max(0, Self.readAheadBytes - needed)))
                    wanted = Int(offset - start) + needed
                } else if heldHits > 0 {
                    wanted = max(needed, min(Self.readAheadBytes, buffer.count, Int(end - offset)))
                }
                let count = try fill(file, at: start, end: end, minimum: wanted, exactly: true)
                held = (file, start, count)
                heldHits = 0
                let local = Int(offset - start)
                bytes = local < count ? UnsafeRawBufferPointer(rebasing: buffer[local..<count]) : UnsafeRawBufferPointer(start: nil, count: 0)
                isHeld = false
            }
            switch RecordDecoder.decode(bytes, expectedPosition: position) {
            case .record(let view):
                if isHeld { heldHits += 1 }
                return .success(try body(view))
            case .incomplete(let more) where isHeld && UInt64(more) <= end - offset:
                // The record goes on past what the last read held: read it.
                needed = max(needed, more)
                mayUseHeld = false
            case .incomplete(let more) where more > bytes.count && UInt64(more) <= end - offset: needed = more
            case .incomplete: return .failure(RecordReadFailure(reason: "record is cut short"))
            case .endOfData: return .failure(RecordReadFailure(reason: "zero length where a record belongs"))
            case .invalid(let reason): return .failure(RecordReadFailure(reason: reason))
            }
        }
    }
}

/// Why a record could not be read where the index said it is.
struct RecordReadFailure: Error {
    let reason: String
}
