// What the disk can do with no store in the way, measured in the same run and the
// same folder as each row: the ceiling a row's ratio is taken against.
import Foundation

/// One baseline run: how many events' bytes it moved, and how long that took.
struct BaselineMeasurement: Sendable {
    let events: Int
    let seconds: Double
    var eventsPerSecond: Double { Double(events) / seconds }
}

/// When a write baseline syncs, matching the durability of the row it stands beside.
enum BaselineSyncPlan: Sendable {
    /// `syncs` pwrite + fdatasync pairs of (as nearly as integers allow) equal
    /// size, so the events per sync equal the store's (the `.fsync` rows).
    case everyGroup(syncs: Int)
    /// One pwrite per event and no sync (the `.none` rows).
    case never
    /// pwrites of `eventsPerWrite` records, and an fdatasync after the first write
    /// that ends `intervalNanoseconds` or more after the previous sync (the
    /// `.batched(maxDelay:)` rows: the store syncs at least that often).
    case interval(nanoseconds: UInt64, eventsPerWrite: Int)
}

/// A pwrite + fdatasync loop writing records' worth of bytes.
enum WriteBaseline {
    /// Writes `events` records of `recordSizeBytes`, syncing as `plan` says.
    ///
    /// Like the store's segments, the file is preallocated and has a 64-byte header
    /// synced before the clock starts.
    static func run(path: String, events: Int, recordSizeBytes: Int, plan: BaselineSyncPlan) throws -> BaselineMeasurement {
        precondition(events > 0, "a write baseline needs events")
        let headerBytes = BenchmarkStreams.segmentHeaderSizeBytes
        let file = try RawFile.create(path)
        try file.preallocate(sizeBytes: headerBytes + events * recordSizeBytes)

        // The largest write: one record without syncs, else the largest group.
        let largestWriteEvents = switch plan {
        case .everyGroup(let syncs): syncs == 0 ? 1 : (events + min(syncs, events) - 1) / min(syncs, events)
        case .never: 1
        case .interval(_, let eventsPerWrite): min(max(1, eventsPerWrite), events)
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: largestWriteEvents * recordSizeBytes, alignment: 64)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0xA5)
        try file.write(UnsafeRawBufferPointer(rebasing: buffer[0..<headerBytes]), at: 0)
        try file.sync()

        var offset = headerBytes
        // The file is passed in, not captured: a captured noncopyable value could
        // not be closed (consumed) afterwards.
        func write(_ file: borrowing RawFile, events count: Int) throws {
            let bytes = count * recordSizeBytes
            try file.write(UnsafeRawBufferPointer(rebasing: buffer[0..<bytes]), at: offset)
            offset += bytes
        }
        let started = MonotonicClock.nanoseconds()
        switch plan {
        case .everyGroup(let syncs) where syncs > 0:
            let syncCount = min(syncs, events)
            for group in 0..<syncCount {
                // Group k holds events [k*E/S, (k+1)*E/S): the remainders spread evenly.
                try write(file, events: (group + 1) * events / syncCount - group * events / syncCount)
                try file.syncData()
            }
        case .everyGroup, .never:
            for _ in 0..<events { try write(file, events: 1) }
        case .interval(let intervalNanoseconds, _):
            var written = 0
            var lastSync = started
            while written < events {
                let count = min(largestWriteEvents, events - written)
                try write(file, events: count)
                written += count
                let now = MonotonicClock.nanoseconds()
                if now &- lastSync >= intervalNanoseconds {
                    try file.syncData()
                    lastSync = MonotonicClock.nanoseconds()
                }
            }
        }
        let finished = MonotonicClock.nanoseconds()
        try file.close()
        assert(offset == headerBytes + events * recordSizeBytes, "the baseline wrote every event")
        return BaselineMeasurement(events: events, seconds: MonotonicClock.seconds(from: started, to: finished))
    }
}

/// A sequential pread loop over a store's segment files.
enum ReadBaseline {
    static let chunkSizeBytes = 1 << 20

    /// One file's part of the read: its first `lengthBytes` bytes.
    struct FileExtent: Sendable {
        let path: String
        let lengthBytes: Int
    }

    /// Reads the extents in order in 1 MiB preads into one reused buffer, and
    /// reports the time against `events` (the events those bytes hold).
    static func run(_ extents: [FileExtent], events: Int) throws -> BaselineMeasurement {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSizeBytes, alignment: 4096)
        defer { buffer.deallocate() }
        var totalBytes = 0
        let started = MonotonicClock.nanoseconds()
        for extent in extents {
            let file = try RawFile.openForReading(extent.path)
            var offset = 0
            while offset < extent.lengthBytes {
                let wanted = min(chunkSizeBytes, extent.lengthBytes - offset)
                let count = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]), at: offset)
                if count == 0 { break }
                offset += count
            }
            totalBytes += offset
            try file.close()
        }
        let finished = MonotonicClock.nanoseconds()
        let expectedBytes = extents.reduce(0) { $0 + $1.lengthBytes }
        guard totalBytes == expectedBytes else {
            throw BenchmarkError("read baseline read \(totalBytes) bytes of the \(expectedBytes) the segment files should hold")
        }
        return BaselineMeasurement(events: events, seconds: MonotonicClock.seconds(from: started, to: finished))
    }
}

/// Compaction's disk work with no store in the way: every segment byte read
/// sequentially, and as many bytes as compaction keeps written to one new file,
/// synced once at the end (compaction syncs each new segment and index file, and
/// the folder after each rename: more syncs, so this is a floor on its I/O time).
enum CompactionBaseline {
    /// Reads `extents` in order in 1 MiB preads into one reused buffer; after each
    /// read, appends that chunk's share of `keptBytes` (its first bytes) to a new
    /// file at `path`; then one fsync. Reports the time against `events` (the
    /// events the read bytes hold).
    static func run(_ extents: [ReadBaseline.FileExtent], keptBytes: Int, path: String, events: Int) throws -> BaselineMeasurement {
        let totalBytes = extents.reduce(0) { $0 + $1.lengthBytes }
        precondition(totalBytes > 0 && (0...totalBytes).contains(keptBytes), "kept bytes are a part of the bytes read")
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ReadBaseline.chunkSizeBytes, alignment: 4096)
        defer { buffer.deallocate() }
        let output = try RawFile.create(path)
        var readBytes = 0
        var writtenBytes = 0
        let started = MonotonicClock.nanoseconds()
        for extent in extents {
            let file = try RawFile.openForReading(extent.path)
            var offset = 0
            while offset < extent.lengthBytes {
                let wanted = min(ReadBaseline.chunkSizeBytes, extent.lengthBytes - offset)
                let count = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]), at: offset)
                if count == 0 { break }
                offset += count
                readBytes += count
                // Kept bytes in proportion to the bytes read so far, so writes
                // interleave with reads as compaction's do.
                let share = keptBytes * readBytes / totalBytes - writtenBytes
                try output.write(UnsafeRawBufferPointer(rebasing: buffer[0..<share]), at: writtenBytes)
                writtenBytes += share
            }
            try file.close()
        }
        try output.sync()
        let finished = MonotonicClock.nanoseconds()
        try output.close()
        guard readBytes == totalBytes else {
            throw BenchmarkError("compaction baseline read \(readBytes) bytes of the \(totalBytes) the segment files should hold")
        }
        assert(writtenBytes == keptBytes, "the baseline wrote every kept byte")
        return BaselineMeasurement(events: events, seconds: MonotonicClock.seconds(from: started, to: finished))
    }
}
